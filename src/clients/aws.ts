/**
 * `awsConfig(conn)`: an AWS SDK v3 client configuration from an `aws` connection, the way
 * AwsConnectionWrapper reads it and BaseSessionFactory builds the boto3 session: the key pair from
 * login/password (or the extras), `aws_session_token`, `region_name`, `endpoint_url`,
 * `service_config`, `verify`, `config_kwargs`, `profile_name`, and `role_arn` with
 * `assume_role_kwargs` (STS AssumeRole, refreshed before expiry like botocore's
 * RefreshableCredentials). docs/clients.md lists each rule.
 *
 * No SDK is imported to build the configuration; AssumeRole loads `@aws-sdk/credential-providers`
 * (an optional peer) on the first call of the credentials provider.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { Connection } from '../connection.js';
import { AirflowSecretsError, describeError, safeCause } from '../errors.js';
import type { Logger } from '../logger.js';
import { importOptional } from '../optional-import.js';
import {
  type ClientBuilderOptions,
  type Extras,
  extraError,
  extrasOf,
  hideSecrets,
  requireConnType,
} from './common.js';

const FN = 'awsConfig';

/**
 * Credentials as the SDK takes them. `secretAccessKey` and `sessionToken` hold secrets (shown as
 * `***` by `util.inspect`/`JSON.stringify` of what the provider resolves to).
 */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
/** The SDK's credentials provider shape. */
export type AwsCredentialsProvider = () => Promise<AwsCredentialIdentity>;

/** A client configuration for any SDK v3 client: `new S3Client(awsConfig(conn, { service: 's3' }))`. */
export interface AwsClientConfig {
  region?: string;
  endpoint?: string;
  /** Absent when the connection names no keys and no role: the SDK's default chain applies. */
  credentials?: AwsCredentialsProvider;
  profile?: string;
  maxAttempts?: number;
  requestHandler?: { httpsAgent?: Agent; connectionTimeout?: number; requestTimeout?: number };
}

export interface AwsConfigOptions extends ClientBuilderOptions {
  /** The hook's `region_name` argument: wins over the `region_name` extra. */
  region?: string | undefined;
  /** The botocore service name (`s3`, `secretsmanager`, …): picks `service_config[service].endpoint_url`. */
  service?: string | undefined;
  /** Milliseconds since the epoch, for the refresh decisions. Default `Date.now`. */
  now?: (() => number) | undefined;
}

/** botocore RefreshableCredentials: refresh when less than 15 minutes are left; fail under 10. */
const ADVISORY_MS = 15 * 60_000;
const MANDATORY_MS = 10 * 60_000;

export function awsConfig(conn: Connection, options: AwsConfigOptions = {}): AwsClientConfig {
  if (conn.type !== null) requireConnType(FN, conn, ['aws']);
  const x = extrasOf(FN, conn, options);
  const nested: string[] = [];
  const cfg: AwsClientConfig = {};
  const extraRegion = x.string('region_name');
  const region = options.region || extraRegion;
  if (region) cfg.region = region;
  const serviceConfig = objectExtra(x, 'service_config') ?? {};
  const endpointOf = (service: string | undefined): string | undefined => {
    const c = service === undefined ? undefined : serviceConfig[service];
    const v = c && typeof c === 'object' ? (c as Record<string, unknown>).endpoint_url : undefined;
    return typeof v === 'string' ? v : undefined;
  };
  const globalEndpoint = x.string('endpoint_url');
  const endpoint = endpointOf(options.service) ?? globalEndpoint;
  if (endpoint) cfg.endpoint = endpoint;
  const handler = requestHandler(x, nested);
  if (handler.maxAttempts) cfg.maxAttempts = handler.maxAttempts;
  if (handler.handler) cfg.requestHandler = handler.handler;

  const keys = staticKeys(x);
  const profile = x.string('profile_name');
  if (profile && !keys) cfg.profile = profile;
  const roleArn = x.string('role_arn');
  if (roleArn) {
    const method = x.get('assume_role_method') ?? 'assume_role';
    if (method !== 'assume_role') {
      throw extraError(
        FN,
        conn,
        'assume_role_method',
        "is not 'assume_role', the only method awsConfig does",
      );
    }
    const params = {
      RoleSessionName: roleSessionName(`Airflow_${conn.id}`),
      ...(objectExtra(x, 'assume_role_kwargs') ?? {}),
      RoleArn: roleArn,
    };
    const sts = {
      region,
      endpoint: endpointOf('sts'),
      handler: cfg.requestHandler,
      attempts: cfg.maxAttempts,
    };
    cfg.credentials = refreshing(
      conn,
      x.logger,
      options.now ?? Date.now,
      assumeRole(conn, { params, keys, profile, sts }),
    );
  } else if (keys) {
    const creds = keys;
    cfg.credentials = async () => identity(creds);
  }
  x.warnUnused(nested);
  return cfg;
}

