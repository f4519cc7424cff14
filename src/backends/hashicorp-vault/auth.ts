/**
 * Logging in to Vault, as Airflow's `_VaultClient` does: the auth types and their settings, the
 * check that the settings an auth type needs are there (at construction, no I/O), and the login
 * itself (node-vault stores the token it returns on the client).
 */
import { AccessDeniedError, ConfigurationError, safeCause } from '../../errors.js';
import { kwargSetting } from '../airflow-kwargs.js';
import type { CallCancel } from '../base.js';
import { DRIVER_NAME, mapVaultError, readSettingFile, status, type VaultClient } from './client.js';
import {
  awsIamCredentials,
  awsIamLoginBody,
  azureToken,
  gcpSignedJwt,
  type VaultCloudAuthOptions,
} from './cloud-auth.js';
import { CANCEL } from './transport.js';

export type VaultAuthType =
  | 'token'
  | 'approle'
  | 'userpass'
  | 'ldap'
  | 'kubernetes'
  | 'jwt'
  | 'github'
  | 'aws_iam'
  | 'gcp'
  | 'azure';

/** The login settings of {@link HashicorpVaultOptions} (`./index.ts`); each is Airflow's kwarg in camelCase. */
export interface VaultAuthOptions extends VaultCloudAuthOptions {
  /** Default `token`. */
  authType?: VaultAuthType | undefined;
  /** Mount path of the auth method. Default: the auth type's name. */
  authMountPoint?: string | undefined;
  /** token auth (and github's token). */
  token?: string | undefined;
  /** File holding the token (wins over `token`), read at login. */
  tokenPath?: string | undefined;
  roleId?: string | undefined;
  secretId?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  kubernetesRole?: string | undefined;
  /** Default `/var/run/secrets/kubernetes.io/serviceaccount/token`. */
  kubernetesJwtPath?: string | undefined;
  jwtRole?: string | undefined;
  jwtToken?: string | undefined;
  jwtTokenPath?: string | undefined;
}

const SUPPORTED: readonly VaultAuthType[] = [
  'token',
  'approle',
  'userpass',
  'ldap',
  'kubernetes',
  'jwt',
  'github',
  'aws_iam',
  'gcp',
  'azure',
];
/**
 * Auth types Airflow's provider has and this library refuses: `radius` (Airflow's `_auth_radius`
 * calls hvac's `radius.configure`, which rewrites the auth method's configuration and logs nobody
 * in, and there is no maintained RADIUS client for Node).
 */
const AIRFLOW_ONLY = ['radius'];
const DEFAULT_K8S_JWT = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The auth type is one we support, and (unless a ready client is given) the settings it needs are
 * set. Setting names in errors are the kwargs'.
 */
export function checkAuth(o: VaultAuthOptions, clientGiven: boolean): void {
  const type = o.authType ?? 'token';
  if (!SUPPORTED.includes(type)) {
    const known = AIRFLOW_ONLY.includes(type) ? `is not supported here` : `is not a Vault auth type`;
    fail('auth_type', `auth_type '${type}' ${known}; supported: ${SUPPORTED.join(', ')}`);
  }
  if (clientGiven) return;
  const need = (ok: unknown, key: string, what: string) =>
    ok || fail(key, `the '${type}' auth type requires ${what}`);
  if (type === 'token' || type === 'github') need(o.token || o.tokenPath, 'token', `'token' or 'token_path'`);
  if (type === 'approle') need(o.roleId, 'role_id', `'role_id'`);
  if (type === 'userpass' || type === 'ldap')
    need(o.username && o.password, 'username', `'username' and 'password'`);
  if (type === 'kubernetes') need(o.kubernetesRole, 'kubernetes_role', `'kubernetes_role'`);
  if (type === 'jwt') need(o.jwtRole, 'jwt_role', `'jwt_role'`);
  if (type === 'jwt') need(o.jwtToken || o.jwtTokenPath, 'jwt_token', `'jwt_token' or 'jwt_token_path'`);
  if (type === 'gcp') need(o.gcpScopes, 'gcp_scopes', `'gcp_scopes'`);
  if (type === 'gcp') need(o.roleId, 'role_id', `'role_id'`);
  if (type === 'azure') need(o.azureResource, 'azure_resource', `'azure_resource'`);
  if (type === 'azure') need(o.azureTenantId, 'azure_tenant_id', `'azure_tenant_id'`);
  if (type === 'azure') need(o.roleId, 'role_id', `'role_id' (the Vault role of the azure login)`);
}

/** Whether logging in again can give a new token (anything but a token given as a value). */
export function canLoginAgain(o: VaultAuthOptions): boolean {
  return (o.authType ?? 'token') !== 'token' || o.tokenPath !== undefined;
}

