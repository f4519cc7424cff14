/**
 * The chain walk: ask each backend in order; the first non-null answer wins. A backend that fails is
 * logged (backend name and error kind, never a value) and the walk goes on, as Airflow does, unless
 * `onBackendError: 'throw'`. Configuration errors (a misconfigured backend, a missing SDK) always
 * propagate. One cache (optional), request coalescing (always), provenance via `explain`.
 */
import type { SecretKind, SecretsBackend } from './backend.js';
import { type CacheOptions, cacheKey, LookupCache } from './cache.js';
import { Connection } from './connection.js';
import {
  BackendError,
  ConfigurationError,
  ConnectionNotFoundError,
  describeError,
  isAirflowSecretsError,
  isBackendError,
  MalformedSecretError,
  safeCause,
  VariableNotFoundError,
} from './errors.js';
import { consoleLogger, type Logger } from './logger.js';
import { maskSecret } from './masker.js';
import { withDeadline } from './backends/base.js';

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
  getVariable<D>(key: string, options: GetVariableOptions<D> & { deserializeJson?: false }): Promise<string | D>;
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
const NOTHING_P: Promise<Answered> = Promise.resolve(NOTHING);

/** Default for `prefetchConcurrency`. */
export const PREFETCH_CONCURRENCY = 16;

function isConfigError(e: unknown): boolean {
  return e instanceof ConfigurationError || (e instanceof Error && e.name === 'MissingDependencyError');
}

function validId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH;
}

function cloneConnection(c: Connection): Connection {
  return new Connection({
    id: c.id,
    type: c.type,
    description: c.description,
    host: c.host,
    login: c.login,
    password: c.password,
    schema: c.schema,
    port: c.port,
    extra: c.extra,
  });
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
  const cache =
    options.cache === undefined || options.cache === false
      ? null
      : new LookupCache<Answer>(options.cache === true ? {} : options.cache);
  const inflight = new Map<string, Promise<WalkResult>>();

  const ask = (b: SecretsBackend, kind: SecretKind, id: string): Promise<Answer> => {
    const call = (): Promise<Answer> => {
      if (kind === 'connection') return b.getConnection(id);
      if (kind === 'variable') return b.getVariable(id);
      return b.getConfig ? b.getConfig(id) : Promise.resolve(null);
    };
    return withDeadline(b.name, id, deadlineMs, call);
  };

  const walk = async (kind: SecretKind, id: string, trace?: ExplainStep[]): Promise<WalkResult> => {
    let errored = false;
    let firstError: BackendError | undefined;
    for (const b of backends) {
      if (kind === 'config' && !b.getConfig) continue;
      const t0 = trace ? performance.now() : 0;
      let where: ReturnType<SecretsBackend['locate']> | undefined;
      if (trace) {
        where = b.locate(kind, id);
        if ('skip' in where) {
          trace.push({ backend: b.name, secretName: null, outcome: 'skipped', detail: where.skip, durationMs: 0 });
          continue;
        }
      }
      try {
        const value = await ask(b, kind, id);
        if (value !== null && value !== undefined) {
          trace?.push(step(b, where, 'found', t0));
          return { value, source: b.name, errored };
        }
        trace?.push(step(b, where, 'not-found', t0));
      } catch (e) {
        if (e instanceof ConfigurationError || (e instanceof Error && e.name === 'MissingDependencyError')) throw e;
        const err = toBackendError(b, e);
        if (trace) {
          const s = step(b, where, 'error', t0);
          s.detail = `${err.name}: ${err.message}`;
          s.reason = err.reason;
          trace.push(s);
        }
        if (policy === 'throw') throw err;
        errored = true;
        firstError ??= err;
        logger.warn(
          `Unable to retrieve ${kind} '${id}' from secrets backend (${b.name}): ${err.name} [${err.reason}]. Checking subsequent secrets backend.`,
          { backend: b.name, kind, id, reason: err.reason },
        );
      }
    }
    return { value: null, source: null, errored };
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

  /** Cached, coalesced lookup of the raw answer. */
  const lookup = async (kind: SecretKind, id: string): Promise<WalkResult> => {
    if (id.length > MAX_ID_LENGTH || id.length === 0) return { value: null, source: null, errored: false };
    const key = cacheKey(kind, id);
    if (cache) {
      const hit = cache.get(key);
      if (hit) return { value: hit.value, source: hit.source, errored: false };
    }
    let pending = inflight.get(key);
    if (!pending) {
      pending = (async () => {
        try {
          const r = await walk(kind, id);
          register(kind, id, r.value);
          if (cache) {
            if (r.value !== null || !r.errored) cache.set(key, r.value, r.source);
            else {
              const stale = cache.getStale(key);
              if (stale) {
                logger.warn(`Serving a stale ${kind} '${id}' from the cache: every source failed.`, {
                  kind,
                  id,
                  source: stale.source,
                });
                return { value: stale.value, source: stale.source, errored: true, stale: true };
              }
            }
          }
          return r;
        } finally {
          inflight.delete(key);
        }
      })();
      inflight.set(key, pending);
    }
    return pending;
  };

  const getConnection = async (connId: string): Promise<Connection | null> => {
    checkId('connId', connId);
    const r = await lookup('connection', connId);
    return r.value === null ? null : cloneConnection(r.value as Connection);
  };

  const getVariable = async (key: string, opts?: GetVariableOptions): Promise<unknown> => {
    checkId('key', key);
    const r = await lookup('variable', key);
    if (r.value === null) {
      return opts && 'default' in opts ? opts.default : null;
    }
    const raw = r.value as string;
    if (!opts?.deserializeJson) return raw;
    try {
      return JSON.parse(raw);
    } catch (e) {
      throw new MalformedSecretError(r.source ?? 'unknown', `Variable ${key} is not valid JSON`, {
        cause: safeCause(e),
        secretName: key,
      });
    }
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
      const key = cacheKey(kind, id);
      if (id.length > MAX_ID_LENGTH || id.length === 0) {
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
        const hit = cache.get(key);
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
      if (cache && (r.value !== null || !r.errored)) cache.set(key, r.value, r.source);
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
      const jobs: Array<[SecretKind, string]> = [
        ...(ids.connections ?? []).map((id): [SecretKind, string] => ['connection', id]),
        ...(ids.variables ?? []).map((id): [SecretKind, string] => ['variable', id]),
      ];
      let next = 0;
      const worker = async () => {
        while (next < jobs.length) {
          const [kind, id] = jobs[next++]!;
          await lookup(kind, id);
        }
      };
      await Promise.all(Array.from({ length: Math.min(16, jobs.length) }, worker));
    },
    clearCache() {
      cache?.clear();
    },
    invalidate(kind, id) {
      cache?.delete(cacheKey(kind, id));
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
