/**
 * The lookup layer, between the public methods and the chain walk: the one cache (`./cache.ts`),
 * coalescing (every caller of one id shares one walk while it is in flight, cache or not),
 * invalidation, refresh (ahead of expiry, `refresh()`, `forceFetch`), and the settle rules for a
 * finished walk: mask the answer (the masker learns every value read), freeze a connection (every
 * caller shares it), cache it (a miss only when no backend failed), tell the watchers, and serve
 * the last good answer when the backend that gave it fails this time (stale-if-error).
 *
 * Invalidation wins over walks in flight: `invalidate`/`clearCache` mark the walks under way as
 * stale and take them out of the in-flight map, so callers arriving after join a new walk; a stale
 * walk caches nothing, and the callers waiting on it look up again. A cache hit is answered
 * synchronously.
 */
import type { SecretKind } from '../backend.js';
import { Connection } from '../connection.js';
import { type BackendError, isBackendError } from '../errors.js';
import type { Logger } from '../logger.js';
import { maskSecret } from '../masker.js';
import { type CacheEntry, cacheKey, DUE, type LookupCache, settledPromise } from './cache.js';
import { type CallRegistry, Scope } from './deadline.js';
import { type Failure, isConfigError } from './failures.js';
import type { OtelSpan } from './otel.js';
import type { Watchers } from './rotation.js';
import { Schedule, type Timers } from './schedule.js';
import type { StatsRecorder } from './stats.js';
import type { TelemetryHolder } from './types.js';
import { type Answer, type Answered, type Chain, NOTHING, type WalkResult } from './walk.js';

/** Airflow's `conn_id` / variable `key` column length: longer ids cannot exist anywhere. */
export const MAX_ID_LENGTH = 250;

/** Default for `prefetchConcurrency`. */
export const PREFETCH_CONCURRENCY = 16;

/** A public method's id argument must be a string (a TypeError names the argument otherwise). */
export function checkId(what: string, id: unknown): asserts id is string {
  if (typeof id !== 'string') {
    throw new TypeError(`${what} must be a string, got ${id === null ? 'null' : typeof id}`);
  }
}

/** Ids that can exist: 1 to {@link MAX_ID_LENGTH} characters. Others are answered "not found" unasked. */
export function validId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH;
}

/** Per-call cache control (seconds; checked by the public methods). */
export interface CallCacheOptions {
  maxAge?: number | undefined;
  forceFetch?: boolean | undefined;
}

/** What a lookup settles with. A refresh that failed while a fresh value was cached says so. */
export interface Settled extends WalkResult {
  /** Set when this was a refresh whose walk failed: the cached value (if any) was kept. */
  readonly refreshFailed?: BackendError;
}

/** A walk in progress for one id (or an id claimed by prefetch). */
export interface Flight {
  readonly kind: SecretKind;
  readonly id: string;
  readonly key: string;
  /** A refresh: a failure keeps the cached value instead of answering "not found". */
  readonly refresh: boolean;
  readonly scope: Scope;
  promise: Promise<Settled>;
  /** Invalidated or superseded since it started: it caches nothing; its waiters look up again. */
  stale: boolean;
  /** Someone waits for it (false for a background refresh nobody has joined). */
  waited: boolean;
}

