/**
 * The AWS provider's own code, shared by the Secrets Manager and SSM adapters (and, later, by
 * `clients/awsConfig`): Airflow's AWS session kwargs (`region_name`, `endpoint_url`, explicit keys,
 * `profile_name`, `role_arn`, `config_kwargs`, `verify`, `service_config`) mapped onto
 * {@link AwsCommonOptions}, and those onto an SDK v3 client configuration; the one SDK client per
 * backend, created on first use; `getMany` through a batch action with a fallback to single reads;
 * and the mapping of SDK errors onto this library's typed errors.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AdapterContext, Lookup, SecretKind, SecretsBackend } from '../../backend.js';
import type { Connection } from '../../connection.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  safeCause,
  ThrottledError,
} from '../../errors.js';
import type { Logger } from '../../logger.js';
import { serverText } from '../../masker.js';
import { importOptional } from '../../optional-import.js';
import { kwargSetting, kwInt, kwObject, kwOptString, kwVerify } from '../airflow-kwargs.js';
import {
  type CallCancel,
  DEFAULT_TIMEOUT_MS,
  InFlightCalls,
  NETWORK_ERROR_CODES,
  networkReason,
  parseConnection,
  type SignalSource,
  withDeadline,
} from '../base.js';
import { botocoreSettings, checkUseSsl } from './botocore-config.js';
import {
  credentialsError,
  defaultChain,
  explicitSdkSettings,
  maxAttemptsFrom,
  regionFromConfigFile,
  sharedFiles,
  staticCredentials,
} from './env.js';
import { type AssumedRole, assumedRole } from './role.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/** Session options shared by the Secrets Manager and SSM adapters. */
export interface AwsCommonOptions {
  /** AWS region. Default: `AWS_REGION` / `AWS_DEFAULT_REGION`, else the SDK's own resolution. */
  region?: string | undefined;
  /** Service endpoint (LocalStack, a VPC endpoint, a local fake). Default: the SDK's. */
  endpoint?: string | undefined;
  /** Static credentials or a provider. Default: the SDK's default chain (env, profile, SSO, IMDS…). */
  credentials?: AwsCredentials | AwsCredentialsProvider | undefined;
  /** Shared-config profile for credentials (`~/.aws/credentials`). Default: none. */
  profile?: string | undefined;
  /** Assume this IAM role through STS AssumeRole before calling the service. Default: none. */
  roleArn?: string | undefined;
  /** Extra AssumeRole parameters (`ExternalId`, `DurationSeconds`, `RoleSessionName`, …). */
  assumeRoleParams?: Record<string, unknown> | undefined;
  /** STS endpoint used for `roleArn`. Default: the SDK's (regional STS). */
  stsEndpoint?: string | undefined;
  /** Attempts per call including the first; the SDK retries throttling and 5xx. Default 3. */
  maxAttempts?: number | undefined;
  /** TLS verification: `false` disables it, a string is a CA bundle file. Default `true`. */
  verify?: boolean | string | undefined;
  /** Connect timeout in ms. Default: `timeoutMs`. */
  connectTimeoutMs?: number | undefined;
  /** Socket idle timeout per attempt, in ms (botocore's `read_timeout`). Default: `timeoutMs`. */
  readTimeoutMs?: number | undefined;
  /** Sockets per keep-alive agent (botocore's `max_pool_connections`). Default 50. */
  maxSockets?: number | undefined;
  /** Deadline for each lookup, in ms (also the SDK's per-attempt request timeout). Default 10 000. */
  timeoutMs?: number | undefined;
  /** Extra SDK client configuration, applied last (e.g. `retryStrategy`, `logger`). */
  clientConfig?: Record<string, unknown> | undefined;
  logger?: Logger | undefined;
  /**
   * The environment the AWS settings come from instead of `process.env` (set by
   * `fromAirflowKwargs` to the resolver's env). With it, the SDK is given every setting it would
   * otherwise read from `process.env` (region, credentials chain, retries, endpoints; see
   * `./env.ts`). Default: none, and the SDK reads `process.env` as usual.
   */
  env?: Record<string, string | undefined> | undefined;
}

// ---------------------------------------------------------------------------------------------
// Airflow's session kwargs → options

