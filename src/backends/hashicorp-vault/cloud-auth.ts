/**
 * The Vault logins that need a cloud's own credentials, as Airflow's `_VaultClient` makes them:
 * `aws_iam` (a GetCallerIdentity request signed with AWS Signature V4 by the AWS SDK's own signer,
 * `@smithy/signature-v4`, laid out as hvac's `iam_login` sends it), `gcp` (a JWT for the service
 * account, signed by Google's IAM `signJwt` through google-auth-library), and `azure` (an Entra ID
 * token from @azure/identity). Each returns the body of `POST auth/<mount>/login`; `./auth.ts` sends it.
 * Every SDK is imported on first use.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { AccessDeniedError, ConfigurationError, describeError, safeCause } from '../../errors.js';
import { importOptional } from '../../optional-import.js';
import { pyJsonDumps } from '../../pyjson.js';
import { kwargSetting } from '../airflow-kwargs.js';
import {
  type AwsIdentity,
  defaultChain,
  explicitSdkSettings,
  maxAttemptsFrom,
  NoAwsCredentials,
  PartialAwsCredentials,
  staticCredentials,
} from '../aws/env.js';
import type { CallCancel } from '../base.js';
import { silenceAuthLibrary } from '../google/auth-log.js';
import { DRIVER_NAME } from './client.js';

/** The cloud-auth settings of the Vault adapter (Airflow's kwargs in camelCase). */
export interface VaultCloudAuthOptions {
  /** aws_iam: the access key id; azure: the client id of the service principal. */
  keyId?: string | undefined;
  /** approle's secret id; aws_iam: the secret access key; azure: the client secret. */
  secretId?: string | undefined;
  /** approle's role id; aws_iam, gcp and azure: the Vault role to log in as. */
  roleId?: string | undefined;
  /** aws_iam: the AWS region the request is signed for. Default `AWS_REGION`, else `us-east-1` (hvac's). */
  region?: string | undefined;
  /** aws_iam: STS AssumeRole parameters (`RoleArn`, `RoleSessionName`, …) for the signing credentials. */
  assumeRoleKwargs?: Record<string, unknown> | undefined;
  /** aws_iam with `assumeRoleKwargs`: the STS endpoint. Default `AWS_ENDPOINT_URL_STS`, else the SDK's. */
  stsEndpoint?: string | undefined;
  /** gcp: a service-account key file. Default: Application Default Credentials. */
  gcpKeyPath?: string | undefined;
  /** gcp: the key file's content. */
  gcpKeyfileDict?: Record<string, unknown> | undefined;
  /** gcp: comma-separated OAuth2 scopes (required, as in Airflow). */
  gcpScopes?: string | undefined;
  /** gcp: the IAM API the JWT is signed by. Default `https://iam.googleapis.com`. */
  gcpIamEndpoint?: string | undefined;
  /**
   * gcp: authenticate the signJwt call with a self-signed JWT of the service account instead of
   * an OAuth token exchange (google-auth-library's `useJWTAccessWithScope`). Default `false`.
   */
  gcpUseJwtAccessWithScope?: boolean | undefined;
  /** azure: the tenant (required). */
  azureTenantId?: string | undefined;
  /** azure: the resource the token is for, as configured in Vault's azure auth method (required). */
  azureResource?: string | undefined;
  /** azure: more options for the credential (`authorityHost`, `tlsOptions`, …). */
  azureCredentialOptions?: Record<string, unknown> | undefined;
}

type Env = Record<string, string | undefined>;
interface AwsCreds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The request hvac signs for `iam_login`: always the global STS endpoint, as hvac writes it. */
const STS_URL = 'https://sts.amazonaws.com/';
const STS_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

/**
 * hvac's `iam_login` body: a POST GetCallerIdentity to `https://sts.amazonaws.com/` signed for
 * `sts` in `region` (headers `Content-Type`, `Host`, `Content-Length`, `X-Amz-Date`, and
 * `X-Amz-Security-Token` with a session token), each part base64-encoded for Vault to replay.
 */
