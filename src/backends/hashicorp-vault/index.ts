/**
 * Airflow's `VaultBackend` (hashicorp provider): KV v1/v2 secrets at `<mount>/<path>/<id>`; a
 * connection is the `conn_uri` key or the whole field dict, a variable or config value the `value`
 * key. node-vault is imported on first use; one client per backend logs in once and is reused (a
 * 403 triggers one fresh login when the credentials can produce a new token).
 *
 * This file: the options, which path a lookup reads, the read, and the kwargs. `./auth.ts` logs in;
 * `./client.ts` builds the node-vault client and maps its errors.
 */
import type { AdapterContext, Lookup, SecretKind, SecretsBackend } from '../../backend.js';
import { ConfigurationError, MalformedSecretError } from '../../errors.js';
import { consoleLogger, type Logger } from '../../logger.js';
import {
  kindKwargs,
  kwargSetting,
  kwInt,
  kwObject,
  kwOptString,
  kwString,
  kwVerify,
} from '../airflow-kwargs.js';
import { type CallCancel, DEFAULT_TIMEOUT_MS, InFlightCalls, rawBackend, withDeadline } from '../base.js';
import { cleanPath, refusal, staysBelow } from '../confine.js';
import { buildPath, type KindRules, kindRules, type LookupPatternOptions, locateWith } from '../naming.js';
import { authPath, canLoginAgain, checkAuth, login, type VaultAuthOptions } from './auth.js';
import { createClient, DRIVER_NAME, mapVaultError, quote, status, type VaultClient } from './client.js';
import { CANCEL, type VaultTransport } from './transport.js';
import { vaultWrites } from './write.js';

export type { VaultAuthOptions, VaultAuthType } from './auth.js';
export type { VaultClient } from './client.js';

export interface HashicorpVaultOptions extends LookupPatternOptions, VaultAuthOptions {
  /** Vault address. Default `http://localhost:8200` (`fromAirflowKwargs` also reads `VAULT_ADDR`). */
  url?: string | undefined;
  /**
   * Path under the mount for connections, or a list of paths tried in order (provider PR #70006);
   * `null` disables, `''` = none. Default `connections`.
   */
  connectionsPath?: string | readonly string[] | null | undefined;
  /** Default `variables`. */
  variablesPath?: string | readonly string[] | null | undefined;
  /** Default `config`. */
  configPath?: string | readonly string[] | null | undefined;
  /**
   * Multi-team only: each base path `<path>` is read as `<path>/<team>/<id>` (and only so: no
   * fallback to `<path>/<id>`). Default `true` (Airflow's `use_team_secrets_path`).
   */
  useTeamSecretsPath?: boolean | undefined;
  /**
   * One more base path, appended to the connections, variables and config paths (a disabled kind
   * gets it as its only path), multi-team or not (Airflow's `global_secrets_path`, deprecated
   * upstream in favour of path lists).
   */
  globalSecretsPath?: string | null | undefined;
  /** The team of the lookups (Airflow 3.2 multi-team); used only when `multiTeam` is on. */
  team?: string | undefined;
  /** Airflow's `[core] multi_team`. Default `false`: no team paths at all. */
  multiTeam?: boolean | undefined;
  /** KV mount. `null`/`''`: the id's first path segment is the mount. Default `secret`. */
  mountPoint?: string | null | undefined;
  /** KV engine version, 1 or 2. Default 2. */
  kvEngineVersion?: 1 | 2 | undefined;
  /** Vault Enterprise namespace (`X-Vault-Namespace`). */
  namespace?: string | undefined;
  /** TLS verification: `false` disables it, a string is a CA bundle file. Default `true`. */
  verify?: boolean | string | undefined;
  /** Client certificate: one PEM file with cert and key, or `[certFile, keyFile]`. */
  cert?: string | readonly [string, string] | undefined;
  /** Follow Vault's redirects (a standby node's 307), up to 5. Default `true` (hvac's `allow_redirects`). */
  allowRedirects?: boolean | undefined;
  /** Send `LIST` as `GET ?list=true`, for proxies that refuse the verb. Default `false` (hvac's `strict_http`). */
  strictHttp?: boolean | undefined;
  /** Send `X-Vault-Request: true` on every request. Default `true` (hvac's `request_header`). */
  requestHeader?: boolean | undefined;
  /** Deadline per lookup (login included), in ms. Default 10 000 (kwarg `timeout`, in seconds). */
  timeoutMs?: number | undefined;
  logger?: Logger | undefined;
  /** A ready node-vault client, used as is (no login). */
  client?: VaultClient | undefined;
  /**
   * The environment the cloud logins read (aws_iam: keys, profile files, region, STS endpoint; gcp:
   * `GOOGLE_APPLICATION_CREDENTIALS`, the project; azure: `AZURE_AUTHORITY_HOST`). Default `process.env`.
   */
  env?: Record<string, string | undefined> | undefined;
  /**
   * Refuse ids that would take the read out of the kind's path under the mount (empty, `.` or `..`
   * segments, which Vault resolves): `locate` skips them, saying why. Default `false` (Airflow does
   * no sanitising); `fromAirflowKwargs` takes it from the context (the CLI turns it on).
   */
  confineIds?: boolean | undefined;
}