/** The AWS session kwargs both adapters honour (read by {@link awsOptionsFromKwargs}). */
const AWS_SESSION_KWARGS: readonly string[] = [
  ...['region_name', 'endpoint_url', 'aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'],
  ...['profile_name', 'role_arn', 'assume_role_method', 'assume_role_kwargs', 'verify', 'service_config'],
  ...['config_kwargs', 'use_ssl'],
  // No effect in Airflow's current provider either (api_version: one API version; full_url_mode: removed).
  ...['api_version', 'full_url_mode'],
];
const ASSUME_ROLE_KEYS = new Set(['assume_role', undefined]);

/**
 * Warn (naming the key, never its value) about each kwarg that is neither one of the adapter's own
 * (`adapterKwargs`) nor an AWS session kwarg (Airflow's connection wrapper does not read it either,
 * so it has no effect there). `config_kwargs` and `use_ssl`, which Airflow does pass on to boto3,
 * are mapped or refused by `./botocore-config.ts`, never only warned about.
 */
export function warnUnsupportedKwargs(
  kw: Record<string, unknown>,
  adapterKwargs: ReadonlySet<string>,
  logger: Logger,
  backend: string,
): void {
  for (const key of Object.keys(kw)) {
    if (!adapterKwargs.has(key) && !AWS_SESSION_KWARGS.includes(key)) {
      logger.warn(
        `${backend}: ignoring backend_kwargs key '${key}' (Airflow passes it to the boto3 session or client; not supported here)`,
        { backend },
      );
    }
  }
}

/**
 * Airflow's AWS kwargs (the ones `AwsConnectionWrapper` reads from `backend_kwargs`) → options.
 * `service` is the botocore service id used for `service_config` and `AWS_ENDPOINT_URL_<SERVICE>`.
 */
export function awsOptionsFromKwargs(
  kw: Record<string, unknown>,
  context: AdapterContext,
  service: { id: string; envSuffix: string },
): AwsCommonOptions {
  const env = context.env;
  const serviceConfig = kwObject(kw, 'service_config') ?? {};
  const endpointFor = (id: string) => {
    const c = serviceConfig[id];
    const v = c && typeof c === 'object' ? (c as Record<string, unknown>).endpoint_url : undefined;
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw new ConfigurationError(kwargSetting(`service_config.${id}.endpoint_url`), 'must be a string');
    }
    return v ?? undefined;
  };
  const out: AwsCommonOptions = {};
  const region = kwOptString(kw, 'region_name') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) out.region = region;
  const endpoint =
    kwOptString(kw, 'endpoint_url') ??
    endpointFor(service.id) ??
    env[`AWS_ENDPOINT_URL_${service.envSuffix}`] ??
    env.AWS_ENDPOINT_URL;
  if (endpoint) out.endpoint = endpoint;

  const fromKwargs = staticCredentials(
    kwOptString(kw, 'aws_access_key_id'),
    kwOptString(kw, 'aws_secret_access_key'),
    kwOptString(kw, 'aws_session_token'),
    { keyId: 'aws_access_key_id', secret: 'aws_secret_access_key', token: 'aws_session_token' },
  );
  const profile = kwOptString(kw, 'profile_name');
  // botocore's order: explicit keys (all or a "partial credentials" error), the profile, then the
  // environment's keys (read from the given env rather than process.env), then the rest of the chain.
  const fromEnv = staticCredentials(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN, {
    keyId: 'AWS_ACCESS_KEY_ID',
    secret: 'AWS_SECRET_ACCESS_KEY',
    token: 'AWS_SESSION_TOKEN',
  });
  if (fromKwargs) out.credentials = fromKwargs;
  else if (profile) out.profile = profile;
  else if (fromEnv) out.credentials = fromEnv;
  out.env = env;

  const roleArn = kwOptString(kw, 'role_arn');
  if (roleArn) {
    const method = kwOptString(kw, 'assume_role_method');
    if (!ASSUME_ROLE_KEYS.has(method)) {
      throw new ConfigurationError(
        kwargSetting('assume_role_method'),
        `${kwargSetting('assume_role_method')}: only 'assume_role' is supported`,
      );
    }
    out.roleArn = roleArn;
    const params = kwObject(kw, 'assume_role_kwargs');
    if (params) out.assumeRoleParams = params;
    const sts = endpointFor('sts') ?? env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
    if (sts) out.stsEndpoint = sts;
    else if (kwOptString(kw, 'endpoint_url')) warnStsEndpoint(context.logger, service.id);
  }

  const verify = kwVerify(kw);
  if (verify !== undefined) out.verify = verify;
  const attempts = botocoreTotalAttempts(kw);
  if (attempts !== undefined) out.maxAttempts = attempts;
  checkUseSsl(kw, endpoint);
  const { clientConfig, ...botocore } = botocoreSettings(kw);
  Object.assign(out, botocore);
  if (clientConfig) out.clientConfig = clientConfig;
  return out;
}

