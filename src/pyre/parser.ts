/**
 * A parser for Python 3.11 `re` patterns (str patterns) that follows `re._parser` rule for rule:
 * the same grammar, the same simplifications (common prefixes of alternatives, one-item sets,
 * alternatives of single characters turned into a set), the same errors with the same messages
 * and positions, and the same warnings (returned, not printed).
 */
import {
  type AtCode,
  FLAG,
  GLOBAL_FLAGS,
  MAXGROUPS,
  MAXREPEAT,
  MAXWIDTH,
  type Node,
  type SetItem,
  Sub,
  sameNode,
  setItemKey,
  TYPE_FLAGS,
} from './ast.js';
import { PyreError } from './errors.js';
import { lookupName } from './names.js';
import { cpLength, Tokenizer } from './tokenizer.js';
import { decimalValue, isAlpha, isAscii, isIdentifier, isSpace, pyRepr } from './unicode.js';

const SPECIAL_CHARS = new Set('.\\[{()*+?^$|');
const REPEAT_CHARS = new Set('*+?{');
const DIGITS = new Set('0123456789');
const OCTDIGITS = new Set('01234567');
const HEXDIGITS = new Set('0123456789abcdefABCDEF');
const WHITESPACE = new Set(' \t\n\r\v\f');
const isAsciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);
const isFlag = (c: string): boolean => Object.hasOwn(FLAGS, c);

/** Deepest group nesting translated (CPython itself overflows its stack near 490 levels). */
export const MAX_NESTING = 400;

const ESCAPES: Record<string, number> = {
  '\\a': 7,
  '\\b': 8,
  '\\f': 12,
  '\\n': 10,
  '\\r': 13,
  '\\t': 9,
  '\\v': 11,
  '\\\\': 92,
};

const CATEGORIES: Record<string, { at: AtCode } | { cat: SetItem & { op: 'CATEGORY' } }> = {
  '\\A': { at: 'BEGINNING_STRING' },
  '\\b': { at: 'BOUNDARY' },
  '\\B': { at: 'NON_BOUNDARY' },
  '\\d': { cat: { op: 'CATEGORY', cat: 'DIGIT' } },
  '\\D': { cat: { op: 'CATEGORY', cat: 'NOT_DIGIT' } },
  '\\s': { cat: { op: 'CATEGORY', cat: 'SPACE' } },
  '\\S': { cat: { op: 'CATEGORY', cat: 'NOT_SPACE' } },
  '\\w': { cat: { op: 'CATEGORY', cat: 'WORD' } },
  '\\W': { cat: { op: 'CATEGORY', cat: 'NOT_WORD' } },
  '\\Z': { at: 'END_STRING' },
};

const FLAGS: Record<string, number> = {
  i: FLAG.IGNORECASE,
  L: FLAG.LOCALE,
  m: FLAG.MULTILINE,
  s: FLAG.DOTALL,
  x: FLAG.VERBOSE,
  a: FLAG.ASCII,
  t: FLAG.TEMPLATE,
  u: FLAG.UNICODE,
};

/** `re._parser.State`. */
export class State {
  flags: number;
  readonly groupdict = new Map<string, number>();
  readonly groupwidths: (readonly [bigint, bigint] | null)[] = [null];
  lookbehindgroups: number | null = null;
  readonly grouprefpos = new Map<number, number>();
  readonly warnings: string[] = [];
  constructor(flags: number) {
    this.flags = flags;
  }
  get groups(): number {
    return this.groupwidths.length;
  }
  opengroup(source: Tokenizer, name: string | null): number {
    const gid = this.groups;
    this.groupwidths.push(null);
    const offset = name === null ? 1 : cpLength(name) + 1;
    if (this.groups > MAXGROUPS) throw source.error('too many groups', offset);
    if (name !== null) {
      const ogid = this.groupdict.get(name);
      if (ogid !== undefined) {
        throw source.error(
          `redefinition of group name ${pyRepr(name)} as group ${gid}; was group ${ogid}`,
          offset,
        );
      }
      this.groupdict.set(name, gid);
    }
    return gid;
  }
  closegroup(gid: number, p: Sub): void {
    this.groupwidths[gid] = getwidth(p, this);
  }
  checkgroup(gid: number): boolean {
    return gid < this.groups && this.groupwidths[gid] !== null;
  }
  checklookbehindgroup(gid: number, source: Tokenizer): void {
    if (this.lookbehindgroups === null) return;
    if (!this.checkgroup(gid)) throw source.error('cannot refer to an open group');
    if (gid >= this.lookbehindgroups) {
      throw source.error('cannot refer to group defined in the same lookbehind subpattern');
    }
  }
}

