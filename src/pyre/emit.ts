/**
 * From the parsed Python pattern to JavaScript RegExp source for the `u` flag (no `i`, `m` or `s`:
 * every flag is applied here, per node, so scoped flags need no JavaScript support).
 *
 * - Every character item becomes an explicit set of code points (see `semantics.ts`).
 * - Anchors and `\b`/`\B` are spelled out with lookarounds where JavaScript's differ.
 * - Atomic groups and possessive repeats use `(?=(?<aN>…))\k<aN>`: a lookahead is atomic in
 *   JavaScript, and the backreference consumes exactly what it matched.
 * - Backreferences and conditionals follow Python where JavaScript differs (a reference to an unset
 *   group fails; IGNORECASE compares by lowercase; JavaScript has no conditionals): by what is
 *   known at translation time, else with the tests of `refs.ts`; refused where neither works.
 */
import { combineFlags, FLAG, isRepeat, MAXREPEAT, type Node, type RepeatKind, type Sub } from './ast.js';
import { ALL, type CodeSet, complement, EMPTY, rangeCount, union } from './charset.js';
import { PyreError } from './errors.js';
import { getwidth, type Parsed, type State } from './parser.js';
import { hasAmbiguous, MAX_MARKERS, markGroup, matched, notMatched, shapeOf } from './refs.js';
import { anySet, inSet, literalSet, notLiteralSet } from './semantics.js';
import { categorySet, isPrintable } from './unicode.js';

/** Longest RegExp source we build (a pattern of a few hundred `\b` or `\w`); longer is refused. */
export const MAX_SOURCE_LENGTH = 4_000_000;

/**
 * Whether a referenced group has matched, at a point of the pattern, in both engines alike:
 * not matched, matched (the same text in both), one or the other (both agree, known only while
 * matching), or DIVERGED: Python keeps a group's text from an earlier repetition or from an
 * iteration that matched empty, JavaScript does not.
 */
const UNSET = 0;
const SET = 1;
const OPTIONAL = 2;
const DIVERGED = 3;
type GroupStatus = typeof UNSET | typeof SET | typeof OPTIONAL | typeof DIVERGED;
/** The status of each referenced group (absent: not matched yet). */
type Status = Map<number, GroupStatus>;

/** Where a node is: inside an atomic body (its first match is final), inside a look-behind. */
interface Where {
  readonly atomic: boolean;
  readonly behind: boolean;
}

export interface Emitted {
  /** RegExp source for the `u` flag, anchored at the start (`re.match`). */
  readonly source: string;
  /** False when a repeat whose body can match empty may make the match end elsewhere than Python's. */
  readonly spanExact: boolean;
}

export function emit(parsed: Parsed): Emitted {
  const e = new Emitter(parsed);
  const body = e.seq(parsed.sub, parsed.state.flags, new Map(), { atomic: false, behind: false });
  return { source: `^(?:${body})`, spanExact: e.spanExact };
}

const get = (st: Status, gid: number): GroupStatus => st.get(gid) ?? UNSET;
const join = (a: GroupStatus, b: GroupStatus): GroupStatus =>
  a === b ? a : a === DIVERGED || b === DIVERGED ? DIVERGED : OPTIONAL;

/** `_compiler._simple`: one character item, possibly in a non-capturing group. */
function isSimple(sub: Sub): boolean {
  if (sub.nodes.length !== 1) return false;
  const n = sub.nodes[0]!;
  if (n.op === 'SUBPATTERN') return n.group === null && isSimple(n.p);
  return n.op === 'LITERAL' || n.op === 'NOT_LITERAL' || n.op === 'ANY' || n.op === 'IN';
}

/**
 * Whether, at any position, every non-empty match of `sub` comes before its empty match in
 * backtracking order. For a repeat of such a body Python's rule (an iteration that matched the
 * empty string ends the loop) and JavaScript's (such an iteration is rejected) try the rest of the
 * pattern at the same point, so they find the same first match.
 */
function nonEmptyFirst(sub: Sub, state: State): boolean {
  return sub.nodes.every((n) => nodeNonEmptyFirst(n, state));
}

