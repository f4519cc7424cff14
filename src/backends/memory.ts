/**
 * An in-memory backend for tests and local wiring. Connections may be given as a URI or JSON string
 * (parsed like any stored secret), as constructor fields, or as a `Connection`.
 */
import type { Lookup, SecretKind, SecretsBackend } from '../backend.js';
import { Connection, type ConnectionFields } from '../connection.js';
import { parseConnection } from './base.js';

const DRIVER_NAME = 'memory';

export type MemoryConnectionValue = string | ConnectionFields | Connection;

export interface MemoryBackendOptions {
  /** Backend name shown by `explain` and in logs. Default `memory`. */
  name?: string;
  connections?: Record<string, MemoryConnectionValue>;
  variables?: Record<string, string>;
  configs?: Record<string, string>;
}

export interface MemoryBackend extends SecretsBackend {
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
    if (v instanceof Connection) return v;
    if (typeof v === 'string') return parseConnection(name, id, v, id);
    return new Connection({ ...v, id });
  };
  return {
    name,
    locate: (_kind: SecretKind, id: string): Lookup => ({ name: id }),
    async getConnection(connId) {
      const v = stores.connection.get(connId) as MemoryConnectionValue | undefined;
      return v === undefined ? null : toConnection(connId, v);
    },
    async getVariable(key) {
      return (stores.variable.get(key) as string | undefined) ?? null;
    },
    async getConfig(key) {
      return (stores.config.get(key) as string | undefined) ?? null;
    },
    setConnection: (id, value) => void stores.connection.set(id, value),
    setVariable: (key, value) => void stores.variable.set(key, value),
    setConfig: (key, value) => void stores.config.set(key, value),
    delete: (kind, id) => stores[kind].delete(id),
    clear() {
      for (const s of Object.values(stores)) s.clear();
    },
  };
}
