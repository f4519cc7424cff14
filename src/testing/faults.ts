/**
 * Fault injection: wrap any backend so that a share of its lookups fail with a typed error, hang, or
 * answer late. Reproducible: faults and latency are drawn from a seeded PRNG.
 */
import type { SecretKind, SecretsBackend } from '../backend.js';
import {
  AccessDeniedError,
  BackendTimeoutError,
  BackendUnavailableError,
  MalformedSecretError,
  ThrottledError,
} from '../errors.js';

/**
 * - `throttled`, `access-denied`, `unavailable`, `malformed`: the matching typed error at once;
 * - `timeout`: waits `timeoutMs`, then a `BackendTimeoutError` (as an adapter's own deadline would);
 * - `hang`: never settles (the resolver's `backendTimeoutMs` deadline must end the lookup);
 * - an `Error`, or a function making one: thrown as given.
 */
export type FaultKind = 'throttled' | 'timeout' | 'hang' | 'access-denied' | 'unavailable' | 'malformed';

export interface FaultSpec {
  /** What goes wrong. Default: nothing (only `latencyMs` applies). */
  fault?: (FaultKind | Error | ((kind: SecretKind, id: string) => Error)) | undefined;
  /** Share of lookups that fail, 0..1. Default 1 (every lookup) when `fault` is set. */
  rate?: number | undefined;
  /** PRNG seed: the same seed and call order give the same faults and delays. Default 1. */
  seed?: number | undefined;
  /** Added delay before each lookup: a fixed number of ms, or `[min, max]` for uniform jitter. Default 0. */
  latencyMs?: number | readonly [number, number] | undefined;
  /** For `timeout`: how long to wait before failing. Default 50 ms. */
  timeoutMs?: number | undefined;
  /** Only these ids fail (others still get the latency). Default: every id. */
  only?: ((kind: SecretKind, id: string) => boolean) | undefined;
}

export interface FaultyBackend extends SecretsBackend {
  /** How many faults have been injected so far. */
  readonly injected: number;
  /** Change the spec from now on (merged into the current one; the PRNG keeps its state unless `seed` is given). */
  configure(spec: FaultSpec): void;
}

/** mulberry32: a small, fast, seedable PRNG giving floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function checkSpec(spec: FaultSpec): void {
  if (spec.rate !== undefined && !(spec.rate >= 0 && spec.rate <= 1))
    throw new RangeError('rate must be within 0..1');
  const l = spec.latencyMs;
  if (Array.isArray(l) ? !(l[0] >= 0 && l[1] >= l[0]) : l !== undefined && !((l as number) >= 0)) {
    throw new RangeError('latencyMs must be >= 0, or [min, max] with 0 <= min <= max');
  }
}

/**
 * ```ts
 * const flaky = withFaults(memory({ name: 'vault', variables }), { fault: 'throttled', rate: 0.1, seed: 42, latencyMs: [1, 5] });
 * ```
 */
export function withFaults(backend: SecretsBackend, spec: FaultSpec = {}): FaultyBackend {
  checkSpec(spec);
  let current: FaultSpec = { ...spec };
  let random = seededRandom(spec.seed ?? 1);
  let injected = 0;
  const name = backend.name;

  const makeError = (kind: SecretKind, id: string): Error | 'hang' | 'timeout' => {
    const f = current.fault!;
    if (f instanceof Error) return f;
    if (typeof f === 'function') return f(kind, id);
    const where = backend.locate(kind, id);
    const secretName = 'name' in where ? where.name : id;
    const msg = (what: string) => `${name}: injected ${what} fault for '${secretName}'`;
    switch (f) {
      case 'throttled':
        return new ThrottledError(name, msg('throttling'), { secretName });
      case 'access-denied':
        return new AccessDeniedError(name, msg('access-denied'), { secretName });
      case 'unavailable':
        return new BackendUnavailableError(name, msg('unavailable'), { secretName });
      case 'malformed':
        return new MalformedSecretError(name, msg('malformed-secret'), { secretName });
      default:
        return f;
    }
  };

  const inject = async <T>(kind: SecretKind, ids: readonly string[], run: () => Promise<T>): Promise<T> => {
    const l = current.latencyMs;
    const delay = Array.isArray(l) ? l[0] + random() * (l[1] - l[0]) : ((l as number | undefined) ?? 0);
    const roll = random();
    if (delay > 0) await sleep(delay);
    const targeted = !current.only || ids.some((id) => current.only!(kind, id));
    if (current.fault !== undefined && targeted && roll < (current.rate ?? 1)) {
      injected++;
      const id = ids[0] ?? '';
      const e = makeError(kind, id);
      if (e === 'hang') return new Promise<T>(() => {});
      if (e === 'timeout') {
        const ms = current.timeoutMs ?? 50;
        await sleep(ms);
        throw new BackendTimeoutError(
          name,
          `${name}: injected timeout, no answer for '${id}' within ${ms} ms`,
          {
            secretName: id,
          },
        );
      }
      throw e;
    }
    return run();
  };

  const faulty: FaultyBackend = {
    name,
    get injected() {
      return injected;
    },
    configure(next) {
      checkSpec(next);
      current = { ...current, ...next };
      if (next.seed !== undefined) random = seededRandom(next.seed);
    },
    locate: (kind, id) => backend.locate(kind, id),
    getConnection: (id, o) => inject('connection', [id], () => backend.getConnection(id, o)),
    getVariable: (key, o) => inject('variable', [key], () => backend.getVariable(key, o)),
  };
  if (backend.getConfig) {
    const getConfig = backend.getConfig.bind(backend);
    faulty.getConfig = (key, o) => inject('config', [key], () => getConfig(key, o));
  }
  if (backend.getMany) {
    const getMany = backend.getMany.bind(backend);
    faulty.getMany = (kind, ids, o) => inject(kind, ids, () => getMany(kind, ids, o));
  }
  if (backend.close) faulty.close = backend.close.bind(backend);
  return faulty;
}