export async function awsIamLoginBody(
  creds: AwsCreds,
  region: string,
  role: string | undefined,
  signingDate = new Date(),
): Promise<Record<string, string>> {
  const { SignatureV4 } = await importOptional<typeof import('@smithy/signature-v4')>(
    '@smithy/signature-v4',
    DRIVER_NAME,
    () => import('@smithy/signature-v4'),
  );
  const signer = new SignatureV4({
    service: 'sts',
    region,
    credentials: creds,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: 'sts.amazonaws.com',
      path: '/',
      query: {},
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
        Host: 'sts.amazonaws.com',
        'Content-Length': String(Buffer.byteLength(STS_BODY)),
      },
      body: STS_BODY,
    },
    { signingDate },
  );
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, [v]]));
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    ...(role !== undefined ? { role } : {}),
    iam_http_request_method: 'POST',
    iam_request_url: b64(STS_URL),
    iam_request_body: b64(STS_BODY),
    iam_request_headers: b64(JSON.stringify(headers)),
  };
}

/**
 * The credentials and region `_auth_aws_iam` signs with: `key_id`/`secret_id`; else STS AssumeRole
 * with `assume_role_kwargs`; else the default chain. Everything comes from `env`, never from
 * `process.env` (the AWS backends' env-scoped chain and explicit SDK settings, `../aws/env.ts`):
 * `env`'s `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, else the profile in the
 * files `env` names, web identity, container and instance metadata. The SDK's requests (STS, IMDS
 * excepted) go through agents of ours, destroyed when `cancel` fires, after which they open nothing.
 */
export async function awsIamCredentials(
  o: VaultCloudAuthOptions,
  env: Env,
  cancel?: CallCancel,
): Promise<{ creds: AwsCreds; region: string }> {
  const region = o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (o.keyId && o.secretId) return { creds: { accessKeyId: o.keyId, secretAccessKey: o.secretId }, region };
  const cp = await importOptional<typeof import('@aws-sdk/credential-providers')>(
    '@aws-sdk/credential-providers',
    DRIVER_NAME,
    () => import('@aws-sdk/credential-providers'),
  );
  const endpoint = o.assumeRoleKwargs
    ? (o.stsEndpoint ?? env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL)
    : undefined;
  const agents = cancellableAgents(cancel);
  const sdk = {
    region,
    ...explicitSdkSettings(env, Boolean(endpoint)),
    maxAttempts: maxAttemptsFrom(env) ?? 3,
    requestHandler: agents.handler,
    ...(endpoint ? { endpoint } : {}),
  };
  const names = { keyId: 'AWS_ACCESS_KEY_ID', secret: 'AWS_SECRET_ACCESS_KEY', token: 'AWS_SESSION_TOKEN' };
  const fromEnv = staticCredentials(
    env.AWS_ACCESS_KEY_ID,
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
    names,
  );
  const base: () => Promise<AwsIdentity> =
    fromEnv === undefined
      ? defaultChain(cp, env, sdk)
      : typeof fromEnv === 'function'
        ? fromEnv
        : async () => fromEnv;
  const provider = o.assumeRoleKwargs
    ? cp.fromTemporaryCredentials({
        params: o.assumeRoleKwargs as never,
        masterCredentials: base,
        clientConfig: sdk,
      })
    : base;
  try {
    const c = await provider();
    const creds = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
    return { creds: c.sessionToken ? { ...creds, sessionToken: c.sessionToken } : creds, region };
  } catch (e) {
    throw new AccessDeniedError(
      DRIVER_NAME,
      `${DRIVER_NAME}: no AWS credentials for the aws_iam login (${sdkErrorText(e)})`,
      {
        cause: safeCause(e),
      },
    );
  } finally {
    agents.destroy();
  }
}

/**
 * Keep-alive agents for one login's SDK requests. Once `cancel` fires they are destroyed (every
 * socket, in flight or idle) and refuse new connections, so an SDK retry opens nothing either.
 */