/** The auth mount named in messages and in the login's deadline, e.g. `auth/approle`. */
export function authPath(o: VaultAuthOptions): string {
  return `auth/${o.authMountPoint ?? o.authType ?? 'token'}`;
}

/** Log in with the configured auth method; node-vault stores the returned token on the client. */
export async function login(
  c: VaultClient,
  o: VaultAuthOptions,
  env: Record<string, string | undefined> = {},
  /** Sent with the login request (the transport's cancellation). */
  requestOptions?: object,
): Promise<void> {
  const type = o.authType ?? 'token';
  if (type === 'aws_iam' || type === 'gcp' || type === 'azure')
    return cloudLogin(c, o, type, env, requestOptions);
  // Always name the mount: node-vault's kubernetes path template is empty without one.
  const mount = { mount_point: o.authMountPoint ?? type };
  const secret = (value: string | undefined, file: string | undefined, setting: string) =>
    file !== undefined ? readSettingFile(file, setting).toString('utf8').trim() : (value ?? '');
  if (type === 'token') {
    c.token = secret(o.token, o.tokenPath, 'token_path');
    return;
  }
  const args: Record<string, unknown> =
    type === 'approle'
      ? { role_id: o.roleId, ...(o.secretId !== undefined ? { secret_id: o.secretId } : {}) }
      : type === 'userpass' || type === 'ldap'
        ? { username: o.username, password: o.password }
        : type === 'kubernetes'
          ? {
              role: o.kubernetesRole,
              jwt: secret(undefined, o.kubernetesJwtPath ?? DEFAULT_K8S_JWT, 'kubernetes_jwt_path'),
            }
          : type === 'jwt'
            ? {
                role: o.jwtRole,
                jwt: secret(o.jwtToken, o.jwtToken ? undefined : o.jwtTokenPath, 'jwt_token_path'),
              }
            : { token: secret(o.token, o.token ? undefined : o.tokenPath, 'token_path') };
  let res: any;
  try {
    res = await c[`${type}Login`]({ ...args, ...mount, ...(requestOptions ? { requestOptions } : {}) });
  } catch (e) {
    const where = `auth/${o.authMountPoint ?? type}/login`;
    if (status(e) === 400) {
      throw new AccessDeniedError(DRIVER_NAME, `${DRIVER_NAME}: Vault ${type} login was refused (HTTP 400)`, {
        cause: safeCause(e),
        secretName: where,
      });
    }
    throw mapVaultError(where, e);
  }
  if (typeof res?.auth?.client_token !== 'string') {
    throw new AccessDeniedError(DRIVER_NAME, `${DRIVER_NAME}: Vault ${type} login returned no token`);
  }
}

/**
 * `aws_iam`, `gcp`, `azure`: the body from `./cloud-auth.ts`, sent as `POST auth/<mount>/login`
 * (mount default `aws`, `gcp`, `azure`, as hvac's), and the token it returns set on the client.
 */
async function cloudLogin(
  c: VaultClient,
  o: VaultAuthOptions,
  type: 'aws_iam' | 'gcp' | 'azure',
  env: Record<string, string | undefined>,
  requestOptions: object | undefined,
): Promise<void> {
  const mount = o.authMountPoint ?? (type === 'aws_iam' ? 'aws' : type);
  const where = `auth/${mount}/login`;
  let body: Record<string, string>;
  // The login's cancellation (its deadline, the lookup's signal, close()) reaches the SDK calls too.
  const cancel = (requestOptions as { [CANCEL]?: CallCancel } | undefined)?.[CANCEL];
  if (type === 'aws_iam') {
    const { creds, region } = await awsIamCredentials(o, env, cancel);
    body = await awsIamLoginBody(creds, region, o.roleId);
  } else if (type === 'gcp') {
    body = { role: o.roleId ?? '', jwt: await gcpSignedJwt(o, env, cancel) };
  } else {
    body = { role: o.roleId ?? '', jwt: await azureToken(o, env, cancel) };
  }
  let res: any;
  try {
    res = await c.write(where, body, requestOptions);
  } catch (e) {
    if (status(e) === 400) {
      throw new AccessDeniedError(DRIVER_NAME, `${DRIVER_NAME}: Vault ${type} login was refused (HTTP 400)`, {
        cause: safeCause(e),
        secretName: where,
      });
    }
    throw mapVaultError(where, e);
  }
  const token = res?.auth?.client_token;
  if (typeof token !== 'string') {
    throw new AccessDeniedError(DRIVER_NAME, `${DRIVER_NAME}: Vault ${type} login returned no token`);
  }
  c.token = token;
}

function fail(key: string, msg: string): never {
  throw new ConfigurationError(kwargSetting(key), `${DRIVER_NAME}: ${msg}`);
}
