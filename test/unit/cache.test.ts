import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SecretKind, SecretsBackend } from '../../src/backend.js';
import { cacheFromEnv, resolverFromEnv } from '../../src/config/index.js';
import { Connection } from '../../src/connection.js';
import { BackendUnavailableError, ConfigurationError, ThrottledError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { cacheKey, LookupCache } from '../../src/resolver/cache.js';
import { createResolver } from '../../src/resolver/index.js';

const SECRET = 'cached-s3cr3t-never-logged';

/**
 * A clock the test moves by hand. The tests below that check TTL bounds to the millisecond turn the
 * default ±10% TTL jitter off (`jitter: 0`); test/unit/refresh.test.ts covers the jitter itself.
 */
function fakeClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug() {},
    warn: (m, f) => void warnings.push(`${m} ${JSON.stringify(f ?? {})}`),
    error: (m, f) => void warnings.push(`${m} ${JSON.stringify(f ?? {})}`),
  };
}

/** A backend whose stored values and failure can change between lookups; counts every call. */
function source(
  name: string,
  init: { variables?: Record<string, string>; connections?: Record<string, string> } = {},
) {
  const variables = new Map(Object.entries(init.variables ?? {}));
  const connections = new Map(Object.entries(init.connections ?? {}));
  const calls: Array<[SecretKind, string]> = [];
  let failure: (() => Error) | null = null;
  const backend: SecretsBackend = {
    name,
    locate: (_k, id) => ({ name: `${name}/${id}` }),
    async getVariable(key) {
      calls.push(['variable', key]);
      if (failure) throw failure();
      return variables.get(key) ?? null;
    },
    async getConnection(id) {
      calls.push(['connection', id]);
      if (failure) throw failure();
      const uri = connections.get(id);
      return uri === undefined ? null : Connection.fromUri(uri, id);
    },
  };
  return {
    backend,
    calls,
    variables,
    connections,
    failWith(f: (() => Error) | null) {
      failure = f;
    },
  };
}

