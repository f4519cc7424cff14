/**
 * `createResolver`: checks the options, wires the parts and returns the public `Resolver`.
 * The parts, each in its own module:
 * - `./walk.ts`: the chain walk (ordered backends, the error policy, the trace for `explain`);
 * - `./lookup.ts`: the lookup layer (cache, coalescing, invalidation, the settle and stale rules);
 * - `./prefetch.ts`: prefetch (batch and bounded parallel lookups through the lookup layer);
 * - `./deadline.ts`: the deadline around one backend call;
 * - `./cache.ts`: the TTL/LRU cache; `./types.ts`: the public types.
 */
import type { SecretKind, SecretsBackend } from '../backend.js';
import type { Connection } from '../connection.js';
import {
  ConfigurationError,
  ConnectionNotFoundError,
  describeError,
  MalformedSecretError,
  safeCause,
  VariableNotFoundError,
} from '../errors.js';
import { consoleLogger, type Logger, messageSafeLogger } from '../logger.js';
import { pyJsonLoads, toJs } from '../pyjson.js';
import { LookupCache, settledPromise } from './cache.js';
import { type CallObserver, CallRegistry, createDeadline, Scope } from './deadline.js';
import { backendFailures } from './failures.js';
import {
  type CallCacheOptions,
  checkId,
  createLookupLayer,
  type LookupLayer,
  MAX_ID_LENGTH,
  PREFETCH_CONCURRENCY,
  type Settled,
  validId,
} from './lookup.js';
import type { OpenTelemetryApi, OtelSpan, TelemetryOptions } from './otel.js';
import { createPrefetch } from './prefetch.js';
import { Watchers } from './rotation.js';
import type { Timers } from './schedule.js';
import { type ResolverStats, StatsRecorder } from './stats.js';
import type {
  ExplainStep,
  Explanation,
  GetVariableOptions,
  LookupOptions,
  Resolver,
  ResolverOptions,
  TelemetryHolder,
} from './types.js';
import { type Answer, type Chain, createChain, type ErrorPolicy, skippedStep } from './walk.js';

export type { OpenTelemetryApi, TelemetryOptions } from './otel.js';
export type { BackendStats, CacheStats, CallErrorReason, LatencyHistogram, ResolverStats } from './stats.js';
export { LATENCY_BUCKETS_MS } from './stats.js';
export type {
  ExplainOutcome,
  ExplainStep,
  Explanation,
  GetVariableOptions,
  LookupOptions,
  Resolver,
  ResolverOptions,
  WatchListener,
} from './types.js';
export { MAX_ID_LENGTH, PREFETCH_CONCURRENCY };

interface Settings {
  policy: ErrorPolicy;
  logger: Logger;
  deadlineMs: number;
  concurrency: number;
  cache: LookupCache<Answer> | null;
  telemetry: boolean | TelemetryOptions | undefined;
}

/** Check every option once, up front: a bad one is a `ConfigurationError` naming it. */
function readOptions(options: ResolverOptions, timers?: Timers): Settings {
  if (!options || !Array.isArray(options.backends)) {
    throw new ConfigurationError('backends', 'createResolver needs { backends: SecretsBackend[] }');
  }
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
  const c = options.cache;
  if (c !== undefined && typeof c !== 'boolean' && (typeof c !== 'object' || c === null)) {
    throw new ConfigurationError('cache', 'cache must be true, false or an options object');
  }
  const cache = c === undefined || c === false ? null : new LookupCache<Answer>(c === true ? {} : c, timers);
  const t = options.telemetry;
  if (t !== undefined && typeof t !== 'boolean' && (typeof t !== 'object' || t === null)) {
    throw new ConfigurationError('telemetry', 'telemetry must be true, false or an options object');
  }
  return {
    policy,
    logger: messageSafeLogger(options.logger ?? consoleLogger),
    deadlineMs,
    concurrency,
    cache,
    telemetry: t,
  };
}

/** `explain`: the walk with a trace (or the cache's answer), never a value. */
async function explain(
  chain: Chain,
  layer: LookupLayer,
  kind: SecretKind,
  id: string,
  fresh: boolean,
): Promise<Explanation> {
  const t0 = performance.now();
  const { cache } = layer;
  const steps: ExplainStep[] = [];
  if (!validId(id)) {
    for (const b of chain.backends) steps.push(skippedStep(b, `id must be 1 to ${MAX_ID_LENGTH} characters`));
    return { kind, id, found: false, source: null, cache: cache ? 'miss' : 'off', steps, durationMs: 0 };
  }
  const hit = cache && !fresh ? cache.get(kind, id) : undefined;
  if (hit) {
    const durationMs = performance.now() - t0;
    return { kind, id, found: hit.value !== null, source: hit.source, cache: 'hit', steps, durationMs };
  }
  const since = layer.epoch;
  const scope = new Scope();
  layer.registry.scopes.add(scope);
  let r: Awaited<ReturnType<Chain['walk']>>;
  try {
    r = await chain.walk(kind, id, steps, scope);
  } finally {
    layer.registry.scopes.delete(scope);
  }
  layer.remember(kind, id, r, since);
  const durationMs = performance.now() - t0;
  return {
    kind,
    id,
    found: r.value !== null,
    source: r.source,
    cache: cache ? 'miss' : 'off',
    steps,
    durationMs,
  };
}