export interface LookupLayer {
  /** Null when the resolver has no cache. */
  readonly cache: LookupCache<Answer> | null;
  /** Lookups in progress, by `cacheKey`: shared with prefetch, which claims its ids here. */
  readonly inflight: Map<string, Flight>;
  readonly stats: StatsRecorder;
  /** Every call and scope in progress (`close()` cancels them). */
  readonly registry: CallRegistry;
  /** Bumped by every `invalidate` and `clear` (`explain` caches its walk only if nothing happened meanwhile). */
  readonly epoch: number;
  /**
   * Cached, coalesced lookup of the raw answer. A cache hit is returned as is (no promise), so the
   * public methods answer it without awaiting anything.
   */
  lookup(kind: SecretKind, id: string, options?: CallCacheOptions): Answered | Promise<Settled>;
  /** The hot path of `lookup` without options: a fresh cached entry (counted as a hit), or undefined. */
  hit(kind: SecretKind, id: string): CacheEntry<Answer> | undefined;
  /** Read now, superseding any walk in flight for the id (`refresh()`, `forceFetch`). */
  forced(kind: SecretKind, id: string): Promise<Settled>;
  /** Claim an id for prefetch: a flight whose outcome the caller reports through `finish`. */
  claim(
    kind: SecretKind,
    id: string,
    scope: Scope,
  ): Flight & { resolve(s: Settled | Promise<Settled>): void };
  /** The outcome of a flight's walk (a result, or the error it threw), by the settle rules. */
  finish(f: Flight, r: WalkResult | undefined, error?: unknown): Settled | Promise<Settled>;
  /** Mask, freeze and cache a traced walk's answer (`explain`) unless an invalidation happened since `epoch`. */
  remember(kind: SecretKind, id: string, r: WalkResult, epoch: number): void;
  invalidate(kind: SecretKind, id: string): void;
  clear(): void;
}

/** Teach the masker the secret parts of an answer, so no later log line can show them. */
function register(kind: SecretKind, id: string, value: Answer): void {
  if (value === null) return;
  if (typeof value === 'string') {
    if (kind === 'variable') maskSecret(value, id);
    return;
  }
  if (value.password) maskSecret(value.password);
  // Reading `extraDejson` registers the values under sensitive keys (the getter masks them).
  void value.extraDejson;
}

/**
 * A connection as every caller shares it: a frozen copy, unless the backend handed a frozen one.
 * Always a copy, even of an object the backend made for this answer alone: a fresh constructor's
 * object keeps the shape V8 optimises the cache-hit path for (freezing the parser's object in
 * place made cached getConnection hits a third slower; bench/children/cached.mjs).
 */
function shared(value: Answer): Answer {
  if (typeof value === 'object' && value instanceof Connection && !Object.isFrozen(value)) {
    return value.clone().freeze();
  }
  return value;
}

export interface LayerParts {
  chain: Chain;
  cache: LookupCache<Answer> | null;
  logger: Logger;
  stats: StatsRecorder;
  registry: CallRegistry;
  watchers: Watchers;
  telemetry: TelemetryHolder;
}

/** How long a failed refresh waits before a read may try again: half the time left, at least 1 s. */
function retryAt(e: CacheEntry<Answer>, now: number): number {
  return now + Math.max(1000, (e.expiresAt - now) / 2);
}

/**
 * The settle rules, in one place: what a finished walk (or one that threw) gives its callers, and
 * what it leaves in the cache and tells the watchers.
 */
class Settler {
  constructor(
    readonly parts: LayerParts,
    readonly ahead: Schedule<CacheEntry<Answer>> | null,
  ) {}

  warnStale(kind: SecretKind, id: string, stale: Answered): void {
    this.parts.stats.stale++;
    this.parts.logger.warn(`Serving a stale ${kind} '${id}' from the cache: the source that had it failed.`, {
      kind,
      id,
      source: stale.source,
    });
  }

  /**
   * A real answer (found, or not found with every source answering): shared, cached, watched. A
   * refresh's entry gets its settled promise now, off the read path: the id is in use.
   */
  accept(kind: SecretKind, id: string, r: WalkResult, refresh = false): Settled {
    const value = shared(r.value);
    const entry = this.parts.cache?.set(kind, id, value, r.source);
    if (entry !== undefined) {
      if (refresh) settledPromise(entry);
      this.ahead?.add(entry);
    }
    if (this.parts.watchers.size > 0) this.parts.watchers.seen(kind, id, value);
    return value === r.value ? r : { ...r, value };
  }

