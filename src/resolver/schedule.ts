/**
 * A schedule of cache entries by time, with one unref'd timer that wakes at the earliest: what the
 * cache uses to mark entries stale at their expiry, and the lookup layer to refresh them ahead of
 * it, so that a cache hit reads no clock and arms no timer. Reading the clock is most of a hit's
 * cost (`Date.now()` measured 47 ns here, against about 25 ns for the rest of the hit); arming a
 * timer inside a read costs it 10–30 µs.
 *
 * Each entry is scheduled at the time `at(entry)` gives when it is added; when the timer wakes, an
 * entry still current whose `at` has not moved since is handed to `fire`. Nodes of entries replaced
 * or rescheduled are skipped then, and dropped by a compaction when they pile up.
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

interface Node<T> {
  at: number;
  entry: T;
}

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
  readonly #heap: Node<T>[] = [];
  readonly #p: ScheduleParts<T>;
  #handle: unknown = null;
  /** When the armed timer wakes (clock ms; Infinity when none is armed). */
  #at = Number.POSITIVE_INFINITY;

  constructor(parts: ScheduleParts<T>) {
    this.#p = parts;
  }

  /** Entries waiting for their refresh time (including ones replaced since, until compacted). */
  get size(): number {
    return this.#heap.length;
  }

  /** Whether a timer is armed. */
  get armed(): boolean {
    return this.#handle !== null;
  }

  /** Schedule `e` at `at(e)` (nothing when that is not finite). */
  add(e: T): void {
    const at = this.#p.at(e);
    if (!Number.isFinite(at)) return;
    this.#push({ at, entry: e });
    if (this.#heap.length > 2 * this.#p.size() + 1024) this.#compact();
    if (at < this.#at) this.#arm(this.#p.now());
  }

  /** `clearCache()`: forget every entry (the cache dropped them) and disarm. */
  clear(): void {
    this.#heap.length = 0;
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
    const top = this.#heap[0];
    if (top === undefined) return;
    this.#at = top.at;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, top.at - now));
    this.#handle = this.#p.timers.set(() => this.#wake(), delay);
  }

  #wake(): void {
    this.#handle = null;
    this.#at = Number.POSITIVE_INFINITY;
    const now = this.#p.now();
    const heap = this.#heap;
    while (heap.length > 0 && (heap[0] as Node<T>).at <= now + SLACK_MS) {
      const { at, entry } = this.#pop();
      // Replaced, evicted, or rescheduled (its time moved): nothing to do.
      if (this.#p.at(entry) !== at || !this.#p.current(entry)) continue;
      this.#p.fire(entry);
    }
    this.#arm(now);
  }

  /** Drop the nodes whose entry is gone or rescheduled, and rebuild the heap. */
  #compact(): void {
    const live = this.#heap.filter((n) => this.#p.at(n.entry) === n.at && this.#p.current(n.entry));
    this.#heap.length = 0;
    for (const n of live) this.#push(n);
  }

  #push(n: Node<T>): void {
    const heap = this.#heap;
    let i = heap.push(n) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Node<T>).at <= n.at) break;
      heap[i] = heap[parent] as Node<T>;
      i = parent;
    }
    heap[i] = n;
  }

  #pop(): Node<T> {
    const heap = this.#heap;
    const top = heap[0] as Node<T>;
    const last = heap.pop() as Node<T>;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const c = r < heap.length && (heap[r] as Node<T>).at < (heap[l] as Node<T>).at ? r : l;
      if ((heap[c] as Node<T>).at >= last.at) break;
      heap[i] = heap[c] as Node<T>;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}
