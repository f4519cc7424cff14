/**
 * An in-memory backend for tests and local wiring. Connections may be given as a URI or JSON string
 * (parsed like any stored secret, at each lookup), as constructor fields, or as a `Connection`.
 * Every lookup returns a new `Connection`, so a caller that mutates one cannot change later answers.
 * Seed it from Airflow-format fixture files with `fromFixtures` in `airflow-secrets/testing`.
 */
import type {
  ListOptions,
  ListResult,
  Lookup,
  PutOptions,
  PutResult,
  SecretKind,
  SecretsBackend,
} from '../backend.js';
import { Connection, type ConnectionFields } from '../connection.js';
import { ConfigurationError, SecretExistsError } from '../errors.js';
import { parseConnection } from './base.js';
import { checkPutOptions, listLimit } from './list-write.js';

const DRIVER_NAME = 'memory';

/**
 * Airflow's field names, accepted beside the constructor's: `conn_type` (= `type`), `conn_id`
 * (= `id`, must match the key) and `extra_dejson` (= an object `extra`).
 */
export interface AirflowConnectionFields {
  conn_id?: string | null | undefined;
  conn_type?: string | null | undefined;
  extra_dejson?: Record<string, unknown> | null | undefined;
}

export type MemoryConnectionValue = string | (ConnectionFields & AirflowConnectionFields) | Connection;

const FIELDS = new Set([
  'id',
  'type',
  'description',
  'host',
  'login',
  'password',
  'schema',
  'port',
  'extra',
  'uri',
]);
const AIRFLOW_NAMES: Record<string, string> = { conn_type: 'type', conn_id: 'id', extra_dejson: 'extra' };

export interface MemoryBackendOptions {
  /** Backend name shown by `explain` and in logs (give each one a different name in a chain). Default `memory`. */
  name?: string | undefined;
  /** conn id → a URI or JSON string, constructor fields, or a `Connection`. */
  connections?: Record<string, MemoryConnectionValue> | undefined;
  /** variable key → value (`""` is a value). */
  variables?: Record<string, string> | undefined;
  /** config key → value (Airflow's `get_config`). */
  configs?: Record<string, string> | undefined;
}

export interface MemoryBackend extends SecretsBackend {
  getConfig(key: string): Promise<string | null>;
  /** Every id held for the kind, sorted (the name is the id). */
  list(kind: SecretKind, options?: ListOptions): Promise<ListResult>;
  /** Store a value (a connection as given; `format` does not apply); an existing id needs `overwrite`. */
  put(kind: SecretKind, id: string, value: Connection | string, options?: PutOptions): Promise<PutResult>;
  getMany(kind: SecretKind, ids: readonly string[]): Promise<Map<string, Connection | string | null>>;
  setConnection(id: string, value: MemoryConnectionValue): void;
  setVariable(key: string, value: string): void;
  setConfig(key: string, value: string): void;
  delete(kind: SecretKind, id: string): boolean;
  clear(): void;
}

/**
 * Constructor fields with Airflow's names translated; an unknown field, or one given under both
 * names, is a `ConfigurationError` naming it (it would otherwise be dropped without a word).
 */
function checkedFields(backend: string, id: string, v: Record<string, unknown>): ConnectionFields {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v)) {
    const field = AIRFLOW_NAMES[key] ?? key;
    const setting = `connections.${id}.${key}`;
    if (!FIELDS.has(field)) {
      throw new ConfigurationError(
        setting,
        `${backend}: connection '${id}' has an unknown field '${key}' (use ${[...FIELDS].join(', ')}, or Airflow's conn_type, conn_id, extra_dejson)`,
      );
    }
    if (field in out) {
      throw new ConfigurationError(
        setting,
        `${backend}: connection '${id}' gives '${field}' twice (as '${key}')`,
      );
    }
    if (key === 'conn_id' && value !== id && value !== null && value !== undefined) {
      throw new ConfigurationError(setting, `${backend}: connection '${id}' has conn_id '${String(value)}'`);
    }
    out[field] = value;
  }
  return out as ConnectionFields;
}

export function memory(options: MemoryBackendOptions = {}): MemoryBackend {
  const name = options.name ?? DRIVER_NAME;
  const seed = (id: string, v: MemoryConnectionValue): unknown =>
    typeof v === 'string' || v instanceof Connection
      ? v
      : checkedFields(name, id, v as Record<string, unknown>);
  const stores: Record<SecretKind, Map<string, unknown>> = {
    connection: new Map(Object.entries(options.connections ?? {}).map(([id, v]) => [id, seed(id, v)])),
    variable: new Map(Object.entries(options.variables ?? {})),
    config: new Map(Object.entries(options.configs ?? {})),
  };
  const toConnection = (id: string, v: MemoryConnectionValue): Connection => {
    if (v instanceof Connection) {
      const copy = v.clone();
      copy.id ??= id;
      return copy;
    }
    if (typeof v === 'string') return parseConnection(name, id, v, id);
    return new Connection({ ...(v as ConnectionFields), id });
  };
  const connection = (id: string): Connection | null => {
    const v = stores.connection.get(id) as MemoryConnectionValue | undefined;
    return v === undefined ? null : toConnection(id, v);
  };
  const text = (kind: SecretKind, id: string): string | null =>
    (stores[kind].get(id) as string | undefined) ?? null;
  return {
    name,
    locate: (_kind: SecretKind, id: string): Lookup => ({ name: id }),
    getConnection: async (connId) => connection(connId),
    getVariable: async (key) => text('variable', key),
    getConfig: async (key) => text('config', key),
    async getMany(kind, ids) {
      return new Map(ids.map((id) => [id, kind === 'connection' ? connection(id) : text(kind, id)]));
    },
    setConnection: (id, value) => void stores.connection.set(id, seed(id, value)),
    setVariable: (key, value) => void stores.variable.set(key, value),
    setConfig: (key, value) => void stores.config.set(key, value),
    async list(kind, opts) {
      const limit = listLimit(opts);
      const ids = [...stores[kind].keys()].sort();
      return {
        entries: ids.slice(0, limit).map((id) => ({ id, secretName: id })),
        truncated: ids.length > limit,
      };
    },
    checkPut: (_kind, options) => checkPutOptions(name, options, []),
    async put(kind, id, value, opts = {}) {
      checkPutOptions(name, opts, []);
      const existed = stores[kind].has(id);
      if (existed && !opts.overwrite) throw new SecretExistsError(name, id);
      if (kind === 'connection') stores.connection.set(id, typeof value === 'string' ? value : value.clone());
      else if (typeof value !== 'string')
        throw new ConfigurationError('value', `put: a ${kind} value must be a string`);
      else stores[kind].set(id, value);
      return { secretName: id, action: existed ? 'updated' : 'created' };
    },
    delete: (kind, id) => stores[kind].delete(id),
    clear() {
      for (const s of Object.values(stores)) s.clear();
    },
  };
}

/** The same factory under the name the testing kit documents. */
export const memoryBackend = memory;
