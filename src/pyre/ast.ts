/**
 * The parsed form of a Python pattern: the same shape as CPython 3.11's `re._parser` output
 * (opcode + argument), so that the compile-time rules and the matching rules can be followed
 * one for one.
 */
import type { Category } from './unicode.js';

/** Python's flag bits (`re.RegexFlag`). */
export const FLAG = {
  TEMPLATE: 1,
  IGNORECASE: 2,
  LOCALE: 4,
  MULTILINE: 8,
  DOTALL: 16,
  UNICODE: 32,
  VERBOSE: 64,
  DEBUG: 128,
  ASCII: 256,
} as const;

export const TYPE_FLAGS = FLAG.ASCII | FLAG.LOCALE | FLAG.UNICODE;
export const GLOBAL_FLAGS = FLAG.DEBUG | FLAG.TEMPLATE;

/** `_sre.MAXREPEAT` and `_sre.MAXGROUPS` on 64-bit CPython; `MAXCODE` for a 4-byte code word. */
export const MAXREPEAT = 4294967295;
export const MAXGROUPS = 1073741823;
export const MAXCODE = (1n << 32n) - 1n;
/** `_parser.MAXWIDTH`. */
export const MAXWIDTH = 1n << 64n;

export type AtCode = 'BEGINNING' | 'BEGINNING_STRING' | 'BOUNDARY' | 'NON_BOUNDARY' | 'END' | 'END_STRING';

export type SetItem =
  | { op: 'NEGATE' }
  | { op: 'LITERAL'; c: number }
  | { op: 'RANGE'; lo: number; hi: number }
  | { op: 'CATEGORY'; cat: Category };

export type RepeatKind = 'MAX_REPEAT' | 'MIN_REPEAT' | 'POSSESSIVE_REPEAT';

export type Node =
  | { op: 'LITERAL'; c: number }
  | { op: 'NOT_LITERAL'; c: number }
  | { op: 'ANY' }
  | { op: 'IN'; items: SetItem[] }
  | { op: 'AT'; at: AtCode }
  | { op: 'BRANCH'; items: Sub[] }
  | { op: RepeatKind; min: number; max: number; item: Sub; pos: number }
  | { op: 'SUBPATTERN'; group: number | null; add: number; del: number; p: Sub; pos: number }
  | { op: 'ATOMIC_GROUP'; p: Sub; pos: number }
  | { op: 'ASSERT' | 'ASSERT_NOT'; dir: 1 | -1; p: Sub; pos: number }
  | { op: 'GROUPREF'; gid: number; pos: number }
  | { op: 'GROUPREF_EXISTS'; gid: number; yes: Sub; no: Sub | null; pos: number };

/** A subpattern (`re._parser.SubPattern`): a sequence of nodes and its cached width. */
export class Sub {
  width: readonly [bigint, bigint] | undefined;
  constructor(public nodes: Node[] = []) {}
}

export const isRepeat = (n: Node): n is Extract<Node, { op: RepeatKind }> =>
  n.op === 'MAX_REPEAT' || n.op === 'MIN_REPEAT' || n.op === 'POSSESSIVE_REPEAT';

/** `_compiler._combine_flags`. */
export function combineFlags(flags: number, add: number, del: number): number {
  if (add & TYPE_FLAGS) flags &= ~TYPE_FLAGS;
  return (flags | add) & ~del;
}

/**
 * Python's tuple equality between two parsed items: value equality for the opcodes whose argument
 * is plain data, identity for those that hold a SubPattern (SubPattern has no `__eq__`).
 */
export function sameNode(a: Node, b: Node): boolean {
  if (a === b) return true;
  if (a.op !== b.op) return false;
  switch (a.op) {
    case 'LITERAL':
    case 'NOT_LITERAL':
      return a.c === (b as typeof a).c;
    case 'ANY':
      return true;
    case 'AT':
      return a.at === (b as typeof a).at;
    case 'GROUPREF':
      return a.gid === (b as typeof a).gid;
    case 'IN': {
      const other = (b as typeof a).items;
      return a.items.length === other.length && a.items.every((x, i) => sameSetItem(x, other[i]!));
    }
    default:
      return false;
  }
}

export function sameSetItem(a: SetItem, b: SetItem): boolean {
  return setItemKey(a) === setItemKey(b);
}

export function setItemKey(x: SetItem): string {
  switch (x.op) {
    case 'NEGATE':
      return 'N';
    case 'LITERAL':
      return `L${x.c}`;
    case 'RANGE':
      return `R${x.lo}-${x.hi}`;
    case 'CATEGORY':
      return `C${x.cat}`;
  }
}
