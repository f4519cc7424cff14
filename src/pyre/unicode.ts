/**
 * CPython 3.11's character predicates and case maps, decoded on first use from the generated
 * tables (`unicode-data.ts`): the same Unicode version (14.0) Airflow's `re` uses, independent of
 * the ICU inside Node.
 */
import {
  type CodeSet,
  complement,
  decodeRanges,
  fromPoints,
  has,
  range,
  subtract,
  union,
} from './charset.js';
import {
  ALPHA,
  DIGIT,
  EXTRA_CASES,
  ID_CONTINUE,
  ID_START,
  LOWER_RUNS,
  PRINTABLE,
  SPACE,
  UPPER_RUNS,
  WORD,
} from './unicode-data.js';

/** A case map: the changed code points (sorted) and their images. */
interface CaseMap {
  readonly from: Map<number, number>;
  /** The code points the map changes, as a set. */
  readonly domain: CodeSet;
}

function decodeCaseMap(text: string): CaseMap {
  const from = new Map<number, number>();
  let prev = 0;
  for (const run of text.split(',')) {
    const [start, count, step, delta] = run.split(' ').map((s) => Number.parseInt(s, 36)) as [
      number,
      number,
      number,
      number,
    ];
    let c = prev + start;
    for (let k = 0; k < count; k++, c += step) from.set(c, c + delta);
    prev = c - step;
  }
  return { from, domain: fromPoints(from.keys()) };
}

let lowerMap: CaseMap | undefined;
let upperMap: CaseMap | undefined;
const lowerU = (): CaseMap => (lowerMap ??= decodeCaseMap(LOWER_RUNS));
const upperU = (): CaseMap => (upperMap ??= decodeCaseMap(UPPER_RUNS));

/** `_sre.unicode_tolower`. */
export const unicodeLower = (c: number): number => lowerU().from.get(c) ?? c;
/** `sre_upper_unicode` (`_PyUnicode_ToUppercase`). */
export const unicodeUpper = (c: number): number => upperU().from.get(c) ?? c;
/** `_sre.unicode_iscased`. */
export const unicodeIsCased = (c: number): boolean => unicodeLower(c) !== c || unicodeUpper(c) !== c;

/** `_sre.ascii_tolower`. */
export const asciiLower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c + 32 : c);
/** `_sre.ascii_iscased`: an ASCII letter. */
export const asciiIsCased = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

const ASCII_LOWER_MAP: CaseMap = {
  from: new Map(Array.from({ length: 26 }, (_, k) => [0x41 + k, 0x61 + k] as [number, number])),
  domain: range(0x41, 0x5a),
};

/** The lowering function of an IGNORECASE mode, as a case map. */
export const lowerMapFor = (unicode: boolean): CaseMap => (unicode ? lowerU() : ASCII_LOWER_MAP);

/**
 * `{c : map(c) ∈ target}`: the code points a case map sends into `target`. Code points the map
 * leaves alone are in the answer exactly when they are in `target`.
 */
export function preimage(map: CaseMap, target: CodeSet): CodeSet {
  const extra: number[] = [];
  for (const [c, image] of map.from) if (has(target, image)) extra.push(c);
  return union(subtract(target, map.domain), fromPoints(extra));
}

/** `{c : upper(c) ∈ target}` for the Unicode uppercase map (`RANGE_UNI_IGNORE`). */
export const upperPreimage = (target: CodeSet): CodeSet => preimage(upperU(), target);

const inverses = new WeakMap<CaseMap, Map<number, number[]>>();

/** `{c : lower(c) ∈ points}` for a few points, through a reverse index of the lowercase map. */
export function preimageOfPoints(unicode: boolean, points: readonly number[]): CodeSet {
  const map = lowerMapFor(unicode);
  let inverse = inverses.get(map);
  if (!inverse) {
    inverse = new Map();
    for (const [c, to] of map.from) {
      const list = inverse.get(to) ?? [];
      list.push(c);
      inverse.set(to, list);
    }
    inverses.set(map, inverse);
  }
  const out: number[] = [];
  for (const p of points) {
    if (!map.from.has(p)) out.push(p);
    out.push(...(inverse.get(p) ?? []));
  }
  return fromPoints(out);
}

/** The code points `iscased` holds for. */
export function casedSet(unicode: boolean): CodeSet {
  if (!unicode) return union(range(0x41, 0x5a), range(0x61, 0x7a));
  return table('CASED', () => union(lowerU().domain, upperU().domain));
}

/** The image of a set under a case map: `{map(c) : c ∈ set}`. */
export function image(map: CaseMap, set: CodeSet): CodeSet {
  const extra: number[] = [];
  for (const [c, to] of map.from) if (has(set, c)) extra.push(to);
  return union(subtract(set, map.domain), fromPoints(extra));
}

