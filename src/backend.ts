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

/**
 * What the resolver hands every read: `signal` aborts when the lookup's deadline passes or the
 * resolver is closed, and the backend then stops its remote work (its promise may reject with
 * `signal.reason`). Reading `signal` creates it (an `AbortController`, a few µs on Node 20), so a
 * backend that never cancels anything should not touch it. Subscribe cheaply (`signal.aborted`,
 * `addEventListener('abort', …, { once: true })` removed when the call settles) rather than
 * handing the signal to an SDK whose per-call signal handling is expensive.
 */
export interface BackendCallOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface SecretsBackend {
  /** A short stable name, e.g. `environment`, `aws-secrets-manager`, `metastore`. */
  readonly name: string;
  /**
   * Where this backend's configuration came from, for `explain` and messages, e.g.
   * `AIRFLOW__SECRETS__BACKEND`, `airflow.cfg [secrets] backend`, `default chain`. Optional.
   */
  readonly origin?: string;
  /**
   * The connection, or `null` when this backend does not have it. `options.signal` (given by the
   * resolver) aborts when the lookup settles without this answer (its deadline, `close()`): the
   * backend then stops its remote work (sockets destroyed, retries stopped).
   */
  getConnection(connId: string, options?: BackendCallOptions): Promise<Connection | null>;
  /** The variable's raw string value (`""` is a value), or `null` when this backend does not have it. */
  getVariable(key: string, options?: BackendCallOptions): Promise<string | null>;
  /** Airflow's `get_config`: a config value stored as a secret. Optional; absent means "never has any". */
  getConfig?(key: string, options?: BackendCallOptions): Promise<string | null>;
  /** Pure: the exact secret name this backend would ask for, or why it would skip. No I/O. */
  locate(kind: SecretKind, id: string): Lookup;
  /**
   * Optional batch read used by `resolver.prefetch`. The map must hold an entry for every id asked
   * (`null` = not found). Values are `Connection`s for kind `connection`, strings otherwise.
   */
  getMany?(
    kind: SecretKind,
    ids: readonly string[],
    options?: BackendCallOptions,
  ): Promise<Map<string, Connection | string | null>>;
  /**
   * Optional: the names this backend holds for one kind, each with the id a lookup would find it
   * by (recovered by the backend's own naming rule), never a value. Paginated under the hood and
   * bounded by `limit` (default {@link DEFAULT_LIST_LIMIT}); `truncated` says more were there.
   */
  list?(kind: SecretKind, options?: ListOptions): Promise<ListResult>;
  /**
   * Optional: write one connection or variable where this backend's own reader (and Airflow's
   * provider) finds it, in a form that reads back to the same value. An existing secret is
   * replaced only with `overwrite: true`; otherwise it is a `SecretExistsError`.
   */
  put?(kind: SecretKind, id: string, value: Connection | string, options?: PutOptions): Promise<PutResult>;
  /**
   * Optional, pure: throw the `ConfigurationError` every `put` of this kind with these options would
   * throw, whatever the id (a write option this backend cannot honour, a format it cannot store), so
   * that a migration refuses them before it plans. Absent: each `put` says it.
   */
  checkPut?(kind: SecretKind, options: PutOptions): void;
  /**
   * Optional, pure: the exact secret name `put` would write for `id`, or why it refuses the id (a
   * name the service does not allow, or one Airflow's provider would read differently). Absent:
   * `locate` says it.
   */
  locateWrite?(kind: SecretKind, id: string): Lookup;
  /**
   * Optional: remove the secret a lookup of `id` would read; `true` when there was one. (The
   * memory backend of the testing kit answers synchronously.)
   */
  delete?(kind: SecretKind, id: string): Promise<boolean> | boolean;
  /** Release clients, pools and sockets. Idempotent. */
  close?(): Promise<void>;
}

/** How many names `list` returns at most, unless told otherwise. */
export const DEFAULT_LIST_LIMIT = 10_000;

export interface ListOptions {
  /** Most names to return. Default {@link DEFAULT_LIST_LIMIT}. */
  limit?: number | undefined;
  /** Stops the listing (between pages at least) when it fires. */
  signal?: AbortSignal | undefined;
}

/** One name a backend holds. */
export interface ListedName {
  /** The id a lookup finds this name by; `null` when no id maps to it (`note` says why). */
  id: string | null;
  /** The exact secret name, as `locate` gives it. */
  secretName: string;
  /** Why no id maps to it, or what is ambiguous about it. */
  note?: string;
}

export interface ListResult {
  /** In the order the service answered (or sorted, for local sources). */
  entries: ListedName[];
  /** More names were there than `limit`. */
  truncated: boolean;
}

/** How `put` writes. Each backend refuses (with a `ConfigurationError`) an option it cannot honour. */
export interface PutOptions {
  /** Connections: `uri` (default) or `json`, where the provider reads JSON. */
  format?: 'uri' | 'json' | undefined;
  /** Replace an existing secret. Default `false`. */
  overwrite?: boolean | undefined;
  /** KMS key: Secrets Manager `KmsKeyId`, SSM `KeyId`. Default: the service's. */
  kmsKeyId?: string | undefined;
  /** Tags (Secrets Manager, SSM, Azure) or labels (Google) set when a secret is created. */
  tags?: Readonly<Record<string, string>> | undefined;
  /** SSM: the parameter type. Default `SecureString`. */
  parameterType?: 'SecureString' | 'String' | undefined;
  /** SSM: the parameter tier. Default: the service's (`Standard`). */
  tier?: 'Standard' | 'Advanced' | 'Intelligent-Tiering' | undefined;
  /** Google: user-managed replication in these locations. Default: automatic replication. */
  replicaLocations?: readonly string[] | undefined;
}

export interface PutResult {
  /** The exact secret name written. */
  secretName: string;
  /** Whether the secret was new, or an existing one was replaced. */
  action: 'created' | 'updated';
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
  /**
   * Refuse ids that would leave the configured mount or prefix (`..`, `//`, `/` where a name
   * cannot hold one), in the adapters where an id can: Vault, SSM, Google Cloud. Default off
   * (Airflow parity); the CLI turns it on.
   */
  confineIds?: boolean;
}

/** The shape of every adapter module that can be named in `AIRFLOW__SECRETS__BACKEND`. */
export interface AdapterModule {
  fromAirflowKwargs(kwargs: Record<string, unknown>, context: AdapterContext): SecretsBackend;
}
