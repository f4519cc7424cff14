/**
 * Listing and writing for the Vault adapter, in the shapes the provider reads back: `LIST` (the
 * verb hvac sends) on `<mount>/metadata/<path>` (KV v2) or `<mount>/<path>` (KV v1), walked
 * recursively under each kind's path; writes of `{ conn_uri }` or the connection's fields (format
 * `json`) and `{ value }` for variables, with check-and-set `0` on KV v2 so an existing secret is
 * replaced only when asked; deletes of the whole secret (KV v2: its metadata and every version).
 */
import type { ListOptions, ListResult, Lookup, SecretKind, SecretsBackend } from '../../backend.js';
import { type Connection, deserializeConnection } from '../../connection.js';
import { ConfigurationError, SecretExistsError } from '../../errors.js';
import { kwargSetting } from '../airflow-kwargs.js';
import {
  checkPutOptions,
  emptyList,
  encodeValue,
  listedName,
  locateWriteWith,
  pagedList,
  refusedId,
} from '../list-write.js';
import { DRIVER_NAME, mapVaultError, quote, status, type VaultClient } from './client.js';

/** What the adapter hands over: its session (login, the 403 re-login, the deadline) and naming. */
export interface VaultStore {
  call<T>(name: string, fn: (c: VaultClient) => Promise<T>): Promise<T>;
  locate(kind: SecretKind, id: string): Lookup;
  /** Every KV path a lookup of `id` reads, in order; `put` writes to the first (the one `locate` names). */
  targets(kind: SecretKind, id: string): { skip: string } | KvTarget[];
  /** The base paths under the mount that lookups of this kind read (in order); `null` = disabled. */
  folders(kind: SecretKind): readonly string[] | null;
  mountPoint: string | null;
  v2: boolean;
}

interface KvTarget {
  name: string;
  mount: string;
  rel: string;
}

export function vaultWrites(
  s: VaultStore,
): Required<Pick<SecretsBackend, 'list' | 'put' | 'delete' | 'locateWrite' | 'checkPut'>> {
  const locateWrite = (kind: SecretKind, id: string) =>
    locateWriteWith(s.locate, kind, id, (name) =>
      name.split('/').some((seg) => seg === '') ? 'a Vault path has no empty segment or trailing /' : null,
    );
  const api = (mount: string, area: 'data' | 'metadata', rel: string) =>
    [quote(mount), ...(s.v2 ? [area] : []), quote(rel)].join('/');
  /** Whether something is stored at the path (KV v2: metadata, so deleted versions count). */
  const exists = async (name: string, mount: string, rel: string) => {
    try {
      await s.call(name, (c) => c.read(api(mount, 'metadata', rel)));
      return true;
    } catch (e) {
      if (status(e) === 404) return false;
      throw mapVaultError(name, e);
    }
  };
  return {
    locateWrite,
    list: (kind, options) => listKv(s, kind, options),
    checkPut: (_kind, options) => checkPutOptions(DRIVER_NAME, options, []),
    async put(kind, id, value, options = {}) {
      checkPutOptions(DRIVER_NAME, options, []);
      const l = locateWrite(kind, id);
      const t = s.targets(kind, id);
      const w = Array.isArray(t) ? t[0] : undefined;
      if (!('name' in l) || !w) throw refusedId(DRIVER_NAME, kind, id, 'skip' in l ? l.skip : '');
      const data = kvData(kind, id, value, options.format);
      const path = api(w.mount, 'data', w.rel);
      let existed = false;
      if (!s.v2) {
        existed = await exists(w.name, w.mount, w.rel);
        if (existed && !options.overwrite) throw new SecretExistsError(DRIVER_NAME, w.name);
      }
      // KV v2: check-and-set 0 writes only when no version exists yet.
      const body = s.v2 ? { data, ...(options.overwrite ? {} : { options: { cas: 0 } }) } : data;
      let out: any;
      try {
        out = await s.call(w.name, (c) => write(c, path, body));
      } catch (e) {
        if (s.v2 && !options.overwrite && casFailed(e)) throw new SecretExistsError(DRIVER_NAME, w.name);
        throw mapVaultError(w.name, e, 'writing');
      }
      if (s.v2) existed = Number(out?.data?.version ?? 1) > 1;
      return { secretName: w.name, action: existed ? 'updated' : 'created' };
    },
    async delete(kind, id) {
      const t = s.targets(kind, id);
      const w = Array.isArray(t) ? t[0] : undefined;
      if (!w) return false;
      if (!(await exists(w.name, w.mount, w.rel))) return false;
      try {
        await s.call(w.name, (c) => del(c, api(w.mount, 'metadata', w.rel)));
      } catch (e) {
        if (status(e) === 404) return false;
        throw mapVaultError(w.name, e, 'deleting');
      }
      return true;
    },
  };
}

