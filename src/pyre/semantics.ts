/**
 * Which code points one Python "character" item matches, computed exactly as CPython 3.11's
 * compiler and engine decide it (`_compiler._compile`, `_optimize_charset`, `sre_lib.h`):
 *
 * - without IGNORECASE, a literal is itself and a set is the union of its members;
 * - with IGNORECASE, a cased literal matches every code point whose lowercase is its lowercase
 *   (plus `_EXTRA_CASES`, e.g. `s`/`ſ`, `µ`/`μ`); a set containing anything cased is tested
 *   against the lowercase of the input code point, its non-BMP ranges also against the uppercase
 *   of that (`RANGE_UNI_IGNORE`), and its non-BMP literals unlowered (a CPython quirk we keep);
 * - ASCII mode (`(?a)`) lowers ASCII letters only.
 */
import { FLAG, type SetItem } from './ast.js';
import {
  ALL,
  type CodeSet,
  complement,
  EMPTY,
  fromPoints,
  has,
  intersect,
  isEmpty,
  range,
  single,
  union,
  unionAll,
} from './charset.js';
import {
  asciiIsCased,
  asciiLower,
  casedSet,
  categorySet,
  extraCaseKeys,
  extraCasesFor,
  image,
  lowerMapFor,
  preimage,
  preimageOfPoints,
  unicodeIsCased,
  unicodeLower,
  upperPreimage,
} from './unicode.js';

const BMP_END = 0x10000;

const literalCache = new Map<string, CodeSet>();

/** `LITERAL c` under `flags`. */
export function literalSet(c: number, flags: number): CodeSet {
  if (!(flags & FLAG.IGNORECASE)) return single(c);
  const unicode = Boolean(flags & FLAG.UNICODE);
  const key = `${c}:${unicode}`;
  let set = literalCache.get(key);
  if (set) return set;
  if (unicode) {
    if (!unicodeIsCased(c)) set = single(c);
    else {
      const lo = unicodeLower(c);
      set = preimageOfPoints(true, [lo, ...(extraCasesFor(lo) ?? [])]);
    }
  } else set = asciiIsCased(c) ? preimageOfPoints(false, [asciiLower(c)]) : single(c);
  if (literalCache.size > 4096) literalCache.clear();
  literalCache.set(key, set);
  return set;
}

/** `NOT_LITERAL c` under `flags`. */
export const notLiteralSet = (c: number, flags: number): CodeSet => complement(literalSet(c, flags));

/** `ANY` (`.`): everything but `\n`, or everything under DOTALL. */
export const anySet = (flags: number): CodeSet => (flags & FLAG.DOTALL ? ALL : complement(single(0x0a)));

/** Add `_EXTRA_CASES` of every lowered code point in `set`. */
function withExtraCases(set: CodeSet): CodeSet {
  const extra: number[] = [];
  for (const k of extraCaseKeys()) if (has(set, k)) extra.push(...extraCasesFor(k)!);
  return extra.length ? union(set, fromPoints(extra)) : set;
}

/** `IN items` under `flags`. */
export function inSet(items: readonly SetItem[], flags: number): CodeSet {
  const unicode = Boolean(flags & FLAG.UNICODE);
  let negate = false;
  const plain: CodeSet[] = [];
  for (const item of items) {
    if (item.op === 'NEGATE') negate = true;
    else if (item.op === 'LITERAL') plain.push(single(item.c));
    else if (item.op === 'RANGE') plain.push(range(item.lo, item.hi));
    else plain.push(categorySet(item.cat, unicode));
  }
  let members = flags & FLAG.IGNORECASE ? foldedSet(items, unicode) : null;
  members ??= unionAll(plain);
  return negate ? complement(members) : members;
}

/**
 * `_optimize_charset` with IGNORECASE: null when nothing in the set is cased (then it is tested
 * as written), else the code points whose lowercase passes the lowered set.
 */
function foldedSet(items: readonly SetItem[], unicode: boolean): CodeSet | null {
  const map = lowerMapFor(unicode);
  const iscased = unicode ? unicodeIsCased : asciiIsCased;
  const lower = unicode ? unicodeLower : asciiLower;
  let hascased = false;
  let charmap: CodeSet = EMPTY;
  const tail: CodeSet[] = [];
  for (const item of items) {
    if (item.op === 'LITERAL') {
      const lo = lower(item.c);
      if (lo < BMP_END) {
        charmap = union(charmap, unicode ? fromPoints([lo, ...(extraCasesFor(lo) ?? [])]) : single(lo));
        if (iscased(item.c)) hascased = true;
      } else {
        hascased = true;
        tail.push(single(item.c));
      }
    } else if (item.op === 'RANGE') {
      const bmpHi = Math.min(item.hi, BMP_END - 1);
      if (item.lo <= bmpHi) {
        const img = image(map, range(item.lo, bmpHi));
        charmap = union(charmap, unicode ? withExtraCases(img) : img);
      }
      const r = range(item.lo, item.hi);
      if (item.hi >= BMP_END) {
        hascased = true;
        tail.push(union(r, upperPreimage(r)));
      } else if (!hascased) hascased = !isEmpty(intersect(r, casedSet(unicode)));
    } else if (item.op === 'CATEGORY') tail.push(categorySet(item.cat, unicode));
  }
  if (!hascased) return null;
  return preimage(map, unionAll([charmap, ...tail]));
}