const bmin = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const bmax = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** `SubPattern.getwidth()`: (min, max) code points matched, capped at MAXWIDTH. */
export function getwidth(sub: Sub, state: State): readonly [bigint, bigint] {
  if (sub.width) return sub.width;
  let lo = 0n;
  let hi = 0n;
  for (const n of sub.nodes) {
    switch (n.op) {
      case 'BRANCH': {
        let i = MAXWIDTH;
        let j = 0n;
        for (const alt of n.items) {
          const [l, h] = getwidth(alt, state);
          i = bmin(i, l);
          j = bmax(j, h);
        }
        lo += i;
        hi += j;
        break;
      }
      case 'ATOMIC_GROUP':
      case 'SUBPATTERN': {
        const [i, j] = getwidth(n.p, state);
        lo += i;
        hi += j;
        break;
      }
      case 'MAX_REPEAT':
      case 'MIN_REPEAT':
      case 'POSSESSIVE_REPEAT': {
        const [i, j] = getwidth(n.item, state);
        lo += i * BigInt(n.min);
        if (n.max === MAXREPEAT && j) hi = MAXWIDTH;
        else hi += j * BigInt(n.max);
        break;
      }
      case 'ANY':
      case 'IN':
      case 'LITERAL':
      case 'NOT_LITERAL':
        lo += 1n;
        hi += 1n;
        break;
      case 'GROUPREF': {
        const [i, j] = state.groupwidths[n.gid]!;
        lo += i;
        hi += j;
        break;
      }
      case 'GROUPREF_EXISTS': {
        let [i, j] = getwidth(n.yes, state);
        if (n.no) {
          const [l, h] = getwidth(n.no, state);
          i = bmin(i, l);
          j = bmax(j, h);
        } else i = 0n;
        lo += i;
        hi += j;
        break;
      }
      default:
        break;
    }
  }
  sub.width = [bmin(lo, MAXWIDTH), bmin(hi, MAXWIDTH)];
  return sub.width;
}

/** Python's `int()` on a str, for a conditional's group number; null where it raises ValueError. */
function pyInt(s: string): number | null {
  let ascii = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (isSpace(c)) ascii += ' ';
    else if (decimalValue(c) >= 0) ascii += String(decimalValue(c));
    else if (c < 0x80) ascii += ch;
    else return null;
  }
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d+(?:_\d+)*)[ \t\n\r\f\v]*$/.exec(ascii);
  if (!m) return null;
  const digits = m[2]!.replace(/_/g, '').replace(/^0+(?=\d)/, '');
  const value = digits.length > 15 ? Number.POSITIVE_INFINITY : Number(digits);
  return m[1] === '-' ? -value : value;
}

function hexEscape(source: Tokenizer, esc: string, digits: number): number {
  esc += source.getwhile(digits, HEXDIGITS);
  if (cpLength(esc) !== digits + 2) throw source.error(`incomplete escape ${esc}`, cpLength(esc));
  const c = Number.parseInt(esc.slice(2), 16);
  if (c > 0x10ffff) throw source.error(`bad escape ${esc}`, cpLength(esc));
  return c;
}

function namedEscape(source: Tokenizer): number {
  if (!source.match('{')) throw source.error('missing {');
  const charname = source.getuntil('}', 'character name');
  const c = lookupName(charname);
  if (c === null) {
    throw source.error(`undefined character name ${pyRepr(charname)}`, cpLength(charname) + 4);
  }
  return c;
}

/** The escapes `_class_escape` and `_escape` share: `\x`, `\u`, `\U`, `\N{…}`. Null if not one. */
function unicodeEscape(source: Tokenizer, esc: string): number | null {
  const c = esc.slice(1);
  if (c === 'x') return hexEscape(source, esc, 2);
  if (c === 'u') return hexEscape(source, esc, 4);
  if (c === 'U') return hexEscape(source, esc, 8);
  if (c === 'N') return namedEscape(source);
  return null;
}