/**
 * The recursive `LIST` under each base path a kind is read from: one call per folder, bounded like
 * every listing. An id is kept when a lookup of it reads that very path.
 */
async function listKv(
  s: VaultStore,
  kind: SecretKind,
  options: ListOptions | undefined,
): Promise<ListResult> {
  const bases = s.folders(kind);
  if (bases === null || bases.length === 0) return emptyList();
  if (!s.mountPoint) {
    const setting = kwargSetting('mount_point');
    throw new ConfigurationError(
      setting,
      `${DRIVER_NAME}: listing needs a mount_point (with mount_point null each id names its own mount)`,
    );
  }
  const mount = s.mountPoint;
  // Folders to walk: [base, folder under it]; the names found are `<mount>/<base>/<folder><key>`.
  const folders: [string, string][] = bases.map((b) => [b === '' ? '' : `${b}/`, '']);
  const names = (k: SecretKind, id: string) => {
    const t = s.targets(k, id);
    return Array.isArray(t) ? t.map((x) => x.name) : [];
  };
  const baseOf = new Map<string, string>();
  return pagedList(
    options,
    async (token) => {
      const i = Number(token ?? 0);
      const [root, sub] = folders[i]!;
      const dir = `${root}${sub}`;
      const name = `${mount}/${dir}`;
      const path = [quote(mount), ...(s.v2 ? ['metadata'] : []), quote(dir)].join('/');
      let keys: unknown;
      try {
        keys = (await s.call(name, (c) => list(c, path)))?.data?.keys;
      } catch (e) {
        if (status(e) !== 404) throw mapVaultError(name, e, 'listing');
      }
      const found: string[] = [];
      for (const key of Array.isArray(keys) ? keys : []) {
        if (typeof key !== 'string' || key === '') continue;
        if (key.endsWith('/')) folders.push([root, `${sub}${key}`]);
        else {
          found.push(`${name}${key}`);
          baseOf.set(`${name}${key}`, `${mount}/${root}`);
        }
      }
      return { names: found, next: i + 1 < folders.length ? String(i + 1) : undefined };
    },
    (name) => listedName(s.locate, kind, name, name.slice(baseOf.get(name)!.length), undefined, names),
  );
}

/**
 * The KV data the provider reads back: `{ value }` for a variable or config; for a connection
 * `{ conn_uri }` (format `uri`, the default) or its non-empty fields (format `json`: `conn_type`,
 * `description`, `host`, `login`, `password`, `schema`, `port`, and `extra` as its JSON text).
 */
function kvData(
  kind: SecretKind,
  id: string,
  value: Connection | string,
  format: 'uri' | 'json' | undefined,
): Record<string, unknown> {
  const text = encodeValue(kind, id, value, format);
  if (kind !== 'connection') return { value: text };
  if (format !== 'json') {
    const json = typeof value === 'string' && text.trimStart().startsWith('{');
    return { conn_uri: json ? deserializeConnection(id, text).getUri() : text };
  }
  const c = typeof value === 'string' ? deserializeConnection(id, text) : value;
  const fields: Record<string, unknown> = {
    conn_type: c.type,
    description: c.description,
    host: c.host,
    login: c.login,
    password: c.password,
    schema: c.schema,
    port: c.port,
    extra: c.extra,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== ''));
}

/** Vault's answer when check-and-set `0` meets an existing secret. */
function casFailed(e: unknown): boolean {
  const errors = (e as { response?: { body?: { errors?: unknown } } })?.response?.body?.errors;
  return status(e) === 400 && Array.isArray(errors) && errors.some((x) => /check-and-set/i.test(String(x)));
}

/** `method` of the client (node-vault has them all; an injected client may not). */
function call(c: VaultClient, method: 'write' | 'list' | 'delete', ...args: unknown[]): Promise<any> {
  if (typeof c[method] !== 'function') {
    throw new ConfigurationError('client', `${DRIVER_NAME}: the client has no ${method}()`);
  }
  return c[method](...args);
}
const write = (c: VaultClient, path: string, body: Record<string, unknown>) => call(c, 'write', path, body);
const list = (c: VaultClient, path: string) => call(c, 'list', path);
const del = (c: VaultClient, path: string) => call(c, 'delete', path);
