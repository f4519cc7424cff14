/**
 * node-vault plumbing for the Vault adapter: the settings check, client creation (TLS, namespace),
 * the auth methods, and the mapping of Vault/axios errors onto typed errors.
 */
import { readFileSync } from 'node:fs';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  describeError,
  safeCause,
  ThrottledError,
} from '../../errors.js';
import { importOptional } from '../../optional-import.js';
import { kwargSetting } from '../airflow-kwargs.js';
import { NETWORK_ERROR_CODES, withDeadline } from '../base.js';
import type { HashicorpVaultOptions } from './index.js';

export const DRIVER_NAME = 'hashicorp-vault';

export type VaultAuthType = 'token' | 'approle' | 'userpass' | 'ldap' | 'kubernetes' | 'jwt' | 'github';
const SUPPORTED: readonly VaultAuthType[] = [
  'token',
  'approle',
  'userpass',
  'ldap',
  'kubernetes',
  'jwt',
  'github',
];
const AIRFLOW_ONLY = ['aws_iam', 'azure', 'gcp', 'radius'];

/** The part of a node-vault client this adapter uses. */
export interface VaultClient {
  token: string;
  read(path: string): Promise<any>;
  [login: string]: any;
}

export async function createClient(o: HashicorpVaultOptions, timeoutMs: number): Promise<VaultClient> {
  if (o.client) return o.client;
  const mod = await importOptional<any>('node-vault', DRIVER_NAME, () => import('node-vault'));
  const requestOptions: Record<string, unknown> = { timeout: timeoutMs, strictSSL: o.verify !== false };
  if (typeof o.verify === 'string') requestOptions.ca = readSetting(o.verify, 'verify');
  if (o.cert !== undefined) {
    const [certFile, keyFile] = typeof o.cert === 'string' ? [o.cert, o.cert] : o.cert;
    requestOptions.cert = readSetting(certFile, 'cert');
    requestOptions.key = readSetting(keyFile, 'cert');
  }
  const c = (mod.default ?? mod)({
    apiVersion: 'v1',
    endpoint: o.url ?? 'http://localhost:8200',
    requestOptions,
    noCustomHTTPVerbs: true,
  }) as VaultClient;
  // node-vault falls back to process.env (VAULT_TOKEN, VAULT_NAMESPACE): only our settings count.
  c.token = '';
  c.namespace = o.namespace;
  // Its own deadline, so a hung login fails this client (and the next lookup starts afresh).
  await withDeadline(DRIVER_NAME, `auth/${o.authMountPoint ?? o.authType ?? 'token'}`, timeoutMs, () =>
    login(c, o),
  );
  return c;
}

/** Log in with the configured auth method; node-vault stores the returned token on the client. */
export async function login(c: VaultClient, o: HashicorpVaultOptions): Promise<void> {
  const type = o.authType ?? 'token';
  // Always name the mount: node-vault's kubernetes path template is empty without one.
  const mount = { mount_point: o.authMountPoint ?? type };
  const secret = (value: string | undefined, file: string | undefined, setting: string) =>
    file !== undefined ? readSetting(file, setting).toString('utf8').trim() : (value ?? '');
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
    res = await c[`${type}Login`]({ ...args, ...mount });
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

const DEFAULT_K8S_JWT = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function readSetting(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigurationError(
      kwargSetting(setting),
      `${DRIVER_NAME}: cannot read the file named by ${setting}`,
      {
        cause: safeCause(e),
      },
    );
  }
}

/** Python's `urllib.parse.quote(s, safe="/")`, as hvac builds KV URLs. */
export function quote(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function status(e: unknown): number | undefined {
  const s = (e as { response?: { statusCode?: unknown } })?.response?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Vault's first error text on one line: "1 error occurred:\n\t* permission denied\n\n" → "permission denied". */
function vaultSays(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/^\s*\d+ errors? occurred: \* /, '')
    .trim()
    .slice(0, 120);
}

export function mapVaultError(name: string, e: unknown): Error {
  if (e instanceof BackendError || e instanceof ConfigurationError) return e;
  const opts = { cause: safeCause(e), secretName: name };
  const code = (e as { code?: string })?.code ?? '';
  const s = status(e);
  if (s !== undefined) {
    const errors = (e as { response: { body?: { errors?: unknown } } }).response.body?.errors;
    const said = Array.isArray(errors) && typeof errors[0] === 'string' ? `: ${vaultSays(errors[0])}` : '';
    const msg = `${DRIVER_NAME}: HTTP ${s} reading '${name}'${said}`;
    if (s === 403) return new AccessDeniedError(DRIVER_NAME, msg, opts);
    if (s === 429) return new ThrottledError(DRIVER_NAME, msg, opts);
    if (s >= 500 || s === 412) return new BackendUnavailableError(DRIVER_NAME, msg, opts);
    return new BackendError(DRIVER_NAME, 'failed', msg, opts);
  }
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new BackendTimeoutError(DRIVER_NAME, `${DRIVER_NAME}: no answer for '${name}' in time`, opts);
  }
  if (NETWORK_ERROR_CODES.has(code)) {
    return new BackendUnavailableError(
      DRIVER_NAME,
      `${DRIVER_NAME}: cannot reach Vault for '${name}' (${code})`,
      opts,
    );
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    const hint = 'set verify to the CA bundle that signed the Vault certificate';
    return new BackendError(
      DRIVER_NAME,
      'failed',
      `${DRIVER_NAME}: TLS failed for '${name}' (${code}); ${hint}`,
      opts,
    );
  }
  return new BackendError(
    DRIVER_NAME,
    'failed',
    `${DRIVER_NAME}: reading '${name}' failed (${describeError(e)})`,
    opts,
  );
}

/** Check the settings as Airflow's `_VaultClient` does (setting names are the kwargs'). */
export function validate(o: HashicorpVaultOptions): HashicorpVaultOptions {
  const fail = (key: string, msg: string): never => {
    throw new ConfigurationError(kwargSetting(key), `${DRIVER_NAME}: ${msg}`);
  };
  const type = o.authType ?? 'token';
  if (o.kvEngineVersion !== undefined && o.kvEngineVersion !== 1 && o.kvEngineVersion !== 2) {
    fail('kv_engine_version', `kv_engine_version must be 1 or 2`);
  }
  if (!SUPPORTED.includes(type)) {
    const known = AIRFLOW_ONLY.includes(type) ? `is not supported here` : `is not a Vault auth type`;
    fail('auth_type', `auth_type '${type}' ${known}; supported: ${SUPPORTED.join(', ')}`);
  }
  if (o.client) return o;
  const need = (ok: unknown, key: string, what: string) =>
    ok || fail(key, `the '${type}' auth type requires ${what}`);
  if (type === 'token' || type === 'github') need(o.token || o.tokenPath, 'token', `'token' or 'token_path'`);
  if (type === 'approle') need(o.roleId, 'role_id', `'role_id'`);
  if (type === 'userpass' || type === 'ldap')
    need(o.username && o.password, 'username', `'username' and 'password'`);
  if (type === 'kubernetes') need(o.kubernetesRole, 'kubernetes_role', `'kubernetes_role'`);
  if (type === 'jwt') need(o.jwtRole, 'jwt_role', `'jwt_role'`);
  if (type === 'jwt') need(o.jwtToken || o.jwtTokenPath, 'jwt_token', `'jwt_token' or 'jwt_token_path'`);
  return o;
}
