/**
 * Airflow's `VaultBackend` (hashicorp provider): KV v1/v2 secrets at `<mount>/<path>/<id>`; a
 * connection is the `conn_uri` key or the whole field dict, a variable or config value the `value`
 * key. node-vault is imported on first use; one client per backend logs in once and is reused (a
 * 403 triggers one fresh login when the credentials can produce a new token).
 */
import { readFileSync } from 'node:fs';
import type { AdapterContext, Lookup, SecretKind, SecretsBackend } from '../backend.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  describeError,
  MalformedSecretError,
  safeCause,
  ThrottledError,
} from '../errors.js';
import { consoleLogger, type Logger } from '../logger.js';
import {
  kindKwargs,
  kindRules,
  kwargSetting,
  kwInt,
  kwOptString,
  type LookupPattern,
  locateWith,
} from './airflow-kwargs.js';
import { DEFAULT_TIMEOUT_MS, importOptional, rawBackend, withDeadline } from './base.js';

const DRIVER_NAME = 'hashicorp-vault';

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

export interface HashicorpVaultOptions {
  /** Vault address. Default `http://localhost:8200` (`fromAirflowKwargs` also reads `VAULT_ADDR`). */
  url?: string;
  /** Path under the mount for connections; `null` disables, `''` = none. Default `connections`. */
  connectionsPath?: string | null;
  /** Default `variables`. */
  variablesPath?: string | null;
  /** Default `config`. */
  configPath?: string | null;
  connectionsLookupPattern?: LookupPattern | null;
  variablesLookupPattern?: LookupPattern | null;
  configLookupPattern?: LookupPattern | null;
  /** KV mount. `null`/`''`: the id's first path segment is the mount. Default `secret`. */
  mountPoint?: string | null;
  /** KV engine version, 1 or 2. Default 2. */
  kvEngineVersion?: 1 | 2;
  /** Default `token`. */
  authType?: VaultAuthType;
  /** Mount path of the auth method. Default: the auth type's name. */
  authMountPoint?: string;
  /** token auth (and github's token). */
  token?: string;
  /** File holding the token (wins over `token`), read at login. */
  tokenPath?: string;
  roleId?: string;
  secretId?: string;
  username?: string;
  password?: string;
  kubernetesRole?: string;
  /** Default `/var/run/secrets/kubernetes.io/serviceaccount/token`. */
  kubernetesJwtPath?: string;
  jwtRole?: string;
  jwtToken?: string;
  jwtTokenPath?: string;
  /** Vault Enterprise namespace (`X-Vault-Namespace`). */
  namespace?: string;
  /** TLS verification: `false` disables it, a string is a CA bundle file. Default `true`. */
  verify?: boolean | string;
  /** Client certificate: one PEM file with cert and key, or `[certFile, keyFile]`. */
  cert?: string | readonly [string, string];
  /** Deadline per lookup (login included), in ms. Default 10 000. */
  timeoutMs?: number;
  logger?: Logger;
  /** A ready node-vault client, used as is (no login). */
  client?: VaultClient;
}

/** The part of a node-vault client this adapter uses. */
export interface VaultClient {
  token: string;
  read(path: string): Promise<any>;
  [login: string]: any;
}

