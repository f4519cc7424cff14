/**
 * The one lookup cache, owned by the resolver (never by adapters). TTL for answers, a separate TTL
 * for misses (negative caching, for connections as well as variables), jitter on both, the time at
 * which an entry is due for a refresh ahead of expiry, an LRU bound with misses in their own
 * smaller segment (a miss never evicts an answer), and an injectable clock. On the default clock
 * an expiry schedule (`./schedule.ts`) marks entries stale, so a hit reads no clock. The key holds
 * everything that changes the answer: the kind and the id (a cache belongs to one resolver, hence
 * to one chain of backends; `getVariable`'s `default` and `deserializeJson` are applied after the
 * cache, to the raw answer, so they are not part of it).
 */
import type { SecretKind } from '../backend.js';
import { ConfigurationError } from '../errors.js';
import { realTimers, Schedule, type Timers } from './schedule.js';

export interface CacheOptions {
  /** Seconds an answer is served from the cache. Default 900 (Airflow's `cache_ttl_seconds`). */
  ttl?: number | undefined;
  /** Seconds a miss ("no backend has it") is remembered. Default: the same as `ttl`. 0 disables negative caching. */
  negativeTtl?: number | undefined;
  /**
   * Most entries kept, answers and misses together; beyond it the least recently used is evicted
   * (second-chance LRU). Misses have their own segment (`maxMisses`) and never evict an answer.
   * Default 10,000.
   */
  maxEntries?: number | undefined;
  /** Most misses kept, within `maxEntries`. Default a tenth of `maxEntries` (at least 1). */
  maxMisses?: number | undefined;
  /**
   * Seconds past expiry during which the last good answer may still be served when the source that
   * gave it fails with an error (with a warning). Never after that source answered "not found".
   * Default 0 (off).
   */
  staleIfError?: number | undefined;
  /**
   * Refresh ahead of expiry (0 < f < 1): when an entry reaches this fraction of its TTL, it is
   * re-read in the background if it was read since it was stored (otherwise by the first read after
   * that time), while the cached value is still served. Off unless set.
   */
  refreshAhead?: number | undefined;
  /**
   * Each entry's TTL (and negative TTL) is multiplied by a random factor in `[1 - jitter, 1 + jitter]`,
   * so instances that started together do not expire or refresh in lockstep. 0 to 0.5. Default 0.1.
   */
  jitter?: number | undefined;
  /** Clock in milliseconds. Default `Date.now`. */
  now?: (() => number) | undefined;
}

export interface CacheEntry<V> {
  readonly kind: SecretKind;
  readonly id: string;
  value: V;
  /** The backend that answered (null for a miss). */
  source: string | null;
  /** When the entry was stored (clock ms). */
  storedAt: number;
  /** When it stops being fresh (clock ms). */
  expiresAt: number;
  /** When a read asks for a refresh (clock ms; `Infinity` without `refreshAhead` or while one runs). */
  refreshAt: number;
  /**
   * The value as a settled, frozen promise, made on the first hit that asks for it: every hit of
   * the entry hands out the same one (set by the lookup layer).
   */
  settled: Promise<V> | undefined;
}

export interface ResolvedCacheOptions {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  maxMisses: number;
  staleIfErrorMs: number;
  /** 0 when off. */
  refreshAhead: number;
  jitter: number;
  now: () => number;
}

const KNOWN = new Set([
  'ttl',
  'negativeTtl',
  'maxEntries',
  'maxMisses',
  'staleIfError',
  'refreshAhead',
  'jitter',
  'now',
]);

function seconds(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigurationError(`cache.${name}`, `cache.${name} must be a finite number of seconds >= 0`);
  }
  return v;
}

function wholeNumber(name: string, v: unknown, fallback: number): number {
  const n = v ?? fallback;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigurationError(`cache.${name}`, `cache.${name} must be a whole number >= 1`);
  }
  return n;
}

function fraction(
  name: string,
  v: unknown,
  fallback: number,
  ok: (n: number) => boolean,
  range: string,
): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
    throw new ConfigurationError(`cache.${name}`, `cache.${name} must be a number ${range}`);
  }
  return v;
}

