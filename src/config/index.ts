/**
 * Airflow's environment → a resolver: `[custom backend] → environment → metastore`, configured by
 * the same variables Airflow reads (`AIRFLOW__SECRETS__BACKEND`, `…_BACKEND_KWARGS`, `…_USE_CACHE`,
 * `…_CACHE_TTL_SECONDS`, `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`, `AIRFLOW__CORE__FERNET_KEY`, with
 * their `_CMD` / `_SECRET` variants). Each adapter module is imported only when it is chosen.
 */
import os from 'node:os';
import path from 'node:path';
import type { AdapterContext, AdapterModule, SecretsBackend } from '../backend.js';
import { ConfigurationError, describeError, isAirflowSecretsError, safeCause } from '../errors.js';
import { consoleLogger, type Logger } from '../logger.js';
import { configureMasker } from '../masker.js';
import type { CacheOptions } from '../resolver/cache.js';
import { createResolver, type Resolver, type ResolverOptions } from '../resolver/index.js';
import { type AirflowCfg, EMPTY_CFG, loadAirflowCfg } from './airflow-cfg.js';

type Env = Record<string, string | undefined>;

interface RegistryEntry {
  /** Our short name (also accepted in `AIRFLOW__SECRETS__BACKEND`). */
  name: string;
  classPaths: string[];
  load: () => Promise<AdapterModule>;
}

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

const custom = new Map<string, (kwargs: Record<string, unknown>, ctx: AdapterContext) => SecretsBackend>();

/**
 * Make a class path (e.g. your own Python backend's) resolve to a JS backend of yours, so the same
 * `AIRFLOW__SECRETS__BACKEND` works for Airflow and for this library.
 */
export function registerBackend(
  classPath: string,
  factory: (kwargs: Record<string, unknown>, context: AdapterContext) => SecretsBackend,
): void {
  custom.set(classPath, factory);
}

/** The class paths and short names `AIRFLOW__SECRETS__BACKEND` accepts. */
export function knownBackends(): string[] {
  return [...REGISTRY.flatMap((e) => [e.classPaths[0]!, e.name]), ...custom.keys()];
}

const BACKEND_SETTING = 'AIRFLOW__SECRETS__BACKEND';
const KWARGS_SETTING = 'AIRFLOW__SECRETS__BACKEND_KWARGS';

/** Options Airflow marks sensitive: only these honour `_CMD` and `_SECRET`. */
const SENSITIVE = new Set([
  'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN',
  'AIRFLOW__CORE__SQL_ALCHEMY_CONN',
  'AIRFLOW__CORE__FERNET_KEY',
  'AIRFLOW__SECRETS__BACKEND_KWARGS',
]);

/** Python `shlex.split` (POSIX mode), enough for `_CMD` values. */
export function shlexSplit(command: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < command.length && '\\"$`\n'.includes(command[i + 1]!))
        cur += command[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 < command.length) cur += command[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error('No closing quotation');
  if (inWord) out.push(cur);
  return out;
}

/**
 * Run a `…_CMD` setting's command as Airflow's `run_command` does (shlex-split, no shell) and return
 * its stdout, without the final line break. Failure names the setting and exit code, never the output.
 */