function objectExtra(x: Extras, key: string): Record<string, unknown> | undefined {
  const v = x.get(key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw extraError(FN, x.conn, key, 'must be an object');
  return v as Record<string, unknown>;
}

/** `_get_credentials`: login+password, else the extras' key pair, else `session_kwargs`'; the token likewise. */
function staticKeys(x: Extras): AwsCredentialIdentity | undefined {
  const { conn } = x;
  const sk = objectExtra(x, 'session_kwargs') ?? {};
  const s = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  let id: string | undefined;
  let secret: string | undefined;
  const extraId = s(x.get('aws_access_key_id'));
  const extraSecret = s(x.get('aws_secret_access_key'));
  if (conn.login && conn.password) [id, secret] = [conn.login, conn.password];
  else if (extraId && extraSecret) [id, secret] = [extraId, extraSecret];
  else if (s(sk.aws_access_key_id) && s(sk.aws_secret_access_key)) {
    [id, secret] = [s(sk.aws_access_key_id), s(sk.aws_secret_access_key)];
  }
  const token = s(x.get('aws_session_token')) ?? s(sk.aws_session_token);
  if (!id || !secret) return undefined;
  return token
    ? { accessKeyId: id, secretAccessKey: secret, sessionToken: token }
    : { accessKeyId: id, secretAccessKey: secret };
}

/** `verify` and `config_kwargs` (retries, connect_timeout, read_timeout) → SDK options. */
function requestHandler(x: Extras, nested: string[]) {
  const { conn } = x;
  const handler: NonNullable<AwsClientConfig['requestHandler']> = {};
  let maxAttempts: number | undefined;
  const verify = x.get('verify');
  if (verify === false) handler.httpsAgent = new Agent({ keepAlive: true, rejectUnauthorized: false });
  else if (typeof verify === 'string') {
    let ca: string;
    try {
      ca = readFileSync(verify, 'utf8');
    } catch (e) {
      throw extraError(FN, conn, 'verify', `names a CA bundle that cannot be read (${describeError(e)})`);
    }
    handler.httpsAgent = new Agent({ keepAlive: true, ca });
  }
  const ck = objectExtra(x, 'config_kwargs') ?? {};
  const seconds = (k: string) =>
    typeof ck[k] === 'number' && (ck[k] as number) > 0 ? (ck[k] as number) * 1000 : undefined;
  for (const k of Object.keys(ck)) {
    if (k === 'connect_timeout') handler.connectionTimeout = seconds(k) as number;
    else if (k === 'read_timeout') handler.requestTimeout = seconds(k) as number;
    else if (k === 'retries' && ck.retries && typeof ck.retries === 'object') {
      const r = ck.retries as Record<string, unknown>;
      if (typeof r.total_max_attempts === 'number') maxAttempts = r.total_max_attempts;
      else if (typeof r.max_attempts === 'number') maxAttempts = r.max_attempts + 1;
    } else nested.push(`config_kwargs.${k}`);
  }
  for (const k of ['connectionTimeout', 'requestTimeout'] as const)
    if (handler[k] === undefined) delete handler[k];
  return { handler: Object.keys(handler).length ? handler : undefined, maxAttempts };
}

/**
 * BaseSessionFactory's `_strip_invalid_session_name_characters` (python-slugify with
 * `[^\w+=,.@-]+`): quotes → `-`, accents stripped (NFKD, non-ASCII dropped), lower case, `,`
 * between digits removed, every run of other characters → `-`, runs of `-` collapsed, ends trimmed.
 */
export function roleSessionName(name: string): string {
  let t = name.replace(/'+/g, '-');
  t = t.normalize('NFKD').replace(/[^\x00-\x7f]/g, '');
  t = t.toLowerCase().replace(/'+/g, '');
  t = t.replace(/(?<=\d),(?=\d)/g, '');
  t = t.replace(/[^A-Za-z0-9_+=,.@-]+/g, '-');
  return t.replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '');
}

interface AssumeRoleArgs {
  params: Record<string, unknown>;
  keys: AwsCredentialIdentity | undefined;
  profile: string | undefined;
  sts: {
    region: string | undefined;
    endpoint: string | undefined;
    handler: AwsClientConfig['requestHandler'];
    attempts: number | undefined;
  };
}

/** One STS AssumeRole call per invocation (through `@aws-sdk/credential-providers`). */
function assumeRole(conn: Connection, a: AssumeRoleArgs): () => Promise<AwsCredentialIdentity> {
  let provider: (() => Promise<AwsCredentialIdentity>) | undefined;
  return async () => {
    if (!provider) {
      const cp = await importOptional<typeof import('@aws-sdk/credential-providers')>(
        '@aws-sdk/credential-providers',
        `${FN} (role_arn of connection '${conn.id}')`,
        () => import('@aws-sdk/credential-providers'),
      );
      const master = a.keys ?? (a.profile ? cp.fromIni({ profile: a.profile }) : undefined);
      const clientConfig: Record<string, unknown> = {};
      if (a.sts.region) clientConfig.region = a.sts.region;
      if (a.sts.endpoint) clientConfig.endpoint = a.sts.endpoint;
      if (a.sts.handler) clientConfig.requestHandler = a.sts.handler;
      if (a.sts.attempts) clientConfig.maxAttempts = a.sts.attempts;
      provider = cp.fromTemporaryCredentials({
        params: a.params as never,
        ...(master ? { masterCredentials: master } : {}),
        clientConfig: clientConfig as never,
      }) as () => Promise<AwsCredentialIdentity>;
    }
    try {
      return await provider();
    } catch (e) {
      const cause = stsCause(e);
      throw new AirflowSecretsError(
        `${FN}: STS AssumeRole for connection '${conn.id}' failed (${describeError(cause)}).`,
        { cause },
      );
    }
  };
}

/**
 * What of an STS (or network) error may be kept: {@link safeCause} (the name and code, which are
 * the server's own text, masked; never the message, request or response), plus the HTTP status.
 */
function stsCause(e: unknown): Error {
  const err = safeCause(e) as Error;
  const status = (e as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  if (typeof status === 'number') (err as Error & { statusCode?: number }).statusCode = status;
  return err;
}

/**
 * Cache the credentials; refresh when fewer than 15 minutes are left. A failed refresh with more
 * than 10 minutes left keeps the old credentials (and warns); under 10 minutes it throws. One
 * refresh at a time.
 */
function refreshing(
  conn: Connection,
  logger: Logger,
  now: () => number,
  fetch: () => Promise<AwsCredentialIdentity>,
): AwsCredentialsProvider {
  let current: AwsCredentialIdentity | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  const refresh = () =>
    (inflight ??= fetch()
      .then((c) => {
        current = c;
        return c;
      })
      .finally(() => {
        inflight = undefined;
      }));
  return async () => {
    const left = current?.expiration ? current.expiration.getTime() - now() : Number.POSITIVE_INFINITY;
    if (current && left > ADVISORY_MS) return identity(current);
    if (!current || left <= MANDATORY_MS) return identity(await refresh());
    try {
      return identity(await refresh());
    } catch (e) {
      logger.warn(`${FN}: refreshing the assumed-role credentials failed; using the current ones`, {
        connId: conn.id,
        secondsLeft: Math.floor(left / 1000),
        error: describeError(e instanceof AirflowSecretsError && e.cause ? e.cause : e),
      });
      return identity(current);
    }
  };
}

/** A copy of the credentials whose `secretAccessKey` and `sessionToken` print as `***`. */
function identity(c: AwsCredentialIdentity): AwsCredentialIdentity {
  return hideSecrets({ ...c }, ['secretAccessKey', 'sessionToken']);
}
