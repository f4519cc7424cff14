/**
 * Issue 15 item 1, the timer that drives refresh ahead: an entry read since it was stored is
 * refreshed at its refresh time with no read then (reads do no refresh work), one nobody read is
 * left to the next read or to expiry, one timer per resolver, nothing armed after close(), and the
 * real timer never keeps the process alive. Time and timers are moved by hand; no timed assertions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import type { CacheEntry } from '../../src/resolver/cache.js';
import { createResolverWith } from '../../src/resolver/index.js';
import { Schedule } from '../../src/resolver/schedule.js';
import { runChild, src } from '../helpers/child.js';
import { drain, gated, settle } from '../helpers/gated.js';
import { manual } from '../helpers/manual-time.js';

function setup() {
  const m = manual();
  const a = gated('a', { variables: { k: 'v1', j: 'w1', i: 'u1' } });
  const r = createResolverWith(
    {
      backends: [a.backend],
      cache: { ttl: 100, refreshAhead: 0.8, jitter: 0, now: m.now },
      logger: silentLogger,
    },
    { timers: m.timers },
  );
  return { m, a, r };
}

describe('refresh ahead on a timer', () => {
  it('refreshes an entry read since it was stored at its refresh time, with no read then', async () => {
    const { m, a, r } = setup();
    await drain(r.getVariable('k'), a);
    a.values.variables.k = 'v2';
    m.advance(10_000);
    expect(await r.getVariable('k')).toBe('v1'); // read once, early in the window
    m.advance(69_999);
    expect(a.calls).toHaveLength(1);
    m.advance(1); // 80 s: the timer takes it
    expect(a.calls).toHaveLength(2);
    expect(r.stats().cache.refreshes).toBe(1);
    await a.release();
    const misses = r.stats().cache.misses;
    expect(await r.getVariable('k')).toBe('v2');
    expect(r.stats().cache.misses).toBe(misses); // answered from the cache
  });

  it('keeps an id read once per window off the backend, however early in the window it is read', async () => {
    const { m, a, r } = setup();
    await drain(r.getVariable('k'), a);
    let waited = 0;
    for (let w = 0; w < 5; w++) {
      m.advance(10_000);
      const misses = r.stats().cache.misses;
      await r.getVariable('k');
      if (r.stats().cache.misses !== misses) waited++;
      m.advance(70_000); // to the refresh time (80 s after the last store)
      await a.release();
    }
    expect(waited).toBe(0);
    expect(a.calls).toHaveLength(6);
  });

  it('leaves an entry nobody read since it was stored: no refresh, it expires', async () => {
    const { m, a, r } = setup();
    await drain(r.getVariable('k'), a);
    m.advance(80_000);
    expect(a.calls).toHaveLength(1);
    expect(r.stats().cache.refreshes).toBe(0);
    m.advance(20_000); // expired: the next read waits on the backend
    const p = r.getVariable('k');
    await settle();
    expect(r.stats().cache.misses).toBe(2);
    await drain(p, a);
  });

  it('a read after the refresh time of an entry the timer left still asks for the refresh', async () => {
    const { m, a, r } = setup();
    await drain(r.getVariable('k'), a);
    m.advance(85_000); // the timer woke at 80 s and found it unread
    expect(await r.getVariable('k')).toBe('v1');
    await settle();
    expect(a.calls).toHaveLength(2);
    expect(r.stats().cache.refreshes).toBe(1);
    await a.release();
  });

  it('arms one timer per schedule (expiry, refresh ahead), each for the earliest time', async () => {
    const { m, a, r } = setup();
    await drain(r.getVariable('k'), a);
    m.advance(5_000);
    await drain(Promise.all([r.getVariable('j'), r.getVariable('i')]), a);
    expect(m.armed()).toBe(2);
    await r.getVariable('k');
    await r.getVariable('j');
    m.advance(75_000); // 80 s after k: only k is due
    expect(a.calls.map((c) => c.id)).toEqual(['k', 'j', 'i', 'k']);
    m.advance(5_000); // j is due; i was never read again
    expect(a.calls.map((c) => c.id)).toEqual(['k', 'j', 'i', 'k', 'j']);
    await a.release();
  });

  it('close() leaves no timer armed and starts no refresh after it', async () => {
    const { m, a, r } = setup();
    await drain(r.getVariable('k'), a);
    await r.getVariable('k');
    expect(m.armed()).toBe(2);
    await r.close();
    expect(m.armed()).toBe(0);
    m.advance(90_000);
    expect(a.calls).toHaveLength(1);
  });

  it('a failed refresh is tried again by the timer at its retry time', async () => {
    const { m, a, r } = setup();
    await drain(r.getVariable('k'), a);
    await r.getVariable('k');
    a.failWith(() => new Error('backend down'));
    m.advance(80_000);
    expect(a.calls).toHaveLength(2);
    await a.release(); // fails: kept until 100 s, tried again after half the time left (10 s)
    a.failWith(null);
    await r.getVariable('k'); // read since
    m.advance(10_000);
    expect(a.calls).toHaveLength(3);
    await a.release();
  });
});

describe('Schedule', () => {
  const entry = (id: string, refreshAt: number) =>
    ({
      kind: 'variable',
      id,
      value: 'v',
      source: 's',
      storedAt: 0,
      expiresAt: 2e9,
      refreshAt,
      settled: undefined,
    }) as CacheEntry<string>;

  it('compacts: entries replaced before their refresh time do not pile up', () => {
    const m = manual(0);
    let live = new Set<CacheEntry<string>>();
    const t = new Schedule<CacheEntry<string>>({
      now: m.now,
      timers: m.timers,
      at: (e) => e.refreshAt,
      current: (e) => live.has(e),
      size: () => live.size,
      fire: () => {},
    });
    for (let round = 0; round < 50; round++) {
      live = new Set(Array.from({ length: 100 }, (_, i) => entry(`id${i}`, 1_000_000 + round)));
      for (const e of live) t.add(e);
    }
    expect(t.size).toBeLessThanOrEqual(2 * 100 + 1024 + 1);
  });

  it('clear() forgets every entry and disarms', () => {
    const m = manual(0);
    const t = new Schedule<CacheEntry<string>>({
      now: m.now,
      timers: m.timers,
      at: (e) => e.refreshAt,
      current: () => true,
      size: () => 2,
      fire: () => {
        throw new Error('nothing is due after clear()');
      },
    });
    t.add(entry('a', 100));
    t.add(entry('b', 200));
    expect([t.size, t.armed]).toEqual([2, true]);
    t.clear();
    expect([t.size, t.armed, m.armed()]).toEqual([0, false, 0]);
    m.advance(1000);
  });

  it('hands the due entries over in time order, each once, skipping those no longer current', () => {
    const m = manual(0);
    const seen: string[] = [];
    const all = [entry('c', 300), entry('a', 100), entry('b', 200), entry('d', 300)];
    const t = new Schedule<CacheEntry<string>>({
      now: m.now,
      timers: m.timers,
      at: (e) => e.refreshAt,
      current: (e) => e.id !== 'd',
      size: () => all.length,
      fire: (e) => void seen.push(e.id),
    });
    for (const e of all) t.add(e);
    m.advance(250);
    expect(seen).toEqual(['a', 'b']);
    m.advance(1000);
    expect(seen).toEqual(['a', 'b', 'c']); // d was replaced
    expect(t.armed).toBe(false);
  });

  it('hands over any set of items in time order, each once (property, 300 runs)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10_000 }), { maxLength: 200 }), (times) => {
        const m = manual(0);
        const fired: number[] = [];
        const items = times.map((t, i) => entry(`i${i}`, t));
        const t = new Schedule<CacheEntry<string>>({
          now: m.now,
          timers: m.timers,
          at: (e) => e.refreshAt,
          current: () => true,
          size: () => items.length,
          fire: (e) => void fired.push(e.refreshAt),
        });
        for (const e of items) t.add(e);
        m.advance(20_000);
        expect(fired).toEqual([...times].sort((a, b) => a - b));
        expect(t.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('skips an entry whose time moved after it was added (it is handed over at the new time)', () => {
    const m = manual(0);
    const seen: Array<[string, number]> = [];
    const a = entry('a', 100);
    const t = new Schedule<CacheEntry<string>>({
      now: m.now,
      timers: m.timers,
      at: (e) => e.refreshAt,
      current: () => true,
      size: () => 1,
      fire: (e) => void seen.push([e.id, m.now()]),
    });
    t.add(a);
    a.refreshAt = 500;
    t.add(a);
    m.advance(1000);
    expect(seen).toEqual([['a', 500]]);
  });
});

describe('the real timer', () => {
  it('does not keep the process alive', async () => {
    const { code, stdout } = await runChild(`
      const { createResolver, silentLogger } = await import(${src('index.ts')});
      const b = { name: 'b', locate: (_k, id) => ({ name: id }), getVariable: async () => 'v', getConnection: async () => null };
      const r = createResolver({ backends: [b], logger: silentLogger, cache: { ttl: 3600, refreshAhead: 0.8 } });
      await r.getVariable('k');
      await r.getVariable('k'); // read since stored: the timer (48 min away) would refresh it
      console.log('armed', r.stats().cache.hits);
    `);
    expect(stdout).toContain('armed 1');
    expect(code).toBe(0);
  });
});

describe('clearCache and the refresh-ahead timer', () => {
  it('clearCache() disarms the timer and keeps no dropped entry waiting for its refresh time', async () => {
    const m = manual();
    const a = gated('a', { variables: { k: 'v1' } });
    const r = createResolverWith(
      {
        backends: [a.backend],
        cache: { ttl: 100, refreshAhead: 0.8, jitter: 0, now: m.now },
        logger: silentLogger,
      },
      { timers: m.timers },
    );
    await drain(r.getVariable('k'), a);
    await r.getVariable('k');
    expect(m.armed()).toBe(2);
    r.clearCache();
    expect(m.armed()).toBe(0);
    m.advance(90_000);
    expect(a.calls).toHaveLength(1);
  });
});
