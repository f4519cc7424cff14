/**
 * `createResolver`: checks the options, wires the parts and returns the public `Resolver`.
 * The parts, each in its own module:
 * - `./walk.ts`: the chain walk (ordered backends, the error policy, the trace for `explain`);
 * - `./lookup.ts`: the lookup layer (cache, coalescing, invalidation, the settle and stale rules);
 * - `./prefetch.ts`: prefetch (batch and bounded parallel lookups through the lookup layer);
 * - `./deadline.ts`: the deadline around one backend call;
 * - `./cache.ts`: the TTL/LRU cache; `./types.ts`: the public types.
 */
import type { SecretKind } from '../backend.js';
import type { Connection } from '../connection.js';
import {
  ConfigurationError,
  ConnectionNotFoundError,
  describeError,
  MalformedSecretError,
  safeCause,
  VariableNotFoundError,
} from '../errors.js';
import { listChain } from '../inventory/list.js';
import { consoleLogger, type Logger } from '../logger.js';
import { pyJsonLoads, toJs } from '../pyjson.js';
import { LookupCache } from './cache.js';
import { createDeadline } from './deadline.js';
import { checkId, createLookupLayer, type LookupLayer, MAX_ID_LENGTH, validId } from './lookup.js';
import { createPrefetch, PREFETCH_CONCURRENCY } from './prefetch.js';
import type { ExplainStep, Explanation, GetVariableOptions, Resolver, ResolverOptions } from './types.js';
import { type Answer, type Chain, createChain, type ErrorPolicy, skippedStep } from './walk.js';

export type {
  ExplainOutcome,
  ExplainStep,
  Explanation,
  GetVariableOptions,
  Resolver,
  ResolverOptions,
} from './types.js';
export { MAX_ID_LENGTH, PREFETCH_CONCURRENCY };

interface Settings {
  policy: ErrorPolicy;
  logger: Logger;
  deadlineMs: number;
  concurrency: number;
  cache: LookupCache<Answer> | null;
}

/** Check every option once, up front: a bad one is a `ConfigurationError` naming it. */
function readOptions(options: ResolverOptions): Settings {
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
  const cache = c === undefined || c === false ? null : new LookupCache<Answer>(c === true ? {} : c);
  return { policy, logger: options.logger ?? consoleLogger, deadlineMs, concurrency, cache };
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
  const r = await chain.walk(kind, id, steps);
  layer.remember(kind, id, r);
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

export function createResolver(options: ResolverOptions): Resolver {
  const { policy, logger, deadlineMs, concurrency, cache } = readOptions(options);
  const backends = [...options.backends];
  const chain = createChain({ backends, policy, logger, deadline: createDeadline(deadlineMs) });
  const layer = createLookupLayer(chain, cache, logger);
  const { lookup } = layer;

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
    if (!opts?.deserializeJson) return r.value;
    return decodeJson(key, r.value as string, r.source);
  };

  return {
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
      return explain(chain, layer, kind, id, Boolean(opts?.fresh));
    },
    list: (kind, opts) => listChain(backends, kind, opts),
    prefetch: createPrefetch(chain, layer, concurrency),
    clearCache: layer.clear,
    invalidate: layer.invalidate,
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
}