function nodeNonEmptyFirst(n: Node, state: State): boolean {
  switch (n.op) {
    case 'SUBPATTERN':
      return nonEmptyFirst(n.p, state);
    case 'BRANCH':
      return n.items.every((alt, i) =>
        i === n.items.length - 1 ? nonEmptyFirst(alt, state) : getwidth(alt, state)[0] > 0n,
      );
    case 'MAX_REPEAT':
      return getwidth(n.item, state)[0] > 0n || nonEmptyFirst(n.item, state);
    case 'MIN_REPEAT':
      return n.max === 0 || (n.min >= 1 && getwidth(n.item, state)[0] > 0n);
    case 'GROUPREF_EXISTS':
      return nonEmptyFirst(n.yes, state) && (n.no === null || nonEmptyFirst(n.no, state));
    default:
      // one character, a zero-width assertion, a backreference, an atomic or possessive item:
      // each has a single way to match at a position
      return true;
  }
}

/** The subpatterns directly under a node. */
function children(n: Node): readonly Sub[] {
  switch (n.op) {
    case 'BRANCH':
      return n.items;
    case 'SUBPATTERN':
    case 'ATOMIC_GROUP':
    case 'ASSERT':
    case 'ASSERT_NOT':
      return [n.p];
    case 'GROUPREF_EXISTS':
      return n.no ? [n.yes, n.no] : [n.yes];
    default:
      return isRepeat(n) ? [n.item] : [];
  }
}

/** Referenced groups, and for those referenced under IGNORECASE the lowercase used (Unicode or ASCII). */
function collectRefs(sub: Sub, flags: number, out: Set<number>, caseless: Map<number, Set<boolean>>): void {
  for (const n of sub.nodes) {
    if (n.op === 'GROUPREF' || n.op === 'GROUPREF_EXISTS') out.add(n.gid);
    if (n.op === 'GROUPREF' && flags & FLAG.IGNORECASE) {
      const modes = caseless.get(n.gid) ?? new Set();
      modes.add(Boolean(flags & FLAG.UNICODE));
      caseless.set(n.gid, modes);
    }
    const inner = n.op === 'SUBPATTERN' ? combineFlags(flags, n.add, n.del) : flags;
    for (const c of children(n)) collectRefs(c, inner, out, caseless);
  }
}

class Emitter {
  spanExact = true;
  private aux = 0;
  private emptyLoops = 0;
  private readonly state: State;
  private readonly referenced = new Set<number>();
  private readonly caseless = new Map<number, Set<boolean>>();
  private readonly insideCache = new WeakMap<Sub, number[]>();
  private readonly groupDefs = new Map<number, { p: Sub; flags: number }>();
  private readonly alphabets = new Map<number, CodeSet>();
  /** For groups referenced case-insensitively: the reference, or why there is none. */
  private readonly caselessRefs = new Map<number, string | { refused: string }>();

  constructor(parsed: Parsed) {
    this.state = parsed.state;
    collectRefs(parsed.sub, parsed.state.flags, this.referenced, this.caseless);
  }

  seq(sub: Sub, flags: number, st: Status, where: Where): string {
    let out = '';
    for (const n of sub.nodes) {
      out += this.node(n, flags, st, where);
      if (out.length > MAX_SOURCE_LENGTH) {
        throw PyreError.unsupported(
          'pattern',
          null,
          `its translation exceeds ${MAX_SOURCE_LENGTH} characters of RegExp source (each \\w, \\d, \\s or \\b under Unicode rules is a set of hundreds of ranges)`,
        );
      }
    }
    return out;
  }

  private node(n: Node, flags: number, st: Status, where: Where): string {
    switch (n.op) {
      case 'LITERAL':
        return setText(literalSet(n.c, flags));
      case 'NOT_LITERAL':
        return setText(notLiteralSet(n.c, flags));
      case 'ANY':
        return setText(anySet(flags));
      case 'IN':
        return setText(inSet(n.items, flags));
      case 'AT':
        return atText(n.at, flags);
      case 'BRANCH':
        return this.branch(n.items, flags, st, where);
      case 'SUBPATTERN':
        return this.subpattern(n, flags, st, where);
      case 'ATOMIC_GROUP':
        return this.atomic(this.seq(n.p, flags, st, { ...where, atomic: true }), where);
      case 'ASSERT':
      case 'ASSERT_NOT':
        return this.lookaround(n, flags, st);
      case 'GROUPREF':
        return this.groupref(n.gid, n.pos, flags, st);
      case 'GROUPREF_EXISTS':
        return this.conditional(n, flags, st, where);
      default:
        return this.repeat(n, flags, st, where);
    }
  }

