/**
 * The chain walk: ask each backend in order; the first non-null answer wins. A backend that fails is
 * logged (backend name and error kind, never a value) and the walk goes on, as Airflow does, unless
 * `onBackendError: 'throw'`. Configuration errors (a misconfigured backend, a missing SDK) always
 * propagate. One cache (optional), request coalescing (always), provenance via `explain`.
 */
import type { SecretKind, SecretsBackend } from '../backend.js';
import type { Connection } from '../connection.js';
import {
  BackendError,
  BackendTimeoutError,
  ConfigurationError,
  ConnectionNotFoundError,
  describeError,
  isAirflowSecretsError,
  isBackendError,
  MalformedSecretError,
  safeCause,
  VariableNotFoundError,
} from '../errors.js';
import { consoleLogger, type Logger } from '../logger.js';
import { maskSecret } from '../masker.js';
import { pyJsonLoads, toJs } from '../pyjson.js';
import { type CacheOptions, cacheKey, LookupCache } from './cache.js';

/** Airflow's `conn_id` / variable `key` column length: longer ids cannot exist anywhere. */
export const MAX_ID_LENGTH = 250;

export interface ResolverOptions {
  /** The sources, in the order they are asked. */
  backends: SecretsBackend[];
  /** `true` for the defaults (TTL 900 s), an options object, or `false`/absent for no cache (Airflow's default). */
  cache?: boolean | CacheOptions;
  /**
   * What a backend failure does: `'continue'` (default, Airflow's behaviour) logs it and asks the
   * next backend; `'throw'` fails the lookup with the backend's typed error.
   */
  onBackendError?: 'continue' | 'throw';
  /** Where warnings go. Default: stderr. */
  logger?: Logger;
  /** A safety deadline for any single backend call, in ms. Default 30,000. */
  backendTimeoutMs?: number;
  /** Most single lookups `prefetch` runs at once against a backend without `getMany`. Default 16. */
  prefetchConcurrency?: number;
}

export interface GetVariableOptions<D = unknown> {
  /** Returned as given (not JSON-decoded) when no source has the key. */
  default?: D;
  /** JSON-decode the value found. */
  deserializeJson?: boolean;
}

export type ExplainOutcome = 'found' | 'not-found' | 'error' | 'skipped';

export interface ExplainStep {
  backend: string;
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
    options: GetVariableOptions<D> & { deserializeJson?: false },
  ): Promise<string | D>;
  getVariable<T = unknown, D = null>(
    key: string,
    options: GetVariableOptions<D> & { deserializeJson: true },
  ): Promise<T | D>;
  getVariableOrThrow(key: string): Promise<string>;
  /** Airflow's `get_config` through the backends that hold config secrets. */
  getConfig(key: string): Promise<string | null>;
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

type Answer = Connection | string | null;

/** What callers read from a lookup (a cache entry has this shape too). */
interface Answered {
  readonly value: Answer;
  readonly source: string | null;
}

interface WalkResult extends Answered {
  /** True when at least one backend failed (a miss after an error is not cached). */
  errored: boolean;
  /** Names of the backends that failed with an error during this walk. */
  failed?: string[];
}

const NOTHING: Answered = Object.freeze({ value: null, source: null });

/** Default for `prefetchConcurrency`. */
export const PREFETCH_CONCURRENCY = 16;

function isConfigError(e: unknown): boolean {
  return e instanceof ConfigurationError || (e instanceof Error && e.name === 'MissingDependencyError');
}

function validId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH;
}

function toBackendError(backend: SecretsBackend, e: unknown): BackendError {
  if (isBackendError(e)) return e;
  if (isAirflowSecretsError(e)) {
    return new MalformedSecretError(backend.name, `${backend.name}: ${e.message}`, { cause: e });
  }
  return new BackendError(backend.name, 'failed', `${backend.name} failed: ${describeError(e)}`, {
    cause: safeCause(e),
  });
}

function checkId(what: string, id: unknown): asserts id is string {
  if (typeof id !== 'string') {
    throw new TypeError(`${what} must be a string, got ${id === null ? 'null' : typeof id}`);
  }
}