describe('LookupCache', () => {
  it('serves an entry until its TTL and never at or past the bound', () => {
    const clock = fakeClock();
    const c = new LookupCache<string>({ ttl: 10, jitter: 0, now: clock.now });
    c.set('variable', 'k', 'v', 'a');
    clock.advance(9_999);
    expect(c.get('variable', 'k')?.value).toBe('v');
    clock.advance(1);
    expect(c.get('variable', 'k')).toBeUndefined();
    clock.advance(60_000);
    expect(c.get('variable', 'k')).toBeUndefined();
  });

  it('expires an entry when the clock goes backwards past the time it was stored', () => {
    const clock = fakeClock(50_000);
    const c = new LookupCache<string>({ ttl: 10, jitter: 0, now: clock.now });
    c.set('variable', 'k', 'v', 'a');
    clock.set(49_999);
    expect(c.get('variable', 'k')).toBeUndefined();
  });

  it('keeps misses for negativeTtl, apart from the TTL of answers', () => {
    const clock = fakeClock();
    const c = new LookupCache<string | null>({ ttl: 100, negativeTtl: 5, jitter: 0, now: clock.now });
    c.set('variable', 'hit', 'v', 'a');
    c.set('variable', 'miss', null, null);
    clock.advance(4_999);
    expect(c.get('variable', 'miss')).toMatchObject({ value: null, source: null });
    clock.advance(1);
    expect(c.get('variable', 'miss')).toBeUndefined();
    expect(c.get('variable', 'hit')?.value).toBe('v');
  });

  it('negativeTtl 0 stores no misses, and a miss drops the previous answer for that key', () => {
    const c = new LookupCache<string | null>({ ttl: 100, negativeTtl: 0 });
    c.set('variable', 'k', 'old', 'a');
    c.set('variable', 'k', null, null);
    expect(c.get('variable', 'k')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('never grows past maxEntries and evicts the least recently used entry', () => {
    const c = new LookupCache<string>({ ttl: 100, maxEntries: 3 });
    c.set('variable', 'a', '1', 's');
    c.set('variable', 'b', '2', 's');
    c.set('variable', 'c', '3', 's');
    expect(c.get('variable', 'a')?.value).toBe('1'); // a is now the most recently used
    c.set('variable', 'd', '4', 's');
    expect(c.get('variable', 'b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => c.get('variable', k)?.value)).toEqual(['1', '3', '4']);
    for (let i = 0; i < 500; i++) {
      c.set('variable', `k${i}`, String(i), i % 2 ? 's' : null);
      expect(c.size).toBeLessThanOrEqual(3);
    }
    expect(c.size).toBe(3);
  });

  it('keeps every invariant under any sequence of sets, reads, deletes and clears', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('set' as const), k: fc.integer({ min: 0, max: 30 }), v: fc.integer() }),
      fc.record({ t: fc.constant('get' as const), k: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ t: fc.constant('del' as const), k: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ t: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 300 }), (max, ops) => {
        const c = new LookupCache<number>({ ttl: 100, maxEntries: max });
        const last = new Map<number, number>();
        for (const o of ops) {
          if (o.t === 'set') {
            c.set('variable', String(o.k), o.v, 's');
            last.set(o.k, o.v);
            expect(c.get('variable', String(o.k))?.value).toBe(o.v);
          } else if (o.t === 'get') {
            const got = c.get('variable', String(o.k));
            if (got) expect(got.value).toBe(last.get(o.k)); // never a stale or foreign value
          } else if (o.t === 'del') {
            c.delete('variable', String(o.k));
            last.delete(o.k);
            expect(c.get('variable', String(o.k))).toBeUndefined();
          } else {
            c.clear();
            last.clear();
          }
          expect(c.size).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays correct and bounded through many replacements of the same keys', () => {
    const c = new LookupCache<number>({ ttl: 100, maxEntries: 50 });
    for (let i = 0; i < 200_000; i++) {
      c.set('variable', String(i % 60), i, 's');
      if (i % 7 === 0) c.get('variable', String((i * 13) % 60));
    }
    expect(c.size).toBe(50);
    for (let k = 0; k < 60; k++) {
      const got = c.get('variable', String(k));
      if (got) expect(got.value % 60).toBe(k);
    }
    expect(c.get('variable', String(199_999 % 60))?.value).toBe(199_999);
  });

  it('evicts an entry past its TTL and stale window before a recently read live one', () => {
    const clock = fakeClock();
    const c = new LookupCache<string>({ ttl: 10, maxEntries: 2, jitter: 0, now: clock.now });
    c.set('variable', 'old', 'o', 's');
    c.get('variable', 'old');
    clock.advance(5_000);
    c.set('variable', 'hot', 'h', 's');
    c.get('variable', 'hot');
    clock.advance(6_000); // 'old' has expired, 'hot' has not
    c.set('variable', 'new', 'n', 's');
    expect(c.get('variable', 'hot')?.value).toBe('h');
    expect(c.get('variable', 'new')?.value).toBe('n');
    expect(c.size).toBe(2);
  });

  it('offers the last good answer for staleIfError seconds after expiry, never a miss', () => {
    const clock = fakeClock();
    const c = new LookupCache<string | null>({ ttl: 10, staleIfError: 30, jitter: 0, now: clock.now });
    c.set('variable', 'good', 'v', 'a');
    c.set('variable', 'miss', null, null);
    clock.advance(10_000);
    expect(c.get('variable', 'good')).toBeUndefined();
    expect(c.getStale('variable', 'good')?.value).toBe('v');
    expect(c.getStale('variable', 'miss')).toBeUndefined();
    clock.advance(29_999);
    expect(c.getStale('variable', 'good')?.value).toBe('v');
    clock.advance(1);
    expect(c.getStale('variable', 'good')).toBeUndefined();
  });

  it('offers nothing stale when staleIfError is off', () => {
    const clock = fakeClock();
    const c = new LookupCache<string>({ ttl: 10, jitter: 0, now: clock.now });
    c.set('variable', 'k', 'v', 'a');
    clock.advance(10_000);
    expect(c.getStale('variable', 'k')).toBeUndefined();
  });

  it('keys connections and variables apart', () => {
    const c = new LookupCache<string>({ ttl: 100 });
    c.set('variable', 'x', 'var', 's');
    c.set('connection', 'x', 'conn', 's');
    expect([c.get('variable', 'x')?.value, c.get('connection', 'x')?.value, c.get('config', 'x')]).toEqual([
      'var',
      'conn',
      undefined,
    ]);
    c.delete('variable', 'x');
    expect([c.get('variable', 'x'), c.get('connection', 'x')?.value]).toEqual([undefined, 'conn']);
    expect(cacheKey('connection', 'x')).not.toBe(cacheKey('variable', 'x'));
  });

  it.each([
    [{ ttl: -1 }, 'cache.ttl'],
    [{ ttl: Number.NaN }, 'cache.ttl'],
    [{ ttl: Number.POSITIVE_INFINITY }, 'cache.ttl'],
    [{ ttl: '60' }, 'cache.ttl'],
    [{ negativeTtl: -5 }, 'cache.negativeTtl'],
    [{ staleIfError: -1 }, 'cache.staleIfError'],
    [{ maxEntries: 0 }, 'cache.maxEntries'],
    [{ maxEntries: 2.5 }, 'cache.maxEntries'],
    [{ maxEntries: '10' }, 'cache.maxEntries'],
    [{ now: 5 }, 'cache.now'],
    [{ ttlSeconds: 60 }, 'cache.ttlSeconds'],
  ])('rejects nonsense options %o with a ConfigurationError naming %s', (opts, setting) => {
    let err: unknown;
    try {
      new LookupCache(opts as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(setting);
    expect((err as Error).message).toContain(setting);
  });
});

describe('resolver cache', () => {
  it('is off by default: every lookup walks the chain, as Airflow does', async () => {
    const a = source('a', { variables: { k: 'v' } });
    const r = createResolver({ backends: [a.backend] });
    await r.getVariable('k');
    await r.getVariable('k');
    expect(a.calls).toHaveLength(2);
  });

  it('answers from the cache within the TTL and asks again after it', async () => {
    const clock = fakeClock();
    const a = source('a', { variables: { k: 'v1' } });
    const r = createResolver({ backends: [a.backend], cache: { ttl: 60, jitter: 0, now: clock.now } });
    expect(await r.getVariable('k')).toBe('v1');
    a.variables.set('k', 'v2');
    clock.advance(59_999);
    expect(await r.getVariable('k')).toBe('v1');
    expect(a.calls).toHaveLength(1);
    clock.advance(1);
    expect(await r.getVariable('k')).toBe('v2');
    expect(a.calls).toHaveLength(2);
  });

  it('never serves a value past its bound, while the source changes every second', async () => {
    const clock = fakeClock(0);
    const a = source('a');
    const r = createResolver({ backends: [a.backend], cache: { ttl: 7, jitter: 0, now: clock.now } });
    const servedAges = new Set<number>();
    for (let t = 0; t <= 60_000; t += 500) {
      clock.set(t);
      a.variables.set('k', String(t)); // the value written at time t
      const served = Number(await r.getVariable('k'));
      servedAges.add(t - served);
      expect(t - served).toBeLessThan(7_000);
    }
    expect(Math.max(...servedAges)).toBe(6_500); // it was cached, up to (not at) the bound
    expect(a.calls.length).toBe(Math.ceil(60_500 / 7_000));
  });

  it('remembers variables no source has for negativeTtl', async () => {
    const clock = fakeClock();
    const a = source('a');
    const env = source('env');
    const r = createResolver({
      backends: [a.backend, env.backend],
      cache: { ttl: 600, negativeTtl: 30, jitter: 0, now: clock.now },
    });
    expect(await r.getVariable('nowhere')).toBeNull();
    expect(await r.getVariable('nowhere', { default: 'd' })).toBe('d');
    expect(a.calls).toHaveLength(1);
    expect(env.calls).toHaveLength(1);
    clock.advance(30_000);
    expect(await r.getVariable('nowhere')).toBeNull();
    expect(a.calls).toHaveLength(2);
  });

  it('remembers connections no source has (unlike Airflow)', async () => {
    const clock = fakeClock();
    const a = source('a');
    const r = createResolver({
      backends: [a.backend],
      cache: { ttl: 600, negativeTtl: 30, jitter: 0, now: clock.now },
    });
    for (let i = 0; i < 5; i++) expect(await r.getConnection('missing_db')).toBeNull();
    await expect(r.getConnectionOrThrow('missing_db')).rejects.toMatchObject({
      name: 'ConnectionNotFoundError',
    });
    expect(a.calls).toEqual([['connection', 'missing_db']]);
    clock.advance(30_000);
    expect(await r.getConnection('missing_db')).toBeNull();
    expect(a.calls).toHaveLength(2);
  });

  it('does not remember misses when negativeTtl is 0', async () => {
    const a = source('a');
    const r = createResolver({ backends: [a.backend], cache: { negativeTtl: 0 } });
    await r.getVariable('x');
    await r.getVariable('x');
    expect(a.calls).toHaveLength(2);
  });

  it('caches an id answered by a later source, so the earlier one is not asked again', async () => {
    const cloud = source('cloud');
    const env = source('env', { variables: { only_env: 'e' }, connections: { db: 'postgres://u:p@h/s' } });
    const r = createResolver({ backends: [cloud.backend, env.backend], cache: true });
    for (let i = 0; i < 3; i++) {
      expect(await r.getVariable('only_env')).toBe('e');
      expect((await r.getConnection('db'))?.host).toBe('h');
    }
    expect(cloud.calls).toEqual([
      ['variable', 'only_env'],
      ['connection', 'db'],
    ]);
  });

  it('does not cache a miss that came after a backend error', async () => {
    const a = source('a');
    a.failWith(() => new ThrottledError('a', 'a: throttled'));
    const r = createResolver({ backends: [a.backend, source('b').backend], cache: true, logger: capture() });
    expect(await r.getVariable('k')).toBeNull();
    a.failWith(null);
    a.variables.set('k', 'now-there');
    expect(await r.getVariable('k')).toBe('now-there');
  });

  it('keys variables and connections apart, and shares one raw answer across getVariable options', async () => {
    const a = source('a', { variables: { x: '{"n": 1}' }, connections: { x: 'mysql://h' } });
    const r = createResolver({ backends: [a.backend], cache: true });
    expect(await r.getVariable('x')).toBe('{"n": 1}');
    expect(await r.getVariable('x', { deserializeJson: true })).toEqual({ n: 1 });
    expect(await r.getVariableOrThrow('x')).toBe('{"n": 1}');
    expect((await r.getConnection('x'))?.type).toBe('mysql');
    expect(a.calls).toEqual([
      ['variable', 'x'],
      ['connection', 'x'],
    ]);
  });

  it('hands out frozen cached connections, so a caller cannot change what others get', async () => {
    const a = source('a', { connections: { db: `postgres://u:${SECRET}@h:5432/s?k=v` } });
    const r = createResolver({ backends: [a.backend], cache: true });
    const first = await r.getConnection('db');
    // Issue 15: the cache hands out one frozen Connection (no copy per hit); writes are refused.
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      first!.host = 'tampered';
    }).toThrow(TypeError);
    expect(() => {
      first!.password = 'tampered';
    }).toThrow(TypeError);
    expect(() => {
      first!.extra = '{"k": "tampered"}';
    }).toThrow(TypeError);
    const copy = first!.clone();
    copy.host = 'tampered';
    copy.password = 'tampered';
    const second = await r.getConnection('db');
    expect(second).toBe(first);
    expect(second?.host).toBe('h');
    expect(second?.password).toBe(SECRET);
    expect(second?.extraDejson).toEqual({ k: 'v' });
    expect(second?.getUri()).toBe(Connection.fromUri(`postgres://u:${SECRET}@h:5432/s?k=v`).getUri());
    expect(a.calls).toHaveLength(1);
  });

  it('clearCache forgets everything; invalidate forgets one kind and id', async () => {
    const a = source('a', { variables: { x: '1', y: '2' }, connections: { x: 'mysql://h' } });
    const r = createResolver({ backends: [a.backend], cache: true });
    await r.getVariable('x');
    await r.getVariable('y');
    await r.getConnection('x');
    r.invalidate('variable', 'x');
    a.variables.set('x', '1b');
    a.variables.set('y', '2b');
    expect(await r.getVariable('x')).toBe('1b');
    expect(await r.getVariable('y')).toBe('2');
    await r.getConnection('x');
    expect(a.calls).toHaveLength(4);
    r.clearCache();
    expect(await r.getVariable('y')).toBe('2b');
    await r.getConnection('x');
    expect(a.calls).toHaveLength(6);
  });

  it('invalidate and clearCache are harmless without a cache', async () => {
    const r = createResolver({ backends: [source('a').backend] });
    r.invalidate('variable', 'x');
    r.clearCache();
    expect(await r.getVariable('x')).toBeNull();
  });

  it('rejects a cache option that is not a boolean or an object', () => {
    expect(() => createResolver({ backends: [], cache: 'yes' as never })).toThrow(ConfigurationError);
    expect(() => createResolver({ backends: [], cache: { ttl: -3 } })).toThrow(/cache\.ttl/);
  });
});

describe('stale-if-error', () => {
  const setup = (policy: 'continue' | 'throw' = 'continue') => {
    const clock = fakeClock();
    const cloud = source('cloud', { variables: { k: SECRET }, connections: { db: 'postgres://u:p@h/s' } });
    const env = source('env');
    const logger = capture();
    const r = createResolver({
      backends: [cloud.backend, env.backend],
      cache: { ttl: 10, staleIfError: 60, jitter: 0, now: clock.now },
      onBackendError: policy,
      logger,
    });
    return { clock, cloud, env, logger, r };
  };

  it('serves the last good value after expiry when its source fails, with a warning that has no value', async () => {
    const { clock, cloud, logger, r } = setup();
    expect(await r.getVariable('k')).toBe(SECRET);
    expect((await r.getConnection('db'))?.host).toBe('h');
    clock.advance(15_000);
    cloud.failWith(() => new BackendUnavailableError('cloud', 'cloud: unavailable'));
    expect(await r.getVariable('k')).toBe(SECRET);
    expect((await r.getConnection('db'))?.host).toBe('h');
    const stale = logger.warnings.filter((w) => w.includes('stale'));
    expect(stale).toHaveLength(2);
    expect(stale[0]).toContain("'k'");
    expect(logger.warnings.join('\n')).not.toContain(SECRET);
  });

  it('asks the sources again on every lookup while serving stale (the stale value is not made fresh)', async () => {
    const { clock, cloud, r } = setup();
    await r.getVariable('k');
    clock.advance(15_000);
    cloud.failWith(() => new ThrottledError('cloud', 'cloud: throttled'));
    await r.getVariable('k');
    await r.getVariable('k');
    expect(cloud.calls).toHaveLength(3);
    cloud.failWith(null);
    cloud.variables.set('k', 'rotated');
    expect(await r.getVariable('k')).toBe('rotated');
  });

  it('stops serving stale once the window has passed', async () => {
    const { clock, cloud, r } = setup();
    await r.getVariable('k');
    clock.advance(10_000 + 60_000);
    cloud.failWith(() => new BackendUnavailableError('cloud', 'cloud: unavailable'));
    expect(await r.getVariable('k')).toBeNull();
  });

  it('never serves stale when the source that had the value now answers "not found"', async () => {
    const { clock, cloud, r } = setup();
    await r.getVariable('k');
    clock.advance(15_000);
    cloud.variables.delete('k');
    expect(await r.getVariable('k')).toBeNull();
    // And the deletion is remembered: a later failure does not resurrect the old value.
    cloud.failWith(() => new BackendUnavailableError('cloud', 'cloud: unavailable'));
    clock.advance(15_000);
    expect(await r.getVariable('k')).toBeNull();
  });

  it('never serves stale when the source that had the value answers "not found" while another fails', async () => {
    const clock = fakeClock();
    const cloud = source('cloud');
    const env = source('env', { variables: { k: 'from-env' } });
    const r = createResolver({
      backends: [cloud.backend, env.backend],
      cache: { ttl: 10, staleIfError: 60, jitter: 0, now: clock.now },
      logger: capture(),
    });
    expect(await r.getVariable('k')).toBe('from-env');
    clock.advance(15_000);
    cloud.failWith(() => new BackendUnavailableError('cloud', 'cloud: unavailable'));
    env.variables.delete('k');
    expect(await r.getVariable('k')).toBeNull();
  });

  it('serves stale when every source fails', async () => {
    const clock = fakeClock();
    const a = source('a', { variables: { k: 'v' } });
    const b = source('b');
    const r = createResolver({
      backends: [a.backend, b.backend],
      cache: { ttl: 10, staleIfError: 60, jitter: 0, now: clock.now },
      logger: capture(),
    });
    await r.getVariable('k');
    clock.advance(15_000);
    a.failWith(() => new ThrottledError('a', 'a: throttled'));
    b.failWith(() => new BackendUnavailableError('b', 'b: unavailable'));
    expect(await r.getVariable('k')).toBe('v');
  });

  it('never serves a stale miss', async () => {
    const { clock, cloud, r } = setup();
    expect(await r.getVariable('absent')).toBeNull();
    clock.advance(15_000);
    cloud.variables.set('absent', 'appeared');
    cloud.failWith(() => new BackendUnavailableError('cloud', 'cloud: unavailable'));
    expect(await r.getVariable('absent')).toBeNull();
  });

  it('does not serve stale while the value is still fresh or when staleIfError is off', async () => {
    const clock = fakeClock();
    const cloud = source('cloud', { variables: { k: 'v' } });
    const r = createResolver({
      backends: [cloud.backend],
      cache: { ttl: 10, jitter: 0, now: clock.now },
      logger: capture(),
    });
    await r.getVariable('k');
    clock.advance(10_000);
    cloud.failWith(() => new BackendUnavailableError('cloud', 'cloud: unavailable'));
    expect(await r.getVariable('k')).toBeNull();
  });

  it("with onBackendError 'throw', serves stale instead of throwing, and throws the typed error after the window", async () => {
    const { clock, cloud, r } = setup('throw');
    await r.getVariable('k');
    clock.advance(15_000);
    cloud.failWith(() => new ThrottledError('cloud', 'cloud: throttled'));
    expect(await r.getVariable('k')).toBe(SECRET);
    clock.advance(60_000);
    await expect(r.getVariable('k')).rejects.toBeInstanceOf(ThrottledError);
  });

  it('never hides a configuration error behind a stale value', async () => {
    const { clock, cloud, r } = setup();
    await r.getVariable('k');
    clock.advance(15_000);
    cloud.failWith(() => new ConfigurationError('AIRFLOW__SECRETS__BACKEND_KWARGS', 'bad kwargs'));
    await expect(r.getVariable('k')).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe('cache settings from the environment', () => {
  it('is off unless AIRFLOW__SECRETS__USE_CACHE is true; the TTL defaults to 900 s', () => {
    expect(cacheFromEnv({})).toBe(false);
    expect(cacheFromEnv({ AIRFLOW__SECRETS__CACHE_TTL_SECONDS: '60' })).toBe(false);
    expect(cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'false' })).toBe(false);
    expect(cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'true' })).toEqual({ ttl: 900 });
    expect(
      cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'T', AIRFLOW__SECRETS__CACHE_TTL_SECONDS: ' 30 ' }),
    ).toEqual({
      ttl: 30,
    });
  });

  it.each(['-1', 'abc', '1.5', '1e3', '0x10', 'NaN', '12s'])(
    'rejects AIRFLOW__SECRETS__CACHE_TTL_SECONDS=%s naming the setting',
    (ttl) => {
      let err: unknown;
      try {
        cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'true', AIRFLOW__SECRETS__CACHE_TTL_SECONDS: ttl });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__CACHE_TTL_SECONDS');
      expect((err as Error).message).toContain('AIRFLOW__SECRETS__CACHE_TTL_SECONDS');
    },
  );

  it.each(['yes', 'maybe', '2', ''])('rejects AIRFLOW__SECRETS__USE_CACHE=%j naming the setting', (use) => {
    expect(() => cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: use })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', setting: 'AIRFLOW__SECRETS__USE_CACHE' }),
    );
  });

  const home = () => mkdtempSync(path.join(os.tmpdir(), 'airflow-secrets-cache-'));

  it('resolverFromEnv rejects a nonsense TTL with a ConfigurationError naming the setting', async () => {
    await expect(
      resolverFromEnv({
        AIRFLOW_HOME: home(),
        AIRFLOW__SECRETS__USE_CACHE: 'true',
        AIRFLOW__SECRETS__CACHE_TTL_SECONDS: '-30',
      }),
    ).rejects.toMatchObject({ name: 'ConfigurationError', setting: 'AIRFLOW__SECRETS__CACHE_TTL_SECONDS' });
  });

  it('resolverFromEnv caches lookups when AIRFLOW__SECRETS__USE_CACHE is true, and not otherwise', async () => {
    const cached: Record<string, string | undefined> = {
      AIRFLOW_HOME: home(),
      AIRFLOW__SECRETS__USE_CACHE: 'True',
      AIRFLOW__SECRETS__CACHE_TTL_SECONDS: '600',
      AIRFLOW_VAR_GREETING: 'hello',
    };
    const r1 = await resolverFromEnv(cached, { logger: capture() });
    expect(await r1.getVariable('greeting')).toBe('hello');
    cached.AIRFLOW_VAR_GREETING = 'changed';
    expect(await r1.getVariable('greeting')).toBe('hello');
    r1.invalidate('variable', 'greeting');
    expect(await r1.getVariable('greeting')).toBe('changed');
    await r1.close();

    const uncached: Record<string, string | undefined> = {
      AIRFLOW_HOME: home(),
      AIRFLOW_VAR_GREETING: 'hello',
    };
    const r2 = await resolverFromEnv(uncached, { logger: capture() });
    expect(await r2.getVariable('greeting')).toBe('hello');
    uncached.AIRFLOW_VAR_GREETING = 'changed';
    expect(await r2.getVariable('greeting')).toBe('changed');
    await r2.close();
  });
});