  /** Referenced groups opened anywhere inside `sub`. */
  private inside(sub: Sub): number[] {
    let list = this.insideCache.get(sub);
    if (list) return list;
    list = [];
    if (this.referenced.size > 0) {
      for (const n of sub.nodes) {
        if (n.op === 'SUBPATTERN' && n.group !== null && this.referenced.has(n.group)) list.push(n.group);
        for (const c of children(n)) list.push(...this.inside(c));
      }
    }
    this.insideCache.set(sub, list);
    return list;
  }

  private branch(items: readonly Sub[], flags: number, st: Status, where: Where): string {
    const outs: Status[] = [];
    const texts = items.map((alt) => {
      const s = new Map(st);
      outs.push(s);
      return this.seq(alt, flags, s, where);
    });
    const keys = new Set(outs.flatMap((s) => [...s.keys()]));
    for (const k of keys) st.set(k, outs.map((s) => get(s, k)).reduce(join));
    return `(?:${texts.join('|')})`;
  }

  private subpattern(
    n: Extract<Node, { op: 'SUBPATTERN' }>,
    flags: number,
    st: Status,
    where: Where,
  ): string {
    const inner = combineFlags(flags, n.add, n.del);
    const gid = n.group;
    if (gid === null) return `(?:${this.seq(n.p, inner, st, where)})`;
    let body: string | null = null;
    if (this.referenced.has(gid)) {
      this.groupDefs.set(gid, { p: n.p, flags: inner });
      body = this.markedBody(gid, n.p, inner);
    }
    body ??= this.seq(n.p, inner, st, where);
    if (this.referenced.has(gid)) st.set(gid, SET);
    return `(?<g${gid}>${body})`;
  }

  /**
   * For a group referenced case-insensitively whose text can hold cased letters: its body with
   * markers, the reference kept for later (see refs.ts). Null to emit the body as usual.
   */
  private markedBody(gid: number, p: Sub, flags: number): string | null {
    const modes = this.caseless.get(gid);
    if (!modes) return null;
    const ambiguous = [...modes].some((unicode) => hasAmbiguous(this.alphabet(gid), unicode));
    if (!ambiguous) return null;
    if (modes.size > 1) {
      this.caselessRefs.set(gid, { refused: 'it is referenced under both Unicode and ASCII case rules' });
      return null;
    }
    const shape = shapeOf(p, flags);
    const marked = shape && markGroup(shape, [...modes][0]!, `c${gid}`, setText);
    if (!marked) {
      this.caselessRefs.set(gid, {
        refused: shape
          ? `IGNORECASE compares the repeated text by lowercase, and the group's characters fall into more than ${MAX_MARKERS} lowercase classes`
          : 'IGNORECASE compares the repeated text by lowercase; that is translated for groups made of characters, alternatives and fixed repeats only',
      });
      return null;
    }
    this.caselessRefs.set(gid, marked.ref);
    return marked.body;
  }

  /** Atomic: a lookahead captures the first match, a backreference consumes it (forward only). */
  private atomic(body: string, where: Where): string {
    // In a look-behind every item has a fixed width, so atomicity cannot change the outcome.
    if (where.behind) return `(?:${body})`;
    const name = `a${++this.aux}`;
    return `(?=(?<${name}>${body}))\\k<${name}>`;
  }

  private repeat(n: Extract<Node, { op: RepeatKind }>, flags: number, st: Status, where: Where): string {
    if (n.max === 0) return '';
    // CPython 3.11 matches each iteration of a possessive repeat on its own and never backtracks
    // into it: `X{m,n}+` is `(?>(?>X){m,n})`.
    const possessive = n.op === 'POSSESSIVE_REPEAT';
    const simple = isSimple(n.item);
    // Python keeps an iteration that matched the empty string and stops; JavaScript rejects it
    // and backtracks into the body. Same outcome, except for which match is found first, unless
    // the body only ever matches empty after its non-empty matches.
    const emptyLoop = !simple && n.max > n.min && getwidth(n.item, this.state)[0] === 0n;
    if (emptyLoop) {
      const sameOrder = possessive || nonEmptyFirst(n.item, this.state);
      if (!sameOrder) this.spanExact = false;
      if (where.atomic && !where.behind && !sameOrder) {
        throw PyreError.unsupported(
          'repeat inside an atomic group or possessive repeat',
          n.pos,
          'its body can match the empty string, and Python and JavaScript then keep different first matches',
        );
      }
      this.emptyLoops++;
    }
    const inside = this.inside(n.item);
    const body = new Map(st);
    // from the second iteration on, Python still holds the previous iteration's groups
    for (const g of inside) body.set(g, n.max >= 2 ? DIVERGED : get(st, g));
    let text = this.seq(n.item, flags, body, { ...where, atomic: where.atomic || possessive });
    for (const g of inside) {
      st.set(g, emptyLoop ? DIVERGED : n.min >= 1 ? get(body, g) : join(get(st, g), get(body, g)));
    }
    if (possessive && !simple) text = this.atomic(text, where);
    const loop = `(?:${text})${quantifier(n.min, n.max)}${n.op === 'MIN_REPEAT' ? '?' : ''}`;
    return possessive ? this.atomic(loop, where) : loop;
  }