function runCommand(setting: string, command: string): string {
  let argv: string[];
  try {
    argv = shlexSplit(command);
  } catch {
    throw new ConfigurationError(setting, `${setting}: the command has an unclosed quote`);
  }
  if (argv.length === 0) throw new ConfigurationError(setting, `${setting} is empty`);
  try {
    // Loaded only when a _CMD setting is used (keeps `import 'airflow-secrets'` light).
    const { execFileSync } = process.getBuiltinModule(
      'node:child_process',
    ) as typeof import('node:child_process');
    const out = execFileSync(argv[0]!, argv.slice(1), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return out.replace(/\r?\n$/, '');
  } catch (e) {
    const status = (e as { status?: number | null }).status;
    throw new ConfigurationError(
      setting,
      `Cannot execute the command in ${setting}. ${status !== undefined && status !== null ? `Error code is: ${status}.` : describeError(e)}`,
    );
  }
}

export interface SettingsReader {
  /**
   * The value of an `AIRFLOW__SECTION__KEY` setting with Airflow's precedence: env > env `_CMD` >
   * env `_SECRET` > `airflow.cfg` > cfg `_cmd` > cfg `_secret`. `_CMD`/`_SECRET` only for sensitive settings.
   */
  get(name: string): Promise<string | undefined>;
  /** The same for a non-sensitive setting: env, then `airflow.cfg`. */
  plain(name: string): string | undefined;
}

function sectionKey(name: string): [string, string] {
  const [, section = '', key = ''] = /^AIRFLOW__(.+?)__(.+)$/.exec(name) ?? [];
  return [section.toLowerCase(), key.toLowerCase()];
}

function settingsReader(
  env: Env,
  cfg: AirflowCfg,
  secretBackend: () => SecretsBackend | null,
): SettingsReader {
  const viaSecret = async (setting: string, secretId: string): Promise<string | undefined> => {
    const b = secretBackend();
    if (!b?.getConfig) return undefined;
    try {
      return (await b.getConfig(secretId)) ?? undefined;
    } catch (e) {
      throw new ConfigurationError(
        setting,
        `Cannot retrieve config from alternative secrets backend for ${setting}. Make sure it is configured properly and that the Backend is accessible. (${isAirflowSecretsError(e) ? e.message : describeError(e)})`,
        { cause: safeCause(e) },
      );
    }
  };
  const plain = (name: string): string | undefined => {
    const direct = env[name];
    if (direct !== undefined) return direct;
    const [section, key] = sectionKey(name);
    return cfg.get(section, key);
  };
  return {
    plain,
    async get(name) {
      const direct = env[name];
      if (direct !== undefined) return direct;
      const sensitive = SENSITIVE.has(name);
      if (sensitive) {
        const cmd = env[`${name}_CMD`];
        if (cmd !== undefined) return runCommand(`${name}_CMD`, cmd);
        const secretId = env[`${name}_SECRET`];
        if (secretId !== undefined) return viaSecret(`${name}_SECRET`, secretId);
      }
      const [section, key] = sectionKey(name);
      const fromCfg = cfg.get(section, key);
      if (fromCfg !== undefined || !sensitive) return fromCfg;
      const cmd = cfg.get(section, `${key}_cmd`);
      if (cmd !== undefined) return runCommand(`[${section}] ${key}_cmd`, cmd);
      const secretId = cfg.get(section, `${key}_secret`);
      if (secretId !== undefined) return viaSecret(`[${section}] ${key}_secret`, secretId);
      return undefined;
    },
  };
}

/** Airflow's `getboolean`. */
function parseBool(setting: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (s === 't' || s === 'true' || s === '1') return true;
  if (s === 'f' || s === 'false' || s === '0') return false;
  throw new ConfigurationError(
    setting,
    `Failed to convert value to bool. Please check ${setting}. It must be true/false (or t/f, 1/0).`,
  );
}

function parseKwargs(raw: string | undefined, logger: Logger): Record<string, unknown> {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    logger.warn(
      `Failed to parse [secrets] backend_kwargs (${KWARGS_SETTING}) as JSON, defaulting to no kwargs.`,
    );
    return {};
  }
  if (!parsed) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    logger.warn(
      `Failed to parse [secrets] backend_kwargs (${KWARGS_SETTING}) into a dict, defaulting to no kwargs.`,
    );
    return {};
  }
  // A null-prototype copy: `__proto__` keys in kwargs stay plain data.
  return Object.assign(Object.create(null), parsed) as Record<string, unknown>;
}

