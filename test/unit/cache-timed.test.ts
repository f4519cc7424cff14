/**
 * Issue 15 item 5 (the hit path): on the default clock the cache is timed — an expiry schedule
 * marks entries stale at their expiry, so a hit reads no clock (reading it was most of a hit's
 * cost). With a clock of the caller's and no timers that follow it, every hit reads that clock, as
 * before; after close() the cache goes back to reading the clock and arms nothing. Time and timers
 * are moved by hand; no timed assertions.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { LookupCache } from '../../src/resolver/cache.js';
import { createResolverWith } from '../../src/resolver/index.js';
import { drain, gated } from '../helpers/gated.js';
import { manual } from '../helpers/manual-time.js';

/** `manual()`'s clock, counting its reads. */
function counted(m: ReturnType<typeof manual>) {
  let reads = 0;
  return {
    now: () => {
      reads++;
      return m.now();
    },
    reads: () => reads,
  };
}

describe('a timed cache (a clock and timers that follow it)', () => {
  it('answers hits without reading the clock, and expires each entry at its expiry', () => {
    const m = manual();
    const clock = counted(m);
    const c = new LookupCache<string>({ ttl: 100, jitter: 0, now: clock.now }, m.timers);
    c.set('variable', 'k', 'v', 'src');
    const before = clock.reads();
    for (let i = 0; i < 1000; i++) expect(c.hit('variable', 'k')?.value).toBe('v');
    expect(clock.reads()).toBe(before);
    m.advance(99_998); // just before its expiry: still fresh
    expect(c.hit('variable', 'k')?.value).toBe('v');
    m.advance(2);
    expect(c.hit('variable', 'k')).toBeUndefined();
    // The clock path agrees, and the entry is kept for stale-if-error rules.
    expect(c.get('variable', 'k')).toBeUndefined();
    expect(c.peek('variable', 'k')?.value).toBe('v');
  });

  it('a per-call maxAge still reads the clock', () => {
    const m = manual();
    const clock = counted(m);
    const c = new LookupCache<string>({ ttl: 100, jitter: 0, now: clock.now }, m.timers);
    c.set('variable', 'k', 'v', 'src');
    m.advance(10_000);
    const before = clock.reads();
    expect(c.hit('variable', 'k', 5_000)).toBeUndefined();
    expect(c.hit('variable', 'k', 20_000)?.value).toBe('v');
    expect(clock.reads()).toBe(before + 2);
  });

  it('an entry stored with no TTL (kept for stale-if-error only) is never fresh', () => {
    const m = manual();
    const c = new LookupCache<string>({ ttl: 0, staleIfError: 60, now: m.now }, m.timers);
    c.set('variable', 'k', 'v', 'src');
    expect(c.hit('variable', 'k')).toBeUndefined();
    expect(c.getStale('variable', 'k')?.value).toBe('v');
    expect(m.armed()).toBe(0);
  });

  it('an entry replaced before its expiry is not expired by the old one’s time', () => {
    const m = manual();
    const c = new LookupCache<string>({ ttl: 100, jitter: 0, now: m.now }, m.timers);
    c.set('variable', 'k', 'v1', 'src');
    m.advance(50_000);
    c.set('variable', 'k', 'v2', 'src');
    m.advance(60_000); // past the first entry's expiry, within the second's
    expect(c.hit('variable', 'k')?.value).toBe('v2');
    m.advance(40_000);
    expect(c.hit('variable', 'k')).toBeUndefined();
  });

  it('stopTimers(): disarmed, and hits read the clock from then on (still expiring)', () => {
    const m = manual();
    const clock = counted(m);
    const c = new LookupCache<string>({ ttl: 100, jitter: 0, now: clock.now }, m.timers);
    c.set('variable', 'k', 'v', 'src');
    expect(m.armed()).toBe(1);
    c.stopTimers();
    expect(m.armed()).toBe(0);
    const before = clock.reads();
    expect(c.hit('variable', 'k')?.value).toBe('v');
    expect(clock.reads()).toBe(before + 1);
    m.advance(100_000);
    expect(c.hit('variable', 'k')).toBeUndefined();
  });
});

describe('a cache on a clock of the caller’s, with no timers that follow it', () => {
  it('reads that clock on every hit (a fake clock moves expiry as it always did)', () => {
    let t = 0;
    let reads = 0;
    const c = new LookupCache<string>({
      ttl: 100,
      jitter: 0,
      now: () => {
        reads++;
        return t;
      },
    });
    c.set('variable', 'k', 'v', 'src');
    const before = reads;
    expect(c.hit('variable', 'k')?.value).toBe('v');
    expect(reads).toBe(before + 1);
    t = 100_000;
    expect(c.hit('variable', 'k')).toBeUndefined();
  });
});

describe('the resolver and its timed cache', () => {
  it('close() stops the expiry timer; cached answers still expire, by the clock', async () => {
    const m = manual();
    const a = gated('a', { variables: { k: 'v1' } });
    const r = createResolverWith(
      { backends: [a.backend], cache: { ttl: 100, jitter: 0, now: m.now }, logger: silentLogger },
      { timers: m.timers },
    );
    await drain(r.getVariable('k'), a);
    expect(m.armed()).toBe(1);
    await r.close();
    expect(m.armed()).toBe(0);
    expect(await r.getVariable('k')).toBe('v1'); // still cached
    m.advance(100_000);
    const p = r.getVariable('k');
    expect(r.stats().cache.misses).toBe(2); // expired: a walk
    await drain(p, a);
  });
});