  private lookaround(n: Extract<Node, { op: 'ASSERT' | 'ASSERT_NOT' }>, flags: number, st: Status): string {
    const before = this.emptyLoops;
    const inner = new Map(st);
    const body = this.seq(n.p, flags, inner, { atomic: false, behind: n.dir < 0 });
    // After a negative lookaround both engines have the groups inside as before it. After a
    // positive one they keep what its first match set, unless an empty-matching repeat made the
    // engines' first matches differ.
    if (n.op === 'ASSERT') {
      const unsure = this.emptyLoops > before;
      for (const g of this.inside(n.p)) st.set(g, unsure ? DIVERGED : get(inner, g));
    }
    const open = n.dir > 0 ? (n.op === 'ASSERT' ? '(?=' : '(?!') : n.op === 'ASSERT' ? '(?<=' : '(?<!';
    return `${open}${body})`;
  }

  private groupref(gid: number, pos: number, flags: number, st: Status): string {
    const s = get(st, gid);
    if (s === UNSET) return '(?!)'; // Python: a reference to a group that has not matched fails
    this.checkKnown(s, gid, pos, `backreference to group ${gid}`);
    let ref = `\\k<g${gid}>`;
    if (flags & FLAG.IGNORECASE && hasAmbiguous(this.alphabet(gid), Boolean(flags & FLAG.UNICODE))) {
      const caseless = this.caselessRefs.get(gid);
      if (typeof caseless !== 'string') {
        throw PyreError.unsupported(
          `case-insensitive backreference to group ${gid}`,
          pos,
          caseless?.refused ?? 'IGNORECASE compares the repeated text by lowercase',
        );
      }
      ref = caseless;
    }
    // JavaScript matches the empty string for a group that has not matched; Python fails
    return s === OPTIONAL ? `(?:${matched(`g${gid}`)}${ref})` : ref;
  }

  /** Refuse a reference or condition where the engines may disagree on the group. */
  private checkKnown(s: GroupStatus, gid: number, pos: number, construct: string): void {
    if (s === DIVERGED) {
      throw PyreError.unsupported(
        construct,
        pos,
        `Python and JavaScript may disagree on group ${gid} here (Python keeps a group from an earlier repetition, or from an iteration that matched the empty string; JavaScript resets it)`,
      );
    }
    if (s === OPTIONAL && this.state.groupwidths[gid]![0] === 0n) {
      throw PyreError.unsupported(
        construct,
        pos,
        `group ${gid} may or may not have matched here and can match the empty string, so whether it matched cannot be tested`,
      );
    }
  }

  private conditional(
    n: Extract<Node, { op: 'GROUPREF_EXISTS' }>,
    flags: number,
    st: Status,
    where: Where,
  ): string {
    const s = get(st, n.gid);
    if (s === SET || s === UNSET) {
      const chosen = s === SET ? n.yes : n.no;
      return chosen ? `(?:${this.seq(chosen, flags, st, where)})` : '';
    }
    this.checkKnown(s, n.gid, n.pos, 'conditional group `(?(…)…)`');
    // both branches, each guarded by whether the group has matched
    const yesSt = new Map(st).set(n.gid, SET);
    const noSt = new Map(st).set(n.gid, UNSET);
    const yes = this.seq(n.yes, flags, yesSt, where);
    const no = n.no ? this.seq(n.no, flags, noSt, where) : '';
    for (const k of new Set([...yesSt.keys(), ...noSt.keys()])) st.set(k, join(get(yesSt, k), get(noSt, k)));
    return `(?:${matched(`g${n.gid}`)}(?:${yes})|${notMatched(`g${n.gid}`)}(?:${no}))`;
  }