export function resolveCacheOptions(o: CacheOptions = {}): ResolvedCacheOptions {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new ConfigurationError('cache', 'cache must be true, false or an options object');
  }
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k)) {
      throw new ConfigurationError(
        `cache.${k}`,
        `cache.${k} is not a cache option (known: ${[...KNOWN].join(', ')})`,
      );
    }
  }
  const ttl = seconds('ttl', o.ttl, 900);
  const negativeTtl = seconds('negativeTtl', o.negativeTtl, ttl);
  const staleIfError = seconds('staleIfError', o.staleIfError, 0);
  const maxEntries = wholeNumber('maxEntries', o.maxEntries, 10_000);
  const maxMisses = wholeNumber('maxMisses', o.maxMisses, Math.max(1, Math.floor(maxEntries / 10)));
  const refreshAhead = fraction(
    'refreshAhead',
    o.refreshAhead,
    0,
    (n) => n > 0 && n < 1,
    'between 0 and 1 (exclusive)',
  );
  const jitter = fraction('jitter', o.jitter, 0.1, (n) => n >= 0 && n <= 0.5, 'from 0 to 0.5');
  if (o.now !== undefined && typeof o.now !== 'function') {
    throw new ConfigurationError('cache.now', 'cache.now must be a function returning milliseconds');
  }
  return {
    ttlMs: ttl * 1000,
    negativeTtlMs: negativeTtl * 1000,
    maxEntries,
    maxMisses: Math.min(maxMisses, maxEntries),
    staleIfErrorMs: staleIfError * 1000,
    refreshAhead,
    jitter,
    now: o.now ?? Date.now,
  };
}

/** `refreshAt` of an entry due for a refresh at its next read (set by the refresh schedule, or `close()`). */
export const DUE = Number.NEGATIVE_INFINITY;

/** A cache entry's value as its one settled, frozen promise (made once, then handed to every hit). */
export function settledPromise<V>(e: CacheEntry<V>): Promise<V> {
  let p = e.settled;
  if (p === undefined) {
    p = Object.freeze(Promise.resolve(e.value));
    e.settled = p;
  }
  return p;
}

/** One string for a kind and an id (used to key lookups in progress). */
export function cacheKey(kind: SecretKind, id: string): string {
  return `${kind}\u0000${id}`;
}

interface Slot<V> extends CacheEntry<V> {
  /** Read since it was last passed by the eviction hand (second chance). */
  ref: boolean;
  /** Still the entry stored for its key (false once replaced, deleted or evicted). */
  live: boolean;
  /** Not yet expired, as the expiry schedule sees it (read by `hit` when the cache is timed). */
  fresh: boolean;
}

/** One eviction segment: insertion order (entries no longer live are skipped and dropped). */
class Segment<V> {
  queue: Array<Slot<V> | undefined> = [];
  head = 0;
  size = 0;

  reset(): void {
    this.queue = [];
    this.head = 0;
    this.size = 0;
  }

  /** The next entry to consider for eviction, taken off the front. */
  shift(): Slot<V> | undefined {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (e?.live) return e;
    }
    return undefined;
  }

  compactIfSparse(): void {
    const waste = this.head > 1024 && this.head * 2 > this.queue.length;
    if (!waste && this.queue.length - this.head <= 2 * this.size + 1024) return;
    const live: Array<Slot<V> | undefined> = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e?.live) live.push(e);
    }
    this.queue = live;
    this.head = 0;
  }
}

/**
 * A TTL map with a bound, keyed by kind and id (one `Map` per kind, so a lookup hashes the id the
 * caller passed rather than a new joined string). Eviction is LRU by the second-chance ("clock")
 * approximation: a read only sets a flag, and when the cache is over its bound the oldest entry
 * is evicted unless it was read since the hand last passed it, in which case it goes to the back.
 * Answers and misses are kept in two segments: a miss evicts only misses (at most `maxMisses` of
 * them), an answer evicts misses first, so a stream of made-up ids cannot flush the answers.
 * Reads stay O(1) with no reordering; the size never exceeds `maxEntries` after a `set` returns.
 * An entry is fresh while `storedAt <= now < expiresAt` (a clock that goes backwards expires it).
 */
