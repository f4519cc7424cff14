/**
 * What a setting is (its value, its canonical name, where the value came from) and the cache
 * settings (`[secrets] use_cache`, `cache_ttl_seconds`) → the resolver's cache options. Small and
 * free of I/O, so the package root can offer `cacheFromEnv` without loading the rest of
 * `src/config/` (which it imports only when a resolver is built from the environment).
 */
import { ConfigurationError } from '../errors.js';
import type { CacheOptions } from '../resolver/cache.js';

type Env = Record<string, string | undefined>;

/** The source of a value nobody configured. */
export const DEFAULT_SOURCE = 'default';

/** A configured value, its setting's canonical name, and where the value came from. */
export interface Setting<T> {
  readonly value: T;
  /** The setting, as its environment variable, e.g. `AIRFLOW__SECRETS__CACHE_TTL_SECONDS`. */
  readonly name: string;
  /** Where the value came from: the variable, `airflow.cfg [section] key[_cmd|_secret]`, or `default`. */
  readonly source: string;
}

export interface CacheSettings {
  /** `[secrets] use_cache`, default false. */
  readonly useCache: Setting<boolean>;
  /** `[secrets] cache_ttl_seconds`, default 900; read only when the cache is on, as Airflow does. */
  readonly ttlSeconds: Setting<number> | null;
}

const USE_CACHE = 'AIRFLOW__SECRETS__USE_CACHE';
const CACHE_TTL = 'AIRFLOW__SECRETS__CACHE_TTL_SECONDS';

/** ` (from <source>)` when the message does not already name the source. */
export function fromSource(named: string, source: string): string {
  return named === source ? '' : ` (from ${source})`;
}

/** Airflow's `getboolean`. */
export function parseBool(s: Setting<string>): boolean {
  const v = s.value.trim().toLowerCase();
  if (v === 't' || v === 'true' || v === '1') return true;
  if (v === 'f' || v === 'false' || v === '0') return false;
  throw new ConfigurationError(
    s.name,
    `Failed to convert value to bool. Please check ${s.name}. It must be true/false (or t/f, 1/0).${fromSource(s.name, s.source)}`,
  );
}

/** The cache settings, from any reader of settings by name (the CLI's, `cacheFromEnv`'s, ours). */
export function readCache(read: (name: string) => Setting<string> | undefined): CacheSettings {
  const use = read(USE_CACHE);
  const useCache = use
    ? { ...use, value: parseBool(use) }
    : { value: false, name: USE_CACHE, source: DEFAULT_SOURCE };
  if (!useCache.value) return { useCache, ttlSeconds: null };
  const raw = read(CACHE_TTL);
  if (raw === undefined || raw.value.trim() === '') {
    return { useCache, ttlSeconds: { value: 900, name: CACHE_TTL, source: DEFAULT_SOURCE } };
  }
  const ttl = Number(raw.value.trim());
  if (!/^\s*[+-]?\d+\s*$/.test(raw.value) || !Number.isSafeInteger(ttl) || ttl < 0) {
    throw new ConfigurationError(
      CACHE_TTL,
      `${CACHE_TTL} must be a whole number of seconds >= 0${fromSource(CACHE_TTL, raw.source)}`,
    );
  }
  return { useCache, ttlSeconds: { ...raw, value: ttl } };
}

/** The resolver's cache: off unless `[secrets] use_cache`, then `[secrets] cache_ttl_seconds`. */
export function cacheOptions(cache: CacheSettings): false | CacheOptions {
  return cache.useCache.value && cache.ttlSeconds ? { ttl: cache.ttlSeconds.value } : false;
}

/** The resolver's cache settings from `AIRFLOW__SECRETS__USE_CACHE` and `…__CACHE_TTL_SECONDS`. */
export function cacheFromEnv(
  env: Env,
  read: (name: string) => string | undefined = (name) => env[name],
): false | CacheOptions {
  return cacheOptions(
    readCache((name) => {
      const value = read(name);
      return value === undefined ? undefined : { value, name, source: name };
    }),
  );
}