/**
 * With `role_arn`, Airflow's `endpoint_url` applies to the service client only, never to STS (so
 * do we). Said once per backend: AssumeRole then goes to the real AWS STS, which surprises anyone
 * pointing `endpoint_url` at LocalStack or a fake.
 */
function warnStsEndpoint(logger: Logger, service: string): void {
  logger.warn(
    `${service}: endpoint_url is set with role_arn, but STS has no endpoint of its own (service_config.sts.endpoint_url, AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL): AssumeRole goes to the real AWS STS, as in Airflow`,
    { setting: kwargSetting('endpoint_url') },
  );
}

/**
 * botocore's total attempts from `config_kwargs.retries` (`Config(retries=…)`): `total_max_attempts`
 * as is, else `max_attempts` **+ 1** (botocore's `max_attempts` counts retries, not the first
 * request). `undefined` when neither is set.
 */
function botocoreTotalAttempts(kw: Record<string, unknown>): number | undefined {
  const config = kwObject(kw, 'config_kwargs');
  const retries = config ? kwObject(config, 'retries') : undefined;
  if (!retries) return undefined;
  const total = kwInt(retries, 'total_max_attempts');
  if (total !== undefined) return Math.max(1, total);
  const retriesOnly = kwInt(retries, 'max_attempts');
  return retriesOnly === undefined ? undefined : retriesOnly + 1;
}

// ---------------------------------------------------------------------------------------------
// The SDK client

/** The keep-alive agents of one backend's SDK clients (service and STS), destroyed by `close()`. */
export interface AwsAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

function makeAgents(o: AwsCommonOptions): AwsAgents {
  const tls =
    o.verify === false
      ? { rejectUnauthorized: false }
      : typeof o.verify === 'string'
        ? { ca: readCa(o.verify) }
        : {};
  return {
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 50 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 50, ...tls }),
  };
}

/**
 * Build the SDK client configuration (no I/O except reading a `verify` CA file). The requests go
 * through `agents` (ours, so `close()` can destroy every socket). With `o.env`, every setting the
 * SDK would read from `process.env` or the shared files is given from `o.env` (`./env.ts`). With
 * `o.roleArn`, the credentials are those of the role, assumed by `./role.ts` (its STS calls are
 * cancelled only by a backend's `close()` here; {@link lazyAwsClient} also ties them to lookups).
 */
export async function awsClientConfig(
  o: AwsCommonOptions,
  usedBy: string,
  roleSessionName: string,
  agents: AwsAgents = makeAgents(o),
): Promise<Record<string, unknown>> {
  return (await awsClientSetup(o, usedBy, roleSessionName, agents, new InFlightCalls())).config;
}

/** {@link awsClientConfig}, and the assumed role (with `o.roleArn`), its STS calls tracked by `inFlight`. */
async function awsClientSetup(
  o: AwsCommonOptions,
  usedBy: string,
  roleSessionName: string,
  agents: AwsAgents,
  inFlight: InFlightCalls,
): Promise<{ config: Record<string, unknown>; role?: AssumedRole }> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const requestHandler: Record<string, unknown> = {
    requestTimeout: o.readTimeoutMs ?? timeoutMs,
    throwOnRequestTimeout: true,
    connectionTimeout: o.connectTimeoutMs ?? timeoutMs,
    ...agents,
  };
  const env = o.env;
  const maxAttempts = o.maxAttempts ?? (env ? (maxAttemptsFrom(env) ?? 3) : undefined);
  const shared: Record<string, unknown> = {
    requestHandler,
    ...(env ? explicitSdkSettings(env, Boolean(o.endpoint)) : {}),
    ...(maxAttempts ? { maxAttempts } : {}),
    ...(o.clientConfig?.retryStrategy ? { retryStrategy: o.clientConfig.retryStrategy } : {}),
  };
  const region = o.region ?? (env ? regionProvider(env, o.profile) : undefined);
  if (region) shared.region = region;
  let credentials: unknown = o.credentials;
  if (credentials === undefined && o.profile) {
    const cp = await credentialProviders(usedBy);
    credentials = cp.fromIni({ profile: o.profile, ...(env ? sharedFiles(env) : {}), clientConfig: shared });
  } else if (credentials === undefined && env) {
    credentials = defaultChain(await credentialProviders(usedBy), env, shared);
  }
  let role: AssumedRole | undefined;
  if (o.roleArn) {
    const stsConfig: Record<string, unknown> = { ...shared, region: shared.region ?? stsRegionFromProcess };
    if (credentials) stsConfig.credentials = credentials;
    if (o.stsEndpoint) stsConfig.endpoint = o.stsEndpoint;
    else if (env) stsConfig.ignoreConfiguredEndpointUrls = true;
    const params = { RoleSessionName: roleSessionName, ...o.assumeRoleParams, RoleArn: o.roleArn };
    role = assumedRole({ stsConfig, params, inFlight, usedBy });
    credentials = role.provider;
  }
  const config = {
    ...shared,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(o.profile && !env ? { profile: o.profile } : {}),
    ...o.clientConfig,
  };
  return role ? { config, role } : { config };
}