export function createResolver(options: ResolverOptions): Resolver {
  if (!options || !Array.isArray(options.backends)) {
    throw new ConfigurationError('backends', 'createResolver needs { backends: SecretsBackend[] }');
  }
  const backends = [...options.backends];
  const logger = options.logger ?? consoleLogger;
  const policy = options.onBackendError ?? 'continue';
  if (policy !== 'continue' && policy !== 'throw') {
    throw new ConfigurationError('onBackendError', "onBackendError must be 'continue' or 'throw'");
  }
  const deadlineMs = options.backendTimeoutMs ?? 30_000;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) {
    throw new ConfigurationError('backendTimeoutMs', 'backendTimeoutMs must be a positive number of ms');
  }
  const concurrency = options.prefetchConcurrency ?? PREFETCH_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new ConfigurationError('prefetchConcurrency', 'prefetchConcurrency must be a whole number >= 1');
  }
  const cacheOpt = options.cache;
  if (
    cacheOpt !== undefined &&
    typeof cacheOpt !== 'boolean' &&
    (typeof cacheOpt !== 'object' || cacheOpt === null)
  ) {
    throw new ConfigurationError('cache', 'cache must be true, false or an options object');
  }
  const cache =
    cacheOpt === undefined || cacheOpt === false
      ? null
      : new LookupCache<Answer>(cacheOpt === true ? {} : cacheOpt);
  /** Lookups in progress, by cache key: every caller of one id shares one walk (cache or not). */
  const inflight = new Map<string, Promise<Answered>>();

  /**
   * The resolver's safety deadline around one backend call: a timer and a promise, nothing more
   * (backends bound their own remote calls and get no signal from here). A call that throws
   * synchronously becomes a rejection.
   */
  const deadline = <T>(b: SecretsBackend, what: string, call: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new BackendTimeoutError(b.name, `${b.name}: no answer for '${what}' within ${deadlineMs} ms`, {
            secretName: what,
          }),
        );
      }, deadlineMs);
      timer.unref?.();
      const done = (v: T) => {
        clearTimeout(timer);
        resolve(v);
      };
      const fail = (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      };
      try {
        call().then(done, fail);
      } catch (e) {
        fail(e);
      }
    });

  const ask = (b: SecretsBackend, kind: SecretKind, id: string): Promise<Answer> => {
    const call = (): Promise<Answer> => {
      if (kind === 'connection') return b.getConnection(id);
      if (kind === 'variable') return b.getVariable(id);
      return b.getConfig ? b.getConfig(id) : Promise.resolve(null);
    };
    return deadline(b, id, call);
  };

  const warnFailure = (b: SecretsBackend, kind: SecretKind, id: string, err: BackendError): void => {
    logger.warn(
      `Unable to retrieve ${kind} '${id}' from secrets backend (${b.name}): ${err.name} [${err.reason}]. Checking subsequent secrets backend.`,
      { backend: b.name, kind, id, reason: err.reason },
    );
  };

  const walk = async (kind: SecretKind, id: string, trace?: ExplainStep[]): Promise<WalkResult> => {
    let failed: string[] | undefined;
    for (const b of backends) {
      if (kind === 'config' && !b.getConfig) continue;
      const t0 = trace ? performance.now() : 0;
      let where: ReturnType<SecretsBackend['locate']> | undefined;
      if (trace) {
        where = b.locate(kind, id);
        if ('skip' in where) {
          trace.push({
            backend: b.name,
            secretName: null,
            outcome: 'skipped',
            detail: where.skip,
            durationMs: 0,
          });
          continue;
        }
      }
      try {
        const value = await ask(b, kind, id);
        if (value !== null && value !== undefined) {
          trace?.push(step(b, where, 'found', t0));
          return failed
            ? { value, source: b.name, errored: true, failed }
            : { value, source: b.name, errored: false };
        }
        trace?.push(step(b, where, 'not-found', t0));
      } catch (e) {
        if (isConfigError(e)) throw e;
        const err = toBackendError(b, e);
        if (trace) {
          const s = step(b, where, 'error', t0);
          s.detail = `${err.name}: ${err.message}`;
          s.reason = err.reason;
          trace.push(s);
        }
        if (policy === 'throw') throw err;
        (failed ??= []).push(b.name);
        warnFailure(b, kind, id, err);
      }
    }
    return failed
      ? { value: null, source: null, errored: true, failed }
      : { value: null, source: null, errored: false };
  };

  const step = (
    b: SecretsBackend,
    where: ReturnType<SecretsBackend['locate']> | undefined,
    outcome: ExplainOutcome,
    t0: number,
  ): ExplainStep => ({
    backend: b.name,
    secretName: where && 'name' in where ? where.name : null,
    outcome,
    durationMs: performance.now() - t0,
  });

  const register = (kind: SecretKind, id: string, value: Answer): void => {
    if (value === null) return;
    if (typeof value === 'string') {
      if (kind === 'variable') maskSecret(value, id);
      return;
    }
    if (value.password) maskSecret(value.password);
    maskSecret(value.extraDejson);
  };

  const warnStale = (kind: SecretKind, id: string, stale: Answered): void => {
    logger.warn(`Serving a stale ${kind} '${id}' from the cache: the source that had it failed.`, {
      kind,
      id,
      source: stale.source,
    });
  };

  /**
   * Settle a finished walk: mask the value, cache it (a miss only when no backend failed), or serve
   * the last good answer when the backend that gave it failed this time (stale-if-error).
   */
  const settle = (kind: SecretKind, id: string, r: WalkResult): Answered => {
    register(kind, id, r.value);
    if (!cache) return r;
    if (r.value !== null || !r.errored) {
      cache.set(kind, id, r.value, r.source);
      return r;
    }
    const stale = cache.getStale(kind, id);
    if (stale && r.failed?.includes(stale.source as string)) {
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

  /**
   * Cached, coalesced lookup of the raw answer. A cache hit is returned as is (no promise), so the
   * public methods answer it without awaiting anything.
   */
  const lookup = (kind: SecretKind, id: string): Answered | Promise<Answered> => {
    if (!validId(id)) return NOTHING;
    if (cache) {
      const hit = cache.get(kind, id);
      if (hit) return hit;
    }
    return walkShared(kind, id, cacheKey(kind, id));
  };

  const getConnection = async (connId: string): Promise<Connection | null> => {
    checkId('connId', connId);
    const found = lookup('connection', connId);
    const r = found instanceof Promise ? await found : found;
    // Each caller gets its own copy, so mutating it cannot change later answers.
    return r.value === null ? null : (r.value as Connection).clone();
  };

  const getVariable = async (key: string, opts?: GetVariableOptions): Promise<unknown> => {
    checkId('key', key);
    const found = lookup('variable', key);
    const r = found instanceof Promise ? await found : found;
    if (r.value === null) {
      return opts && 'default' in opts ? opts.default : null;
    }
    const raw = r.value as string;
    if (!opts?.deserializeJson) return raw;
    try {
      // Python's json.loads, as Airflow decodes: NaN and Infinity are accepted, `__proto__` is a plain key.
      return toJs(pyJsonLoads(raw));
    } catch (e) {
      throw new MalformedSecretError(r.source ?? 'unknown', `Variable ${key} is not valid JSON`, {
        cause: safeCause(e),
        secretName: key,
      });
    }
  };

  /** Run `fn` over `items`, at most `limit` at a time. */
  const pool = async <T>(
    items: readonly T[],
    limit: number,
    fn: (item: T) => Promise<void>,
  ): Promise<void> => {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await fn(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  };

  /** One chain walk for many ids of one kind (see `Resolver.prefetch`). */
  const prefetchKind = async (kind: SecretKind, ids: readonly string[]): Promise<void> => {
    if (!cache) return;
    interface Job {
      id: string;
      key: string;
      resolve: (a: Answered) => void;
      reject: (e: unknown) => void;
      failed?: string[];
      done?: boolean;
    }
    const jobs = new Map<string, Job>();
    for (const id of ids) {
      if (!validId(id) || jobs.has(id)) continue;
      const key = cacheKey(kind, id);
      if (inflight.has(key) || cache.get(kind, id)) continue;
      const job = { id, key } as Job;
      const p = new Promise<Answered>((resolve, reject) => {
        job.resolve = resolve;
        job.reject = reject;
      });
      p.catch(() => {}); // a rejection nobody waits for is not unhandled
      inflight.set(key, p);
      jobs.set(id, job);
    }
    if (jobs.size === 0) return;
    const finish = (job: Job, outcome: () => Answered) => {
      if (job.done) return;
      job.done = true;
      if (inflight.has(job.key)) inflight.delete(job.key);
      try {
        job.resolve(outcome());
      } catch (e) {
        job.reject(e);
      }
    };
    let firstError: unknown;
    const fail = (job: Job, b: SecretsBackend, err: BackendError) => {
      if (policy === 'throw') {
        firstError ??= err;
        finish(job, () => settleError(kind, job.id, err));
        return;
      }
      (job.failed ??= []).push(b.name);
    };
    let remaining = [...jobs.values()];
    try {
      for (const b of backends) {
        if (remaining.length === 0) break;
        if (kind === 'config' && !b.getConfig) continue;
        const answers = new Map<string, Answer>();
        let singles: Job[] = remaining;
        if (b.getMany) {
          const asked = remaining.map((j) => j.id);
          try {
            const got = await deadline(b, `${asked.length} ${kind} ids`, () => b.getMany!(kind, asked));
            singles = [];
            for (const j of remaining) {
              if (got.has(j.id)) answers.set(j.id, got.get(j.id) ?? null);
              else singles.push(j); // not answered: ask it alone
            }
          } catch (e) {
            if (isConfigError(e)) throw e;
            const err = toBackendError(b, e);
            // A bad value poisons the whole batch: ask each id alone to find which one. Any other
            // failure (throttling, access, network) holds for every id; asking again would only add calls.
            if (err.reason !== 'malformed') {
              logger.warn(
                `Unable to prefetch ${asked.length} ${kind}(s) from secrets backend (${b.name}): ${err.name} [${err.reason}]. Checking subsequent secrets backend.`,
                { backend: b.name, kind, reason: err.reason },
              );
              for (const j of remaining) fail(j, b, err);
              singles = [];
            }
          }
        }
        await pool(singles, concurrency, async (j) => {
          try {
            answers.set(j.id, await ask(b, kind, j.id));
          } catch (e) {
            if (isConfigError(e)) throw e;
            const err = toBackendError(b, e);
            if (policy !== 'throw') warnFailure(b, kind, j.id, err);
            fail(j, b, err);
          }
        });
        const next: Job[] = [];
        for (const j of remaining) {
          if (j.done) continue;
          const value = answers.get(j.id);
          if (value !== null && value !== undefined) {
            const r: WalkResult = j.failed
              ? { value, source: b.name, errored: true, failed: j.failed }
              : { value, source: b.name, errored: false };
            finish(j, () => settle(kind, j.id, r));
          } else next.push(j);
        }
        remaining = next;
      }
      for (const j of remaining) {
        const r: WalkResult = j.failed
          ? { value: null, source: null, errored: true, failed: j.failed }
          : { value: null, source: null, errored: false };
        finish(j, () => settle(kind, j.id, r));
      }
    } catch (e) {
      for (const j of jobs.values())
        finish(j, () => {
          throw e;
        });
      throw e;
    }
    if (firstError !== undefined) throw firstError;
  };

  const idList = (what: string, v: unknown): readonly string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new TypeError(`prefetch: ${what} must be an array of strings`);
    for (const id of v) checkId(`prefetch: each of ${what}`, id);
    return v as string[];
  };

  const resolver: Resolver = {
    backends,
    getConnection,
    async getConnectionOrThrow(connId) {
      const c = await getConnection(connId);
      if (c === null) throw new ConnectionNotFoundError(connId);
      return c;
    },
    getVariable: getVariable as Resolver['getVariable'],
    async getVariableOrThrow(key) {
      checkId('key', key);
      const r = await lookup('variable', key);
      if (r.value === null) throw new VariableNotFoundError(key);
      return r.value as string;
    },
    async getConfig(key) {
      checkId('key', key);
      return (await lookup('config', key)).value as string | null;
    },
    async explain(kind, id, opts) {
      checkId('id', id);
      const t0 = performance.now();
      const steps: ExplainStep[] = [];
      if (!validId(id)) {
        for (const b of backends) {
          steps.push({
            backend: b.name,
            secretName: null,
            outcome: 'skipped',
            detail: `id must be 1 to ${MAX_ID_LENGTH} characters`,
            durationMs: 0,
          });
        }
        return { kind, id, found: false, source: null, cache: cache ? 'miss' : 'off', steps, durationMs: 0 };
      }
      if (cache && !opts?.fresh) {
        const hit = cache.get(kind, id);
        if (hit) {
          return {
            kind,
            id,
            found: hit.value !== null,
            source: hit.source,
            cache: 'hit',
            steps,
            durationMs: performance.now() - t0,
          };
        }
      }
      const r = await walk(kind, id, steps);
      register(kind, id, r.value);
      if (cache && (r.value !== null || !r.errored)) cache.set(kind, id, r.value, r.source);
      return {
        kind,
        id,
        found: r.value !== null,
        source: r.source,
        cache: cache ? 'miss' : 'off',
        steps,
        durationMs: performance.now() - t0,
      };
    },
    async prefetch(ids) {
      if (typeof ids !== 'object' || ids === null) {
        throw new TypeError('prefetch needs { connections?: string[], variables?: string[] }');
      }
      const connections = idList('connections', ids.connections);
      const variables = idList('variables', ids.variables);
      if (!cache) return;
      const results = await Promise.allSettled([
        prefetchKind('connection', connections),
        prefetchKind('variable', variables),
      ]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
    clearCache() {
      cache?.clear();
    },
    invalidate(kind, id) {
      cache?.delete(kind, id);
    },
    async close() {
      const results = await Promise.allSettled(backends.map((b) => b.close?.()));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        logger.warn('A backend failed to close cleanly.', {
          error: describeError((failed as PromiseRejectedResult).reason),
        });
      }
    },
  };
  return resolver;
}