export function hashicorpVault(options: HashicorpVaultOptions = {}): SecretsBackend {
  const o = options;
  if (o.kvEngineVersion !== undefined && o.kvEngineVersion !== 1 && o.kvEngineVersion !== 2) {
    const setting = kwargSetting('kv_engine_version');
    throw new ConfigurationError(setting, `${DRIVER_NAME}: kv_engine_version must be 1 or 2`);
  }
  checkAuth(o, Boolean(o.client));
  const layout = kvLayout(o);
  const v2 = (o.kvEngineVersion ?? 2) === 2;
  const logger = o.logger ?? consoleLogger;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const session = vaultSession(o, timeoutMs, logger);
  /** The value, `null` (a secret is there but gives no value: the loop stops), or ABSENT (try the next path). */
  const readOne = async (
    t: KvTarget,
    kind: SecretKind,
    id: string,
    signal?: AbortSignal,
  ): Promise<string | null | typeof ABSENT> => {
    const apiPath = t.apiPath;
    let body: any;
    try {
      body = await withDeadline(
        DRIVER_NAME,
        t.name,
        timeoutMs,
        (cancel) => session.read(t.name, apiPath, cancel),
        signal,
      );
    } catch (e) {
      if (status(e) === 404) {
        logger.debug(`${DRIVER_NAME}: '${t.name}' not found`, { backend: DRIVER_NAME, secretName: t.name });
        return ABSENT;
      }
      throw mapVaultError(t.name, e, { url: o.url ?? 'http://localhost:8200', noToken: session.noToken() });
    }
    return kvValue(body, v2, kind, { name: t.name, id }, logger);
  };

  const locate = (kind: SecretKind, id: string): Lookup => {
    const c = kvCandidates(layout, kind, id);
    return Array.isArray(c) ? { name: c[0]!.name } : c;
  };
  const writes = vaultWrites({
    call: (name, fn) =>
      withDeadline(DRIVER_NAME, name, timeoutMs, (cancel) => session.call(name, fn, cancel)),
    locate,
    targets: (kind, id) => kvCandidates(layout, kind, id),
    folders: (kind) => (layout.paths[kind] === null ? null : kvBases(layout, kind)),
    mountPoint: layout.mountPoint,
    v2,
  });
  const backend = rawBackend({
    name: DRIVER_NAME,
    locate,
    // Each base path in order; the first one where a secret exists ends the lookup (Airflow's
    // `_get_secret`: a `{}` or a secret without `value` there is "not found", not a reason to go on).
    async fetch(_name, kind, id, readOptions) {
      const c = kvCandidates(layout, kind, id);
      if (!Array.isArray(c)) return null;
      for (const t of c) {
        const value = await readOne(t, kind, id, readOptions?.signal);
        if (value !== ABSENT) return value;
      }
      return null;
    },
    close: () => session.close(),
  });
  return { ...backend, ...writes };
}

