/**
 * The resolver's public types: its options, `getVariable`'s options, `explain`'s answer and the
 * `Resolver` interface itself. Types only (no code), re-exported by `./index.ts` and the package root.
 */
import type { SecretKind, SecretsBackend } from '../backend.js';
import type { Connection } from '../connection.js';
import type { Inventory, InventoryOptions } from '../inventory/list.js';
import type { Logger } from '../logger.js';
import type { CacheOptions } from './cache.js';

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
}

export interface GetVariableOptions<D = unknown> {
  /** Returned as given (not JSON-decoded) when no source has the key. */
  default?: D;
  /** JSON-decode the value found. */
  deserializeJson?: boolean | undefined;
}

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
  getConnection(connId: string): Promise<Connection | null>;
  getConnectionOrThrow(connId: string): Promise<Connection>;
  getVariable(key: string): Promise<string | null>;
  getVariable<D>(
    key: string,
    options: GetVariableOptions<D> & { deserializeJson?: false | undefined },
  ): Promise<string | D>;
  getVariable<T = unknown, D = null>(
    key: string,
    options: GetVariableOptions<D> & { deserializeJson: true },
  ): Promise<T | D>;
  getVariableOrThrow(key: string): Promise<string>;
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
  clearCache(): void;
  invalidate(kind: SecretKind, id: string): void;
  /** Close every backend. */
  close(): Promise<void>;
}
