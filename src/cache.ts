/**
 * The one lookup cache, owned by the resolver (never by adapters). TTL for answers, a separate TTL
 * for misses (negative caching, for connections as well as variables), an LRU bound, and an
 * injectable clock. The key holds everything that changes the answer: the kind and the id (a cache
 * belongs to one resolver, hence to one chain of backends; `getVariable`'s `default` and
 * `deserializeJson` are applied after the cache, to the raw answer, so they are not part of it).
 */
import type { SecretKind } from './backend.js';
import { ConfigurationError } from './errors.js';

export interface CacheOptions {
  /** Seconds an answer is served from the cache. Default 900 (Airflow's `cache_ttl_seconds`). */
  ttl?: number;
  /** Seconds a miss ("no backend has it") is remembered. Default: the same as `ttl`. 0 disables negative caching. */
  negativeTtl?: number;
  /** Most entries kept; the least recently used is evicted beyond it. Default 10,000. */
  maxEntries?: number;
  /**
   * Seconds past expiry during which the last good answer may still be served when the source that
   * gave it fails with an error (with a warning). Never after that source answered "not found".
   * Default 0 (off).
   */
  staleIfError?: number;
  /** Clock in milliseconds. Default `Date.now`. */
  now?: () => number;
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

export function cacheKey(kind: SecretKind, id: string): string {
  return `${kind}\u0000${id}`;
}

/**
 * A TTL + LRU map. A `Map` keeps insertion order, so re-inserting on read makes it an LRU.
 * An entry is fresh while `storedAt <= now < expiresAt` (a clock that goes backwards expires it).
 */
export class LookupCache<V> {
  readonly options: ResolvedCacheOptions;
  readonly #entries = new Map<string, CacheEntry<V>>();
  readonly #now: () => number;

  constructor(options: CacheOptions = {}) {
    this.options = resolveCacheOptions(options);
    this.#now = this.options.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A fresh entry, or undefined. Expired entries are kept (for stale-if-error) until evicted or replaced. */
  get(key: string): CacheEntry<V> | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    const now = this.#now();
    if (now >= e.expiresAt || now < e.storedAt) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e;
  }

  /** The last good answer stored for `key` if it is within the stale-if-error window, else undefined. */
  getStale(key: string): CacheEntry<V> | undefined {
    if (this.options.staleIfErrorMs <= 0) return undefined;
    const e = this.#entries.get(key);
    if (e === undefined || e.source === null) return undefined;
    const now = this.#now();
    return now >= e.storedAt && now < e.expiresAt + this.options.staleIfErrorMs ? e : undefined;
  }

  /** Store an answer (`source` null = a miss). An entry that could never be served is not stored, and replaces nothing. */
  set(key: string, value: V, source: string | null): void {
    const ttl = source === null ? this.options.negativeTtlMs : this.options.ttlMs;
    const keepForStale = source !== null && this.options.staleIfErrorMs > 0;
    this.#entries.delete(key);
    if (ttl <= 0 && !keepForStale) return;
    const now = this.#now();
    this.#entries.set(key, { value, source, storedAt: now, expiresAt: now + ttl });
    while (this.#entries.size > this.options.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