  /**
   * A refresh that failed: a fresh cached value is kept (until it expires), with a warning, and a
   * later read may try again; past expiry, stale-if-error applies. The result says the refresh failed.
   */
  keep(kind: SecretKind, id: string, err: BackendError, failures?: Failure[]): Settled | undefined {
    const { cache, stats, logger } = this.parts;
    stats.refreshFailures++;
    const entry = cache?.peek(kind, id);
    if (!cache || !entry) return undefined;
    const now = cache.now();
    if (now < entry.expiresAt && now >= entry.storedAt) {
      logger.warn(
        `Could not refresh ${kind} '${id}': ${err.name} [${err.reason}]. The cached value is kept until it expires.`,
        { kind, id, backend: err.backend, reason: err.reason },
      );
      entry.refreshAt = retryAt(entry, now);
      this.ahead?.add(entry);
      return {
        value: entry.value,
        source: entry.source,
        refreshFailed: err,
        ...(failures ? { failures } : {}),
      };
    }
    return undefined;
  }

  settle(kind: SecretKind, id: string, r: WalkResult, refresh: boolean): Settled {
    register(kind, id, r.value);
    if (r.value !== null || !r.failures) return this.accept(kind, id, r, refresh);
    const err = r.failures[0]!.error;
    if (refresh) {
      const kept = this.keep(kind, id, err, r.failures);
      if (kept) return kept;
    }
    const stale = this.parts.cache?.getStale(kind, id);
    if (stale && r.failures.some((f) => f.backend === stale.source)) {
      this.warnStale(kind, id, stale);
      return refresh ? { value: stale.value, source: stale.source, refreshFailed: err } : stale;
    }
    return r;
  }

  /**
   * A walk that threw (policy 'throw'): it stopped at backend `err.backend`, after the ones before it
   * answered "not found". A refresh keeps a fresh cached value; otherwise the last good answer is
   * served when its source is that backend or a later one.
   */
  settleError(kind: SecretKind, id: string, err: unknown, refresh: boolean): Settled {
    const { cache, chain } = this.parts;
    if (cache && !isConfigError(err) && isBackendError(err)) {
      const kept = refresh ? this.keep(kind, id, err) : undefined;
      if (kept) return kept;
      const stale = cache.getStale(kind, id);
      if (stale) {
        const at = chain.backends.findIndex((b) => b.name === err.backend);
        const from = chain.backends.findIndex((b) => b.name === stale.source);
        if (at >= 0 && from >= at) {
          this.warnStale(kind, id, stale);
          return refresh ? { value: stale.value, source: stale.source, refreshFailed: err } : stale;
        }
      }
    }
    throw err;
  }
}

type ClaimedFlight = Flight & { resolve(s: Settled | Promise<Settled>): void };

class Layer implements LookupLayer {
  readonly cache: LookupCache<Answer> | null;
  readonly inflight = new Map<string, Flight>();
  readonly stats: StatsRecorder;
  readonly registry: CallRegistry;
  readonly #parts: LayerParts;
  readonly #settler: Settler;
  #epoch = 0;
  /** Entries found due whose refresh starts on the next turn of the event loop. */
  #due: CacheEntry<Answer>[] = [];
  /** The refresh-ahead schedule (null without `refreshAhead`). */
  readonly #ahead: Schedule<CacheEntry<Answer>> | null;

  constructor(parts: LayerParts) {
    this.#parts = parts;
    this.cache = parts.cache;
    this.stats = parts.stats;
    this.registry = parts.registry;
    const cache = this.cache;
    let ahead: Schedule<CacheEntry<Answer>> | null = null;
    if (cache !== null) {
      if (cache.options.refreshAhead > 0) {
        cache.onDue = (e) => this.#refreshAhead(e);
        ahead = cache.timers && this.#refreshSchedule(cache, cache.timers);
      }
      this.registry.onCancel.add(() => {
        ahead?.stop();
        cache.stopTimers();
      });
    }
    this.#ahead = ahead;
    this.#settler = new Settler(parts, ahead);
  }

