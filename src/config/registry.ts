/**
 * The class-path registry: which adapter module answers to which Airflow class path (or our short
 * name) in `[secrets] backend`, plus the backends users register for class paths of their own.
 * Each adapter module is imported only when it is chosen, through a literal `import()` so bundlers
 * can see it.
 */
import type { AdapterContext, AdapterModule, SecretsBackend } from '../backend.js';
import { ConfigurationError } from '../errors.js';
import { DEFAULT_SOURCE } from './setting.js';

/** The setting the class path normally comes from; named by the unknown-backend error. */
export const BACKEND_SETTING = 'AIRFLOW__SECRETS__BACKEND';

interface RegistryEntry {
  /** Our short name (also accepted in `AIRFLOW__SECRETS__BACKEND`). */
  name: string;
  classPaths: string[];
  load: () => Promise<AdapterModule>;
}

/** One entry per adapter: the current class path first, then the Airflow 1.10 `contrib` ones. */
const REGISTRY: RegistryEntry[] = [
  {
    name: 'hashicorp-vault',
    classPaths: [
      'airflow.providers.hashicorp.secrets.vault.VaultBackend',
      'airflow.contrib.secrets.hashicorp_vault.VaultBackend',
    ],
    load: () => import('../backends/hashicorp-vault/index.js'),
  },
  {
    name: 'aws-secrets-manager',
    classPaths: [
      'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
      'airflow.contrib.secrets.aws_secrets_manager.SecretsManagerBackend',
    ],
    load: () => import('../backends/aws-secrets-manager/index.js'),
  },
  {
    name: 'aws-ssm',
    classPaths: [
      'airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend',
      'airflow.contrib.secrets.aws_systems_manager.SystemsManagerParameterStoreBackend',
    ],
    load: () => import('../backends/aws-ssm/index.js'),
  },
  {
    name: 'gcp-secret-manager',
    classPaths: [
      'airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend',
      'airflow.contrib.secrets.gcp_secrets_manager.CloudSecretsManagerBackend',
    ],
    load: () => import('../backends/gcp-secret-manager/index.js'),
  },
  {
    name: 'azure-key-vault',
    classPaths: [
      'airflow.providers.microsoft.azure.secrets.key_vault.AzureKeyVaultBackend',
      'airflow.providers.microsoft.azure.secrets.azure_key_vault.AzureKeyVaultBackend',
    ],
    load: () => import('../backends/azure-key-vault/index.js'),
  },
  {
    name: 'local-filesystem',
    classPaths: ['airflow.secrets.local_filesystem.LocalFilesystemBackend'],
    load: () => import('../backends/local-filesystem/index.js'),
  },
  {
    name: 'environment',
    classPaths: ['airflow.secrets.environment_variables.EnvironmentVariablesBackend'],
    load: () => import('../backends/environment.js'),
  },
  {
    name: 'metastore',
    classPaths: ['airflow.secrets.metastore.MetastoreBackend'],
    load: () => import('../backends/metastore.js'),
  },
];

type Factory = (kwargs: Record<string, unknown>, context: AdapterContext) => SecretsBackend;

const custom = new Map<string, Factory>();

/**
 * Make a class path (e.g. your own Python backend's) resolve to a JS backend of yours, so the same
 * `AIRFLOW__SECRETS__BACKEND` works for Airflow and for this library.
 */
export function registerBackend(classPath: string, factory: Factory): void {
  custom.set(classPath, factory);
}

/** The class paths and short names `AIRFLOW__SECRETS__BACKEND` accepts. */
export function knownBackends(): string[] {
  return [...REGISTRY.flatMap((e) => [e.classPaths[0]!, e.name]), ...custom.keys()];
}

/**
 * Build the backend a class path (or short name) names, with Airflow's snake_case kwargs.
 * `source` says where the class path came from when that is not `AIRFLOW__SECRETS__BACKEND`
 * itself (e.g. `airflow.cfg [secrets] backend`); the unknown-backend error names it. `kwargsSource`
 * says where the kwargs came from (e.g. `airflow.cfg [secrets] backend_kwargs`): a
 * `ConfigurationError` the adapter throws about them ends with ` (from <kwargsSource>)`.
 */
export async function buildBackend(
  classPath: string,
  kwargs: Record<string, unknown>,
  context: AdapterContext,
  source: string = BACKEND_SETTING,
  kwargsSource: string = DEFAULT_SOURCE,
): Promise<SecretsBackend> {
  const wanted = classPath.trim();
  const factory = custom.get(wanted);
  if (factory) return withKwargsSource(kwargsSource, () => factory(kwargs, context));
  const entry = REGISTRY.find((e) => e.name === wanted || e.classPaths.includes(wanted));
  if (!entry) {
    const from = source === BACKEND_SETTING ? '' : ` (from ${source})`;
    throw new ConfigurationError(
      BACKEND_SETTING,
      `Unknown secrets backend '${wanted}' in ${BACKEND_SETTING}${from}. Known backends: ${knownBackends().join(', ')}. ` +
        'A backend of your own can be added with registerBackend(classPath, factory).',
    );
  }
  const mod = await entry.load();
  return withKwargsSource(kwargsSource, () => mod.fromAirflowKwargs(kwargs, context));
}

/**
 * Build, and name the kwargs' source in a `ConfigurationError` about them (its class, setting and
 * cause kept). Kwargs nobody gave (`default`) add nothing; nor does a message that names the source.
 */
function withKwargsSource(kwargsSource: string, build: () => SecretsBackend): SecretsBackend {
  try {
    return build();
  } catch (e) {
    if (
      e instanceof ConfigurationError &&
      kwargsSource !== DEFAULT_SOURCE &&
      !e.message.includes(kwargsSource)
    ) {
      e.message = `${e.message} (from ${kwargsSource})`;
    }
    throw e;
  }
}

/** Build the custom backend named by a class path (or short name) with Airflow's snake_case kwargs. */
export function backendFromClassPath(
  classPath: string,
  kwargs: Record<string, unknown>,
  context: AdapterContext,
): Promise<SecretsBackend> {
  return buildBackend(classPath, kwargs, context);
}