/** `hvac.Client` / adapter switches this transport honours: kwarg → option. */
const HVAC_BOOLEANS = {
  allow_redirects: 'allowRedirects',
  strict_http: 'strictHttp',
  request_header: 'requestHeader',
} as const satisfies Record<string, keyof HashicorpVaultOptions>;

/** `hvac.Client` / adapter kwargs that cannot be honoured: refused (when set) with the reason. */
const HVAC_REFUSED: Record<string, string> = {
  proxies:
    'no proxy support: the Vault transport connects to Vault directly; remove proxies or reach Vault without a proxy',
  session:
    'a requests.Session cannot be given in backend_kwargs; the transport is built from verify, cert and timeout',
  adapter: 'an hvac adapter class cannot be given in backend_kwargs',
  ignore_exceptions:
    'Vault errors are always raised (as typed errors); ignore_exceptions cannot be turned on',
};

/** The kwargs `fromAirflowKwargs` reads. */
const HANDLED = new Set([
  ...['connections', 'variables', 'config'].flatMap((k) => [`${k}_path`, `${k}_lookup_pattern`]),
  ...['use_team_secrets_path', 'global_secrets_path'],
  ...['url', 'auth_type', 'auth_mount_point', 'mount_point', 'kv_engine_version', 'namespace'],
  ...['token', 'token_path', 'role_id', 'secret_id', 'username', 'password'],
  ...['key_id', 'region', 'assume_role_kwargs', 'gcp_key_path', 'gcp_keyfile_dict', 'gcp_scopes'],
  ...['azure_tenant_id', 'azure_resource'],
  ...['kubernetes_role', 'kubernetes_jwt_path', 'jwt_role', 'jwt_token', 'jwt_token_path'],
  ...['verify', 'cert', 'timeout'],
  ...Object.keys(HVAC_BOOLEANS),
  ...Object.keys(HVAC_REFUSED),
]);

/**
 * VaultBackend parameters that change nothing here: those of the radius auth type, refused by
 * `checkAuth`. Any other key (not one `hvac.Client` or its adapter takes either): warned.
 */
const NO_EFFECT = new Set(['radius_host', 'radius_secret', 'radius_port']);
/**
 * The `hvac.Client` kwargs Airflow passes on: the switches this transport honours (booleans), and a
 * `ConfigurationError` naming the kwarg for those it cannot (`proxies`, `session`, `adapter`,
 * `ignore_exceptions`), unless they are unset (`null`, `{}`, `false`), which is hvac's default.
 */
function hvacKwargs(kw: Record<string, unknown>): Partial<HashicorpVaultOptions> {
  const out: Partial<HashicorpVaultOptions> = {};
  for (const [key, opt] of Object.entries(HVAC_BOOLEANS)) {
    const v = kw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') {
      throw new ConfigurationError(kwargSetting(key), `${kwargSetting(key)} must be true or false`);
    }
    out[opt] = v;
  }
  for (const [key, why] of Object.entries(HVAC_REFUSED)) {
    const v = kw[key];
    const unset =
      v === undefined ||
      v === null ||
      v === false ||
      (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);
    if (!unset)
      throw new ConfigurationError(kwargSetting(key), `${DRIVER_NAME}: ${key} is not supported (${why})`);
  }
  return out;
}

/** String kwargs read as they are: kwarg → option. */
const STRING_KWARGS: Record<string, keyof HashicorpVaultOptions> = {
  url: 'url',
  auth_type: 'authType',
  auth_mount_point: 'authMountPoint',
  token: 'token',
  token_path: 'tokenPath',
  role_id: 'roleId',
  secret_id: 'secretId',
  username: 'username',
  password: 'password',
  kubernetes_role: 'kubernetesRole',
  kubernetes_jwt_path: 'kubernetesJwtPath',
  jwt_role: 'jwtRole',
  jwt_token: 'jwtToken',
  jwt_token_path: 'jwtTokenPath',
  namespace: 'namespace',
  key_id: 'keyId',
  region: 'region',
  gcp_key_path: 'gcpKeyPath',
  gcp_scopes: 'gcpScopes',
  azure_tenant_id: 'azureTenantId',
  azure_resource: 'azureResource',
};