/** Build the custom backend named by a class path (or short name) with Airflow's snake_case kwargs. */
export async function backendFromClassPath(
  classPath: string,
  kwargs: Record<string, unknown>,
  context: AdapterContext,
): Promise<SecretsBackend> {
  const wanted = classPath.trim();
  const factory = custom.get(wanted);
  if (factory) return factory(kwargs, context);
  const entry = REGISTRY.find((e) => e.name === wanted || e.classPaths.includes(wanted));
  if (!entry) {
    throw new ConfigurationError(
      BACKEND_SETTING,
      `Unknown secrets backend '${wanted}' in ${BACKEND_SETTING}. Known backends: ${knownBackends().join(', ')}. ` +
        'A backend of your own can be added with registerBackend(classPath, factory).',
    );
  }
  const mod = await entry.load();
  return mod.fromAirflowKwargs(kwargs, context);
}

const ORDER_KINDS = ['custom', 'environment_variable', 'metastore'] as const;

function parseOrder(raw: string | undefined): Array<(typeof ORDER_KINDS)[number]> {
  if (raw === undefined || raw.trim() === '') return [...ORDER_KINDS];
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = items.filter((i) => !(ORDER_KINDS as readonly string[]).includes(i));
  if (unknown.length) {
    throw new ConfigurationError(
      'AIRFLOW__SECRETS__BACKENDS_ORDER',
      `[secrets] backends_order is misconfigured. The following backend types are unsupported: [${unknown.join(', ')}]`,
    );
  }
  const missing = ['environment_variable', 'metastore'].filter((k) => !items.includes(k));
  if (missing.length) {
    throw new ConfigurationError(
      'AIRFLOW__SECRETS__BACKENDS_ORDER',
      `[secrets] backends_order is misconfigured. The following backend types are missing: [${missing.join(', ')}]`,
    );
  }
  return items as Array<(typeof ORDER_KINDS)[number]>;
}

export interface FromEnvOptions extends Partial<Omit<ResolverOptions, 'backends'>> {
  logger?: Logger;
  /** Read `$AIRFLOW_CONFIG` / `$AIRFLOW_HOME/airflow.cfg` for settings the environment does not set. Default true. */
  readAirflowCfg?: boolean;
}

/** The resolver's cache settings from `AIRFLOW__SECRETS__USE_CACHE` and `…__CACHE_TTL_SECONDS`. */
export function cacheFromEnv(
  env: Env,
  read: (name: string) => string | undefined = (name) => env[name],
): false | CacheOptions {
  const use = read('AIRFLOW__SECRETS__USE_CACHE');
  if (use === undefined || !parseBool('AIRFLOW__SECRETS__USE_CACHE', use)) return false;
  const rawTtl = read('AIRFLOW__SECRETS__CACHE_TTL_SECONDS');
  if (rawTtl === undefined || rawTtl.trim() === '') return { ttl: 900 };
  const ttl = Number(rawTtl.trim());
  if (!/^\s*[+-]?\d+\s*$/.test(rawTtl) || !Number.isSafeInteger(ttl) || ttl < 0) {
    throw new ConfigurationError(
      'AIRFLOW__SECRETS__CACHE_TTL_SECONDS',
      'AIRFLOW__SECRETS__CACHE_TTL_SECONDS must be a whole number of seconds >= 0',
    );
  }
  return { ttl };
}

/** `AIRFLOW_HOME`, default `~/airflow`. */
export function airflowHome(env: Env): string {
  const h = env.AIRFLOW_HOME;
  if (h === undefined || h === '') return path.join(os.homedir(), 'airflow');
  return h.startsWith('~') ? path.join(os.homedir(), h.slice(1)) : h;
}

/**
 * Build the chain Airflow builds from this environment: the custom backend (if
 * `AIRFLOW__SECRETS__BACKEND` is set), then `AIRFLOW_CONN_*`/`AIRFLOW_VAR_*`, then the metadata
 * database. Settings are read once, now; `env` defaults to `process.env`.
 */
