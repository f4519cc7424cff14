/**
 * The interface every source of secrets implements (the environment, local files, the metastore,
 * the five cloud providers, the in-memory test backend, and users' own backends).
 *
 * Rules: not-found is `null`; a failure is a thrown, typed error (`BackendError` and subclasses,
 * `ConfigurationError`, `InvalidConnectionError`) and never "not found"; no caching inside a backend
 * (the resolver owns the one cache); `locate` is pure (no I/O) and says which exact secret name a
 * lookup would ask for, or why it would be skipped.
 */
import type { Connection } from './connection.js';
import type { Logger } from './logger.js';

/** What is being looked up. `config` is Airflow's `get_config` (used by `…_SECRET` settings). */
export type SecretKind = 'connection' | 'variable' | 'config';

/** Where a backend would look: the exact secret name, or the reason it would not ask at all. */
export type Lookup = { readonly name: string } | { readonly skip: string };

export interface SecretsBackend {
  /** A short stable name, e.g. `environment`, `aws-secrets-manager`, `metastore`. */
  readonly name: string;
  /**
   * Where this backend's configuration came from, for `explain` and messages, e.g.
   * `AIRFLOW__SECRETS__BACKEND`, `airflow.cfg [secrets] backend`, `default chain`. Optional.
   */
  readonly origin?: string;
  /** The connection, or `null` when this backend does not have it. */
  getConnection(connId: string): Promise<Connection | null>;
  /** The variable's raw string value (`""` is a value), or `null` when this backend does not have it. */
  getVariable(key: string): Promise<string | null>;
  /** Airflow's `get_config`: a config value stored as a secret. Optional; absent means "never has any". */
  getConfig?(key: string): Promise<string | null>;
  /** Pure: the exact secret name this backend would ask for, or why it would skip. No I/O. */
  locate(kind: SecretKind, id: string): Lookup;
  /**
   * Optional batch read used by `resolver.prefetch`. The map must hold an entry for every id asked
   * (`null` = not found). Values are `Connection`s for kind `connection`, strings otherwise.
   */
  getMany?(kind: SecretKind, ids: readonly string[]): Promise<Map<string, Connection | string | null>>;
  /** Release clients, pools and sockets. Idempotent. */
  close?(): Promise<void>;
}

/** Type guard for objects that look like a backend. */
export function isSecretsBackend(x: unknown): x is SecretsBackend {
  if (typeof x !== 'object' || x === null) return false;
  const b = x as Record<string, unknown>;
  return (
    typeof b.name === 'string' &&
    typeof b.getConnection === 'function' &&
    typeof b.getVariable === 'function' &&
    typeof b.locate === 'function'
  );
}

/**
 * What `fromAirflowKwargs` gets besides the kwargs: the environment to read instead of process.env,
 * the logger, and Airflow 3.2's multi-team mode (`[core] multi_team`) with the team of the lookups.
 */
export interface AdapterContext {
  env: Record<string, string | undefined>;
  logger: Logger;
  /** The team whose team-scoped secrets are read first (Airflow's `team_name`); only with `multiTeam`. */
  team?: string | undefined;
  /** Airflow's `[core] multi_team`. Absent or false: no team naming at all (nothing changes). */
  multiTeam?: boolean | undefined;
}

/** The shape of every adapter module that can be named in `AIRFLOW__SECRETS__BACKEND`. */
export interface AdapterModule {
  fromAirflowKwargs(kwargs: Record<string, unknown>, context: AdapterContext): SecretsBackend;
}
