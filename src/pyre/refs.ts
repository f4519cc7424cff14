/**
 * Backreferences JavaScript cannot express directly, built from plain RegExp parts.
 *
 * - Whether a group has matched: a group that always consumes text has matched exactly when its
 *   capture is non-empty, and a capture `c` is non-empty exactly when, at the end of the input,
 *   `\k<c>` cannot match: `(?=[\s\S]*(?!\k<c>)$)`.
 * - A case-insensitive backreference (Python compares the repeated text by lowercase) to a group
 *   made of single characters, alternatives and fixed repeats: the group is emitted with a marker
 *   capture per choice it makes (which alternative, and for each character which lowercase it had),
 *   and the reference is one character set per position, chosen by those markers.
 */
import { combineFlags, isRepeat, type Sub } from './ast.js';
import { type CodeSet, intersect, isEmpty, subtract } from './charset.js';
import { anySet, inSet, literalSet, notLiteralSet } from './semantics.js';
import { asciiLower, caseAmbiguous, preimageOfPoints, unicodeLower } from './unicode.js';

/** `c` (a capture name) has matched, for a group that cannot match the empty string. */
export const matched = (name: string): string => `(?=[\\s\\S]*(?!\\k<${name}>)$)`;
/** The negation of {@link matched}. */
export const notMatched = (name: string): string => `(?![\\s\\S]*(?!\\k<${name}>)$)`;

/** The shape of a group body made of characters only. */
export type Shape =
  | { readonly kind: 'char'; readonly set: CodeSet }
  | { readonly kind: 'seq'; readonly items: readonly Shape[] }
  | { readonly kind: 'alt'; readonly alts: readonly Shape[] };

/** Longest fixed repeat unrolled in a shape. */
const MAX_UNROLL = 16;

/** The shape of `sub` (with `flags`), or null if it has anything but characters, alternatives, fixed repeats. */
export function shapeOf(sub: Sub, flags: number): Shape | null {
  const items: Shape[] = [];
  for (const n of sub.nodes) {
    let s: Shape | null = null;
    if (n.op === 'LITERAL') s = { kind: 'char', set: literalSet(n.c, flags) };
    else if (n.op === 'NOT_LITERAL') s = { kind: 'char', set: notLiteralSet(n.c, flags) };
    else if (n.op === 'ANY') s = { kind: 'char', set: anySet(flags) };
    else if (n.op === 'IN') s = { kind: 'char', set: inSet(n.items, flags) };
    else if (n.op === 'SUBPATTERN' && n.group === null) s = shapeOf(n.p, combineFlags(flags, n.add, n.del));
    else if (n.op === 'BRANCH') {
      const alts = n.items.map((alt) => shapeOf(alt, flags));
      if (alts.every((a) => a !== null)) s = { kind: 'alt', alts: alts as Shape[] };
    } else if (isRepeat(n) && n.op !== 'POSSESSIVE_REPEAT' && n.min === n.max && n.max <= MAX_UNROLL) {
      // a fixed count of a greedy or lazy repeat is its body written out (a possessive one is not)
      const body = shapeOf(n.item, flags);
      if (body) {
        for (let k = 0; k < n.min; k++) items.push(body);
        continue;
      }
    }
    if (!s) return null;
    items.push(s);
  }
  return { kind: 'seq', items };
}

const consumes = (s: Shape): boolean =>
  s.kind === 'char' || (s.kind === 'seq' ? s.items.some(consumes) : s.alts.every(consumes));

/** What the reference must match, mirroring the markers the group was emitted with. */
type Plan =
  | { readonly kind: 'set'; readonly set: CodeSet }
  | { readonly kind: 'choice'; readonly options: readonly { name: string; ref: string }[] }
  | { readonly kind: 'seq'; readonly items: readonly Plan[] }
  | { readonly kind: 'alt'; readonly alts: readonly { name: string | null; plan: Plan }[] };

export interface Marked {
  /** The group body, with marker captures. */
  readonly body: string;
  /** The case-insensitive reference to it. */
  readonly ref: string;
}

/** Most marker captures for one group (each lowercase class of each position is one). */
export const MAX_MARKERS = 512;

/**
 * Emit a group body of shape `shape` with markers, and the reference that compares by lowercase
 * (`unicode`: Unicode or ASCII lowercase). Null when it would take too many markers.
 */