/** The STS region without `o.env` or a region: `process.env`'s, else (as the SDK's `fromTemporaryCredentials`) us-east-1. */
const stsRegionFromProcess = async (): Promise<string> =>
  process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';

/** The region when none is configured: the profile's in the config file `env` names, else a typed error. */
function regionProvider(env: Record<string, string | undefined>, profile: string | undefined) {
  return async (): Promise<string> => {
    const found = regionFromConfigFile(env, profile);
    if (found) return found;
    throw new ConfigurationError(
      kwargSetting('region_name'),
      'no AWS region configured: set region_name in backend_kwargs, AWS_REGION or AWS_DEFAULT_REGION, or region in the profile of the AWS config file',
    );
  };
}

/** The part of an SDK v3 client the adapters use. */
export interface AwsSdkClient {
  send(command: never, options?: { abortSignal?: unknown }): Promise<unknown>;
  destroy(): void;
}

/**
 * One SDK client per backend instance, created on first use (SDK imported then) and reused; every
 * call runs under `withDeadline`, cancelled for real: its {@link CallCancel} goes to the SDK as the
 * call's `abortSignal` (a plain `{ aborted, onabort }`, which the SDK's handler and retry loop
 * accept without the cost of a real `AbortSignal`), so the deadline or the lookup's `signal`
 * destroys the request in flight and stops the SDK's retries. `close()` cancels the calls in
 * flight and destroys the client and its agents (every socket). SDK errors are rethrown as they
 * are, for the adapter to map.
 */