/** `_class_escape`: an escape inside `[...]`. */
function classEscape(source: Tokenizer, esc: string): SetItem {
  const literal = ESCAPES[esc];
  if (literal !== undefined) return { op: 'LITERAL', c: literal };
  const cat = CATEGORIES[esc];
  if (cat && 'cat' in cat) return cat.cat;
  const u = unicodeEscape(source, esc);
  if (u !== null) return { op: 'LITERAL', c: u };
  const c = esc.slice(1);
  if (OCTDIGITS.has(c)) {
    esc += source.getwhile(2, OCTDIGITS);
    const value = Number.parseInt(esc.slice(1), 8);
    if (value > 0o377) {
      throw source.error(`octal escape value ${esc} outside of range 0-0o377`, cpLength(esc));
    }
    return { op: 'LITERAL', c: value };
  }
  if (DIGITS.has(c) || isAsciiLetter(c)) throw source.error(`bad escape ${esc}`, cpLength(esc));
  return { op: 'LITERAL', c: c.codePointAt(0)! };
}

/** `_escape`: an escape outside `[...]`. */
function escapeCode(source: Tokenizer, esc: string, state: State): Node {
  const cat = CATEGORIES[esc];
  if (cat) return 'at' in cat ? { op: 'AT', at: cat.at } : { op: 'IN', items: [cat.cat] };
  const literal = ESCAPES[esc];
  if (literal !== undefined) return { op: 'LITERAL', c: literal };
  const u = unicodeEscape(source, esc);
  if (u !== null) return { op: 'LITERAL', c: u };
  const c = esc.slice(1);
  if (c === '0') {
    esc += source.getwhile(2, OCTDIGITS);
    return { op: 'LITERAL', c: Number.parseInt(esc.slice(1), 8) };
  }
  if (DIGITS.has(c)) return groupOrOctal(source, esc, state);
  if (isAsciiLetter(c)) throw source.error(`bad escape ${esc}`, cpLength(esc));
  return { op: 'LITERAL', c: c.codePointAt(0)! };
}

/** `\1`…`\99` (a group reference) or `\ooo` (three octal digits). */
function groupOrOctal(source: Tokenizer, esc: string, state: State): Node {
  const start = source.tell() - 2;
  if (source.next !== null && DIGITS.has(source.next)) {
    esc += source.get();
    if (OCTDIGITS.has(esc[1]!) && OCTDIGITS.has(esc[2]!) && source.next && OCTDIGITS.has(source.next)) {
      esc += source.get();
      const value = Number.parseInt(esc.slice(1), 8);
      if (value > 0o377) {
        throw source.error(`octal escape value ${esc} outside of range 0-0o377`, esc.length);
      }
      return { op: 'LITERAL', c: value };
    }
  }
  const group = Number.parseInt(esc.slice(1), 10);
  if (group < state.groups) {
    if (!state.checkgroup(group)) throw source.error('cannot refer to an open group', esc.length);
    state.checklookbehindgroup(group, source);
    return { op: 'GROUPREF', gid: group, pos: start };
  }
  throw source.error(`invalid group reference ${group}`, esc.length - 1);
}

function checkgroupname(source: Tokenizer, name: string, offset: number): void {
  if (!isIdentifier(name)) {
    throw source.error(`bad character in group name ${pyRepr(name)}`, cpLength(name) + offset);
  }
}

export interface Parsed {
  readonly sub: Sub;
  readonly state: State;
  readonly pattern: readonly string[];
}

/** `re._parser.parse(pattern, flags)`. Throws `PyreError` (kind `invalid`) where Python raises. */
export function parse(pattern: string, flags: number): Parsed {
  const source = new Tokenizer(pattern);
  const state = new State(flags);
  const p = new Parser(source, state);
  const sub = p.parseSub(Boolean(flags & FLAG.VERBOSE), 0);
  state.flags = fixFlags(state.flags);
  if (source.next !== null) throw source.error('unbalanced parenthesis');
  for (const [g, pos] of state.grouprefpos) {
    if (g >= state.groups) throw PyreError.python(`invalid group reference ${g}`, source.chars, pos);
  }
  return { sub, state, pattern: source.chars };
}