export function markGroup(
  shape: Shape,
  unicode: boolean,
  prefix: string,
  setText: (set: CodeSet) => string,
): Marked | null {
  let markers = 0;
  const lower = unicode ? unicodeLower : asciiLower;
  const ambiguous = caseAmbiguous(unicode);
  const fresh = (): string => `${prefix}_${++markers}`;

  const emitChar = (set: CodeSet): { text: string; plan: Plan } => {
    const amb = intersect(set, ambiguous);
    const exact = subtract(set, amb);
    const classes = new Map<number, number[]>();
    for (let i = 0; i < amb.length; i += 2) {
      for (let c = amb[i]!; c < amb[i + 1]!; c++) {
        const lo = lower(c);
        const members = classes.get(lo) ?? [];
        members.push(c);
        classes.set(lo, members);
      }
    }
    const single = exact.length === 2 && exact[1] === exact[0]! + 1 && classes.size === 0;
    if (single || (isEmpty(exact) && classes.size === 1)) {
      const target = single ? exact : preimageOfPoints(unicode, [...classes.keys()]);
      return { text: setText(set), plan: { kind: 'set', set: target } };
    }
    const parts: string[] = [];
    const options: { name: string; ref: string }[] = [];
    if (!isEmpty(exact)) {
      const name = fresh();
      parts.push(`(?<${name}>${setText(exact)})`);
      options.push({ name, ref: `\\k<${name}>` });
    }
    for (const [lo, members] of classes) {
      const name = fresh();
      parts.push(
        `(?<${name}>${setText(members.length === 1 ? [members[0]!, members[0]! + 1] : toSet(members))})`,
      );
      options.push({ name, ref: setText(preimageOfPoints(unicode, [lo])) });
    }
    return { text: `(?:${parts.join('|')})`, plan: { kind: 'choice', options } };
  };

  const emit = (s: Shape): { text: string; plan: Plan } | null => {
    if (markers > MAX_MARKERS) return null;
    if (s.kind === 'char') return emitChar(s.set);
    if (s.kind === 'seq') {
      const parts = s.items.map(emit);
      if (parts.some((p) => p === null)) return null;
      return {
        text: parts.map((p) => p!.text).join(''),
        plan: { kind: 'seq', items: parts.map((p) => p!.plan) },
      };
    }
    const alts: { name: string | null; plan: Plan }[] = [];
    const texts: string[] = [];
    for (const alt of s.alts) {
      const p = emit(alt);
      if (!p) return null;
      const name = consumes(alt) ? fresh() : null;
      texts.push(name ? `(?<${name}>${p.text})` : p.text);
      alts.push({ name, plan: p.plan });
    }
    return { text: `(?:${texts.join('|')})`, plan: { kind: 'alt', alts } };
  };

  const out = emit(shape);
  if (!out || markers > MAX_MARKERS) return null;
  return { body: out.text, ref: refText(out.plan, setText) };
}

function toSet(points: readonly number[]): CodeSet {
  const out: number[] = [];
  for (const c of [...points].sort((a, b) => a - b)) {
    if (out.length > 0 && out[out.length - 1] === c) out[out.length - 1] = c + 1;
    else out.push(c, c + 1);
  }
  return out;
}

function refText(plan: Plan, setText: (set: CodeSet) => string): string {
  switch (plan.kind) {
    case 'set':
      return setText(plan.set);
    case 'choice':
      return `(?:${plan.options.map((o) => `${matched(o.name)}${o.ref}`).join('|')})`;
    case 'seq':
      return plan.items.map((p) => refText(p, setText)).join('');
    case 'alt': {
      const named = plan.alts.filter((a) => a.name !== null);
      const options = plan.alts.map((a) =>
        a.name !== null
          ? `${matched(a.name)}${refText(a.plan, setText)}`
          : `${named.map((n) => notMatched(n.name!)).join('')}${refText(a.plan, setText)}`,
      );
      return `(?:${options.join('|')})`;
    }
  }
}

/** Whether a set holds a code point whose case-insensitive comparison is not plain equality. */
export const hasAmbiguous = (set: CodeSet, unicode: boolean): boolean =>
  !isEmpty(intersect(set, caseAmbiguous(unicode)));