export function hashicorpVault(options: HashicorpVaultOptions = {}): SecretsBackend {
  const o = validate(options);
  const path = (p: string | null | undefined, dflt: string) =>
    p === undefined ? dflt : p === null ? null : p.replace(/\/+$/, '');
  const rules = kindRules(
    {
      connection: path(o.connectionsPath, 'connections'),
      variable: path(o.variablesPath, 'variables'),
      config: path(o.configPath, 'config'),
    },
    {
      connection: o.connectionsLookupPattern,
      variable: o.variablesLookupPattern,
      config: o.configLookupPattern,
    },
    'path',
  );
  const mountPoint = o.mountPoint === undefined ? 'secret' : o.mountPoint;
  const v2 = (o.kvEngineVersion ?? 2) === 2;
  const logger = o.logger ?? consoleLogger;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const canRelogin = !o.client && ((o.authType ?? 'token') !== 'token' || o.tokenPath !== undefined);

  // Airflow's `_parse_path` + `build_path`: the mount, the path under it, and the name we show.
  const where = (
    kind: SecretKind,
    id: string,
  ): { skip: string } | { name: string; mount: string; rel: string } => {
    let target: { mount: string; rel: string } | undefined;
    const l = locateWith(rules, kind, id, (base) => {
      let [mount, key] = [mountPoint, id];
      if (!mount) {
        const at = id.indexOf('/');
        if (at < 0) return { skip: 'no mount point in id (mount_point is null)' };
        [mount, key] = [id.slice(0, at), id.slice(at + 1)];
      }
      target = { mount, rel: base === '' ? key : `${base}/${key}` };
      return { name: `${mount}/${target.rel}` };
    });
    return 'name' in l && target ? { name: l.name, ...target } : { skip: 'skip' in l ? l.skip : '' };
  };

  let client: Promise<VaultClient> | undefined;
  let relogin: Promise<void> | undefined;
  const getClient = () =>
    (client ??= createClient(o, timeoutMs).catch((e) => {
      client = undefined;
      throw e;
    }));
  const read = async (name: string, apiPath: string): Promise<any> => {
    const c = await getClient();
    const used = c.token;
    try {
      return await c.read(apiPath);
    } catch (e) {
      if (status(e) !== 403 || !canRelogin) throw e;
      if (c.token === used) {
        relogin ??= login(c, o).finally(() => {
          relogin = undefined;
        });
        await relogin;
      }
      logger.debug(`${DRIVER_NAME}: 403 for '${name}', retried once after a fresh login`, {
        backend: DRIVER_NAME,
      });
      return c.read(apiPath);
    }
  };

  return rawBackend({
    name: DRIVER_NAME,
    locate: (kind, id): Lookup => {
      const w = where(kind, id);
      return 'name' in w ? { name: w.name } : w;
    },
    async fetch(name, kind, id) {
      const w = where(kind, id);
      if (!('name' in w)) return null;
      const apiPath = [quote(w.mount), ...(v2 ? ['data'] : []), quote(w.rel)].join('/');
      let body: any;
      try {
        body = await withDeadline(DRIVER_NAME, name, timeoutMs, () => read(name, apiPath));
      } catch (e) {
        if (status(e) === 404) {
          logger.debug(`${DRIVER_NAME}: '${name}' not found`, { backend: DRIVER_NAME, secretName: name });
          return null;
        }
        throw mapVaultError(name, e);
      }
      if (v2 && body?.data && body.data.data === null) return null; // deleted latest version
      const data = v2 ? body?.data?.data : body?.data;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new MalformedSecretError(DRIVER_NAME, `${DRIVER_NAME}: '${name}' did not return a KV secret`, {
          secretName: name,
        });
      }
      if (kind === 'connection')
        return typeof data.conn_uri === 'string' && data.conn_uri ? data.conn_uri : JSON.stringify(data);
      if (!('value' in data)) {
        logger.warn(`Vault secret ${name} fetched but does not have required key "value"`, {
          backend: DRIVER_NAME,
        });
        return null;
      }
      return typeof data.value === 'string' ? data.value : JSON.stringify(data.value);
    },
    async close() {
      client = undefined;
    },
  });
}