/** `AIRFLOW__SECRETS__BACKEND=airflow.providers.hashicorp.secrets.vault.VaultBackend`. */
export function fromAirflowKwargs(kw: Record<string, unknown>, context: AdapterContext): SecretsBackend {
  const { connections_path, variables_path, config_path, ...rest } = kw;
  const opts: HashicorpVaultOptions = {
    ...kindKwargs(rest, 'path'),
    ...pathKwargs(kw),
    ...teamKwargs(kw, context),
    ...hvacKwargs(kw),
    ...(context.confineIds ? { confineIds: true } : {}),
    logger: context.logger,
  };
  for (const [key, opt] of Object.entries(STRING_KWARGS)) {
    const v = kwOptString(kw, key);
    if (v !== undefined) (opts as Record<string, unknown>)[opt] = v;
  }
  if (opts.jwtToken !== undefined) opts.jwtToken = opts.jwtToken.trim(); // Airflow: jwt_token.strip()
  for (const key of Object.keys(kw)) {
    if (!HANDLED.has(key) && !NO_EFFECT.has(key)) {
      context.logger.warn(
        `${DRIVER_NAME}: ignoring backend_kwargs key '${key}' (not a VaultBackend, hvac.Client or hvac adapter parameter)`,
        { backend: DRIVER_NAME },
      );
    }
  }
  const assume = kwObject(kw, 'assume_role_kwargs');
  if (assume) opts.assumeRoleKwargs = assume;
  const keyfile = kwObject(kw, 'gcp_keyfile_dict');
  if (keyfile) opts.gcpKeyfileDict = keyfile;
  opts.env = context.env;
  if (opts.url === undefined && context.env.VAULT_ADDR) opts.url = context.env.VAULT_ADDR;
  if (opts.token === undefined && context.env.VAULT_TOKEN) opts.token = context.env.VAULT_TOKEN;
  if ('mount_point' in kw) opts.mountPoint = kwOptString(kw, 'mount_point') ?? null;
  const timeout = kw.timeout; // hvac.Client's `timeout` kwarg, in seconds
  if (timeout !== undefined && timeout !== null) {
    if (typeof timeout !== 'number' || !(timeout > 0)) {
      throw new ConfigurationError(
        kwargSetting('timeout'),
        `${kwargSetting('timeout')} must be a number of seconds`,
      );
    }
    opts.timeoutMs = timeout * 1000;
  }
  const version = kwInt(kw, 'kv_engine_version');
  if (version !== undefined && version !== 0) opts.kvEngineVersion = version as 1 | 2;
  const verify = kwVerify(kw);
  if (verify !== undefined) opts.verify = verify;
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

/** `connections_path`, `variables_path`, `config_path`: a string, a list of strings (PR #70006) or null. */
function pathKwargs(kw: Record<string, unknown>): Partial<HashicorpVaultOptions> {
  const out: Partial<HashicorpVaultOptions> = {};
  for (const [key, opt] of [
    ['connections_path', 'connectionsPath'],
    ['variables_path', 'variablesPath'],
    ['config_path', 'configPath'],
  ] as const) {
    const v = kw[key];
    if (v === undefined) continue;
    if (v !== null && typeof v !== 'string' && !(Array.isArray(v) && v.every((p) => typeof p === 'string'))) {
      throw new ConfigurationError(
        kwargSetting(key),
        `${kwargSetting(key)} must be a string, a list of strings or null`,
      );
    }
    out[opt] = v as string | string[] | null;
  }
  return out;
}

/** `use_team_secrets_path`, `global_secrets_path`, and the team from the context (multi-team). */
function teamKwargs(kw: Record<string, unknown>, context: AdapterContext): Partial<HashicorpVaultOptions> {
  const out: Partial<HashicorpVaultOptions> = {};
  const use = kw.use_team_secrets_path;
  if (use !== undefined && use !== null) {
    if (typeof use !== 'boolean') {
      const setting = kwargSetting('use_team_secrets_path');
      throw new ConfigurationError(setting, `${setting} must be true or false`);
    }
    out.useTeamSecretsPath = use;
  }
  const global = kwString(kw, 'global_secrets_path', true);
  if (global !== undefined) out.globalSecretsPath = global;
  if (global !== undefined && global !== null) {
    context.logger.warn(
      `${DRIVER_NAME}: global_secrets_path is deprecated in the hashicorp provider; list the paths in connections_path / variables_path instead`,
      { backend: DRIVER_NAME },
    );
  }
  if (context.multiTeam) out.multiTeam = true;
  if (context.team !== undefined) out.team = context.team;
  return out;
}

/**
 * The backend's one node-vault client, created and logged in on first use, then reused (a failed
 * start is not kept: the next lookup starts afresh). A 403 triggers one fresh login, shared by the
 * reads that saw it, when the credentials can produce a new token. A read's requests carry its
 * {@link CallCancel}; a login shared by several reads has its own deadline. `close()` cancels the
 * logins in flight (a cloud login's SDK calls too) and destroys the transports (every socket, in
 * flight or idle).
 */
function vaultSession(o: HashicorpVaultOptions, timeoutMs: number, logger: Logger) {
  const canRelogin = !o.client && canLoginAgain(o);
  let client: Promise<VaultClient> | undefined;
  let current: VaultClient | undefined;
  let relogin: Promise<void> | undefined;
  const transports = new Set<VaultTransport>();
  /** Logins in flight (their cloud SDK calls included), cancelled by `close()`. */
  const logins = new InFlightCalls();
  const loginOnce = (c: VaultClient) =>
    withDeadline(DRIVER_NAME, authPath(o), timeoutMs, (cancel) =>
      logins.track(cancel, login(c, o, o.env ?? process.env, { [CANCEL]: cancel })),
    );
  const open = async (): Promise<VaultClient> => {
    if (o.client) return o.client;
    const { client: c, transport } = await createClient(o);
    transports.add(transport);
    try {
      await loginOnce(c);
    } catch (e) {
      transport.destroy();
      transports.delete(transport);
      throw e;
    }
    return c;
  };
  const getClient = () =>
    (client ??= open().catch((e) => {
      client = undefined;
      throw e;
    }));
  /** `fn` gets the request options to pass on (the call's cancellation, when it has one). */
  const call = async <T>(
    name: string,
    fn: (c: VaultClient, requestOptions: object) => Promise<T>,
    cancel?: CallCancel,
  ): Promise<T> => {
    const c = await getClient();
    current = c;
    const used = c.token;
    const requestOptions = cancel ? { [CANCEL]: cancel } : {};
    try {
      return await fn(c, requestOptions);
    } catch (e) {
      if (status(e) !== 403 || !canRelogin || cancel?.aborted) throw e;
      if (c.token === used) {
        relogin ??= loginOnce(c).finally(() => {
          relogin = undefined;
        });
        await relogin;
      }
      logger.debug(`${DRIVER_NAME}: 403 for '${name}', retried once after a fresh login`, {
        backend: DRIVER_NAME,
      });
      return fn(c, requestOptions);
    }
  };
  return {
    read: (name: string, apiPath: string, cancel?: CallCancel): Promise<any> =>
      call(name, (c, requestOptions) => c.read(apiPath, requestOptions), cancel),
    call,
    /** The client's token is empty (a token file with nothing in it): said in a 403's message. */
    noToken: () => current !== undefined && current.token === '',
    async close(): Promise<void> {
      client = undefined;
      current = undefined;
      logins.cancelAll();
      for (const t of transports) t.destroy();
      transports.clear();
    },
  };
}

/** Where a kind's secrets are, resolved once from the options (see {@link kvCandidates}). */
interface KvLayout {
  rules: KindRules;
  /** Per kind: the base paths in order (stripped of trailing `/`), or `null` when disabled. */
  paths: Record<SecretKind, readonly string[] | null>;
  mountPoint: string | null;
  /** The team each base path is read under; set only in multi-team mode with `use_team_secrets_path`. */
  team: string | undefined;
  /** KV v2 (reads go to `<mount>/data/…`). */
  v2: boolean;
  /** `confineIds`: refuse ids that leave the kind's path (see {@link onTheWire}). */
  confine: boolean;
}

/**
 * One KV read: the mount, the path under it, the kind's path the secret is under (`base`), the
 * HTTP path, and the name we show (`<mount>/<path>`, or the path on the wire when they differ).
 */
interface KvTarget {
  name: string;
  mount: string;
  rel: string;
  base: string;
  apiPath: string;
}

const DEFAULT_PATHS: Record<SecretKind, string> = {
  connection: 'connections',
  variable: 'variables',
  config: 'config',
};

/**
 * Airflow's `_normalize_paths`, then `_append_path` of `global_secrets_path` (stripped) to every
 * kind, config included, whether multi-team is on or not; a disabled kind gets it as its only path.
 */
function kvLayout(o: HashicorpVaultOptions): KvLayout {
  const global =
    o.globalSecretsPath === undefined || o.globalSecretsPath === null
      ? null
      : rstripSlash(o.globalSecretsPath);
  const norm = (p: string | readonly string[] | null | undefined, dflt: string) => {
    const list =
      p === undefined ? [dflt] : p === null ? null : (typeof p === 'string' ? [p] : p).map(rstripSlash);
    return global === null ? list : [...(list ?? []), global];
  };
  const paths: KvLayout['paths'] = {
    connection: norm(o.connectionsPath, DEFAULT_PATHS.connection),
    variable: norm(o.variablesPath, DEFAULT_PATHS.variable),
    config: norm(o.configPath, DEFAULT_PATHS.config),
  };
  const first = (k: SecretKind) => (paths[k] === null ? null : (paths[k]![0] ?? ''));
  const rules = kindRules(
    { connection: first('connection'), variable: first('variable'), config: first('config') },
    o,
    'path',
    o.logger,
  );
  const multi = o.multiTeam === true;
  return {
    rules,
    paths,
    mountPoint: o.mountPoint === undefined ? 'secret' : o.mountPoint,
    team: multi && o.useTeamSecretsPath !== false && o.team !== undefined ? o.team : undefined,
    v2: (o.kvEngineVersion ?? 2) === 2,
    confine: o.confineIds === true,
  };
}

/**
 * The KV reads for one lookup, in order, as the merged provider makes them: one per base path,
 * `<base>/<team>` in multi-team mode (config excepted), else `<base>`.
 * Each goes through `VaultBackend._parse_path` (no mount point: the id's first segment is the
 * mount, `""` when the id starts with `/`) and then `_VaultClient._parse_secret_path`, which with no
 * mount point splits the whole path again: id `/lead` reads mount `connections`, path `lead`.
 * Candidates that split into nothing are dropped (Airflow returns None without a call).
 */
function kvCandidates(layout: KvLayout, kind: SecretKind, id: string): { skip: string } | KvTarget[] {
  const l = locateWith(layout.rules, kind, id, (base) => ({ name: base }));
  if ('skip' in l) return l;
  const out: KvTarget[] = [];
  for (const base of kvBases(layout, kind)) {
    const t = kvTarget(layout.mountPoint, base, id);
    if (!t) continue;
    const w = onTheWire(t, layout, id);
    if ('skip' in w) return w;
    out.push(w);
  }
  if (out.length) return out;
  if (!layout.paths[kind]?.length) return { skip: `${layout.rules[kind].prefixKwarg} is an empty list` };
  return { skip: 'no mount point in id (mount_point is null)' };
}

/** The base paths a lookup of this kind reads under, in order (`<base>/<team>` in multi-team mode, config excepted). */
function kvBases(layout: KvLayout, kind: SecretKind): string[] {
  const team = kind === 'config' ? undefined : layout.team;
  return (layout.paths[kind] ?? []).map((base) => (team === undefined ? base : buildPath(base, team)));
}

/**
 * The HTTP path of a KV read, and the name `explain` and messages show: the usual `<mount>/<path>`,
 * or, when the URL resolves dot segments in it (`../../../sys/mounts`), the path actually requested
 * (`/v1/sys/mounts`). With `confineIds`, an id holding an empty, `.` or `..` segment (a leading or
 * doubled `/` included: Vault cleans those too), or whose path would not stay below
 * `<mount>/<kind path>`, is skipped instead (`../confine.ts`).
 */
function onTheWire(t: Omit<KvTarget, 'apiPath'>, layout: KvLayout, id: string): { skip: string } | KvTarget {
  const data = layout.v2 ? ['data'] : [];
  const apiPath = [quote(t.mount), ...data, quote(t.rel)].join('/');
  const onWire = new URL(`http://vault/v1/${apiPath}`).pathname;
  const name = onWire === `/v1/${apiPath}` ? t.name : decodeURIComponent(onWire);
  if (layout.confine) {
    const base = [quote(t.mount), ...data, ...(t.base ? [quote(t.base)] : [])].join('/');
    if (cleanPath(id) !== id || !staysBelow(apiPath, base)) {
      return { skip: refusal(id, t.base ? `${t.mount}/${t.base}` : t.mount, name) };
    }
  }
  return { ...t, name, apiPath };
}

/** `_get_secret_with_base(base, id)` then the client's `_parse_secret_path`; null: no call. */
function kvTarget(mountPoint: string | null, base: string, id: string): Omit<KvTarget, 'apiPath'> | null {
  let [mount, key]: [string, string] = ['', id];
  if (!mountPoint) {
    const at = id.indexOf('/');
    if (at < 0) return null;
    [mount, key] = [id.slice(0, at), id.slice(at + 1)];
  }
  const secretPath = base === '' ? key : buildPath(base, key);
  const full = (mount ? `${mount}/` : '') + secretPath;
  /** The part of `rel` before the key: the kind's path the secret is read under. */
  const under = (rel: string) => rel.slice(0, Math.max(0, rel.length - key.length)).replace(/\/+$/, '');
  if (mountPoint) return { name: `${mountPoint}/${full}`, mount: mountPoint, rel: full, base: under(full) };
  const at = full.indexOf('/');
  if (at < 0) return null; // hvac's InvalidPath: logged by Airflow, no call
  const rel = full.slice(at + 1);
  return { name: full, mount: full.slice(0, at), rel, base: under(rel) };
}

function rstripSlash(p: string): string {
  return p.replace(/\/+$/, '');
}

/** A read that found no secret at that path (404, or a deleted latest version): the next path is tried. */
const ABSENT: unique symbol = Symbol('absent');

/**
 * The value in a KV read's answer, as Airflow's `get_secret` + the backend's key choice: a
 * connection is `conn_uri`, else the whole dict as JSON; a variable or config is `value`.
 */
function kvValue(
  body: any,
  v2: boolean,
  kind: SecretKind,
  at: { name: string; id: string },
  logger: Logger,
): string | null | typeof ABSENT {
  const { name } = at;
  if (v2 && body?.data && body.data.data === null) return ABSENT; // deleted latest version: InvalidPath
  const data = v2 ? body?.data?.data : body?.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new MalformedSecretError(DRIVER_NAME, `${DRIVER_NAME}: '${name}' did not return a KV secret`, {
      secretName: name,
    });
  }
  if (kind === 'connection')
    return typeof data.conn_uri === 'string' && data.conn_uri ? data.conn_uri : JSON.stringify(data);
  if (Object.keys(data).length === 0) return null; // Airflow: `if not response: return None`
  if (!('value' in data)) {
    // Airflow's warnings, with the id (not the path) as it logs them.
    const what = kind === 'config' ? 'config' : 'secret';
    logger.warn(`Vault ${what} ${at.id} fetched but does not have required key "value"`, {
      backend: DRIVER_NAME,
      secretName: name,
    });
    return null;
  }
  if (data.value === null) return null; // Airflow returns the None, i.e. not found
  return typeof data.value === 'string' ? data.value : JSON.stringify(data.value);
}