function cancellableAgents(cancel: CallCancel | undefined, tls?: https.AgentOptions) {
  let dead = false;
  const refuse = <A extends http.Agent>(agent: A): A => {
    const create = (
      agent as unknown as { createConnection: (...a: unknown[]) => Duplex }
    ).createConnection.bind(agent);
    (agent as unknown as { createConnection: (...a: unknown[]) => Duplex }).createConnection = (...args) => {
      if (!dead) return create(...args);
      const cb = args.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
      const err = Object.assign(new Error('the login was cancelled'), { code: 'ECANCELED' });
      if (cb) {
        cb(err);
        return undefined as unknown as Duplex;
      }
      throw err;
    };
    return agent;
  };
  const httpAgent = refuse(new http.Agent({ keepAlive: true }));
  const httpsAgent = refuse(new https.Agent({ keepAlive: true, ...tls }));
  const destroy = () => {
    dead = true;
    httpAgent.destroy();
    httpsAgent.destroy();
  };
  const unsubscribe = cancel?.onCancel(destroy);
  return {
    handler: { httpAgent, httpsAgent },
    destroy() {
      unsubscribe?.();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/**
 * An SDK error in words for a message: {@link describeError} (its name and code, often the server's
 * own text, masked as server text); our own chain errors' messages as they are.
 */
function sdkErrorText(e: unknown): string {
  return e instanceof PartialAwsCredentials || e instanceof NoAwsCredentials ? e.message : describeError(e);
}

/** The claims Airflow's `_auth_gcp` asks IAM to sign, as Python's `json.dumps` writes them. */
export function gcpJwtPayload(email: string, roleId: string, nowSeconds: number): string {
  return pyJsonDumps(
    new Map<string, string | bigint>([
      ['iat', BigInt(nowSeconds)],
      ['exp', BigInt(nowSeconds + 900)],
      ['sub', email],
      ['aud', `vault/${roleId}`],
    ]),
  );
}

/**
 * `_auth_gcp`: credentials from `gcp_key_path` / `gcp_keyfile_dict` / ADC with `gcp_scopes`, the
 * service account's email and project, then IAM `projects.serviceAccounts.signJwt` over the claims.
 * ADC's key file and the project come from `env` (`GOOGLE_APPLICATION_CREDENTIALS`,
 * `GOOGLE_CLOUD_PROJECT`/`GCLOUD_PROJECT`); the rest of ADC is google-auth-library's own lookup.
 * The signJwt request is aborted when `cancel` fires. google-auth-library's debug logger is silenced.
 */
export async function gcpSignedJwt(
  o: VaultCloudAuthOptions,
  env: Env = {},
  cancel?: CallCancel,
  now = Date.now(),
): Promise<string> {
  const lib = await importOptional<typeof import('google-auth-library')>(
    'google-auth-library',
    DRIVER_NAME,
    () => import('google-auth-library'),
  );
  silenceGoogleAuthLog(lib);
  const scopes = (o.gcpScopes ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const keyFilename = o.gcpKeyPath ?? (o.gcpKeyfileDict ? undefined : env.GOOGLE_APPLICATION_CREDENTIALS);
  // The project as Airflow's get_credentials_and_project_id finds it: the key's, else (ADC) the
  // environment's; given explicitly, so google-auth-library does not read process.env for it.
  const explicitKey = o.gcpKeyPath !== undefined || o.gcpKeyfileDict !== undefined;
  const keyProject =
    (o.gcpKeyfileDict?.project_id as string | undefined) ??
    (keyFilename ? projectOfKeyFile(keyFilename) : undefined);
  const projectId = keyProject || (explicitKey ? undefined : env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT);
  const auth = new lib.GoogleAuth({
    scopes,
    ...(keyFilename ? { keyFilename } : o.gcpKeyfileDict ? { credentials: o.gcpKeyfileDict as never } : {}),
    ...(projectId ? { projectId } : {}),
  });
  if (o.gcpUseJwtAccessWithScope) auth.useJWTAccessWithScope = true;
  const ac = new AbortController();
  const unsubscribe = cancel?.onCancel(() => ac.abort());
  try {
    const client = await auth.getClient();
    const email = (await auth.getCredentials()).client_email;
    if (typeof email !== 'string' || !email) {
      throw new ConfigurationError(
        kwargSetting('gcp_key_path'),
        `${DRIVER_NAME}: could not determine the service account email from the gcp credentials`,
      );
    }
    const project = projectId ?? (await auth.getProjectId());
    const base = (o.gcpIamEndpoint ?? 'https://iam.googleapis.com').replace(/\/+$/, '');
    const res = await client.request<{ signedJwt?: string }>({
      url: `${base}/v1/projects/${encodeURIComponent(project)}/serviceAccounts/${encodeURIComponent(email)}:signJwt`,
      method: 'POST',
      data: { payload: gcpJwtPayload(email, o.roleId ?? '', Math.floor(now / 1000)) },
      signal: ac.signal as never,
    });
    if (typeof res.data?.signedJwt !== 'string') throw new Error('signJwt returned no signedJwt');
    return res.data.signedJwt;
  } catch (e) {
    if (e instanceof ConfigurationError) throw e;
    throw new AccessDeniedError(
      DRIVER_NAME,
      `${DRIVER_NAME}: could not get a signed JWT for the gcp login (${sdkErrorText(e)})`,
      { cause: safeCause(e) },
    );
  } finally {
    unsubscribe?.();
  }
}

/** The `project_id` of a key file, or undefined (google-auth-library then reports a bad file itself). */
function projectOfKeyFile(file: string): string | undefined {
  try {
    const p = JSON.parse(readFileSync(file, 'utf8'))?.project_id;
    return typeof p === 'string' && p ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Under `GOOGLE_SDK_NODE_LOGGING`, google-auth-library logs its requests' answers (the signed JWT,
 * access tokens). The copy imported here gets the no-op logger, as the Secret Manager SDK's copy
 * does (`silenceAuthLibrary`, process-wide for that copy).
 */
function silenceGoogleAuthLog(lib: unknown): void {
  try {
    const req = createRequire(import.meta.url);
    const utils = createRequire(req.resolve('google-auth-library'))('google-logging-utils') as {
      placeholder?: unknown;
    };
    const mod = lib as { AuthClient?: { log?: unknown }; default?: { AuthClient?: { log?: unknown } } };
    silenceAuthLibrary(mod.AuthClient ? mod : mod.default, utils.placeholder);
  } catch {
    // a layout without google-logging-utils has no such logger
  }
}

/**
 * The token for Vault's azure login: for `azure_resource`, from the service principal
 * `key_id`/`secret_id` in `azure_tenant_id` when both are set, else `DefaultAzureCredential`
 * (a managed identity on Azure). `AZURE_AUTHORITY_HOST` comes from `env`; `DefaultAzureCredential`'s
 * chain reads the process's own (`AZURE_CLIENT_ID`, …: it takes no environment). When `cancel`
 * fires, the token request is aborted and its agents destroyed (closed to new connections).
 */
export async function azureToken(
  o: VaultCloudAuthOptions,
  env: Env = {},
  cancel?: CallCancel,
): Promise<string> {
  const identity = await importOptional<typeof import('@azure/identity')>(
    '@azure/identity',
    DRIVER_NAME,
    () => import('@azure/identity'),
  );
  const given = o.azureCredentialOptions ?? {};
  const authorityHost = (given.authorityHost as string | undefined) ?? env.AZURE_AUTHORITY_HOST;
  // The token requests go through agents of ours (getToken's abortSignal does not reach them).
  const agents = cancellableAgents(cancel, given.tlsOptions as https.AgentOptions | undefined);
  const agent = (authorityHost ?? 'https:').startsWith('http:')
    ? agents.handler.httpAgent
    : agents.handler.httpsAgent;
  const extra = { agent, ...given, ...(authorityHost ? { authorityHost } : {}) };
  const credential =
    o.keyId && o.secretId
      ? new identity.ClientSecretCredential(o.azureTenantId ?? '', o.keyId, o.secretId, extra)
      : new identity.DefaultAzureCredential({
          ...extra,
          ...(o.azureTenantId ? { tenantId: o.azureTenantId } : {}),
        });
  const scope = `${(o.azureResource ?? '').replace(/\/+$/, '')}/.default`;
  const ac = new AbortController();
  const unsubscribe = cancel?.onCancel(() => ac.abort());
  try {
    const t = await credential.getToken(scope, { abortSignal: ac.signal });
    if (!t?.token) throw new Error('no token');
    return t.token;
  } catch (e) {
    throw new AccessDeniedError(
      DRIVER_NAME,
      `${DRIVER_NAME}: could not get an Azure token for the azure login (${sdkErrorText(e)})`,
      { cause: safeCause(e) },
    );
  } finally {
    unsubscribe?.();
    agents.destroy();
  }
}

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data): Buffer =>
  typeof d === 'string'
    ? Buffer.from(d, 'utf8')
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** SHA-256 / HMAC-SHA-256 in the shape the AWS SDK's signer takes (`new sha256(secret?)`). */
class NodeSha256 {
  private secret: Buffer | undefined;
  private h: { update(d: Buffer): unknown; digest(): Buffer };
  constructor(secret?: Data) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.h = this.fresh();
  }
  private fresh() {
    return this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
  update(data: Data): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}
