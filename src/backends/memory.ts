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

export type MemoryConnectionValue = string | ConnectionFields | Connection;

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

export function memory(options: MemoryBackendOptions = {}): MemoryBackend {
  const name = options.name ?? DRIVER_NAME;
  const stores: Record<SecretKind, Map<string, unknown>> = {
    connection: new Map(Object.entries(options.connections ?? {})),
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
    return new Connection({ ...v, id });
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
    setConnection: (id, value) => void stores.connection.set(id, value),
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