export function lazyAwsClient<M>(args: {
  backend: string;
  pkg: string;
  /** `() => import('<pkg>')` with the literal name, so bundlers see it. */
  load: () => Promise<unknown>;
  options: AwsCommonOptions;
  injected: AwsSdkClient | undefined;
  roleSessionName: string;
  create: (sdk: M, config: Record<string, unknown>) => AwsSdkClient;
}) {
  const timeoutMs = args.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let client: Promise<AwsSdkClient> | undefined;
  let agents: AwsAgents | undefined;
  let role: AssumedRole | undefined;
  const inFlight = new InFlightCalls();
  const get = () =>
    (client ??= (async () => {
      if (args.injected) return args.injected;
      const sdk = await importOptional<M>(args.pkg, args.backend, args.load);
      agents ??= makeAgents(args.options);
      const setup = await awsClientSetup(args.options, args.pkg, args.roleSessionName, agents, inFlight);
      role = setup.role;
      return args.create(sdk, setup.config);
    })().catch((e) => {
      client = undefined;
      throw e;
    }));
  let ready: { sdk: M; client: AwsSdkClient } | undefined;
  return {
    /**
     * One SDK call. Each attempt is bounded by the client's `requestTimeout` (with
     * `throwOnRequestTimeout`), and the whole call, retries included, by `timeoutMs` and `signal`;
     * with `role_arn`, the AssumeRole call it waits for (when the role's credentials are not
     * cached) too.
     */
    async send<T>(secretName: string, make: (sdk: M) => unknown, signal?: SignalSource): Promise<T> {
      if (!ready) {
        const sdk = await importOptional<M>(args.pkg, args.backend, args.load);
        ready = { sdk, client: await get() };
      }
      const { sdk, client: c } = ready;
      const call = (cancel: CallCancel) => {
        const run = () => c.send(make(sdk) as never, { abortSignal: cancel });
        const assuming = role?.ensure(cancel);
        return inFlight.track(cancel, assuming ? assuming.then(run) : run());
      };
      return (await withDeadline(args.backend, secretName, timeoutMs, call, signal)) as T;
    },
    async close(): Promise<void> {
      const c = client;
      const a = agents;
      const r = role;
      client = undefined;
      ready = undefined;
      agents = undefined;
      role = undefined;
      inFlight.cancelAll();
      r?.close();
      if (c && !args.injected) (await c.catch(() => undefined))?.destroy();
      a?.httpAgent.destroy();
      a?.httpsAgent.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// getMany

/** How one AWS adapter reads for {@link batchGetMany}. */
export interface BatchReads {
  backend: string;
  /** The batch action's name, for the log line when it is denied. */
  action: string;
  /** Names per batch call (the service's limit). */
  size: number;
  logger: Logger;
  locate: (kind: SecretKind, id: string) => Lookup;
  /** The batch action on one chunk: name → value for the names it answers (the rest stay not found). */
  batch: (chunk: string[], kind: SecretKind, signal?: AbortSignal) => Promise<Map<string, string | null>>;
  /** The single read, used once the batch action is denied. */
  one: (name: string, kind: SecretKind, signal?: AbortSignal) => Promise<string | null>;
}

/** `{ getMany }` for an adapter, or nothing when a team is active (two names per id: single reads). */
export function batchOrNot(
  team: string | undefined,
  r: BatchReads,
): { getMany?: NonNullable<SecretsBackend['getMany']> } {
  return team ? {} : { getMany: batchGetMany(r) };
}

/**
 * `getMany` for the AWS adapters (used by the resolver's prefetch): every id starts as not found;
 * the names of the ids that would be looked up go in chunks of `size` through the batch action
 * (`BatchGetSecretValue`, `GetParameters`). Many IAM policies grant the single read but not the
 * batch action (its own IAM action): once a batch call is denied, the backend logs it at debug and
 * reads one by one from then on. Any other failure is mapped with {@link mapAwsError}. A connection
 * value is deserialised as `getConnection` does (an empty one is not found).
 */
export function batchGetMany(r: BatchReads): NonNullable<SecretsBackend['getMany']> {
  let denied = false;
  const chunkValues = async (chunk: string[], kind: SecretKind, signal: AbortSignal | undefined) => {
    if (!denied) {
      try {
        return await r.batch(chunk, kind, signal);
      } catch (e) {
        const mapped = mapAwsError(r.backend, chunk.join(', '), e);
        if (!batchDenied(e, mapped)) throw mapped;
        r.logger.debug(`${r.backend}: ${r.action} denied; reading one by one`, { backend: r.backend });
        denied = true;
      }
    }
    const values = await Promise.all(chunk.map((name) => r.one(name, kind, signal)));
    return new Map(chunk.map((name, j) => [name, values[j]!]));
  };
  return async (kind, ids, options) => {
    const result = new Map<string, Connection | string | null>();
    const idByName = new Map<string, string>();
    for (const id of ids) {
      result.set(id, null);
      const where = r.locate(kind, id);
      if ('name' in where) idByName.set(where.name, id);
    }
    const names = [...idByName.keys()];
    for (let i = 0; i < names.length; i += r.size) {
      for (const [name, value] of await chunkValues(names.slice(i, i + r.size), kind, options?.signal)) {
        const id = idByName.get(name);
        if (id === undefined || value === null) continue;
        if (kind !== 'connection') result.set(id, value);
        else if (value !== '') result.set(id, parseConnection(r.backend, id, value, name));
      }
    }
    return result;
  };
}

/**
 * Whether a failed batch call means "this identity may not use the batch action": AWS's
 * `AccessDeniedException`, anything that maps to `AccessDeniedError`, or a bare HTTP 403 (as
 * emulators and proxies answer).
 */
function batchDenied(e: unknown, mapped: Error): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return (
    (e as Error)?.name === 'AccessDeniedException' || mapped instanceof AccessDeniedError || status === 403
  );
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Airflow logs these "not found" answers at debug; so do we (names only). */
export function logNotFound(logger: Logger, backend: string, secretName: string, code: string): null {
  logger.debug(`${backend}: ${code} for '${secretName}', treated as not found`, { backend, secretName });
  return null;
}

/** Why a request was refused, in words, for the SDK error names that say it (server text is never copied). */
const DENIED_WORDS: Record<string, string> = {
  AccessDeniedException: 'access denied',
  AccessDenied: 'access denied',
  UnrecognizedClientException: 'the access key id or session token is not valid',
  InvalidClientTokenId: 'the access key id is not valid',
  InvalidSignatureException: 'the secret access key does not match the access key id',
  SignatureDoesNotMatch: 'the secret access key does not match the access key id',
  IncompleteSignature: 'the request signature is incomplete',
  MissingAuthenticationToken: 'no credentials were sent',
  ExpiredTokenException: 'the session token has expired',
  ExpiredToken: 'the session token has expired',
  NotAuthorized: 'not authorized',
};

/**
 * Map an SDK (or credential-provider) error onto a typed error whose message says why in words:
 * access denied for the secret name, which credential is missing, the DNS or connection failure
 * with its host, throttling, the HTTP status; `verb` says what was being done (`reading` by default;
 * `writing`, `listing`, `deleting`). The error's `name` and `code` come from the wire, so
 * they appear only through {@link serverText}; its `message` never.
 */
export function mapAwsError(backend: string, secretName: string, e: unknown, verb = 'reading'): Error {
  if (e instanceof BackendError || e instanceof ConfigurationError) return e;
  const known = credentialsError(backend, secretName, e);
  if (known) return known;
  const err = e as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = err?.name ?? 'Error';
  const status = err?.$metadata?.httpStatusCode;
  const what = `${serverText(name, 60) || 'Error'}${status ? `, HTTP ${status}` : ''}`;
  const opts = { cause: safeCause(e), secretName };
  const at = `'${secretName}'`;
  if (THROTTLING.has(name) || status === 429) {
    return new ThrottledError(backend, `${backend}: throttled ${verb} ${at} (${what})`, opts);
  }
  if (DENIED.has(name) || status === 403) {
    const words = DENIED_WORDS[name] ?? 'access denied';
    return new AccessDeniedError(backend, `${backend}: ${words} ${verb} ${at} (${what})`, opts);
  }
  if (name === 'TimeoutError' || err?.code === 'ETIMEDOUT') {
    return new BackendTimeoutError(backend, `${backend}: no answer for ${at} in time (${what})`, opts);
  }
  const code = typeof err?.code === 'string' ? err.code : '';
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    const hint = 'set verify to the CA bundle that signed the endpoint certificate';
    return new BackendError(backend, 'failed', `${backend}: TLS failed for ${at} (${code}); ${hint}`, opts);
  }
  if (NETWORK_ERROR_CODES.has(code)) {
    const why = networkReason(e) ?? code;
    return new BackendUnavailableError(backend, `${backend}: cannot reach AWS for ${at}: ${why}`, opts);
  }
  if (status !== undefined && status >= 500) {
    return new BackendUnavailableError(
      backend,
      `${backend}: service unavailable ${verb} ${at} (${what})`,
      opts,
    );
  }
  if (name === 'SyntaxError') {
    return new BackendError(
      backend,
      'failed',
      `${backend}: the response for ${at} could not be parsed (${what})`,
      opts,
    );
  }
  if (err?.message === 'Region is missing') {
    return new ConfigurationError(
      kwargSetting('region_name'),
      `${backend}: no AWS region configured (set region_name in backend_kwargs, or AWS_REGION / AWS_DEFAULT_REGION)`,
    );
  }
  if (name === 'CredentialsProviderError') {
    return new BackendError(
      backend,
      'failed',
      `${backend}: cannot read ${at}: no AWS credentials found (set aws_access_key_id and aws_secret_access_key, profile_name, role_arn, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
      opts,
    );
  }
  return new BackendError(backend, 'failed', `${backend}: ${verb} ${at} failed (${what})`, opts);
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'ProvisionedThroughputExceededException',
]);
const DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredTokenException',
  'ExpiredToken',
  'NotAuthorized',
]);

function credentialProviders(usedBy: string) {
  return importOptional<typeof import('@aws-sdk/credential-providers')>(
    '@aws-sdk/credential-providers',
    usedBy,
    () => import('@aws-sdk/credential-providers'),
  );
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigurationError('verify', `Cannot read the CA bundle named by verify`, {
      cause: safeCause(e),
    });
  }
}