export async function resolverFromEnv(
  env: Env = process.env,
  options: FromEnvOptions = {},
): Promise<Resolver> {
  const logger = options.logger ?? consoleLogger;
  const context: AdapterContext = { env, logger };
  let customBackend: SecretsBackend | null = null;
  const home = airflowHome(env);
  const cfgFile = env.AIRFLOW_CONFIG || path.join(home, 'airflow.cfg');
  const cfg = options.readAirflowCfg === false ? EMPTY_CFG : loadAirflowCfg(cfgFile, env);
  const settings = settingsReader(env, cfg, () => customBackend);

  const backendName = settings.plain(BACKEND_SETTING)?.trim();
  if (backendName) {
    const kwargs = parseKwargs(await settings.get(KWARGS_SETTING), logger);
    customBackend = await backendFromClassPath(backendName, kwargs, context);
  }
  const order = parseOrder(settings.plain('AIRFLOW__SECRETS__BACKENDS_ORDER'));

  const sensitiveNames = settings.plain('AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES');
  const minLength = settings.plain('AIRFLOW__LOGGING__MIN_LENGTH_MASKED_SECRET');
  if (sensitiveNames !== undefined || minLength !== undefined) {
    const n = minLength === undefined ? undefined : Number(minLength);
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
      throw new ConfigurationError(
        'AIRFLOW__LOGGING__MIN_LENGTH_MASKED_SECRET',
        'AIRFLOW__LOGGING__MIN_LENGTH_MASKED_SECRET must be a whole number >= 0',
      );
    }
    configureMasker({
      ...(sensitiveNames !== undefined ? { sensitiveFields: sensitiveNames.split(',') } : {}),
      ...(n !== undefined ? { minLength: n } : {}),
    });
  }

  const { environmentVariables } = await import('../backends/environment.js');
  const envBackend = environmentVariables({ env });

  const { metastoreFromSettings } = await import('../backends/metastore.js');
  let resolver: Resolver | undefined;
  const metastoreBackend = metastoreFromSettings({
    ...(await readMetastoreSettings(settings, home)),
    logger,
    // Writes through this metastore drop the resolver's cached answer for that id.
    onWrite: (kind, id) => resolver?.invalidate(kind, id),
  });

  const backends: SecretsBackend[] = [];
  for (const kind of order) {
    if (kind === 'custom' && customBackend) backends.push(customBackend);
    if (kind === 'environment_variable') backends.push(envBackend);
    if (kind === 'metastore') backends.push(metastoreBackend);
  }
  const { logger: _l, readAirflowCfg: _r, ...rest } = options;
  resolver = createResolver({ cache: cacheFromEnv(env, settings.plain), ...rest, logger, backends });
  return resolver;
}

interface MetastoreSettings {
  sqlAlchemyConn: string | undefined;
  fernetKey: string | undefined;
  airflowHome: string;
  urlSetting: string;
}

async function readMetastoreSettings(settings: SettingsReader, home: string): Promise<MetastoreSettings> {
  const current = await settings.get('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
  const legacy = current === undefined ? await settings.get('AIRFLOW__CORE__SQL_ALCHEMY_CONN') : undefined;
  return {
    sqlAlchemyConn: current ?? legacy,
    fernetKey: await settings.get('AIRFLOW__CORE__FERNET_KEY'),
    airflowHome: home,
    urlSetting:
      current === undefined && legacy !== undefined
        ? 'AIRFLOW__CORE__SQL_ALCHEMY_CONN'
        : 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN',
  };
}

/**
 * Where the metadata database is and its Fernet key, from the environment and `airflow.cfg`
 * (with `_CMD` variants), for tools that write to it (the CLI). `_SECRET` variants need the custom
 * backend: use `resolverFromEnv` for those.
 */
export async function metastoreSettingsFromEnv(env: Env = process.env): Promise<MetastoreSettings> {
  const home = airflowHome(env);
  const cfg = loadAirflowCfg(env.AIRFLOW_CONFIG || path.join(home, 'airflow.cfg'), env);
  return readMetastoreSettings(
    settingsReader(env, cfg, () => null),
    home,
  );
}
