/**
 * Refresh ahead on a timer. Every entry stored with a refresh time (`cache.refreshAhead`) goes
 * into a min-heap by that time, and one unref'd timer per resolver wakes at the earliest. When it
 * wakes, an entry that was read since it was stored is handed to `due` (the lookup layer refreshes
 * it in the background), so the reads themselves do no refresh work: arming a timer costs a read
 * 10–30 µs, more than the read. An entry nobody read is left alone; the first read after its
 * refresh time asks for the refresh instead (`LookupCache.hit`), and one nobody reads expires.
 *
 * The timer runs on real time. With an injected clock (`cache.now`) it wakes, finds nothing due on
 * that clock, and waits again; reads past the refresh time drive the refreshes there.
 */
import type { CacheEntry } from './cache.js';

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
 * than left to the next read.
 */
const SLACK_MS = 1;

interface Node<V> {
  at: number;
  entry: CacheEntry<V>;
}

export interface AheadParts<V> {
  now: () => number;
  timers: Timers;
  /** The entry is still the one cached for its id. */
  current: (e: CacheEntry<V>) => boolean;
  /** It was read since it was stored. */
  wasRead: (e: CacheEntry<V>) => boolean;
  /** Entries in the cache now (the heap is compacted when it holds many more). */
  size: () => number;
  due: (e: CacheEntry<V>) => void;
}

export class AheadTimer<V> {
  readonly #heap: Node<V>[] = [];
  readonly #p: AheadParts<V>;
  #handle: unknown = null;
  /** When the armed timer wakes (clock ms; Infinity when none is armed). */
  #at = Number.POSITIVE_INFINITY;

  constructor(parts: AheadParts<V>) {
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

  /** Schedule `e` at its `refreshAt` (nothing for an entry without one). */
  add(e: CacheEntry<V>): void {
    const at = e.refreshAt;
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
    while (heap.length > 0 && (heap[0] as Node<V>).at <= now + SLACK_MS) {
      const { at, entry } = this.#pop();
      // Replaced, evicted, or already being refreshed (its refreshAt moved): nothing to do.
      if (entry.refreshAt !== at || !this.#p.current(entry)) continue;
      if (this.#p.wasRead(entry)) this.#p.due(entry);
    }
    this.#arm(now);
  }

  /** Drop the nodes whose entry is gone or rescheduled, and rebuild the heap. */
  #compact(): void {
    const live = this.#heap.filter((n) => n.entry.refreshAt === n.at && this.#p.current(n.entry));
    this.#heap.length = 0;
    for (const n of live) this.#push(n);
  }

  #push(n: Node<V>): void {
    const heap = this.#heap;
    let i = heap.push(n) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Node<V>).at <= n.at) break;
      heap[i] = heap[parent] as Node<V>;
      i = parent;
    }
    heap[i] = n;
  }

  #pop(): Node<V> {
    const heap = this.#heap;
    const top = heap[0] as Node<V>;
    const last = heap.pop() as Node<V>;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const c = r < heap.length && (heap[r] as Node<V>).at < (heap[l] as Node<V>).at ? r : l;
      if ((heap[c] as Node<V>).at >= last.at) break;
      heap[i] = heap[c] as Node<V>;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}