/** `getVariable(key, { deserializeJson: true })`: Python's json.loads, as Airflow decodes. */
function decodeJson(key: string, raw: string, source: string | null): unknown {
  try {
    // NaN and Infinity are accepted, `__proto__` is a plain key.
    return toJs(pyJsonLoads(raw));
  } catch (e) {
    throw new MalformedSecretError(source ?? 'unknown', `Variable ${key} is not valid JSON`, {
      cause: safeCause(e),
      secretName: key,
    });
  }
}

/** The per-call options: `maxAge` seconds >= 0, `forceFetch` a boolean. */
function checkCallOptions(o: unknown): asserts o is CallCacheOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  const { maxAge, forceFetch } = o as CallCacheOptions;
  if (
    maxAge !== undefined &&
    (typeof maxAge !== 'number' || !(maxAge >= 0) || maxAge === Number.POSITIVE_INFINITY)
  ) {
    throw new RangeError('maxAge must be a finite number of seconds >= 0');
  }
  if (forceFetch !== undefined && typeof forceFetch !== 'boolean') {
    throw new TypeError('forceFetch must be a boolean');
  }
}

const KINDS: ReadonlySet<unknown> = new Set(['connection', 'variable', 'config']);

function checkKind(kind: unknown): asserts kind is SecretKind {
  if (!KINDS.has(kind)) throw new TypeError("kind must be 'connection', 'variable' or 'config'");
}

/** Per backend call: the counters of `stats()`, and a span and a duration record with telemetry. */
function callObserver(stats: StatsRecorder, telemetry: TelemetryHolder): CallObserver {
  return {
    start: (b, what, scope) =>
      telemetry.current?.startCall(b, scope?.kind, what, scope?.span as OtelSpan | undefined),
    end(b, ms, error, token, scope) {
      stats.call(b, ms, error);
      telemetry.current?.endCall(token as OtelSpan | undefined, b, scope?.kind, ms, error);
    },
  };
}

/** `refresh(kind, id)`: a forced read; a failure rejects (the cached value, if fresh, is kept). */
async function refreshNow(layer: LookupLayer, kind: SecretKind, id: string): Promise<void> {
  if (!validId(id)) return;
  const r = await layer.forced(kind, id);
  if (r.refreshFailed) throw r.refreshFailed;
  const first = r.value === null ? r.failures?.[0] : undefined;
  if (first) throw first.error;
}

/**
 * Turn telemetry on as `option` asks: `./otel.ts` is imported, and `@opentelemetry/api` too unless
 * the option passes it (a warning, and telemetry stays off, when it is not installed).
 */
export function startTelemetry(
  option: boolean | TelemetryOptions | undefined,
  stats: () => ResolverStats,
  logger: Logger,
): TelemetryHolder {
  const holder: TelemetryHolder = { current: null, loading: null };
  if (option === undefined || option === false) return holder;
  const options: TelemetryOptions = option === true ? {} : option;
  // Not a literal specifier on purpose: a bundle of this package must build without the optional
  // peer installed (bundled apps pass `telemetry: { api }` instead).
  const specifier = '@opentelemetry/api';
  const api = options.api
    ? Promise.resolve(options.api)
    : (import(specifier) as Promise<unknown>).then(
        (m) => m as OpenTelemetryApi,
        () => {
          logger.warn(
            'telemetry is on but @opentelemetry/api cannot be imported (npm install @opentelemetry/api): no metrics or traces.',
          );
          return null;
        },
      );
  holder.loading = Promise.all([import('./otel.js'), api]).then(
    ([m, a]) => {
      if (a !== null) holder.current = new m.Telemetry(a, options, stats);
      holder.loading = null;
    },
    () => {
      holder.loading = null;
    },
  );
  return holder;
}

/** The answer of a lookup that may be a cache hit (no promise) or a walk. */
async function settled(found: ReturnType<LookupLayer['lookup']>): Promise<Settled> {
  return found instanceof Promise ? found : (found as Settled);
}

/** The per-call options, checked when given. */
function withOptions(o: LookupOptions | undefined): LookupOptions | undefined {
  if (o !== undefined) checkCallOptions(o);
  return o;
}

type Getters = Pick<
  Resolver,
  'getConnection' | 'getConnectionOrThrow' | 'getVariable' | 'getVariableOrThrow' | 'getConfig'
>;

/**
 * The lookups of the public `Resolver`. The hot path: a cache hit is answered with the entry's own
 * settled promise (made once, frozen, shared by every caller, as the frozen connection in it is):
 * no async frame, no new promise.
 */
