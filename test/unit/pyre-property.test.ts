/**
 * Properties of the translator on arbitrary input: it answers with a pattern or a `PyreError` and
 * nothing else, and its work grows linearly with the pattern (checked by the size of what it builds,
 * not by a clock). Catastrophic backtracking of a compiled pattern is the pattern's, as in Python.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePyre, isPyreError, type PyPattern } from '../../src/pyre/index.js';

const PIECES = [
  ...'()[]{}|*+?.^$\\-,:=!<>#PaAbzZ09_ \n\t',
  '(?',
  '(?:',
  '(?P<a>',
  '(?P=a)',
  '(?>',
  '(?=',
  '(?!',
  '(?<=',
  '(?<!',
  '(?(1)',
  '(?i)',
  '(?x)',
  '(?s:',
  '(?-i:',
  '(?a:',
  '(?#',
  '\\d',
  '\\w',
  '\\s',
  '\\b',
  '\\B',
  '\\A',
  '\\Z',
  '\\1',
  '\\N{',
  '\\N{EM DASH}',
  '\\x4',
  '\\u00e9',
  '\\U0001f600',
  '{,2}',
  '{2,}',
  '*+',
  '++',
  '?+',
  'é',
  'K',
  'ſ',
  '١',
  '😀',
  '\ud800',
];

/** Pattern-like strings: concatenations of regex syntax pieces. */
const patternish = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((xs) => xs.join(''));
const flags = fc.constantFrom('', 'i', 'is', 'ix', 'ia', 'im', 'x', 'a', 'L', 'u');

/** Compile; the only allowed failure is a PyreError. */
function attempt(pattern: string, f: string): PyPattern | null {
  try {
    return compilePyre(pattern, { flags: f });
  } catch (e) {
    if (!isPyreError(e)) throw e;
    expect(['invalid', 'unsupported']).toContain(e.kind);
    expect(e.message.length).toBeLessThan(400);
    return null;
  }
}

describe('translator properties', () => {
  it('regex-like input: a compiled pattern or a PyreError, and matching answers a boolean', () => {
    fc.assert(
      fc.property(
        patternish,
        flags,
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 4 }),
        (p, f, ids) => {
          const compiled = attempt(p, f);
          if (compiled) for (const id of ids) expect(typeof compiled.test(id)).toBe('boolean');
        },
      ),
      { numRuns: 600, seed: 12 },
    );
  });

  it('arbitrary Unicode input: a compiled pattern or a PyreError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), flags, (p, f) => {
        attempt(p, f);
      }),
      { numRuns: 600, seed: 7 },
    );
  });

  it('pathological families translate in output linear in their size', () => {
    const families: ((n: number) => string)[] = [
      (n) => '('.repeat(n) + ')'.repeat(n),
      (n) => '(?:'.repeat(n) + 'a' + ')'.repeat(n),
      (n) => 'a|'.repeat(n) + 'b',
      (n) => '(?:a*)*'.repeat(n),
      (n) => '(?>a+)'.repeat(n),
      (n) => 'a*+'.repeat(n),
      (n) => `[${'a-z'.repeat(n)}]`,
      (n) => '\\w'.repeat(n),
      (n) => '(a)'.repeat(n) + '\\1'.repeat(n),
      (n) => '(?i:(?-i:(?s:.)))'.repeat(n),
      (n) => 'x{1,3}?'.repeat(n),
      (n) => '[[['.repeat(n) + ']',
      (n) => '\\'.repeat(2 * n),
      (n) => '{'.repeat(n),
      (n) => '(?#'.repeat(n) + ')',
    ];
    for (const family of families) {
      const size = (n: number): number => {
        const compiled = attempt(family(n), 'i');
        return compiled ? compiled.regexp.source.length : 0;
      };
      const [small, large] = [size(50), size(200)];
      // four times the input: at most about four times the output (plus a constant)
      expect(large).toBeLessThanOrEqual(4.5 * small + 2000);
    }
  });

  it('deep nesting and long inputs end in a result or a typed refusal', () => {
    for (const p of [
      '('.repeat(5000),
      '(?:'.repeat(450) + ')'.repeat(450),
      'a'.repeat(200_000),
      '[a'.repeat(10_000),
      '(?P<x>a)'.repeat(3000),
      '\\b'.repeat(3000),
    ]) {
      attempt(p, 'i');
    }
  });
});
