/**
 * The one lookup cache, owned by the resolver (never by adapters). TTL for answers, a separate TTL
 * for misses (negative caching, for connections as well as variables), an LRU bound, and an
 * injectable clock. The key holds everything that changes the answer: the kind and the id (a cache
 * belongs to one resolver, hence to one chain of backends; `getVariable`'s `default` and
 * `deserializeJson` are applied after the cache, to the raw answer, so they are not part of it).
 */
import type { SecretKind } from '../backend.js';
import { ConfigurationError } from '../errors.js';

export interface CacheOptions {
  /** Seconds an answer is served from the cache. Default 900 (Airflow's `cache_ttl_seconds`). */
  ttl?: number | undefined;
  /** Seconds a miss ("no backend has it") is remembered. Default: the same as `ttl`. 0 disables negative caching. */
  negativeTtl?: number | undefined;
  /** Most entries kept; beyond it the least recently used is evicted (second-chance LRU). Default 10,000. */
  maxEntries?: number | undefined;
  /**
   * Seconds past expiry during which the last good answer may still be served when the source that
   * gave it fails with an error (with a warning). Never after that source answered "not found".
   * Default 0 (off).
   */
  staleIfError?: number | undefined;
  /** Clock in milliseconds. Default `Date.now`. */
  now?: (() => number) | undefined;
}

export interface CacheEntry<V> {
  value: V;
  /** The backend that answered (null for a miss). */
  source: string | null;
  /** When the entry was stored (clock ms). */
  storedAt: number;
  /** When it stops being fresh (clock ms). */
  expiresAt: number;
}

export interface ResolvedCacheOptions {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  staleIfErrorMs: number;
  now: () => number;
}

const KNOWN = new Set(['ttl', 'negativeTtl', 'maxEntries', 'staleIfError', 'now']);

function seconds(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigurationError(`cache.${name}`, `cache.${name} must be a finite number of seconds >= 0`);
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
  const maxEntries = o.maxEntries ?? 10_000;
  if (typeof maxEntries !== 'number' || !Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new ConfigurationError('cache.maxEntries', 'cache.maxEntries must be a whole number >= 1');
  }
  if (o.now !== undefined && typeof o.now !== 'function') {
    throw new ConfigurationError('cache.now', 'cache.now must be a function returning milliseconds');
  }
  return {
    ttlMs: ttl * 1000,
    negativeTtlMs: negativeTtl * 1000,
    maxEntries,
    staleIfErrorMs: staleIfError * 1000,
    now: o.now ?? Date.now,
  };
}

/** One string for a kind and an id (used to key lookups in progress). */
export function cacheKey(kind: SecretKind, id: string): string {
  return `${kind}\u0000${id}`;
}

interface Slot<V> extends CacheEntry<V> {
  readonly kind: SecretKind;
  readonly id: string;
  /** Read since it was last passed by the eviction hand (second chance). */
  ref: boolean;
  /** Still the entry stored for its key (false once replaced, deleted or evicted). */
  live: boolean;
}

/**
 * A TTL map with a bound, keyed by kind and id (one `Map` per kind, so a lookup hashes the id the
 * caller passed rather than a new joined string). Eviction is LRU by the second-chance ("clock")
 * approximation: a read only sets a flag, and when the cache is over `maxEntries` the oldest entry
 * is evicted unless it was read since the hand last passed it, in which case it goes to the back.
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
  /** Insertion order for eviction (entries that are no longer live are skipped and dropped). */
  #queue: Array<Slot<V> | undefined> = [];
  #head = 0;
  #size = 0;
  readonly #now: () => number;

  constructor(options: CacheOptions = {}) {
    this.options = resolveCacheOptions(options);
    this.#now = this.options.now;
  }

  get size(): number {
    return this.#size;
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

  /** The last good answer stored for this id if it is within the stale-if-error window, else undefined. */
  getStale(kind: SecretKind, id: string): CacheEntry<V> | undefined {
    if (this.options.staleIfErrorMs <= 0) return undefined;
    const e = this.#maps[kind].get(id);
    if (e === undefined || e.source === null) return undefined;
    const now = this.#now();
    return now >= e.storedAt && now < e.expiresAt + this.options.staleIfErrorMs ? e : undefined;
  }

  /** Store an answer (`source` null = a miss). An entry that could never be served is not stored, and replaces nothing. */
  set(kind: SecretKind, id: string, value: V, source: string | null): void {
    this.delete(kind, id);
    const ttl = source === null ? this.options.negativeTtlMs : this.options.ttlMs;
    if (ttl <= 0 && !(source !== null && this.options.staleIfErrorMs > 0)) return;
    const now = this.#now();
    const slot: Slot<V> = {
      value,
      source,
      storedAt: now,
      expiresAt: now + ttl,
      kind,
      id,
      ref: false,
      live: true,
    };
    this.#maps[kind].set(id, slot);
    this.#queue.push(slot);
    this.#size++;
    while (this.#size > this.options.maxEntries) this.#evictOne(now, slot);
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) this.#compact();
    else if (this.#queue.length - this.#head > 2 * this.#size + 1024) this.#compact();
  }

  delete(kind: SecretKind, id: string): boolean {
    const m = this.#maps[kind];
    const e = m.get(id);
    if (e === undefined) return false;
    e.live = false;
    m.delete(id);
    this.#size--;
    return true;
  }

  clear(): void {
    for (const m of Object.values(this.#maps)) {
      for (const e of m.values()) e.live = false;
      m.clear();
    }
    this.#queue = [];
    this.#head = 0;
    this.#size = 0;
  }

  /** Evict one entry, never `keep` (the one being inserted; the cache holds at least one other). */
  #evictOne(now: number, keep: Slot<V>): void {
    for (;;) {
      const e = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (e === undefined || !e.live) continue;
      if (e === keep) {
        this.#queue.push(e);
        continue;
      }
      // Past its TTL and its stale window, an entry is dead weight whatever its flag says.
      const useful = now < e.expiresAt + (e.source === null ? 0 : this.options.staleIfErrorMs);
      if (e.ref && useful) {
        e.ref = false;
        this.#queue.push(e);
        continue;
      }
      this.delete(e.kind, e.id);
      return;
    }
  }

  #compact(): void {
    const live: Array<Slot<V> | undefined> = [];
    for (let i = this.#head; i < this.#queue.length; i++) {
      const e = this.#queue[i];
      if (e?.live) live.push(e);
    }
    this.#queue = live;
    this.#head = 0;
  }
}