export class LookupCache<V> {
  readonly options: ResolvedCacheOptions;
  readonly #maps: Record<SecretKind, Map<string, Slot<V>>> = {
    connection: new Map(),
    variable: new Map(),
    config: new Map(),
  };
  readonly #answers = new Segment<V>();
  readonly #misses = new Segment<V>();
  readonly #now: () => number;
  /**
   * Marks each entry stale at its expiry, so that `hit` reads no clock (null when the cache is not
   * timed: a clock of the caller's with no timers that follow it, or after `stopTimers`).
   */
  #expiry: Schedule<Slot<V>> | null = null;
  /** Called by `hit` for a fresh entry past its `refreshAt` (the lookup layer starts the refresh). */
  onDue: ((entry: CacheEntry<V>) => void) | null = null;

  /**
   * The timers that follow this cache's clock, which its schedules use (expiry here, refresh ahead
   * in the lookup layer); null when it has none: a clock of the caller's, with no timers given.
   */
  readonly timers: Timers | null;

  /**
   * `timers` (tests) follow the clock `options.now`. Without them the cache is timed only on the
   * default clock (`Date.now`, real timers): with a clock of the caller's, every hit reads it.
   */
  constructor(options: CacheOptions = {}, timers?: Timers) {
    this.options = resolveCacheOptions(options);
    this.#now = this.options.now;
    this.timers = timers ?? (options.now === undefined ? realTimers : null);
    if (this.timers !== null) {
      this.#expiry = new Schedule<Slot<V>>({
        now: this.#now,
        timers: this.timers,
        at: (e) => e.expiresAt,
        current: (e) => e.live,
        size: () => this.size,
        fire: (e) => {
          e.fresh = false;
        },
      });
    }
  }

  /** `close()`: disarm the expiry timer; from now on every hit reads the clock. */
  stopTimers(): void {
    this.#expiry?.clear();
    this.#expiry = null;
  }

  get size(): number {
    return this.#answers.size + this.#misses.size;
  }

  /** How many of the entries are misses. */
  get misses(): number {
    return this.#misses.size;
  }

  now(): number {
    return this.#now();
  }

  /** A fresh entry, or undefined. Expired entries are kept (for stale-if-error) until evicted or replaced. */
  get(kind: SecretKind, id: string): CacheEntry<V> | undefined {
    const e = this.#maps[kind].get(id);
    if (e === undefined) return undefined;
    const now = this.#now();
    if (now >= e.expiresAt || now < e.storedAt) return undefined;
    e.ref = true;
    return e;
  }

  /**
   * The lookup's read: a fresh entry no older than `maxAgeMs` (when given), marked as used; one past
   * its `refreshAt` is handed to `onDue` first (it is still served). Timed, and without `maxAgeMs`,
   * it reads no clock: the expiry schedule has marked the entries that expired (to within a turn of
   * the event loop; a clock set back does not expire them, as it does on the clock path).
   */
  hit(kind: SecretKind, id: string, maxAgeMs?: number): CacheEntry<V> | undefined {
    const e = this.#maps[kind].get(id);
    if (e === undefined) return undefined;
    if (this.#expiry !== null && maxAgeMs === undefined) {
      if (!e.fresh) return undefined;
      e.ref = true;
      if (e.refreshAt === DUE) this.onDue?.(e);
      return e;
    }
    const now = this.#now();
    if (now >= e.expiresAt || now < e.storedAt) return undefined;
    if (maxAgeMs !== undefined && now - e.storedAt >= maxAgeMs) return undefined;
    e.ref = true;
    if (now >= e.refreshAt) this.onDue?.(e);
    return e;
  }

  /** The entry stored for this id, fresh or not, without marking it as used. */
  peek(kind: SecretKind, id: string): CacheEntry<V> | undefined {
    return this.#maps[kind].get(id);
  }

  /** The last good answer stored for this id if it is within the stale-if-error window, else undefined. */
  getStale(kind: SecretKind, id: string): CacheEntry<V> | undefined {
    if (this.options.staleIfErrorMs <= 0) return undefined;
    const e = this.#maps[kind].get(id);
    if (e === undefined || e.source === null) return undefined;
    const now = this.#now();
    return now >= e.storedAt && now < e.expiresAt + this.options.staleIfErrorMs ? e : undefined;
  }

  /** This entry's TTL in ms: the configured one, with jitter. */
  #ttl(miss: boolean): number {
    const o = this.options;
    const base = miss ? o.negativeTtlMs : o.ttlMs;
    return o.jitter > 0 ? base * (1 + o.jitter * (2 * Math.random() - 1)) : base;
  }

  /**
   * Store an answer (`source` null = a miss). An entry that could never be served is not stored, and
   * replaces nothing; nor is a miss when only answers could make room for it.
   */
  set(kind: SecretKind, id: string, value: V, source: string | null): CacheEntry<V> | undefined {
    this.delete(kind, id);
    const miss = source === null;
    const ttl = this.#ttl(miss);
    if (ttl <= 0 && !(!miss && this.options.staleIfErrorMs > 0)) return undefined;
    const now = this.#now();
    if (miss ? !this.#roomForMiss(now) : !this.#roomForAnswer(now)) return undefined;
    const refreshAhead = this.options.refreshAhead;
    const slot: Slot<V> = {
      value,
      source,
      storedAt: now,
      expiresAt: now + ttl,
      refreshAt: refreshAhead > 0 ? now + ttl * refreshAhead : Number.POSITIVE_INFINITY,
      settled: undefined,
      kind,
      id,
      ref: false,
      live: true,
      fresh: ttl > 0,
    };
    this.#maps[kind].set(id, slot);
    const seg = miss ? this.#misses : this.#answers;
    seg.queue.push(slot);
    seg.size++;
    seg.compactIfSparse();
    if (slot.fresh) this.#expiry?.add(slot);
    return slot;
  }

  /** Whether this entry is the one stored for its id (not replaced, deleted or evicted). */
  isCurrent(e: CacheEntry<V>): boolean {
    return (e as Slot<V>).live;
  }

  /** Whether it was read since it was stored (or since the eviction hand last passed it). */
  wasRead(e: CacheEntry<V>): boolean {
    return (e as Slot<V>).ref;
  }

  /** Evict misses (never answers) until one more fits; false when only answers fill the cache. */
  #roomForMiss(now: number): boolean {
    const { maxEntries, maxMisses } = this.options;
    while (this.#misses.size > 0 && (this.#misses.size >= maxMisses || this.size >= maxEntries)) {
      if (!this.#evictFrom(this.#misses, now)) break;
    }
    return this.size < maxEntries;
  }

  /** Evict misses first, then answers, until one more answer fits. */
  #roomForAnswer(now: number): boolean {
    while (this.size >= this.options.maxEntries) {
      if (!this.#evictFrom(this.#misses.size > 0 ? this.#misses : this.#answers, now)) break;
    }
    return this.size < this.options.maxEntries;
  }

  delete(kind: SecretKind, id: string): boolean {
    const m = this.#maps[kind];
    const e = m.get(id);
    if (e === undefined) return false;
    e.live = false;
    m.delete(id);
    if (e.source === null) this.#misses.size--;
    else this.#answers.size--;
    return true;
  }

  clear(): void {
    for (const m of Object.values(this.#maps)) {
      for (const e of m.values()) e.live = false;
      m.clear();
    }
    this.#answers.reset();
    this.#misses.reset();
    this.#expiry?.clear();
  }

  /** Evict one entry of `seg` (second chance: one read since the hand passed buys another round). */
  #evictFrom(seg: Segment<V>, now: number): boolean {
    for (;;) {
      const e = seg.shift();
      if (e === undefined) return false;
      // Past its TTL and its stale window, an entry is dead weight whatever its flag says.
      const useful = now < e.expiresAt + (e.source === null ? 0 : this.options.staleIfErrorMs);
      if (e.ref && useful) {
        e.ref = false;
        seg.queue.push(e);
        continue;
      }
      this.delete(e.kind, e.id);
      return true;
    }
  }
}
