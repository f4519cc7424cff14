/**
 * A hand-moved clock with timers that follow it, for the resolver's schedules (expiry, refresh
 * ahead): pass `now` as `cache.now` and `timers` as `createResolverWith`'s `timers`.
 */
import type { Timers } from '../../src/resolver/schedule.js';

interface Pending {
  at: number;
  fn: () => void;
}

/** A clock and timers moved together by `advance` (timers fire in time order, each at its time). */
export function manual(start = 1_000_000) {
  let t = start;
  const pending = new Set<Pending>();
  const timers: Timers = {
    set(fn, ms) {
      const h = { at: t + ms, fn };
      pending.add(h);
      return h;
    },
    clear: (h) => void pending.delete(h as Pending),
  };
  return {
    now: () => t,
    timers,
    armed: () => pending.size,
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        let next: Pending | undefined;
        for (const p of pending) if (p.at <= end && (next === undefined || p.at < next.at)) next = p;
        if (next === undefined) break;
        pending.delete(next);
        t = Math.max(t, next.at);
        next.fn();
      }
      t = end;
    },
  };
}
