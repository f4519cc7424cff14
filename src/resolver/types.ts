/**
 * The resolver's public types: its options, `getVariable`'s options, `explain`'s answer and the
 * `Resolver` interface itself. Types only (no code), re-exported by `./index.ts` and the package root.
 */
import type { SecretKind, SecretsBackend } from '../backend.js';
import type { Connection } from '../connection.js';
import type { Inventory, InventoryOptions } from '../inventory/list.js';
import type { Logger } from '../logger.js';
import type { CacheOptions } from './cache.js';
import type { Telemetry, TelemetryOptions } from './otel.js';
import type { ResolverStats } from './stats.js';

export interface ResolverOptions {
  /** The sources, in the order they are asked. */
  backends: SecretsBackend[];
  /** `true` for the defaults (TTL 900 s), an options object, or `false`/absent for no cache (Airflow's default). */
  cache?: boolean | CacheOptions | undefined;
  /**
   * What a backend failure does: `'continue'` (default, Airflow's behaviour) logs it and asks the
   * next backend; `'throw'` fails the lookup with the backend's typed error.
   */
  onBackendError?: 'continue' | 'throw' | undefined;
  /** Where warnings go. Default: stderr. */
  logger?: Logger | undefined;
  /** A safety deadline for any single backend call, in ms. Default 30,000. */
  backendTimeoutMs?: number | undefined;
  /** Most single lookups `prefetch` runs at once against a backend without `getMany`. Default 16. */
  prefetchConcurrency?: number | undefined;
  /**
   * OpenTelemetry metrics and traces through `@opentelemetry/api` (an optional peer dependency),
   * loaded only when this is set: `true` uses the global meter and tracer providers. Off by default;
   * `stats()` works either way. See docs/long-running-services.md.
   */
  telemetry?: boolean | TelemetryOptions | undefined;
}

/** Per-call cache control, as Powertools has it (seconds). */
export interface LookupOptions {
  /**
   * Accept a cached answer only if it was read less than `maxAge` seconds ago; an older one is read
   * again (joining a read already in flight) and the new answer cached as usual. `0` always reads.
   */
  maxAge?: number | undefined;
  /**
   * Skip the cache: read now, not joining a read that started earlier, and cache the answer. If the
   * read fails while a fresh value is cached, that value is returned (with a warning).
   */
  forceFetch?: boolean | undefined;
}

export interface GetVariableOptions<D = unknown> extends LookupOptions {
  /** Returned as given (not JSON-decoded) when no source has the key. */
  default?: D;
  /** JSON-decode the value found. */
  deserializeJson?: boolean | undefined;
}

/** A `watch` listener: the new value (`null` when the id is gone). A rejection is logged. */
export type WatchListener<V> = (value: V) => void | Promise<void>;

export type ExplainOutcome = 'found' | 'not-found' | 'error' | 'skipped';

export interface ExplainStep {
  backend: string;
  /** Where the backend's configuration came from (its `origin`), when it says. */
  origin?: string;
  /** The exact secret name asked for; null when the backend skipped the lookup. */
  secretName: string | null;
  outcome: ExplainOutcome;
  /** For `skipped`: why. For `error`: the error's name and message (never a value). */
  detail?: string;
  /** For `error`: the classified reason (access-denied, throttled, timeout, …). */
  reason?: string;
  durationMs: number;
}

export interface Explanation {
  kind: SecretKind;
  id: string;
  found: boolean;
  /** The backend whose answer was used (or would be), or null. */
  source: string | null;
  /** `hit` when the answer came from the cache; `miss` when the cache was asked and the chain walked; `off` without a cache. */
  cache: 'hit' | 'miss' | 'off' | 'stale';
  steps: ExplainStep[];
  durationMs: number;
}

export interface Resolver {
  readonly backends: readonly SecretsBackend[];
  /**
   * The connection, or null. It is frozen (shared with every other caller of this id until the
   * cache refreshes it): `clone()` gives a copy you can change.
   */
  getConnection(connId: string, options?: LookupOptions): Promise<Connection | null>;
  /** The (frozen) connection, or a `ConnectionNotFoundError` carrying the failures seen. */
  getConnectionOrThrow(connId: string, options?: LookupOptions): Promise<Connection>;
  getVariable(
    key: string,
    options?: LookupOptions & { deserializeJson?: false | undefined; default?: never },
  ): Promise<string | null>;
  getVariable<D>(
    key: string,
    options: GetVariableOptions<D> & { deserializeJson?: false | undefined },
  ): Promise<string | D>;
  getVariable<T = unknown, D = null>(
    key: string,
    options: GetVariableOptions<D> & { deserializeJson: true },
  ): Promise<T | D>;
  /** The JSON-decoded value (Python's `json.loads`), or a `VariableNotFoundError` carrying the failures seen. */
  getVariableOrThrow<T = unknown>(
    key: string,
    options: LookupOptions & { deserializeJson: true },
  ): Promise<T>;
  /** The value, or a `VariableNotFoundError` carrying the failures seen. */
  getVariableOrThrow(
    key: string,
    options?: LookupOptions & { deserializeJson?: false | undefined },
  ): Promise<string>;
  /** Airflow's `get_config` through the backends that hold config secrets. */
  getConfig(key: string): Promise<string | null>;
  /**
   * What every backend holds for one kind (through each backend's `list`), and for every id the
   * backend that serves it and those where it is shadowed. Never a value; the cache is not used.
   */
  list(kind: SecretKind, options?: InventoryOptions): Promise<Inventory>;
  /** Where the answer comes from: one step per backend, never a value. `fresh: true` bypasses the cache. */
  explain(kind: SecretKind, id: string, options?: { fresh?: boolean }): Promise<Explanation>;
  /**
   * Warm the cache for these ids: the chain is walked once for all of them, each backend asked with
   * its batch API (`getMany`) where it has one, else with bounded parallel single lookups, for the ids
   * still missing. Without a cache this does nothing (there is nowhere to keep the answers).
   */
  prefetch(ids: { connections?: readonly string[]; variables?: readonly string[] }): Promise<void>;
  /** Forget every cached answer. Once it returns, no caller gets an answer read before it. */
  clearCache(): void;
  /** Forget one id's cached answer. Once it returns, no caller gets an answer for it read before it. */
  invalidate(kind: SecretKind, id: string): void;
  /**
   * Call `listener` with the new value whenever a lookup, a refresh ahead of expiry or `refresh()`
   * reads a different value for this id than the one seen before (the first read sets the baseline,
   * as does a cached value when `watch` is called). Returns the unsubscribe function.
   */
  watch(kind: 'connection', connId: string, listener: WatchListener<Connection | null>): () => void;
  watch(kind: 'variable' | 'config', key: string, listener: WatchListener<string | null>): () => void;
  /**
   * Read this id again now, cache the answer and tell the watchers if it changed. Rejects with the
   * backend's typed error when the read failed (the cached value, if fresh, is kept).
   */
  refresh(kind: SecretKind, id: string): Promise<void>;
  /** Counters since the resolver was created: per backend, the cache, lookups in flight. */
  stats(): ResolverStats;
  /** Cancel the lookups in flight (their backends' signals abort), then close every backend. */
  close(): Promise<void>;
}

/** Where the resolver finds its telemetry: null until (and unless) it is loaded. */
export interface TelemetryHolder {
  current: Telemetry | null;
  /** While `./otel.ts` (and the API) are being imported: walks wait for it, so the first is traced. */
  loading: Promise<void> | null;
}
