/**
 * Airflow's `SecretsManagerBackend` (amazon provider): secrets named `<prefix><sep><id>`, read with
 * GetSecretValue (AWSCURRENT). A connection is a URI, or JSON whose keys are standardised through
 * Airflow's aliases (`user`/`username` → login, `pass`/`key` → password, `engine` → conn_type, …).
 * The SDK is imported on first use; the client is created once and reused.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AdapterContext, SecretKind, SecretsBackend } from '../backend.js';
import type { Connection } from '../connection.js';
import { ConfigurationError, MalformedSecretError, safeCause } from '../errors.js';
import { consoleLogger } from '../logger.js';
import {
  kindRules,
  kwargSetting,
  kwObject,
  kwString,
  type LookupPattern,
  locateWith,
  pyRstrip,
} from './airflow-kwargs.js';
import { type AwsCommonOptions, awsClientConfig, awsOptionsFromKwargs, mapAwsError } from './aws-common.js';
import {
  buildPath,
  DEFAULT_TIMEOUT_MS,
  importOptional,
  parseConnection,
  rawBackend,
  withDeadline,
} from './base.js';

const DRIVER_NAME = 'aws-secrets-manager';
const SDK = '@aws-sdk/client-secrets-manager';

export interface AwsSecretsManagerOptions extends AwsCommonOptions {
  /** Connections prefix; `null` disables connections, `''` uses the bare id. Default `airflow/connections`. */
  connectionsPrefix?: string | null;
  /** Variables prefix. Default `airflow/variables`. */
  variablesPrefix?: string | null;
  /** Config prefix. Default `airflow/config`. */
  configPrefix?: string | null;
  /** Only ids matching (Python `re.match`, case-insensitive) are looked up. Default: all. */
  connectionsLookupPattern?: LookupPattern | null;
  variablesLookupPattern?: LookupPattern | null;
  configLookupPattern?: LookupPattern | null;
  /** Separator between prefix and id. Default `/`. */
  sep?: string;
  /** More JSON key aliases per field, e.g. `{ "login": ["usr"] }` (`user` means login). */
  extraConnWords?: Record<string, string[]>;
  /** A ready client (tests, tracing); the session options are then ignored. */
  client?: SecretsManagerClient;
}

/** Errors Airflow treats as "not found" (each logged at debug). */
const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'InvalidParameterException',
  'InvalidRequestException',
  'DecryptionFailure',
  'InternalServiceError',
]);

const BASE_WORDS: Record<string, string[]> = {
  login: ['login', 'user', 'username', 'user_name'],
  password: ['password', 'pass', 'key'],
  host: ['host', 'remote_host', 'server'],
  port: ['port'],
  schema: ['database', 'schema'],
  conn_type: ['conn_type', 'conn_id', 'connection_type', 'engine'],
  extra: ['extra'],
};

export function awsSecretsManager(options: AwsSecretsManagerOptions = {}): SecretsBackend {
  const sep = options.sep ?? '/';
  const prefix = (p: string | null | undefined, dflt: string) =>
    p === undefined ? dflt : p === null ? null : p ? pyRstrip(p, sep) : p;
  const rules = kindRules(
    {
      connection: prefix(options.connectionsPrefix, 'airflow/connections'),
      variable: prefix(options.variablesPrefix, 'airflow/variables'),
      config: prefix(options.configPrefix, 'airflow/config'),
    },
    {
      connection: options.connectionsLookupPattern,
      variable: options.variablesLookupPattern,
      config: options.configLookupPattern,
    },
    'prefix',
  );
  const words = aliasTable(options.extraConnWords);
  const logger = options.logger ?? consoleLogger;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let client: Promise<SecretsManagerClient> | undefined;
  const getClient = () =>
    (client ??= (async () => {
      if (options.client) return options.client;
      const sdk = await importOptional<typeof import('@aws-sdk/client-secrets-manager')>(SDK, DRIVER_NAME);
      const config = await awsClientConfig(options, SDK, 'Airflow_SecretsManagerBackend__connection');
      return new sdk.SecretsManagerClient(config);
    })().catch((e) => {
      client = undefined;
      throw e;
    }));
  const send = async <T>(
    name: string,
    make: (sdk: typeof import('@aws-sdk/client-secrets-manager')) => unknown,
  ) => {
    const sdk = await importOptional<typeof import('@aws-sdk/client-secrets-manager')>(SDK, DRIVER_NAME);
    const c = await getClient();
    return withDeadline(DRIVER_NAME, name, timeoutMs, (abortSignal) =>
      c.send(make(sdk) as never, { abortSignal }),
    ) as Promise<T>;
  };
  const notFound = (name: string, code: string) => {
    logger.debug(`${DRIVER_NAME}: ${code} for '${name}', treated as not found`, {
      backend: DRIVER_NAME,
      name,
    });
    return null;
  };
  const shape = (kind: SecretKind, name: string, value: string | undefined | null) =>
    value !== undefined && value !== null && kind === 'connection'
      ? standardise(value, words, name)
      : (value ?? null);
  const toValue = (kind: SecretKind, id: string, name: string, value: string | null) => {
    if (kind !== 'connection') return value;
    return value === null || value.trim() === '' ? null : parseConnection(DRIVER_NAME, id, value, name);
  };

  return rawBackend({
    name: DRIVER_NAME,
    locate: (kind, id) => locateWith(rules, kind, id, (p) => ({ name: p ? buildPath(p, id, sep) : id })),
    async fetch(name, kind) {
      try {
        const out = await send<{ SecretString?: string }>(
          name,
          (sdk) => new sdk.GetSecretValueCommand({ SecretId: name }),
        );
        return shape(kind, name, out.SecretString);
      } catch (e) {
        if (NOT_FOUND.has((e as Error)?.name)) return notFound(name, (e as Error).name);
        throw mapAwsError(DRIVER_NAME, name, e);
      }
    },
    async getMany(kind, ids) {
      const result = new Map<string, Connection | string | null>();
      const byName = new Map<string, string>();
      for (const id of ids) {
        const where = locateWith(rules, kind, id, (p) => ({ name: p ? buildPath(p, id, sep) : id }));
        result.set(id, null);
        if ('name' in where) byName.set(where.name, id);
      }
      const names = [...byName.keys()];
      for (let i = 0; i < names.length; i += 20) {
        const chunk = names.slice(i, i + 20);
        let token: string | undefined;
        do {
          let out: BatchOutput;
          try {
            out = await send<BatchOutput>(
              chunk[0]!,
              (sdk) =>
                new sdk.BatchGetSecretValueCommand({
                  SecretIdList: chunk,
                  ...(token ? { NextToken: token } : {}),
                }),
            );
          } catch (e) {
            throw mapAwsError(DRIVER_NAME, chunk.join(', '), e);
          }
          for (const err of out.Errors ?? []) {
            const code = err.ErrorCode ?? 'Error';
            const name = err.SecretId ?? '';
            if (NOT_FOUND.has(code)) notFound(name, code);
            else throw mapAwsError(DRIVER_NAME, name, Object.assign(new Error(code), { name: code }));
          }
          for (const v of out.SecretValues ?? []) {
            const name = v.Name && byName.has(v.Name) ? v.Name : undefined;
            if (!name) continue;
            const id = byName.get(name)!;
            result.set(id, toValue(kind, id, name, shape(kind, name, v.SecretString)));
          }
          token = out.NextToken;
        } while (token);
      }
      return result;
    },
    async close() {
      const c = client;
      client = undefined;
      if (c && !options.client) (await c.catch(() => undefined))?.destroy();
    },
  });
}