async function createClient(o: HashicorpVaultOptions, timeoutMs: number): Promise<VaultClient> {
  if (o.client) return o.client;
  const mod = await importOptional<any>('node-vault', DRIVER_NAME);
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
async function login(c: VaultClient, o: HashicorpVaultOptions): Promise<void> {
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
function quote(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

function status(e: unknown): number | undefined {
  const s = (e as { response?: { statusCode?: unknown } })?.response?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

function mapVaultError(name: string, e: unknown): Error {
  if (e instanceof BackendError || e instanceof ConfigurationError) return e;
  const opts = { cause: safeCause(e), secretName: name };
  const code = (e as { code?: string })?.code ?? '';
  const s = status(e);
  if (s !== undefined) {
    const errors = (e as { response: { body?: { errors?: unknown } } }).response.body?.errors;
    const said =
      Array.isArray(errors) && typeof errors[0] === 'string' ? `: ${errors[0].trim().slice(0, 120)}` : '';
    const msg = `${DRIVER_NAME}: HTTP ${s} reading '${name}'${said}`;
    if (s === 403) return new AccessDeniedError(DRIVER_NAME, msg, opts);
    if (s === 429) return new ThrottledError(DRIVER_NAME, msg, opts);
    if (s >= 500 || s === 412) return new BackendUnavailableError(DRIVER_NAME, msg, opts);
    return new BackendError(DRIVER_NAME, 'failed', msg, opts);
  }
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new BackendTimeoutError(DRIVER_NAME, `${DRIVER_NAME}: no answer for '${name}' in time`, opts);
  }
  if (NETWORK.has(code)) {
    return new BackendUnavailableError(
      DRIVER_NAME,
      `${DRIVER_NAME}: cannot reach Vault for '${name}' (${code})`,
      opts,
    );
  }
  if (/CERT|SSL|TLS|SELF_SIGNED/.test(code)) {
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
function validate(o: HashicorpVaultOptions): HashicorpVaultOptions {
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

/** `AIRFLOW__SECRETS__BACKEND=airflow.providers.hashicorp.secrets.vault.VaultBackend`. */
export function fromAirflowKwargs(kw: Record<string, unknown>, context: AdapterContext): SecretsBackend {
  const opts: HashicorpVaultOptions = { ...kindKwargs(kw, 'path'), logger: context.logger };
  const str = (key: string, opt: keyof HashicorpVaultOptions) => {
    const v = kwOptString(kw, key);
    if (v !== undefined) (opts as Record<string, unknown>)[opt] = v;
  };
  str('url', 'url');
  str('auth_type', 'authType');
  str('auth_mount_point', 'authMountPoint');
  str('token', 'token');
  str('token_path', 'tokenPath');
  str('role_id', 'roleId');
  str('secret_id', 'secretId');
  str('username', 'username');
  str('password', 'password');
  str('kubernetes_role', 'kubernetesRole');
  str('kubernetes_jwt_path', 'kubernetesJwtPath');
  str('jwt_role', 'jwtRole');
  str('jwt_token', 'jwtToken');
  str('jwt_token_path', 'jwtTokenPath');
  str('namespace', 'namespace');
  if (opts.url === undefined && context.env.VAULT_ADDR) opts.url = context.env.VAULT_ADDR;
  if (opts.token === undefined && context.env.VAULT_TOKEN) opts.token = context.env.VAULT_TOKEN;
  if ('mount_point' in kw) opts.mountPoint = kwOptString(kw, 'mount_point') ?? null;
  const version = kwInt(kw, 'kv_engine_version');
  if (version !== undefined && version !== 0) opts.kvEngineVersion = version as 1 | 2;
  const verify = kw.verify;
  if (verify !== undefined && verify !== null) {
    if (typeof verify !== 'boolean' && typeof verify !== 'string') {
      throw new ConfigurationError(
        kwargSetting('verify'),
        `${kwargSetting('verify')} must be a boolean or a path`,
      );
    }
    opts.verify = verify;
  }
  const cert = kw.cert;
  if (cert !== undefined && cert !== null) {
    const pair = Array.isArray(cert) && cert.length === 2 && cert.every((c) => typeof c === 'string');
    if (typeof cert !== 'string' && !pair) {
      throw new ConfigurationError(
        kwargSetting('cert'),
        `${kwargSetting('cert')} must be a path or [cert, key]`,
      );
    }
    opts.cert = cert as string | [string, string];
  }
  return hashicorpVault(opts);
}