  /**
   * Refresh ahead on the cache's timers: at its refresh time, an entry read since it was stored is
   * refreshed now; one nobody read is marked due, for its next read (if any comes before it expires).
   */
  #refreshSchedule(cache: LookupCache<Answer>, timers: Timers): Schedule<CacheEntry<Answer>> {
    return new Schedule<CacheEntry<Answer>>({
      now: () => cache.now(),
      timers,
      at: (e) => e.refreshAt,
      current: (e) => cache.isCurrent(e),
      size: () => cache.size,
      fire: (e) => {
        if (!cache.wasRead(e)) {
          e.refreshAt = DUE;
          return;
        }
        e.refreshAt = Number.POSITIVE_INFINITY;
        this.#refreshEntry(e);
      },
    });
  }

  get epoch(): number {
    return this.#epoch;
  }

  hit(kind: SecretKind, id: string): CacheEntry<Answer> | undefined {
    const cache = this.cache;
    if (cache === null || !validId(id)) return undefined;
    const hit = cache.hit(kind, id);
    if (hit !== undefined) this.stats.hits++;
    return hit;
  }

  lookup(kind: SecretKind, id: string, options?: CallCacheOptions): Answered | Promise<Settled> {
    if (!validId(id)) return NOTHING;
    if (options !== undefined) return this.#lookupWith(kind, id, options);
    const cache = this.cache;
    if (cache !== null) {
      const hit = cache.hit(kind, id);
      if (hit !== undefined) {
        this.stats.hits++;
        return hit;
      }
    }
    return this.#join(kind, id);
  }

  #lookupWith(kind: SecretKind, id: string, o: CallCacheOptions): Answered | Promise<Settled> {
    if (o.forceFetch) return this.forced(kind, id);
    if (this.cache !== null) {
      const hit = this.cache.hit(kind, id, o.maxAge === undefined ? undefined : o.maxAge * 1000);
      if (hit !== undefined) {
        this.stats.hits++;
        return hit;
      }
    }
    return this.#join(kind, id);
  }

  forced(kind: SecretKind, id: string): Promise<Settled> {
    const key = cacheKey(kind, id);
    const old = this.inflight.get(key);
    if (old !== undefined) {
      // Started before this call: its callers move to the new walk, and it caches nothing.
      old.stale = true;
      this.inflight.delete(key);
    }
    this.stats.refreshes++;
    return this.#start(kind, id, key, true, false).promise;
  }

  /**
   * A read of an entry past its `refreshAt` (one the refresh schedule did not take, because nobody
   * had read it since it was stored, or on a clock of the caller's): one background refresh per entry,
   * joined by lookups. It starts on the next turn of the event loop (`setImmediate`), not inside
   * the read; the refreshes due in one turn start together. `close()` drops the ones not started
   * yet (they are due again at the next read).
   */
  #refreshAhead(e: CacheEntry<Answer>): void {
    e.refreshAt = Number.POSITIVE_INFINITY;
    if (this.#due.push(e) > 1) return;
    const { onCancel } = this.registry;
    const drop = (): void => {
      clearImmediate(timer);
      onCancel.delete(drop);
      for (const d of this.#due) d.refreshAt = DUE;
      this.#due = [];
    };
    const timer = setImmediate(() => {
      onCancel.delete(drop);
      const due = this.#due;
      this.#due = [];
      for (const d of due) this.#refreshEntry(d);
    });
    onCancel.add(drop);
  }

  /** Refresh a cached entry in the background, unless it is being read already or was replaced. */
  #refreshEntry(e: CacheEntry<Answer>): void {
    const key = cacheKey(e.kind, e.id);
    if (this.inflight.has(key) || this.cache?.peek(e.kind, e.id) !== e) return;
    this.stats.refreshes++;
    const f = this.#start(e.kind, e.id, key, true, true);
    f.promise.catch(() => {}); // nobody may be waiting: the failure was logged
  }

  /** Join the walk in flight for this id, or start one. */
  #join(kind: SecretKind, id: string): Promise<Settled> {
    this.stats.misses++;
    const key = cacheKey(kind, id);
    const f = this.inflight.get(key);
    if (f !== undefined) {
      f.waited = true;
      f.scope.hold();
      return f.promise;
    }
    return this.#start(kind, id, key, false, false).promise;
  }

  #open(kind: SecretKind, id: string, key: string, refresh: boolean, scope: Scope): Flight {
    const f: Flight = {
      kind,
      id,
      key,
      refresh,
      scope,
      promise: undefined as unknown as Promise<Settled>,
      stale: false,
      waited: !scope.background,
    };
    this.stats.inFlight++;
    this.inflight.set(key, f);
    return f;
  }

  /** Start a walk for this id (registered in flight so later callers join it). */
  #start(kind: SecretKind, id: string, key: string, refresh: boolean, background: boolean): Flight {
    const scope = new Scope(background, kind);
    const f = this.#open(kind, id, key, refresh, scope);
    const { registry } = this;
    registry.scopes.add(scope);
    const run = (): Promise<Settled> => {
      const tel = this.#parts.telemetry.current;
      if (tel !== null) scope.span = tel.startLookup(kind, id, refresh);
      return this.#parts.chain.walk(kind, id, undefined, scope).then(
        (r) => {
          registry.scopes.delete(scope);
          if (tel !== null) tel.endLookup(scope.span as OtelSpan, r.value !== null, r.source, undefined);
          return this.finish(f, r);
        },
        (e: unknown) => {
          registry.scopes.delete(scope);
          if (tel !== null) tel.endLookup(scope.span as OtelSpan, false, null, e);
          return this.finish(f, undefined, e);
        },
      );
    };
    // Telemetry still loading (only right after createResolver with `telemetry`): wait for it.
    const loading = this.#parts.telemetry.loading;
    f.promise = loading === null ? run() : loading.then(run);
    return f;
  }

  claim(kind: SecretKind, id: string, scope: Scope): ClaimedFlight {
    const f = this.#open(kind, id, cacheKey(kind, id), false, scope) as ClaimedFlight;
    f.promise = new Promise<Settled>((resolve) => {
      f.resolve = resolve;
    });
    f.promise.catch(() => {}); // a rejection nobody waits for is not unhandled
    return f;
  }

  finish(f: Flight, r: WalkResult | undefined, error?: unknown): Settled | Promise<Settled> {
    if (this.inflight.get(f.key) === f) this.inflight.delete(f.key);
    this.stats.inFlight--;
    if (f.stale) {
      // What this walk read may predate an invalidation: never cached, never handed out.
      return f.waited ? this.#again(f.kind, f.id) : NOTHING;
    }
    // Cancelled by close(): no stale answer either, the lookup fails with the cancellation.
    if (r === undefined && f.scope.cancelled) throw error;
    return r !== undefined
      ? this.#settler.settle(f.kind, f.id, r, f.refresh)
      : this.#settler.settleError(f.kind, f.id, error, f.refresh);
  }

  /** The lookup again, for the callers of a walk that went stale. */
  #again(kind: SecretKind, id: string): Settled | Promise<Settled> {
    return this.cache?.get(kind, id) ?? this.#join(kind, id);
  }

  remember(kind: SecretKind, id: string, r: WalkResult, since: number): void {
    register(kind, id, r.value);
    if (since === this.#epoch && (r.value !== null || !r.failures)) this.#settler.accept(kind, id, r);
  }

  invalidate(kind: SecretKind, id: string): void {
    this.#epoch++;
    const key = cacheKey(kind, id);
    const f = this.inflight.get(key);
    if (f !== undefined) {
      f.stale = true;
      this.inflight.delete(key);
    }
    this.cache?.delete(kind, id);
  }

  clear(): void {
    this.#epoch++;
    for (const f of this.inflight.values()) f.stale = true;
    this.inflight.clear();
    this.cache?.clear();
    this.#ahead?.clear(); // holds no entry the cache dropped
  }
}

export function createLookupLayer(parts: LayerParts): LookupLayer {
  const layer = new Layer(parts);
  // The public methods pass these around unbound.
  layer.invalidate = layer.invalidate.bind(layer);
  layer.clear = layer.clear.bind(layer);
  return layer;
}