type BatchOutput = {
  SecretValues?: { Name?: string; SecretString?: string }[];
  Errors?: { SecretId?: string; ErrorCode?: string }[];
  NextToken?: string;
};

function aliasTable(extra: Record<string, string[]> | undefined): Record<string, string[]> {
  const table = Object.fromEntries(Object.entries(BASE_WORDS).map(([k, v]) => [k, [...v]]));
  for (const [field, more] of Object.entries(extra ?? {})) {
    const target = field === 'user' ? 'login' : field;
    if (!table[target] || !Array.isArray(more) || more.some((w) => typeof w !== 'string')) {
      const setting = kwargSetting('extra_conn_words');
      throw new ConfigurationError(
        setting,
        `${setting}: '${field}' must be a connection field with a list of words`,
      );
    }
    table[target].push(...more);
  }
  return table;
}

/** Airflow's `_standardize_secret_keys`: the first key (in the secret's order) of each alias list wins. */
function standardise(value: string, words: Record<string, string[]>, name: string): string {
  if (!value.trim().startsWith('{')) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw new MalformedSecretError(DRIVER_NAME, `${DRIVER_NAME}: the secret '${name}' is not valid JSON`, {
      cause: safeCause(e),
      secretName: name,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedSecretError(DRIVER_NAME, `${DRIVER_NAME}: the secret '${name}' is not a JSON object`, {
      secretName: name,
    });
  }
  const entries = Object.entries(parsed);
  const out: Record<string, unknown> = {};
  for (const [field, aliases] of Object.entries(words)) {
    out[field] = entries.find(([k]) => aliases.includes(k))?.[1] ?? null;
  }
  return JSON.stringify(out);
}

/** `AIRFLOW__SECRETS__BACKEND=airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend`. */
export function fromAirflowKwargs(kw: Record<string, unknown>, context: AdapterContext): SecretsBackend {
  const opts: AwsSecretsManagerOptions = {
    ...awsOptionsFromKwargs(kw, context, { id: 'secretsmanager', envSuffix: 'SECRETS_MANAGER' }),
    logger: context.logger,
  };
  for (const [key, opt] of [
    ['connections_prefix', 'connectionsPrefix'],
    ['variables_prefix', 'variablesPrefix'],
    ['config_prefix', 'configPrefix'],
    ['connections_lookup_pattern', 'connectionsLookupPattern'],
    ['variables_lookup_pattern', 'variablesLookupPattern'],
    ['config_lookup_pattern', 'configLookupPattern'],
  ] as const) {
    const v = kwString(kw, key, true);
    if (v !== undefined) opts[opt] = v;
  }
  const sep = kwString(kw, 'sep');
  if (sep !== undefined) opts.sep = sep;
  const words = kwObject(kw, 'extra_conn_words');
  if (words) opts.extraConnWords = words as Record<string, string[]>;
  return awsSecretsManager(opts);
}
