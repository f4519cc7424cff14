/**
 * Issue 15 item 1 (refresh ahead of expiry, TTL jitter) and issue 11 item 13 (misses have their own
 * bounded segment and cannot evict answers). Time is a hand-moved clock; no timed assertions.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ThrottledError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { LookupCache } from '../../src/resolver/cache.js';
import { createResolver } from '../../src/resolver/index.js';
import { drain, gated, settle } from '../helpers/gated.js';

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
}

/** Whether `p` has settled after the pending callbacks ran (a caller that did not wait on a backend). */
async function settledNow<T>(p: Promise<T>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await settle();
  return done;
}

describe('refreshAhead', () => {
  const setup = (extra: Record<string, unknown> = {}) => {
    const c = clock();
    const a = gated('a', { variables: { k: 'v1' } });
    const logger = capture();
    const r = createResolver({
      backends: [a.backend],
      cache: { ttl: 100, refreshAhead: 0.8, jitter: 0, now: c.now, ...extra },
      logger,
    });
    return { c, a, r, logger };
  };

  it('re-reads an entry in use in the background: no caller waits, one refresh per id', async () => {
    const { c, a, r } = setup();
    await drain(r.getVariable('k'), a);
    a.values.variables.k = 'v2';
    c.advance(79_999);
    expect(await r.getVariable('k')).toBe('v1');
    expect(a.calls).toHaveLength(1); // not yet due
    c.advance(1);
    // Due: each read is answered from the cache at once while one refresh runs.
    const reads = [r.getVariable('k'), r.getVariable('k'), r.getVariable('k')];
    for (const p of reads) expect(await settledNow(p)).toBe(true);
    expect(await Promise.all(reads)).toEqual(['v1', 'v1', 'v1']);
    expect(a.calls).toHaveLength(2);
    expect(r.stats().cache.refreshes).toBe(1);
    await a.release();
    expect(await r.getVariable('k')).toBe('v2');
    expect(a.calls).toHaveLength(2);
    // The refreshed entry has a full TTL of its own: due again 80 s after the refresh.
    c.advance(79_999);
    expect(await r.getVariable('k')).toBe('v2');
    expect(a.calls).toHaveLength(2);
  });

  it('keeps every reader off the backend across many TTL windows, as long as the id is read', async () => {
    const { c, a, r } = setup();
    await drain(r.getVariable('k'), a);
    let waited = 0;
    for (let step = 0; step < 50; step++) {
      c.advance(10_000); // 500 s: five TTL windows
      const p = r.getVariable('k');
      if (!(await settledNow(p))) waited++;
      await a.release();
    }
    expect(waited).toBe(0);
    expect(a.calls.length).toBeGreaterThanOrEqual(6);
  });

  it('is coalesced with lookups: an entry that expires while its refresh runs is answered by it', async () => {
    const { c, a, r } = setup();
    await drain(r.getVariable('k'), a);
    a.values.variables.k = 'v2';
    c.advance(90_000);
    expect(await r.getVariable('k')).toBe('v1'); // starts the refresh
    c.advance(20_000); // expired now
    const late = r.getVariable('k');
    await settle();
    expect(a.calls).toHaveLength(2); // joined the refresh, no second read
    await drain(late, a);
    expect(await late).toBe('v2');
  });

  it('a failed refresh keeps the value until expiry, with a warning, then staleIfError applies', async () => {
    const { c, a, r, logger } = setup({ staleIfError: 60 });
    await drain(r.getVariable('k'), a);
    a.failWith(() => new ThrottledError('a', 'a: throttled'));
    c.advance(85_000);
    expect(await r.getVariable('k')).toBe('v1');
    await settle(); // the refresh starts on the next turn of the event loop
    await a.release();
    expect(logger.warnings.join('\n')).toContain("Could not refresh variable 'k'");
    expect(logger.warnings.join('\n')).not.toContain('v1');
    expect(await r.getVariable('k')).toBe('v1'); // kept, fresh until 100 s
    expect(r.stats().cache.refreshFailures).toBe(1);
    // Not retried on every read: the next attempt waits half the time left (at least 1 s).
    expect(a.calls).toHaveLength(2);
    c.advance(20_000); // expired: the lookup walks, fails, and stale-if-error serves the last value
    const p = r.getVariable('k');
    await drain(p, a);
    expect(await p).toBe('v1');
    expect(r.stats().cache.staleAnswers).toBe(1);
  });

  it('starts the refresh on the next turn, not inside the read that found the entry due', async () => {
    const { c, a, r } = setup();
    await drain(r.getVariable('k'), a);
    c.advance(80_000);
    const reads = [r.getVariable('k'), r.getVariable('k')];
    expect(a.calls).toHaveLength(1); // the reads returned without calling the backend
    expect(r.stats().cache.refreshes).toBe(0);
    await new Promise((done) => setImmediate(done));
    expect(a.calls).toHaveLength(2); // one refresh for both reads
    expect(r.stats().cache.refreshes).toBe(1);
    expect(await Promise.all(reads)).toEqual(['v1', 'v1']);
    await a.release();
  });

  it('close() drops a refresh that has not started: nothing runs after it, and the entry is due again', async () => {
    const { c, a, r } = setup();
    await drain(r.getVariable('k'), a);
    c.advance(80_000);
    expect(await r.getVariable('k')).toBe('v1');
    await r.close();
    await settle();
    expect(a.calls).toHaveLength(1);
    expect(r.stats().inFlight).toBe(0);
    // The resolver still answers after close(); the next read of the entry asks for the refresh again.
    expect(await r.getVariable('k')).toBe('v1');
    await settle();
    expect(a.calls).toHaveLength(2);
    await a.release();
  });

  it('a refresh due for an entry that was invalidated before it started is not run', async () => {
    const { c, a, r } = setup();
    await drain(r.getVariable('k'), a);
    c.advance(80_000);
    expect(await r.getVariable('k')).toBe('v1');
    r.invalidate('variable', 'k');
    await settle();
    expect(a.calls).toHaveLength(1);
    expect(r.stats().cache.refreshes).toBe(0);
  });

  it('a refresh that finds the id gone caches the miss', async () => {
    const { c, a, r } = setup();
    await drain(r.getVariable('k'), a);
    delete a.values.variables.k;
    c.advance(85_000);
    expect(await r.getVariable('k')).toBe('v1');
    await settle(); // the refresh starts on the next turn of the event loop
    await a.release();
    expect(await r.getVariable('k')).toBeNull();
  });

  it('rejects a refreshAhead that is not a fraction between 0 and 1', () => {
    for (const bad of [0, 1, 1.5, -0.2, Number.NaN, '0.8']) {
      expect(() => new LookupCache({ refreshAhead: bad as never })).toThrow(/cache\.refreshAhead/);
    }
  });
});