/** `re._parser.fix_flags` for a str pattern. */
function fixFlags(flags: number): number {
  if (flags & FLAG.LOCALE)
    throw PyreError.pythonOther('ValueError', 'cannot use LOCALE flag with a str pattern');
  if (!(flags & FLAG.ASCII)) return flags | FLAG.UNICODE;
  if (flags & FLAG.UNICODE)
    throw PyreError.pythonOther('ValueError', 'ASCII and UNICODE flags are incompatible');
  return flags;
}

/** `_uniq`: drop repeated set items, keeping the first. */
function uniq(items: readonly SetItem[]): SetItem[] {
  const seen = new Set<string>();
  return items.filter((x) => {
    const k = setItemKey(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

class Parser {
  constructor(
    private readonly source: Tokenizer,
    private readonly state: State,
  ) {}

  /** `_parse_sub`: alternatives separated by `|`. */
  parseSub(verbose: boolean, nested: number): Sub {
    const items: Sub[] = [];
    for (;;) {
      items.push(this.parse(verbose, nested + 1, !nested && items.length === 0));
      if (!this.source.match('|')) break;
      if (!nested) verbose = Boolean(this.state.flags & FLAG.VERBOSE);
    }
    if (items.length === 1) return items[0]!;
    const sub = new Sub();
    // move a prefix common to every alternative out of the branch
    for (;;) {
      let prefix: Node | null = null;
      let shared = true;
      for (const item of items) {
        const first = item.nodes[0];
        if (!first) {
          shared = false;
          break;
        }
        if (prefix === null) prefix = first;
        else if (!sameNode(first, prefix)) {
          shared = false;
          break;
        }
      }
      if (!shared || prefix === null) break;
      for (const item of items) item.nodes.shift();
      sub.nodes.push(prefix);
    }
    // alternatives of single characters or sets become one set
    const set: SetItem[] = [];
    for (const item of items) {
      const only = item.nodes.length === 1 ? item.nodes[0]! : null;
      if (only?.op === 'LITERAL') set.push({ op: 'LITERAL', c: only.c });
      else if (only?.op === 'IN' && only.items[0]?.op !== 'NEGATE') set.push(...only.items);
      else {
        sub.nodes.push({ op: 'BRANCH', items });
        return sub;
      }
    }
    sub.nodes.push({ op: 'IN', items: uniq(set) });
    return sub;
  }

  /** `_parse`: a sequence of items up to `|`, `)` or the end. */
  parse(verbose: boolean, nested: number, first = false): Sub {
    const source = this.source;
    const sub = new Sub();
    for (;;) {
      const token = source.next;
      if (token === null || token === '|' || token === ')') break;
      source.get();
      if (verbose) {
        if (WHITESPACE.has(token)) continue;
        if (token === '#') {
          for (;;) {
            const t = source.get();
            if (t === null || t === '\n') break;
          }
          continue;
        }
      }
      if (token[0] === '\\' && token.length > 1) sub.nodes.push(escapeCode(source, token, this.state));
      else if (!SPECIAL_CHARS.has(token)) sub.nodes.push({ op: 'LITERAL', c: token.codePointAt(0)! });
      else if (token === '[') this.parseSet(sub);
      else if (REPEAT_CHARS.has(token)) this.parseRepeat(sub, token);
      else if (token === '.') sub.nodes.push({ op: 'ANY' });
      else if (token === '(') {
        const v = this.parseGroup(sub, verbose, nested, first);
        if (v !== null) verbose = v;
      } else if (token === '^') sub.nodes.push({ op: 'AT', at: 'BEGINNING' });
      else if (token === '$') sub.nodes.push({ op: 'AT', at: 'END' });
    }
    // unpack non-capturing groups without flags
    for (let i = sub.nodes.length - 1; i >= 0; i--) {
      const n = sub.nodes[i]!;
      if (n.op === 'SUBPATTERN' && n.group === null && !n.add && !n.del) sub.nodes.splice(i, 1, ...n.p.nodes);
    }
    return sub;
  }

  private warn(message: string): void {
    this.state.warnings.push(message);
  }

  /** A character set `[...]` (the `[` is consumed). */
  private parseSet(sub: Sub): void {
    const source = this.source;
    const here = source.tell() - 1;
    if (source.next === '[') this.warn(`FutureWarning: Possible nested set at position ${source.tell()}`);
    const negate = source.match('^');
    let set: SetItem[] = [];
    for (;;) {
      const token = source.get();
      if (token === null) throw source.error('unterminated character set', source.tell() - here);
      if (token === ']' && set.length > 0) break;
      const code1 = this.setAtom(token, set.length > 0, 'first');
      if (source.match('-')) {
        const that = source.get();
        if (that === null) throw source.error('unterminated character set', source.tell() - here);
        if (that === ']') {
          set.push(code1, { op: 'LITERAL', c: 0x2d });
          break;
        }
        const code2 = this.setAtom(that, true, 'second');
        if (code1.op !== 'LITERAL' || code2.op !== 'LITERAL' || code2.c < code1.c) {
          throw source.error(`bad character range ${token}-${that}`, cpLength(token) + 1 + cpLength(that));
        }
        set.push({ op: 'RANGE', lo: code1.c, hi: code2.c });
      } else set.push(code1);
    }
    set = uniq(set);
    const only = set.length === 1 ? set[0]! : null;
    if (only?.op === 'LITERAL') sub.nodes.push({ op: negate ? 'NOT_LITERAL' : 'LITERAL', c: only.c });
    else sub.nodes.push({ op: 'IN', items: negate ? [{ op: 'NEGATE' }, ...set] : set });
  }

  /** One member of a set; warns where Python warns about future set syntax. */
  private setAtom(token: string, nonEmpty: boolean, which: 'first' | 'second'): SetItem {
    const source = this.source;
    if (token[0] === '\\' && token.length > 1) return classEscape(source, token);
    if (which === 'first' && nonEmpty && '-&~|'.includes(token) && source.next === token) {
      const kind = { '-': 'difference', '&': 'intersection', '~': 'symmetric difference', '|': 'union' }[
        token as '-' | '&' | '~' | '|'
      ];
      this.warn(`FutureWarning: Possible set ${kind} at position ${source.tell() - 1}`);
    }
    if (which === 'second' && token === '-') {
      this.warn(`FutureWarning: Possible set difference at position ${source.tell() - 2}`);
    }
    return { op: 'LITERAL', c: token.codePointAt(0)! };
  }

  /** `*`, `+`, `?` or `{m,n}` (the token is consumed), then `?` (lazy) or `+` (possessive). */
  private parseRepeat(sub: Sub, token: string): void {
    const source = this.source;
    const here = source.tell();
    let min = 0;
    let max = MAXREPEAT;
    if (token === '?') max = 1;
    else if (token === '+') min = 1;
    else if (token === '{') {
      if (source.next === '}') {
        sub.nodes.push({ op: 'LITERAL', c: 0x7b });
        return;
      }
      let lo = '';
      let hi = '';
      while (source.next !== null && DIGITS.has(source.next)) lo += source.get();
      if (source.match(',')) {
        while (source.next !== null && DIGITS.has(source.next)) hi += source.get();
      } else hi = lo;
      if (!source.match('}')) {
        sub.nodes.push({ op: 'LITERAL', c: 0x7b });
        source.seek(here);
        return;
      }
      if (lo) min = repeatCount(lo);
      if (hi) {
        max = repeatCount(hi);
        if (max < min) throw source.error('min repeat greater than max repeat', source.tell() - here);
      }
    }
    const last = sub.nodes[sub.nodes.length - 1];
    const offset = source.tell() - here + cpLength(token);
    if (!last || last.op === 'AT') throw source.error('nothing to repeat', offset);
    if (last.op === 'MAX_REPEAT' || last.op === 'MIN_REPEAT' || last.op === 'POSSESSIVE_REPEAT') {
      throw source.error('multiple repeat', offset);
    }
    const item =
      last.op === 'SUBPATTERN' && last.group === null && !last.add && !last.del ? last.p : new Sub([last]);
    const pos = here - 1;
    const op = source.match('?') ? 'MIN_REPEAT' : source.match('+') ? 'POSSESSIVE_REPEAT' : 'MAX_REPEAT';
    sub.nodes[sub.nodes.length - 1] = { op, min, max, item, pos };
  }

  /**
   * A group `( … )` (the `(` is consumed). Returns the new verbose setting after global flags, or
   * null when it does not change.
   */
  private parseGroup(sub: Sub, verbose: boolean, nested: number, first: boolean): boolean | null {
    const source = this.source;
    const start = source.tell() - 1;
    if ((nested + 1) / 2 > MAX_NESTING) {
      throw PyreError.unsupported('group nesting', start, `groups nested deeper than ${MAX_NESTING} levels`);
    }
    let capture = true;
    let atomic = false;
    let name: string | null = null;
    let add = 0;
    let del = 0;
    if (source.match('?')) {
      const char = source.get();
      if (char === null) throw source.error('unexpected end of pattern');
      if (char === 'P') {
        const r = this.parsePExtension(sub);
        if (r === 'done') return null;
        name = r;
      } else if (char === ':') capture = false;
      else if (char === '#') {
        this.skipComment(start);
        return null;
      } else if (char === '=' || char === '!' || char === '<') {
        this.parseLookaround(sub, char, verbose, nested, start);
        return null;
      } else if (char === '(') {
        this.parseConditional(sub, verbose, nested, start);
        return null;
      } else if (char === '>') {
        capture = false;
        atomic = true;
      } else if (isFlag(char) || char === '-') {
        const flags = this.parseFlags(char);
        if (flags === null) {
          if (!first || sub.nodes.length > 0) {
            throw source.error('global flags not at the start of the expression', source.tell() - start);
          }
          return Boolean(this.state.flags & FLAG.VERBOSE);
        }
        [add, del] = flags;
        capture = false;
      } else throw source.error(`unknown extension ?${char}`, cpLength(char) + 1);
    }
    const group = capture ? this.state.opengroup(source, name) : null;
    const subVerbose = (verbose || Boolean(add & FLAG.VERBOSE)) && !(del & FLAG.VERBOSE);
    const p = this.parseSub(subVerbose, nested + 1);
    if (!source.match(')')) throw source.error('missing ), unterminated subpattern', source.tell() - start);
    if (group !== null) this.state.closegroup(group, p);
    if (atomic) sub.nodes.push({ op: 'ATOMIC_GROUP', p, pos: start });
    else sub.nodes.push({ op: 'SUBPATTERN', group, add, del, p, pos: start });
    return null;
  }

  /** After `(?P`: a group name (returned) or a named backreference (`'done'`). */
  private parsePExtension(sub: Sub): string | 'done' {
    const source = this.source;
    if (source.match('<')) {
      const name = source.getuntil('>', 'group name');
      checkgroupname(source, name, 1);
      return name;
    }
    if (source.match('=')) {
      const start = source.tell() - 4;
      const name = source.getuntil(')', 'group name');
      checkgroupname(source, name, 1);
      const gid = this.state.groupdict.get(name);
      if (gid === undefined) throw source.error(`unknown group name ${pyRepr(name)}`, cpLength(name) + 1);
      if (!this.state.checkgroup(gid))
        throw source.error('cannot refer to an open group', cpLength(name) + 1);
      this.state.checklookbehindgroup(gid, source);
      sub.nodes.push({ op: 'GROUPREF', gid, pos: start });
      return 'done';
    }
    const char = source.get();
    if (char === null) throw source.error('unexpected end of pattern');
    throw source.error(`unknown extension ?P${char}`, cpLength(char) + 2);
  }

  private skipComment(start: number): void {
    const source = this.source;
    for (;;) {
      if (source.next === null) throw source.error('missing ), unterminated comment', source.tell() - start);
      if (source.get() === ')') return;
    }
  }

  private parseLookaround(sub: Sub, char: string, verbose: boolean, nested: number, start: number): void {
    const source = this.source;
    let dir: 1 | -1 = 1;
    let outer: number | null = null;
    if (char === '<') {
      const c = source.get();
      if (c === null) throw source.error('unexpected end of pattern');
      if (c !== '=' && c !== '!') throw source.error(`unknown extension ?<${c}`, cpLength(c) + 2);
      char = c;
      dir = -1;
      outer = this.state.lookbehindgroups;
      if (outer === null) this.state.lookbehindgroups = this.state.groups;
    }
    const p = this.parseSub(verbose, nested + 1);
    if (dir < 0 && outer === null) this.state.lookbehindgroups = null;
    if (!source.match(')')) throw source.error('missing ), unterminated subpattern', source.tell() - start);
    sub.nodes.push({ op: char === '=' ? 'ASSERT' : 'ASSERT_NOT', dir, p, pos: start });
  }

  private parseConditional(sub: Sub, verbose: boolean, nested: number, start: number): void {
    const source = this.source;
    const state = this.state;
    const condname = source.getuntil(')', 'group name');
    const offset = cpLength(condname) + 1;
    let condgroup: number;
    if (isIdentifier(condname)) {
      const gid = state.groupdict.get(condname);
      if (gid === undefined) throw source.error(`unknown group name ${pyRepr(condname)}`, offset);
      condgroup = gid;
    } else {
      const n = pyInt(condname);
      if (n === null || n < 0) throw source.error(`bad character in group name ${pyRepr(condname)}`, offset);
      condgroup = n;
      if (!condgroup) throw source.error('bad group number', offset);
      if (condgroup >= MAXGROUPS) throw source.error(`invalid group reference ${condgroup}`, offset);
      if (!state.grouprefpos.has(condgroup)) state.grouprefpos.set(condgroup, source.tell() - offset);
      if (!(/^[0-9]+$/.test(condname) && isAscii(condname))) {
        this.warn(
          `DeprecationWarning: bad character in group name ${pyRepr(condname)} at position ${source.tell() - offset}`,
        );
      }
    }
    state.checklookbehindgroup(condgroup, source);
    const yes = this.parse(verbose, nested + 1);
    let no: Sub | null = null;
    if (source.match('|')) {
      no = this.parse(verbose, nested + 1);
      if (source.next === '|') throw source.error('conditional backref with more than two branches');
    }
    if (!source.match(')')) throw source.error('missing ), unterminated subpattern', source.tell() - start);
    sub.nodes.push({ op: 'GROUPREF_EXISTS', gid: condgroup, yes, no, pos: start });
  }

  /** `_parse_flags`: null for global flags `(?aiLmsux)`, else the scoped (add, del) pair. */
  private parseFlags(char: string): [number, number] | null {
    const source = this.source;
    let add = 0;
    let del = 0;
    let c: string | null = char;
    if (c !== '-') {
      for (;;) {
        const flag = FLAGS[c]!;
        if (c === 'L') throw source.error("bad inline flags: cannot use 'L' flag with a str pattern");
        add |= flag;
        if (flag & TYPE_FLAGS && (add & TYPE_FLAGS) !== flag) {
          throw source.error("bad inline flags: flags 'a', 'u' and 'L' are incompatible");
        }
        c = source.get();
        if (c === null) throw source.error('missing -, : or )');
        if (c === ')' || c === '-' || c === ':') break;
        if (!isFlag(c)) throw source.error(isAlpha(c) ? 'unknown flag' : 'missing -, : or )', cpLength(c));
      }
    }
    if (c === ')') {
      this.state.flags |= add;
      return null;
    }
    if (add & GLOBAL_FLAGS) throw source.error('bad inline flags: cannot turn on global flag', 1);
    if (c === '-') {
      c = source.get();
      if (c === null) throw source.error('missing flag');
      if (!isFlag(c)) throw source.error(isAlpha(c) ? 'unknown flag' : 'missing flag', cpLength(c));
      for (;;) {
        const flag = FLAGS[c]!;
        if (flag & TYPE_FLAGS) throw source.error("bad inline flags: cannot turn off flags 'a', 'u' and 'L'");
        del |= flag;
        c = source.get();
        if (c === null) throw source.error('missing :');
        if (c === ':') break;
        if (!isFlag(c)) throw source.error(isAlpha(c) ? 'unknown flag' : 'missing :', cpLength(c));
      }
    }
    if (del & GLOBAL_FLAGS) throw source.error('bad inline flags: cannot turn off global flag', 1);
    if (add & del) throw source.error('bad inline flags: flag turned on and off', 1);
    return [add, del];
  }
}

function repeatCount(digits: string): number {
  const n = digits.length > 12 ? Number.POSITIVE_INFINITY : Number(digits);
  if (n >= MAXREPEAT) throw PyreError.pythonOther('OverflowError', 'the repetition number is too large');
  return n;
}