  /** The code points a group can consume (over-approximated), for case-insensitive references. */
  private alphabet(gid: number): CodeSet {
    let a = this.alphabets.get(gid);
    if (a) return a;
    const def = this.groupDefs.get(gid);
    a = def ? this.alphabetOf(def.p, def.flags) : EMPTY;
    this.alphabets.set(gid, a);
    return a;
  }

  private alphabetOf(sub: Sub, flags: number): CodeSet {
    let out: CodeSet = EMPTY;
    for (const n of sub.nodes) {
      if (n.op === 'LITERAL') out = union(out, literalSet(n.c, flags));
      else if (n.op === 'NOT_LITERAL') out = union(out, notLiteralSet(n.c, flags));
      else if (n.op === 'ANY') out = union(out, anySet(flags));
      else if (n.op === 'IN') out = union(out, inSet(n.items, flags));
      else if (n.op === 'GROUPREF') out = union(out, this.alphabet(n.gid));
      else if (n.op === 'SUBPATTERN')
        out = union(out, this.alphabetOf(n.p, combineFlags(flags, n.add, n.del)));
      else if (n.op !== 'ASSERT' && n.op !== 'ASSERT_NOT' && !(isRepeat(n) && n.max === 0)) {
        for (const c of children(n)) out = union(out, this.alphabetOf(c, flags));
      }
    }
    return out;
  }
}

function quantifier(min: number, max: number): string {
  if (max === MAXREPEAT) return min === 0 ? '*' : min === 1 ? '+' : `{${min},}`;
  if (min === 0 && max === 1) return '?';
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

function atText(at: string, flags: number): string {
  const multiline = Boolean(flags & FLAG.MULTILINE);
  switch (at) {
    case 'BEGINNING':
      return multiline ? '(?<![^\\n])' : '^';
    case 'END':
      return multiline ? '(?![^\\n])' : '(?=\\n?$)';
    case 'BEGINNING_STRING':
      return '^';
    case 'END_STRING':
      return '$';
    case 'BOUNDARY':
    case 'NON_BOUNDARY': {
      if (!(flags & FLAG.UNICODE)) return at === 'BOUNDARY' ? '\\b' : '(?!^$)\\B';
      const w = setText(categorySet('WORD', true));
      // Python's \B never matches in an empty string (3.11); \b cannot either.
      return at === 'BOUNDARY'
        ? `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`
        : `(?!^$)(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))`;
    }
    default:
      throw new Error(`unknown anchor ${at}`);
  }
}

const SYNTAX = new Set('^$\\.*+?()[]{}|/');
const textCache = new Map<string, string>();

/** One code point outside a class: printable characters as themselves, others escaped. */
function charText(c: number): string {
  if (c < 0x7f && c > 0x20) {
    const ch = String.fromCharCode(c);
    return SYNTAX.has(ch) ? `\\${ch}` : ch;
  }
  if (c >= 0xa1 && (c < 0xd800 || c > 0xdfff) && isPrintable(c)) return String.fromCodePoint(c);
  return `\\u{${c.toString(16)}}`;
}

/** One code point inside a class. */
function classChar(c: number): string {
  if (c === 0x2d) return '\\-';
  return charText(c);
}

/** A set of code points as the shortest of: one character, `[…]` or `[^…]`. */
export function setText(set: CodeSet): string {
  if (set.length === 0) return '[]';
  if (set.length === 2 && set[1] === set[0]! + 1) return charText(set[0]!);
  if (set.length === ALL.length && set[0] === ALL[0] && set[1] === ALL[1]) return '[^]';
  const key = set.join(',');
  let text = textCache.get(key);
  if (text !== undefined) return text;
  const negated = complement(set);
  text = rangeCount(negated) < rangeCount(set) ? `[^${rangesText(negated)}]` : `[${rangesText(set)}]`;
  if (textCache.size > 2048) textCache.clear();
  textCache.set(key, text);
  return text;
}

function rangesText(set: CodeSet): string {
  let out = '';
  for (let i = 0; i < set.length; i += 2) {
    const lo = set[i]!;
    const hi = set[i + 1]! - 1;
    if (hi === lo) out += classChar(lo);
    else if (hi === lo + 1) out += classChar(lo) + classChar(hi);
    else out += `${classChar(lo)}-${classChar(hi)}`;
  }
  return out;
}
