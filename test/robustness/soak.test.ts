/**
 * The soak test, small: 5,000 lookups at concurrency 256 through a three-backend chain with 1% (and,
 * harder, 20%) injected faults and jittered latency. Invariants only, no timing: every lookup is
 * answered with the right value or rejected with a typed error, none is lost, memory stays bounded.
 * The full run (100,000 lookups) is `npm run soak`; its figures are in docs/reliability.md.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak.js';

describe('soak (in-suite size)', () => {
  it.each([0.01, 0.2])(
    'answers or rejects with a typed error every one of 5,000 lookups at error rate %d',
    async (errorRate) => {
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => void unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      try {
        const r = await runSoak({ lookups: 5_000, concurrency: 256, errorRate, seed: 7, deadlineMs: 25_000 });
        expect(r.lost).toBe(0);
        expect(r.settled).toBe(5_000);
        expect(r.found + r.notFound + r.typedErrors).toBe(5_000);
        expect(r.wrong).toBe(0);
        expect(r.untyped).toBe(0);
        expect(r.injected).toBeGreaterThan(0);
        expect(r.typedErrors).toBeGreaterThan(0);
        expect(Object.keys(r.byReason).sort()).toEqual(
          errorRate >= 0.2
            ? ['access-denied', 'malformed', 'throttled', 'timeout', 'unavailable']
            : expect.any(Array),
        );
        // Bounded memory: a generous ceiling for a 5,000-lookup run (a leak per lookup would show).
        expect(r.rssMb.max - r.rssMb.start).toBeLessThan(256);
      } finally {
        await new Promise((resolve) => setTimeout(resolve, 20));
        process.off('unhandledRejection', onUnhandled);
      }
      expect(unhandled).toEqual([]);
    },
    60_000,
  );
});