describe('TTL jitter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('spreads TTLs over ±10% by default', () => {
    const c = new LookupCache<string>({ ttl: 100, now: () => 0 });
    const ttls = new Set<number>();
    for (let i = 0; i < 200; i++) {
      c.set('variable', `k${i}`, 'v', 's');
      const e = c.peek('variable', `k${i}`)!;
      expect(e.expiresAt).toBeGreaterThanOrEqual(90_000);
      expect(e.expiresAt).toBeLessThanOrEqual(110_000);
      ttls.add(e.expiresAt);
    }
    expect(ttls.size).toBeGreaterThan(100);
  });

  it('applies to misses and to the refresh time, and is exact with jitter 0', () => {
    vi.spyOn(Math, 'random').mockReturnValue(1); // the top of the range
    const c = new LookupCache<string | null>({
      ttl: 100,
      negativeTtl: 10,
      refreshAhead: 0.5,
      jitter: 0.2,
      now: () => 0,
    });
    c.set('variable', 'hit', 'v', 's');
    c.set('variable', 'miss', null, null);
    expect(c.peek('variable', 'hit')).toMatchObject({ expiresAt: 120_000, refreshAt: 60_000 });
    expect(c.peek('variable', 'miss')).toMatchObject({ expiresAt: 12_000 });
    const exact = new LookupCache<string>({ ttl: 100, jitter: 0, now: () => 0 });
    exact.set('variable', 'k', 'v', 's');
    expect(exact.peek('variable', 'k')?.expiresAt).toBe(100_000);
  });

  it('rejects a jitter outside 0 to 0.5', () => {
    for (const bad of [-0.1, 0.6, Number.POSITIVE_INFINITY, '0.1']) {
      expect(() => new LookupCache({ jitter: bad as never })).toThrow(/cache\.jitter/);
    }
  });
});

describe('misses cannot evict answers (issue 11 item 13)', () => {
  it('a stream of 300,000 made-up ids leaves every real answer cached', async () => {
    const real = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`real_${i}`, `value_${i}`]));
    let calls = 0;
    const r = createResolver({
      backends: [
        {
          name: 'store',
          locate: (_k, id) => ({ name: id }),
          getVariable: async (k) => {
            calls++;
            return real[k] ?? null;
          },
          getConnection: async () => null,
        },
      ],
      cache: { maxEntries: 1_000 },
    });
    for (const k of Object.keys(real)) await r.getVariable(k);
    expect(calls).toBe(500);
    for (let i = 0; i < 300_000; i++) await r.getVariable(`made_up_${i}`);
    calls = 0;
    for (const [k, v] of Object.entries(real)) expect(await r.getVariable(k)).toBe(v);
    expect(calls).toBe(0); // every real answer came from the cache
    const { cache } = r.stats();
    expect(cache.size).toBeLessThanOrEqual(1_000);
    expect(cache.negativeEntries).toBe(100); // a tenth of maxEntries by default
  });

  it('answers evict misses first, then answers; a miss evicts only misses', () => {
    const c = new LookupCache<string | null>({ ttl: 100, maxEntries: 4, maxMisses: 2 });
    c.set('variable', 'a1', 'v', 's');
    c.set('variable', 'm1', null, null);
    c.set('variable', 'm2', null, null);
    c.set('variable', 'm3', null, null); // evicts m1, never a1
    expect([c.peek('variable', 'm1'), c.size, c.misses]).toEqual([undefined, 3, 2]);
    c.set('variable', 'a2', 'v', 's');
    c.set('variable', 'a3', 'v', 's'); // full: evicts the oldest miss
    expect(c.peek('variable', 'm2')).toBeUndefined();
    c.set('variable', 'a4', 'v', 's');
    expect(c.misses).toBe(0);
    c.set('variable', 'm4', null, null); // only answers left: the miss is not stored
    expect(c.peek('variable', 'm4')).toBeUndefined();
    expect(['a1', 'a2', 'a3', 'a4'].every((k) => c.peek('variable', k))).toBe(true);
  });

  it('rejects a maxMisses that is not a whole number >= 1', () => {
    expect(() => new LookupCache({ maxMisses: 0 })).toThrow(/cache\.maxMisses/);
  });
});
