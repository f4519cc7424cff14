/**
 * `resolver.stats()`: counters kept by the resolver itself, always on and cheap (a cache hit adds
 * one increment): per backend, calls, errors by reason and a latency histogram; for the cache, hits,
 * misses, stale answers and refreshes; and the lookups in flight. Never an id or a value.
 */
import type { SecretsBackend } from '../backend.js';
import {
  type BackendErrorReason,
  ConfigurationError,
  isAirflowSecretsError,
  isBackendError,
} from '../errors.js';

/** Upper bounds (ms, inclusive) of the latency histogram's buckets; a last bucket holds the rest. */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
]);

/** Why a backend call failed, as counted: a backend error's reason, or `configuration`. */
export type CallErrorReason = BackendErrorReason | 'configuration';

export interface LatencyHistogram {
  /** Bucket upper bounds in ms (`LATENCY_BUCKETS_MS`); `counts` has one more entry, for slower calls. */
  readonly boundsMs: readonly number[];
  readonly counts: readonly number[];
  readonly count: number;
  readonly sumMs: number;
  readonly maxMs: number;
}

export interface BackendStats {
  readonly name: string;
  /** Calls made (single reads and batches alike). */
  readonly calls: number;
  /** Failed calls by reason. */
  readonly errors: Readonly<Partial<Record<CallErrorReason, number>>>;
  readonly latency: LatencyHistogram;
}

export interface CacheStats {
  readonly enabled: boolean;
  /** Entries held now (answers and remembered misses). */
  readonly size: number;
  /** Of those, remembered misses. */
  readonly negativeEntries: number;
  /** Lookups answered from the cache. */
  readonly hits: number;
  /** Lookups that walked the chain or joined a walk in flight (every lookup, without a cache). */
  readonly misses: number;
  /** Answers served stale after their source failed (`staleIfError`). */
  readonly staleAnswers: number;
  /** Refreshes started: ahead of expiry, by `refresh()`, or by `forceFetch`. */
  readonly refreshes: number;
  /** Refreshes that failed (the cached value was kept). */
  readonly refreshFailures: number;
}

export interface ResolverStats {
  /** One entry per backend, in chain order. */
  readonly backends: readonly BackendStats[];
  readonly cache: CacheStats;
  /** Lookups in progress now (distinct ids being read, background refreshes included). */
  readonly inFlight: number;
}

/** The reason a call's error is counted under. */
export function callErrorReason(e: unknown): CallErrorReason {
  if (e instanceof ConfigurationError || (e instanceof Error && e.name === 'MissingDependencyError')) {
    return 'configuration';
  }
  if (isBackendError(e)) return e.reason;
  return isAirflowSecretsError(e) ? 'malformed' : 'failed';
}

class BackendCounters {
  calls = 0;
  readonly errors: Partial<Record<CallErrorReason, number>> = {};
  readonly counts: number[] = new Array(LATENCY_BUCKETS_MS.length + 1).fill(0);
  sumMs = 0;
  maxMs = 0;
  constructor(readonly name: string) {}

  record(ms: number, error: unknown): void {
    this.calls++;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
    if (error !== undefined) {
      const r = callErrorReason(error);
      this.errors[r] = (this.errors[r] ?? 0) + 1;
    }
  }

  snapshot(): BackendStats {
    return {
      name: this.name,
      calls: this.calls,
      errors: { ...this.errors },
      latency: {
        boundsMs: LATENCY_BUCKETS_MS,
        counts: [...this.counts],
        count: this.calls,
        sumMs: this.sumMs,
        maxMs: this.maxMs,
      },
    };
  }
}

/** The live counters of one resolver. */
export class StatsRecorder {
  hits = 0;
  misses = 0;
  stale = 0;
  refreshes = 0;
  refreshFailures = 0;
  inFlight = 0;
  readonly #backends: Map<SecretsBackend, BackendCounters>;
  readonly #order: BackendCounters[];

  constructor(backends: readonly SecretsBackend[]) {
    this.#order = backends.map((b) => new BackendCounters(b.name));
    this.#backends = new Map(backends.map((b, i) => [b, this.#order[i]!]));
  }

  /** One backend call finished after `ms`, failed with `error` unless undefined. */
  call(b: SecretsBackend, ms: number, error: unknown): void {
    this.#backends.get(b)?.record(ms, error);
  }

  snapshot(cache: { size: number; misses: number } | null): ResolverStats {
    return {
      backends: this.#order.map((c) => c.snapshot()),
      cache: {
        enabled: cache !== null,
        size: cache?.size ?? 0,
        negativeEntries: cache?.misses ?? 0,
        hits: this.hits,
        misses: this.misses,
        staleAnswers: this.stale,
        refreshes: this.refreshes,
        refreshFailures: this.refreshFailures,
      },
      inFlight: this.inFlight,
    };
  }
}
