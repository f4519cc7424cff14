/**
 * The Vault logins that need a cloud's own credentials, as Airflow's `_VaultClient` makes them:
 * `aws_iam` (a GetCallerIdentity request signed with AWS Signature V4 by the AWS SDK's own signer,
 * `@smithy/signature-v4`, laid out as hvac's `iam_login` sends it), `gcp` (a JWT for the service
 * account, signed by Google's IAM `signJwt` through google-auth-library), and `azure` (an Entra ID
 * token from @azure/identity). Each returns the body of `POST auth/<mount>/login`; `./auth.ts` sends it.
 * Every SDK is imported on first use.
 */
import { createHash, createHmac } from 'node:crypto';
import { AccessDeniedError, ConfigurationError, describeError, safeCause } from '../../errors.js';
import { importOptional } from '../../optional-import.js';
import { pyJsonDumps } from '../../pyjson.js';
import { kwargSetting } from '../airflow-kwargs.js';
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
 * with `assume_role_kwargs`; else the default chain (the environment given, then the SDK's chain).
 */
export async function awsIamCredentials(
  o: VaultCloudAuthOptions,
  env: Env,
): Promise<{ creds: AwsCreds; region: string }> {
  const region = o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (o.keyId && o.secretId) return { creds: { accessKeyId: o.keyId, secretAccessKey: o.secretId }, region };
  const cp = await importOptional<typeof import('@aws-sdk/credential-providers')>(
    '@aws-sdk/credential-providers',
    DRIVER_NAME,
    () => import('@aws-sdk/credential-providers'),
  );
  const fromEnv =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  let provider: () => Promise<AwsCreds>;
  if (o.assumeRoleKwargs) {
    const endpoint = o.stsEndpoint ?? env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
    provider = cp.fromTemporaryCredentials({
      params: o.assumeRoleKwargs as never,
      ...(fromEnv ? { masterCredentials: fromEnv } : {}),
      clientConfig: { region, ...(endpoint ? { endpoint } : {}) },
    });
  } else provider = fromEnv ? async () => fromEnv : cp.fromNodeProviderChain();
  try {
    const c = await provider();
    return {
      creds: {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
      },
      region,
    };
  } catch (e) {
    throw new AccessDeniedError(
      DRIVER_NAME,
      `${DRIVER_NAME}: no AWS credentials for the aws_iam login (${describeError(e)})`,
      {
        cause: safeCause(e),
      },
    );
  }
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
 */
export async function gcpSignedJwt(o: VaultCloudAuthOptions, now = Date.now()): Promise<string> {
  const { GoogleAuth } = await importOptional<typeof import('google-auth-library')>(
    'google-auth-library',
    DRIVER_NAME,
    () => import('google-auth-library'),
  );
  const scopes = (o.gcpScopes ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const auth = new GoogleAuth({
    scopes,
    ...(o.gcpKeyPath
      ? { keyFilename: o.gcpKeyPath }
      : o.gcpKeyfileDict
        ? { credentials: o.gcpKeyfileDict as never }
        : {}),
  });
  if (o.gcpUseJwtAccessWithScope) auth.useJWTAccessWithScope = true;
  try {
    const client = await auth.getClient();
    const email = (await auth.getCredentials()).client_email;
    if (typeof email !== 'string' || !email) {
      throw new ConfigurationError(
        kwargSetting('gcp_key_path'),
        `${DRIVER_NAME}: could not determine the service account email from the gcp credentials`,
      );
    }
    const project = (o.gcpKeyfileDict?.project_id as string | undefined) ?? (await auth.getProjectId());
    const base = (o.gcpIamEndpoint ?? 'https://iam.googleapis.com').replace(/\/+$/, '');
    const res = await client.request<{ signedJwt?: string }>({
      url: `${base}/v1/projects/${encodeURIComponent(project)}/serviceAccounts/${encodeURIComponent(email)}:signJwt`,
      method: 'POST',
      data: { payload: gcpJwtPayload(email, o.roleId ?? '', Math.floor(now / 1000)) },
    });
    if (typeof res.data?.signedJwt !== 'string') throw new Error('signJwt returned no signedJwt');
    return res.data.signedJwt;
  } catch (e) {
    if (e instanceof ConfigurationError) throw e;
    throw new AccessDeniedError(
      DRIVER_NAME,
      `${DRIVER_NAME}: could not get a signed JWT for the gcp login (${describeError(e)})`,
      {
        cause: safeCause(e),
      },
    );
  }
}

/**
 * The token for Vault's azure login: for `azure_resource`, from the service principal
 * `key_id`/`secret_id` in `azure_tenant_id` when both are set, else `DefaultAzureCredential`
 * (a managed identity on Azure).
 */
export async function azureToken(o: VaultCloudAuthOptions): Promise<string> {
  const identity = await importOptional<typeof import('@azure/identity')>(
    '@azure/identity',
    DRIVER_NAME,
    () => import('@azure/identity'),
  );
  const extra = o.azureCredentialOptions ?? {};
  const credential =
    o.keyId && o.secretId
      ? new identity.ClientSecretCredential(o.azureTenantId ?? '', o.keyId, o.secretId, extra)
      : new identity.DefaultAzureCredential({
          ...extra,
          ...(o.azureTenantId ? { tenantId: o.azureTenantId } : {}),
        });
  const scope = `${(o.azureResource ?? '').replace(/\/+$/, '')}/.default`;
  try {
    const t = await credential.getToken(scope);
    if (!t?.token) throw new Error('no token');
    return t.token;
  } catch (e) {
    throw new AccessDeniedError(
      DRIVER_NAME,
      `${DRIVER_NAME}: could not get an Azure token for the azure login (${describeError(e)})`,
      {
        cause: safeCause(e),
      },
    );
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
