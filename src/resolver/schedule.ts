/**
 * A schedule of cache entries by time, with one unref'd timer that wakes at the earliest: what the
 * cache uses to mark entries stale at their expiry, and the lookup layer to refresh them ahead of
 * it, so that a cache hit reads no clock and arms no timer. Reading the clock was about half of a
 * hit's cost (`Date.now()` measured 47 ns on the benchmark machine; hits went from 13 to 28 M/s
 * without it); arming a timer inside a read costs it 10–30 µs.
 *
 * Each entry is scheduled at the time `at(entry)` gives when it is added; when the timer wakes, an
 * entry still current whose `at` has not moved since is handed to `fire`. Entries replaced or
 * rescheduled are skipped then, and dropped by a compaction when they pile up.
 */

/** What the resolver schedules with: `setTimeout` unref'd (tests pass a hand-moved one). */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref(); // a refresh nobody waits for never keeps the process alive
    return t;
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The longest delay `setTimeout` takes (a longer one fires at once). */
const MAX_DELAY_MS = 2_147_483_647;
/**
 * A timer may wake up to a millisecond before its time by the clock (Node measures its delay from
 * the event loop's cached time): entries due within this much of the wake-up are taken then, rather
 * than at another wake-up a moment later.
 */
const SLACK_MS = 1;

/** What a schedule of items of type `T` (cache entries) needs to know of them. */
export interface ScheduleParts<T> {
  now: () => number;
  timers: Timers;
  /** When the entry is due (clock ms); not finite: never. */
  at: (e: T) => number;
  /** The entry is still the one cached for its id. */
  current: (e: T) => boolean;
  /** Entries in the cache now (the heap is compacted when it holds many more). */
  size: () => number;
  /** The entry's time has come. */
  fire: (e: T) => void;
}

export class Schedule<T> {
  /**
   * The min-heap, as two parallel arrays (each item's time, and the item), so that scheduling an
   * entry allocates nothing of its own: a node object cost the cache about 30 bytes per entry.
   */
  readonly #times: number[] = [];
  readonly #items: T[] = [];
  readonly #p: ScheduleParts<T>;
  #handle: unknown = null;
  /** When the armed timer wakes (clock ms; Infinity when none is armed). */
  #at = Number.POSITIVE_INFINITY;

  constructor(parts: ScheduleParts<T>) {
    this.#p = parts;
  }

  /** Items waiting for their time (including ones replaced since, until compacted). */
  get size(): number {
    return this.#items.length;
  }

  /** Whether a timer is armed. */
  get armed(): boolean {
    return this.#handle !== null;
  }

  /** Schedule `e` at `at(e)` (nothing when that is not finite). */
  add(e: T): void {
    const at = this.#p.at(e);
    if (!Number.isFinite(at)) return;
    this.#push(at, e);
    if (this.#items.length > 2 * this.#p.size() + 1024) this.#compact();
    if (at < this.#at) this.#arm(this.#p.now());
  }

  /** `clearCache()`: forget every item (the cache dropped them) and disarm. */
  clear(): void {
    this.#times.length = 0;
    this.#items.length = 0;
    this.stop();
  }

  /** `close()`: no timer is left armed (a later `add` arms one again). */
  stop(): void {
    if (this.#handle !== null) this.#p.timers.clear(this.#handle);
    this.#handle = null;
    this.#at = Number.POSITIVE_INFINITY;
  }

  #arm(now: number): void {
    this.stop();
    if (this.#items.length === 0) return;
    const at = this.#times[0] as number;
    this.#at = at;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, at - now));
    this.#handle = this.#p.timers.set(() => this.#wake(), delay);
  }

  #wake(): void {
    this.#handle = null;
    this.#at = Number.POSITIVE_INFINITY;
    const now = this.#p.now();
    while (this.#items.length > 0 && (this.#times[0] as number) <= now + SLACK_MS) {
      const at = this.#times[0] as number;
      const item = this.#pop();
      // Replaced, evicted, or rescheduled (its time moved): nothing to do.
      if (this.#p.at(item) !== at || !this.#p.current(item)) continue;
      this.#p.fire(item);
    }
    this.#arm(now);
  }

  /** Drop the items that are gone or rescheduled, and rebuild the heap. */
  #compact(): void {
    const times = this.#times.splice(0);
    const items = this.#items.splice(0);
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as T;
      const at = times[i] as number;
      if (this.#p.at(item) === at && this.#p.current(item)) this.#push(at, item);
    }
  }

  #push(at: number, item: T): void {
    const times = this.#times;
    const items = this.#items;
    let i = items.length;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt <= at) break;
      times[i] = pt;
      items[i] = items[parent] as T;
      i = parent;
    }
    times[i] = at;
    items[i] = item;
  }

  /** Take the earliest item off the heap. */
  #pop(): T {
    const times = this.#times;
    const items = this.#items;
    const top = items[0] as T;
    const lastAt = times.pop() as number;
    const last = items.pop() as T;
    const n = items.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (times[r] as number) < (times[l] as number) ? r : l;
      const ct = times[c] as number;
      if (ct >= lastAt) break;
      times[i] = ct;
      items[i] = items[c] as T;
      i = c;
    }
    times[i] = lastAt;
    items[i] = last;
    return top;
  }
}
