/**
 * Sets of code points as sorted, half-open ranges: a flat array of boundaries
 * `[start0, end0, start1, end1, …]` with `start < end` and `end_i < start_{i+1}`. Every operation
 * is linear in the number of ranges.
 */
export type CodeSet = readonly number[];

export const MAX_CODE_POINT = 0x10ffff;
const END = MAX_CODE_POINT + 1;

export const EMPTY: CodeSet = [];
export const ALL: CodeSet = [0, END];

/** The set of one code point. */
export function single(c: number): CodeSet {
  return [c, c + 1];
}

/** The set `[lo, hi]` (inclusive). */
export function range(lo: number, hi: number): CodeSet {
  return lo > hi ? EMPTY : [lo, hi + 1];
}

/** Build a set from code points in any order, with repeats. */
export function fromPoints(points: Iterable<number>): CodeSet {
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  const out: number[] = [];
  for (const c of sorted) {
    if (out.length > 0 && out[out.length - 1] === c) out[out.length - 1] = c + 1;
    else out.push(c, c + 1);
  }
  return out;
}

/** Merge boundary lists with a predicate on (inA, inB). */
function combine(a: CodeSet, b: CodeSet, keep: (inA: boolean, inB: boolean) => boolean): CodeSet {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  let inA = false;
  let inB = false;
  let inOut = false;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Number.POSITIVE_INFINITY;
    const y = j < b.length ? b[j]! : Number.POSITIVE_INFINITY;
    const p = Math.min(x, y);
    if (x === p) {
      inA = !inA;
      i++;
    }
    if (y === p) {
      inB = !inB;
      j++;
    }
    const now = keep(inA, inB);
    if (now !== inOut) {
      if (out.length > 0 && out[out.length - 1] === p) out.pop();
      else out.push(p);
      inOut = now;
    }
  }
  return out;
}

export const union = (a: CodeSet, b: CodeSet): CodeSet =>
  a.length === 0 ? b : b.length === 0 ? a : combine(a, b, (x, y) => x || y);
export const intersect = (a: CodeSet, b: CodeSet): CodeSet => combine(a, b, (x, y) => x && y);
export const subtract = (a: CodeSet, b: CodeSet): CodeSet => combine(a, b, (x, y) => x && !y);
export const complement = (a: CodeSet): CodeSet => combine(ALL, a, (x, y) => x && !y);

export function unionAll(sets: readonly CodeSet[]): CodeSet {
  let out: CodeSet = EMPTY;
  for (const s of sets) out = union(out, s);
  return out;
}

/** Whether `c` is in the set (binary search). */
export function has(set: CodeSet, c: number): boolean {
  let lo = 0;
  let hi = set.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (set[mid]! <= c) lo = mid + 1;
    else hi = mid;
  }
  return (lo & 1) === 1;
}

export const isEmpty = (set: CodeSet): boolean => set.length === 0;

/** Number of ranges. */
export const rangeCount = (set: CodeSet): number => set.length / 2;

/** Decode `a b c …` base-36 deltas between boundaries (the generated tables' format). */
export function decodeRanges(text: string): CodeSet {
  const out: number[] = [];
  let prev = 0;
  for (const part of text.split(' ')) {
    if (part === '') continue;
    prev += Number.parseInt(part, 36);
    out.push(prev);
  }
  return out;
}
