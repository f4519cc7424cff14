/**
 * The lookup layer, between the public methods and the chain walk: the one cache (`./cache.ts`),
 * coalescing (every caller of one id shares one walk while it is in flight, cache or not),
 * invalidation, and the settle rules for a finished walk: mask the answer (the masker learns every
 * value read), cache it (a miss only when no backend failed), and serve the last good answer when
 * the backend that gave it fails this time (stale-if-error). A cache hit is answered synchronously.
 */
import type { SecretKind } from '../backend.js';
import { isBackendError } from '../errors.js';
import type { Logger } from '../logger.js';
import { maskSecret } from '../masker.js';
import { cacheKey, type LookupCache } from './cache.js';
import { type Answer, type Answered, type Chain, isConfigError, NOTHING, type WalkResult } from './walk.js';

/** Airflow's `conn_id` / variable `key` column length: longer ids cannot exist anywhere. */
export const MAX_ID_LENGTH = 250;

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

export interface LookupLayer {
  /** Null when the resolver has no cache. */
  readonly cache: LookupCache<Answer> | null;
  /** Lookups in progress, by `cacheKey`: shared with prefetch, which claims its ids here. */
  readonly inflight: Map<string, Promise<Answered>>;
  /**
   * Cached, coalesced lookup of the raw answer. A cache hit is returned as is (no promise), so the
   * public methods answer it without awaiting anything.
   */
  lookup(kind: SecretKind, id: string): Answered | Promise<Answered>;
  /** Settle a finished walk (mask, cache, or serve stale); see the module comment. */
  settle(kind: SecretKind, id: string, r: WalkResult): Answered;
  /** Settle a walk that threw: serve the last good answer when the rules allow it, else rethrow. */
  settleError(kind: SecretKind, id: string, err: unknown): Answered;
  /** Mask and cache a traced walk's answer (`explain`): no stale answer, no coalescing. */
  remember(kind: SecretKind, id: string, r: WalkResult): void;
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
  maskSecret(value.extraDejson);
}

export function createLookupLayer(
  chain: Chain,
  cache: LookupCache<Answer> | null,
  logger: Logger,
): LookupLayer {
  const inflight = new Map<string, Promise<Answered>>();
  const { backends, walk } = chain;

  const warnStale = (kind: SecretKind, id: string, stale: Answered): void => {
    logger.warn(`Serving a stale ${kind} '${id}' from the cache: the source that had it failed.`, {
      kind,
      id,
      source: stale.source,
    });
  };

  const settle = (kind: SecretKind, id: string, r: WalkResult): Answered => {
    register(kind, id, r.value);
    if (!cache) return r;
    if (r.value !== null || !r.failures) {
      cache.set(kind, id, r.value, r.source);
      return r;
    }
    const stale = cache.getStale(kind, id);
    if (stale && r.failures.some((f) => f.backend === stale.source)) {
      warnStale(kind, id, stale);
      return stale;
    }
    return r;
  };

  /**
   * A walk that threw (policy 'throw'): it stopped at backend `err.backend`, after the ones before it
   * answered "not found". The last good answer is served when its source is that backend or a later one.
   */
  const settleError = (kind: SecretKind, id: string, err: unknown): Answered => {
    if (cache && !isConfigError(err) && isBackendError(err)) {
      const stale = cache.getStale(kind, id);
      if (stale) {
        const at = backends.findIndex((b) => b.name === err.backend);
        const from = backends.findIndex((b) => b.name === stale.source);
        if (at >= 0 && from >= at) {
          warnStale(kind, id, stale);
          return stale;
        }
      }
    }
    throw err;
  };

  /** Coalesced lookup of the raw answer (the cache has already been asked). */
  const walkShared = (kind: SecretKind, id: string, key: string): Promise<Answered> => {
    let pending = inflight.get(key);
    if (pending) return pending;
    pending = walk(kind, id).then(
      (r) => {
        if (inflight.get(key) === pending) inflight.delete(key);
        return settle(kind, id, r);
      },
      (e: unknown) => {
        if (inflight.get(key) === pending) inflight.delete(key);
        return settleError(kind, id, e);
      },
    );
    inflight.set(key, pending);
    return pending;
  };

  const lookup = (kind: SecretKind, id: string): Answered | Promise<Answered> => {
    if (!validId(id)) return NOTHING;
    if (cache) {
      const hit = cache.get(kind, id);
      if (hit) return hit;
    }
    return walkShared(kind, id, cacheKey(kind, id));
  };

  return {
    cache,
    inflight,
    lookup,
    settle,
    settleError,
    remember(kind, id, r) {
      register(kind, id, r.value);
      if (cache && (r.value !== null || !r.failures)) cache.set(kind, id, r.value, r.source);
    },
    invalidate(kind, id) {
      cache?.delete(kind, id);
    },
    clear() {
      cache?.clear();
    },
  };
}