let extraCases: Map<number, readonly number[]> | undefined;
/** `re._casefix._EXTRA_CASES`. */
export function extraCasesFor(c: number): readonly number[] | undefined {
  if (!extraCases) {
    extraCases = new Map();
    for (const entry of EXTRA_CASES.split(',')) {
      const [k, vs] = entry.split(':') as [string, string];
      extraCases.set(
        Number.parseInt(k, 36),
        vs.split(' ').map((v) => Number.parseInt(v, 36)),
      );
    }
  }
  return extraCases.get(c);
}

/** All keys of `_EXTRA_CASES`. */
export function extraCaseKeys(): Iterable<number> {
  extraCasesFor(0);
  return extraCases!.keys();
}

const cache = new Map<string, CodeSet>();
function table(name: string, build: () => CodeSet): CodeSet {
  let s = cache.get(name);
  if (!s) {
    s = build();
    cache.set(name, s);
  }
  return s;
}

/** `\d \s \w` and their negations, for `unicode` (str default) or ASCII (`(?a)`) mode. */
export type Category = 'DIGIT' | 'NOT_DIGIT' | 'SPACE' | 'NOT_SPACE' | 'WORD' | 'NOT_WORD';

const ASCII_CATEGORY: Record<'DIGIT' | 'SPACE' | 'WORD', () => CodeSet> = {
  DIGIT: () => range(0x30, 0x39),
  SPACE: () => union(range(0x09, 0x0d), range(0x20, 0x20)),
  WORD: () => union(union(range(0x30, 0x39), range(0x41, 0x5a)), union(range(0x5f, 0x5f), range(0x61, 0x7a))),
};
const UNICODE_CATEGORY: Record<'DIGIT' | 'SPACE' | 'WORD', string> = { DIGIT, SPACE, WORD };

export function categorySet(cat: Category, unicode: boolean): CodeSet {
  return table(`${cat}:${unicode}`, () => {
    const negated = cat.startsWith('NOT_');
    const base = (negated ? cat.slice(4) : cat) as 'DIGIT' | 'SPACE' | 'WORD';
    const set = unicode ? decodeRanges(UNICODE_CATEGORY[base]) : ASCII_CATEGORY[base]();
    return negated ? complement(set) : set;
  });
}

/** Python's `str.isspace()` for one code point. */
export const isSpace = (c: number): boolean => has(categorySet('SPACE', true), c);

/** Python's `unicodedata.decimal(c)` (or -1): Nd ranges start at digit zero (checked by the generator). */
export function decimalValue(c: number): number {
  const digits = categorySet('DIGIT', true);
  let lo = 0;
  let hi = digits.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (digits[mid]! <= c) lo = mid + 1;
    else hi = mid;
  }
  return (lo & 1) === 1 ? (c - digits[lo - 1]!) % 10 : -1;
}

/** Python's `str.isidentifier()`. */
export function isIdentifier(s: string): boolean {
  const cps = Array.from(s, (ch) => ch.codePointAt(0)!);
  if (cps.length === 0) return false;
  const start = table('ID_START', () => decodeRanges(ID_START));
  const cont = table('ID_CONTINUE', () => decodeRanges(ID_CONTINUE));
  return has(start, cps[0]!) && cps.every((c) => has(cont, c));
}

/** Python's `str.isascii()`. */
export const isAscii = (s: string): boolean => [...s].every((ch) => ch.codePointAt(0)! < 0x80);

/** Python's `str.isalpha()`. */
export function isAlpha(s: string): boolean {
  const alpha = table('ALPHA', () => decodeRanges(ALPHA));
  return s.length > 0 && [...s].every((ch) => has(alpha, ch.codePointAt(0)!));
}

/** Python's `str.isprintable()` for one code point. */
export const isPrintable = (c: number): boolean =>
  has(
    table('PRINTABLE', () => decodeRanges(PRINTABLE)),
    c,
  );

/** Python's `repr()` of a str (used in error messages, as Python's are). */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${hex(c, 2)}`;
    else if (c < 0x7f || isPrintable(c)) out += ch;
    else if (c < 0x100) out += `\\x${hex(c, 2)}`;
    else if (c < 0x10000) out += `\\u${hex(c, 4)}`;
    else out += `\\U${hex(c, 8)}`;
  }
  return out + quote;
}

const hex = (c: number, width: number): string => c.toString(16).padStart(width, '0');

/**
 * Code points whose IGNORECASE class (all code points with the same lowercase) has more than one
 * member: a case-insensitive backreference compares these by lowercase, not exactly.
 */
export function caseAmbiguous(unicode: boolean): CodeSet {
  if (!unicode) return union(range(0x41, 0x5a), range(0x61, 0x7a));
  return table('CASE_AMBIGUOUS', () => {
    const map = lowerU();
    const classes = new Map<number, number[]>();
    for (const [c, lower] of map.from) {
      const members = classes.get(lower) ?? [];
      members.push(c);
      classes.set(lower, members);
    }
    const points: number[] = [];
    for (const [lower, members] of classes) {
      if (!map.from.has(lower)) members.push(lower);
      if (members.length > 1) points.push(...members);
    }
    return fromPoints(points);
  });
}
