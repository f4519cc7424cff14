/**
 * Airflow's `SecretsManagerBackend` (amazon provider): secrets named `<prefix><sep><id>`, read with
 * GetSecretValue (AWSCURRENT). A connection is a URI, or JSON whose keys are standardised through
 * Airflow's aliases (`user`/`username` → login, `pass`/`key` → password, `engine` → conn_type, …).
 * The SDK is imported on first use; the client is created once and reused. The AWS session
 * (region, credentials, role, retries, TLS) and the SDK error mapping are in `../aws/common.ts`.
 */
import type { AdapterContext, SecretKind, SecretsBackend } from '../../backend.js';
import { ConfigurationError, MalformedSecretError, safeCause } from '../../errors.js';
import { consoleLogger, type Logger } from '../../logger.js';
import { type PyDict, type PyValue, pyJsonDumps, pyJsonLoads } from '../../pyjson.js';
import { kindKwargs, kwargSetting, kwObject, kwString } from '../airflow-kwargs.js';
import {
  type AwsCommonOptions,
  type AwsSdkClient,
  awsOptionsFromKwargs,
  batchOrNot,
  lazyAwsClient,
  logNotFound,
  mapAwsError,
  warnUnsupportedKwargs,
} from '../aws/common.js';
import { rawBackend, type SignalSource } from '../base.js';
import {
  activeTeam,
  buildPath,
  kindRules,
  type LookupPatternOptions,
  locateWith,
  type TeamOptions,
  teamNaming,
} from '../naming.js';
import { secretsManagerWrites } from './write.js';

const DRIVER_NAME = 'aws-secrets-manager';
const SDK = '@aws-sdk/client-secrets-manager';
type Sdk = typeof import('@aws-sdk/client-secrets-manager');

export interface AwsSecretsManagerOptions extends AwsCommonOptions, LookupPatternOptions, TeamOptions {
  /** Connections prefix; `null` disables connections. Default `airflow/connections`. */
  connectionsPrefix?: string | null | undefined;
  /** Variables prefix. Default `airflow/variables`. */
  variablesPrefix?: string | null | undefined;
  /** Config prefix. Default `airflow/config`. */
  configPrefix?: string | null | undefined;
  /** Separator between prefix and id. Default `/`. */
  sep?: string | undefined;
  /** More JSON key aliases per field, e.g. `{ "login": ["usr"] }` (`user` means login). */
  extraConnWords?: Record<string, string[]> | undefined;
  /**
   * A ready client (tests, tracing): a `SecretsManagerClient` from `@aws-sdk/client-secrets-manager`; the session options are then
   * ignored. Typed by the two methods used, so these declarations need no SDK installed.
   */
  client?: AwsSdkClient | undefined;
}

/** Errors Airflow treats as "not found" (each logged at debug). */
const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'InvalidParameterException',
  'InvalidRequestException',
  'DecryptionFailure',
  'InternalServiceError',
]);

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
    options,
    'prefix',
    options.logger,
  );
  const words = aliasTable(options.extraConnWords);
  const logger = options.logger ?? consoleLogger;
  const aws = lazyAwsClient<Sdk>({
    backend: DRIVER_NAME,
    pkg: SDK,
    load: () => import('@aws-sdk/client-secrets-manager'),
    options,
    injected: options.client,
    roleSessionName: 'Airflow_SecretsManagerBackend__connection',
    create: (sdk, config) => new sdk.SecretsManagerClient(config),
  });
  const team = activeTeam(options);
  // Airflow 3.2 multi-team: `<prefix><sep><team>--<id>` first (non-empty prefix), `--` ids refused.
  const { locate, candidates } = teamNaming({
    backend: DRIVER_NAME,
    logger,
    sep: TEAM_SEP,
    plain: (kind, id) => locateWith(rules, kind, id, (p) => ({ name: p ? buildPath(p, id, sep) : id })),
    scoped: (kind, id) => {
      const p = rules[kind].prefix;
      return team && p ? buildPath(p, `${team}${TEAM_SEP}${id}`, sep) : null;
    },
    refused: (_kind, id) => options.multiTeam === true && id.includes(TEAM_SEP),
  });
  // Connections stored as JSON are standardised (aliases) before the usual deserialisation.
  const shape = (kind: SecretKind, name: string, value: string | undefined) =>
    value === undefined ? null : kind === 'connection' ? standardise(value, words, name) : value;

  const { getOne, getBatch } = secretReads(aws, logger, shape);

  const writes = secretsManagerWrites({ send: aws.send, locate, candidates, rules, sep, team });
  const backend = rawBackend({
    name: DRIVER_NAME,
    locate,
    ...(team ? { candidates } : {}),
    fetch: (name, kind, _id, options) => getOne(name, kind, options),
    // BatchGetSecretValue, 20 ids a call (used by the resolver's prefetch); one name per id, so
    // not with a team (two names per id): the resolver then reads one by one.
    ...batchOrNot(team, {
      backend: DRIVER_NAME,
      action: 'BatchGetSecretValue',
      size: 20,
      logger,
      locate,
      batch: getBatch,
      one: getOne,
    }),
    close: () => aws.close(),
  });
  return { ...backend, ...writes };
}