function createGetters(layer: LookupLayer): Getters {
  const getConnectionSlow = async (connId: string, opts?: LookupOptions): Promise<Connection | null> => {
    checkId('connId', connId);
    if (opts === undefined) return (await layer.lookup('connection', connId)).value as Connection | null;
    return (await layer.lookup('connection', connId, withOptions(opts))).value as Connection | null;
  };
  const getConnection = (connId: string, opts?: LookupOptions): Promise<Connection | null> => {
    if (opts === undefined && typeof connId === 'string') {
      const hit = layer.hit('connection', connId);
      if (hit !== undefined) return settledPromise(hit) as Promise<Connection | null>;
    }
    return getConnectionSlow(connId, opts);
  };
  const getVariableSlow = async (key: string, opts?: GetVariableOptions): Promise<unknown> => {
    checkId('key', key);
    if (opts === undefined) return (await layer.lookup('variable', key)).value;
    const found = layer.lookup('variable', key, withOptions(opts));
    const r = found instanceof Promise ? await found : found;
    if (r.value === null) {
      return opts && 'default' in opts ? opts.default : null;
    }
    if (!opts?.deserializeJson) return r.value;
    return decodeJson(key, r.value as string, r.source);
  };
  const getVariable = (key: string, opts?: GetVariableOptions): Promise<unknown> => {
    if (opts === undefined && typeof key === 'string') {
      const hit = layer.hit('variable', key);
      if (hit !== undefined) return settledPromise(hit);
    }
    return getVariableSlow(key, opts);
  };
  return {
    getConnection,
    async getConnectionOrThrow(connId, opts) {
      checkId('connId', connId);
      const r = await settled(layer.lookup('connection', connId, withOptions(opts)));
      if (r.value === null)
        throw new ConnectionNotFoundError(connId, { failures: backendFailures(r.failures) });
      return r.value as Connection;
    },
    getVariable: getVariable as Resolver['getVariable'],
    getVariableOrThrow: (async (key: string, opts?: GetVariableOptions) => {
      checkId('key', key);
      const r = await settled(layer.lookup('variable', key, withOptions(opts)));
      if (r.value === null) throw new VariableNotFoundError(key, { failures: backendFailures(r.failures) });
      return opts?.deserializeJson ? decodeJson(key, r.value as string, r.source) : (r.value as string);
    }) as Resolver['getVariableOrThrow'],
    async getConfig(key) {
      checkId('key', key);
      return (await settled(layer.lookup('config', key))).value as string | null;
    },
  };
}

/** `close()`: cancel every call in progress, then close each backend (a failure is logged). */
async function closeAll(registry: CallRegistry, backends: readonly SecretsBackend[], logger: Logger) {
  registry.cancelAll();
  const results = await Promise.allSettled(backends.map((b) => b.close?.()));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    logger.warn('A backend failed to close cleanly.', {
      error: describeError((failed as PromiseRejectedResult).reason),
    });
  }
}

/**
 * What only tests set (not re-exported by the package): the clock that times backend calls, and
 * the timers refresh ahead schedules with.
 */
export interface ResolverInternals {
  clock?: () => number;
  timers?: Timers;
}

export function createResolver(options: ResolverOptions): Resolver {
  return createResolverWith(options, {});
}

/** `createResolver`, with the internals tests inject. */
export function createResolverWith(options: ResolverOptions, internals: ResolverInternals): Resolver {
  const {
    policy,
    logger,
    deadlineMs,
    concurrency,
    cache,
    telemetry: telemetryOption,
  } = readOptions(options, internals.timers);
  const backends = [...options.backends];
  const registry = new CallRegistry();
  const stats = new StatsRecorder(backends);
  const snapshot = () => stats.snapshot(cache);
  const telemetry = startTelemetry(telemetryOption, snapshot, logger);
  const deadline = createDeadline(deadlineMs, registry, callObserver(stats, telemetry), internals.clock);
  // Lists run under the same deadline and are cancelled by close(), but are not lookups: not
  // counted in stats() nor traced.
  const listDeadline = createDeadline(deadlineMs, registry);
  const chain = createChain({ backends, policy, logger, deadline });
  const watchers = new Watchers(logger);
  const layer = createLookupLayer({ chain, cache, logger, stats, registry, watchers, telemetry });
  return {
    backends,
    ...createGetters(layer),
    async explain(kind, id, opts) {
      checkId('id', id);
      return explain(chain, layer, kind, id, Boolean(opts?.fresh));
    },
    // The inventory code is imported on the first list (it is not needed for lookups).
    list: async (kind, opts) =>
      (await import('../inventory/list.js')).listChain(backends, kind, opts, listDeadline),
    prefetch: createPrefetch(chain, layer, concurrency),
    clearCache: layer.clear,
    invalidate: layer.invalidate,
    watch(kind: SecretKind, id: string, listener: (value: never) => unknown) {
      checkKind(kind);
      checkId('id', id);
      if (typeof listener !== 'function') throw new TypeError('watch needs a listener function');
      const current = cache?.peek(kind, id);
      return watchers.add(kind, id, listener as (v: Answer) => unknown, current);
    },
    async refresh(kind, id) {
      checkKind(kind);
      checkId('id', id);
      return refreshNow(layer, kind, id);
    },
    stats: snapshot,
    close: () => closeAll(registry, backends, logger),
  };
}