/** GetSecretValue (one name) and BatchGetSecretValue (a chunk), with Airflow's not-found codes. */
function secretReads(
  aws: ReturnType<typeof lazyAwsClient<Sdk>>,
  logger: Logger,
  shape: (kind: SecretKind, name: string, value: string | undefined) => string | null,
) {
  const getOne = async (name: string, kind: SecretKind, signal?: SignalSource): Promise<string | null> => {
    try {
      const out = await aws.send<{ SecretString?: string }>(
        name,
        (sdk) => new sdk.GetSecretValueCommand({ SecretId: name }),
        signal,
      );
      return shape(kind, name, out.SecretString);
    } catch (e) {
      const code = (e as Error)?.name;
      if (NOT_FOUND.has(code)) return logNotFound(logger, DRIVER_NAME, name, code);
      throw mapAwsError(DRIVER_NAME, name, e);
    }
  };
  const getBatch = async (chunk: string[], kind: SecretKind, signal?: AbortSignal) => {
    const found = new Map<string, string | null>();
    let token: string | undefined;
    do {
      const out = await aws.send<BatchOutput>(
        chunk[0]!,
        (sdk) => new sdk.BatchGetSecretValueCommand({ SecretIdList: chunk, NextToken: token }),
        signal,
      );
      for (const { SecretId: name = '', ErrorCode: code = 'Error' } of out.Errors ?? []) {
        if (NOT_FOUND.has(code)) logNotFound(logger, DRIVER_NAME, name, code);
        else throw mapAwsError(DRIVER_NAME, name, Object.assign(new Error(code), { name: code }));
      }
      for (const v of out.SecretValues ?? []) {
        if (v.Name && chunk.includes(v.Name)) found.set(v.Name, shape(kind, v.Name, v.SecretString));
      }
      token = out.NextToken;
    } while (token);
    return found;
  };
  return { getOne, getBatch };
}

/** Between the team and the id in a team-scoped name (Airflow 3.2's `TEAM_SEP`). */
const TEAM_SEP = '--';

/** The kwargs of `SecretsManagerBackend` itself (the AWS session kwargs come on top). */
const SM_KWARGS = new Set([
  ...['connections', 'variables', 'config'].flatMap((k) => [`${k}_prefix`, `${k}_lookup_pattern`]),
  ...['sep', 'extra_conn_words', 'are_secret_values_urlencoded'],
]);

/**
 * `are_secret_values_urlencoded` (deprecated in Airflow, which still URL-decodes JSON connection
 * values with it): `true` is refused rather than ignored, since the values would differ.
 */
function refuseUrlencoded(kw: Record<string, unknown>): void {
  const v = kw.are_secret_values_urlencoded;
  if (v === undefined || v === null || v === false) return;
  const setting = kwargSetting('are_secret_values_urlencoded');
  throw new ConfigurationError(
    setting,
    `${setting} is not supported: URL-decoding JSON secret values is not implemented; store the values decoded and remove the kwarg (Airflow deprecates it)`,
  );
}

/** `AIRFLOW__SECRETS__BACKEND=airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend`. */
export function fromAirflowKwargs(kw: Record<string, unknown>, context: AdapterContext): SecretsBackend {
  const opts: AwsSecretsManagerOptions = {
    ...awsOptionsFromKwargs(kw, context, { id: 'secretsmanager', envSuffix: 'SECRETS_MANAGER' }),
    logger: context.logger,
    team: context.team,
    multiTeam: context.multiTeam,
  };
  warnUnsupportedKwargs(kw, SM_KWARGS, context.logger, DRIVER_NAME);
  refuseUrlencoded(kw);
  Object.assign(opts, kindKwargs(kw, 'prefix'));
  const sep = kwString(kw, 'sep');
  if (sep !== undefined) opts.sep = sep;
  const words = kwObject(kw, 'extra_conn_words');
  if (words) opts.extraConnWords = words as Record<string, string[]>;
  return awsSecretsManager(opts);
}

type BatchOutput = {
  SecretValues?: { Name?: string; SecretString?: string }[];
  Errors?: { SecretId?: string; ErrorCode?: string }[];
  NextToken?: string;
};

/** Airflow's `_standardize_secret_keys` aliases: for each connection field, the JSON keys that fill it. */
const BASE_WORDS: Record<string, string[]> = {
  login: ['login', 'user', 'username', 'user_name'],
  password: ['password', 'pass', 'key'],
  host: ['host', 'remote_host', 'server'],
  port: ['port'],
  schema: ['database', 'schema'],
  conn_type: ['conn_type', 'conn_id', 'connection_type', 'engine'],
  extra: ['extra'],
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

/**
 * Airflow's `_standardize_secret_keys`: the first key (in the secret's order) of each alias list wins.
 * Read and re-written with Python's `json` semantics (big ints, `1.0`, `NaN`, key order, duplicate
 * keys), as Airflow's `json.loads`/`json.dumps` round trip keeps them.
 */
function standardise(value: string, words: Record<string, string[]>, name: string): string {
  if (!value.trim().startsWith('{')) return value;
  let parsed: PyValue;
  try {
    parsed = pyJsonLoads(value);
  } catch (e) {
    throw new MalformedSecretError(DRIVER_NAME, `${DRIVER_NAME}: the secret '${name}' is not valid JSON`, {
      cause: safeCause(e),
      secretName: name,
    });
  }
  if (!(parsed instanceof Map)) {
    throw new MalformedSecretError(DRIVER_NAME, `${DRIVER_NAME}: the secret '${name}' is not a JSON object`, {
      secretName: name,
    });
  }
  const entries = [...parsed];
  const out: PyDict = new Map();
  for (const [field, aliases] of Object.entries(words)) {
    out.set(field, entries.find(([k]) => aliases.includes(k))?.[1] ?? null);
  }
  return pyJsonDumps(out);
}

/** Python's `str.rstrip(chars)` (Airflow strips `sep` off the prefixes): any trailing run of `chars`. */
function pyRstrip(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}
