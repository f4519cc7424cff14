/**
 * The translator's API and the behaviours issue 12 names, one by one. The exhaustive proof against
 * CPython is pyre-vectors.test.ts; these are the readable examples.
 */
import { describe, expect, it } from 'vitest';
import {
  compilePyre,
  compilePyreCached,
  isPyreError,
  lazyPyreMatcher,
  type PyreError,
} from '../../src/pyre/index.js';

/** `bool(re.match(pattern, s, re.IGNORECASE))`, as Airflow's lookup patterns are matched. */
const matchI = (pattern: string, s: string): boolean => compilePyre(pattern, { flags: 'i' }).test(s);

function refusal(pattern: string, flags = 'i'): PyreError {
  try {
    compilePyre(pattern, { flags });
  } catch (e) {
    if (isPyreError(e)) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(pattern)} to be refused`);
}

describe('re.match semantics', () => {
  it('anchors at the start only, case-insensitively', () => {
    expect(matchI('T.*', 'test')).toBe(true);
    expect(matchI('est', 'test')).toBe(false);
    expect(matchI('te', 'test')).toBe(true);
    expect(compilePyre('te').match('test')).toEqual({ end: 2 });
  });

  it('the MWAA default pattern skips exactly aws_default', () => {
    const p = '^(?!aws_default$).*$';
    expect(matchI(p, 'aws_default')).toBe(false);
    expect(matchI(p, 'AWS_DEFAULT')).toBe(false);
    expect(matchI(p, 'aws_default\n')).toBe(false); // $ also matches before a final newline
    expect(matchI(p, 'aws_default_2')).toBe(true);
    expect(matchI(p, '')).toBe(true);
  });
});

describe('inline flags', () => {
  it('global flags at the start apply to the whole pattern', () => {
    expect(compilePyre('(?i)abc').test('ABC')).toBe(true);
    expect(compilePyre('(?s)a.b').test('a\nb')).toBe(true);
    expect(compilePyre('a.b').test('a\nb')).toBe(false);
    expect(compilePyre('(?x) a b  # comment').test('ab')).toBe(true);
    expect(compilePyre('(?m)a$\\nb').test('a\nb')).toBe(true);
    expect(compilePyre('(?a)\\w').test('é')).toBe(false);
    expect(compilePyre('(?u)\\w').test('é')).toBe(true);
    expect(compilePyre('(?im)^B').test('B')).toBe(true);
  });

  it('scoped flags apply inside their group only', () => {
    expect(matchI('(?-i:a)b', 'aB')).toBe(true);
    expect(matchI('(?-i:a)b', 'Ab')).toBe(false);
    expect(compilePyre('(?i:a)b').test('Ab')).toBe(true);
    expect(compilePyre('(?i:a)b').test('AB')).toBe(false);
    expect(compilePyre('(?s:.).').test('\n\n')).toBe(false);
    expect(compilePyre('(?s:.).').test('\nx')).toBe(true);
    expect(compilePyre('(?x: a b )c d').test('abc d')).toBe(true);
    expect(compilePyre('(?a:\\w)\\w').test('aé')).toBe(true);
    expect(compilePyre('(?a:\\w)\\w').test('éa')).toBe(false);
    expect(compilePyre('a(?m:$)').test('a\nb')).toBe(true);
  });

  it('refuses what Python refuses, with its message and position', () => {
    const e = refusal('(?L)a');
    expect(e.kind).toBe('invalid');
    expect(e.pythonMessage).toBe("bad inline flags: cannot use 'L' flag with a str pattern");
    expect(e.position).toBe(3);
    expect(e.message).toBe(
      "invalid Python regular expression: bad inline flags: cannot use 'L' flag with a str pattern at position 3",
    );
    expect(refusal('a(?i)').pythonMessage).toBe('global flags not at the start of the expression');
    expect(refusal('(?a)(?u)x').pythonType).toBe('ValueError');
    expect(refusal('(?i-i:a)').pythonMessage).toBe('bad inline flags: flag turned on and off');
  });
});

describe('anchors', () => {
  it('\\A and \\Z are the string ends; $ also matches before a final newline', () => {
    expect(matchI('\\Aab\\Z', 'ab')).toBe(true);
    expect(matchI('ab\\Z', 'ab\n')).toBe(false);
    expect(matchI('ab$', 'ab\n')).toBe(true);
    expect(matchI('ab$', 'ab\n\n')).toBe(false);
    expect(matchI('(?m)ab$', 'ab\ncd')).toBe(true);
    expect(matchI('(?m)ab\\Z', 'ab\ncd')).toBe(false);
    expect(matchI('a\\n^b', 'a\nb')).toBe(false);
    expect(matchI('(?m)a\\n^b', 'a\nb')).toBe(true);
    expect(matchI('(?m)a\\r^b', 'a\rb')).toBe(false); // only \n ends a line in Python
    expect(matchI('a.', 'a\r')).toBe(true); // and . excludes \n only
  });
});

describe('Unicode classes (CPython 3.11, Unicode 14.0)', () => {
  it('\\d is the Nd category', () => {
    expect(matchI('\\d+$', '١٢٣')).toBe(true);
    expect(matchI('\\d', '²')).toBe(false); // a digit, but not decimal
    expect(matchI('\\d', '\u{11f50}')).toBe(false); // Kawi digit zero: Unicode 15, after Python 3.11
    expect(matchI('(?a)\\d', '١')).toBe(false);
  });

  it('\\s is str.isspace(), U+001C..U+001F and U+0085 included', () => {
    for (const c of ['\x1c', '\x1d', '\x1e', '\x1f', '\x85', '\u2028', '\u3000', '\xa0']) {
      expect(matchI('\\s', c)).toBe(true);
    }
    for (const c of ['\u200b', '\u180e', '\ufeff']) expect(matchI('\\s', c)).toBe(false);
    expect(matchI('(?a)\\s', '\x1c')).toBe(false);
    expect(matchI('(?a)\\s', '\x0b')).toBe(true);
  });

  it('\\w is str.isalnum() or _', () => {
    expect(matchI('\\w+$', 'héllo_Ⅳ½')).toBe(true);
    expect(matchI('\\w', '\u0301')).toBe(false); // a combining mark is not alphanumeric
    expect(matchI('[^\\W\\d]', '5')).toBe(false);
    expect(matchI('[^\\W\\d]', 'é')).toBe(true);
  });

  it('\\b and \\B use the Unicode \\w; \\B never matches an empty string', () => {
    expect(matchI('é\\b', 'é.')).toBe(true);
    expect(matchI('é\\b', 'éa')).toBe(false);
    expect(matchI('(?a)é\\b', 'éa')).toBe(true);
    expect(matchI('\\B', '')).toBe(false);
    expect(matchI('\\b', '')).toBe(false);
    expect(matchI('a\\B', 'ab')).toBe(true);
  });

  it('IGNORECASE folds as CPython does (simple lowercase plus its special cases)', () => {
    expect(matchI('k', '\u212a')).toBe(true); // KELVIN SIGN
    expect(matchI('s', 'ſ')).toBe(true);
    expect(matchI('i', 'İ')).toBe(true); // lowercase of İ is i
    expect(matchI('ı', 'I')).toBe(true);
    expect(matchI('µ', 'Μ')).toBe(true);
    expect(matchI('σ', 'ς')).toBe(true);
    expect(matchI('straße', 'STRASSE')).toBe(false); // no full case folding
    expect(matchI('(?a)k', '\u212a')).toBe(false);
    expect(matchI('[a-z]+$', 'KELVIN')).toBe(true);
  });
});

describe('quantifiers, groups, escapes', () => {
  it('{,n} is a quantifier; { is a literal where it cannot start one', () => {
    expect(compilePyre('a{,2}b').match('aab')).toEqual({ end: 3 });
    expect(matchI('a{,2}$', 'aaa')).toBe(false);
    expect(matchI('a{', 'a{')).toBe(true);
    expect(matchI('a{1, 2}', 'a{1, 2}')).toBe(true);
    expect(matchI('{}', '{}')).toBe(true);
    expect(refusal('{1}').pythonMessage).toBe('nothing to repeat');
  });

  it('backreferences: unset groups fail as in Python; IGNORECASE compares by lowercase', () => {
    expect(matchI('(a)?\\1', 'aa')).toBe(true);
    expect(matchI('(a)?\\1', 'b')).toBe(false); // group 1 did not match: the reference fails
    expect(matchI('(?:(a)|b)\\1', 'b')).toBe(false);
    const env = '(?P<env>prod|dev)_(?P=env)_.*';
    expect(matchI(env, 'prod_PROD_x')).toBe(true);
    expect(matchI(env, 'Dev_dEV_x')).toBe(true);
    expect(matchI(env, 'prod_dev_x')).toBe(false);
    expect(matchI('(s)\\1', 'sS')).toBe(true);
    expect(matchI('(s)\\1', 'sſ')).toBe(false); // lowercase of ſ is ſ, not s
    expect(matchI('(i)\\1', 'iİ')).toBe(true); // lowercase of İ is i
  });

  it('conditionals, also where the group may or may not have matched', () => {
    expect(matchI('(<)?\\w+(?(1)>)$', '<a>')).toBe(true);
    expect(matchI('(<)?\\w+(?(1)>)$', 'a')).toBe(true);
    expect(matchI('(<)?\\w+(?(1)>)$', '<a')).toBe(false);
    expect(matchI('(?(1)a|b)(x)', 'bx')).toBe(true); // group 1 cannot have matched yet
  });

  it('named groups, named and numbered backreferences, comments', () => {
    expect(matchI('(?P<n>\\d+)-(?P=n)$', '12-12')).toBe(true);
    expect(matchI('(?P<n>\\d+)-(?P=n)$', '12-13')).toBe(false);
    expect(matchI('(\\d)(\\d)\\2\\1', '1221')).toBe(true);
    expect(matchI('a(?#anything)b', 'ab')).toBe(true);
    expect(compilePyre('(a)(b)').groups).toBe(2);
  });

  it('atomic groups and possessive repeats do not give back', () => {
    expect(matchI('(?>a*)a', 'aaa')).toBe(false);
    expect(matchI('a*a', 'aaa')).toBe(true);
    expect(matchI('a*+a', 'aaa')).toBe(false);
    expect(matchI('(?>a|ab)c', 'abc')).toBe(false);
    expect(matchI('(?:a|ab)c', 'abc')).toBe(true);
    // CPython 3.11 also commits to each iteration of a possessive repeat
    expect(matchI('(?:a+){2}+', 'aa')).toBe(false);
    expect(matchI('(?:a+){2}', 'aa')).toBe(true);
  });

  it('look-behind must have a fixed width, as in Python', () => {
    expect(matchI('ab(?<=b)c', 'abc')).toBe(true);
    expect(refusal('a(?<=a|bc)').pythonMessage).toBe('look-behind requires fixed-width pattern');
  });

  it('escapes follow Python: \\N{…}, octal, \\x \\u \\U; unknown ASCII-letter escapes are errors', () => {
    expect(matchI('\\N{EM DASH}', '—')).toBe(true);
    expect(matchI('\\N{em dash}', '—')).toBe(true);
    expect(matchI('\\N{LATIN CAPITAL LETTER GHA}', 'Ƣ')).toBe(true); // an alias
    expect(matchI('\\N{CJK UNIFIED IDEOGRAPH-4E00}', '一')).toBe(true);
    expect(matchI('\\N{HANGUL SYLLABLE GAG}', '각')).toBe(true);
    expect(refusal('\\N{BOGUS}').pythonMessage).toBe("undefined character name 'BOGUS'");
    expect(matchI('\\101\\x41\\u0041\\U00000041\\0', 'AAAA\0')).toBe(true);
    expect(refusal('\\q').pythonMessage).toBe('bad escape \\q');
    expect(refusal('\\400').pythonMessage).toBe('octal escape value \\400 outside of range 0-0o377');
    expect(matchI('\\_\\-\\ ', '_- ')).toBe(true);
  });

  it('character-class edge cases', () => {
    expect(matchI('[]a]+$', ']a')).toBe(true);
    expect(refusal('[]').pythonMessage).toBe('unterminated character set');
    expect(refusal('[^]').pythonMessage).toBe('unterminated character set');
    expect(matchI('[^]]', 'a')).toBe(true);
    expect(matchI('[a-]', '-')).toBe(true);
    expect(refusal('[z-a]').pythonMessage).toBe('bad character range z-a');
    expect(refusal('[a-\\d]').pythonMessage).toBe('bad character range a-\\d');
    expect(compilePyre('[[a]').warnings).toEqual(['FutureWarning: Possible nested set at position 1']);
    expect(compilePyre('[a&&b]').warnings).toEqual([
      'FutureWarning: Possible set intersection at position 2',
    ]);
    expect(compilePyre('[a-z--b]').warnings).toEqual([
      'FutureWarning: Possible set difference at position 4',
    ]);
    expect(refusal('[a--b]').pythonMessage).toBe('bad character range a--');
  });
});

describe('refusals', () => {
  it('name the construct and its position, never the pattern', () => {
    const marker = 'sekrit_marker_1234';
    const e = refusal(`(?:(${marker})|b)+(?(1)x|y)`);
    expect(e.kind).toBe('unsupported');
    expect(e.construct).toBe('conditional group `(?(…)…)`');
    expect(e.position).toBe(marker.length + 9);
    expect(e.message).toMatch(
      /^conditional group `\(\?\(…\)…\)` at position 27 has no JavaScript equivalent: /,
    );
    expect(e.message).not.toContain(marker);
    expect(String(e.stack)).not.toContain(marker);
    expect(refusal(`(?:(?P<n>${marker})|b)+x(?P=n)`).construct).toBe('backreference to group 1');
    expect(refusal(`(${marker}.)\\1`).construct).toBe('case-insensitive backreference to group 1');
    expect(refusal(`(?>(?:|${marker})*)x`).construct).toBe(
      'repeat inside an atomic group or possessive repeat',
    );
  });

  it('Python-invalid patterns do not quote the whole pattern either', () => {
    const marker = 'sekrit_marker_1234';
    const e = refusal(`${marker}(`);
    expect(e.message).toBe(
      'invalid Python regular expression: missing ), unterminated subpattern at position 18',
    );
    expect(refusal(`${marker}\n(`).message).toContain('(line 2, column 1)');
  });

  it('translation beyond the size limit is refused, not attempted', () => {
    expect(refusal('\\b'.repeat(2000)).construct).toBe('pattern');
  });

  it('bad caller flags and non-string patterns are typed errors too', () => {
    expect(() => compilePyre('a', { flags: 'q' })).toThrow(/unknown flag letter/);
    expect(refusal('a', 'L').pythonMessage).toBe('cannot use LOCALE flag with a str pattern');
    expect(() => compilePyre(42 as unknown as string)).toThrow(/must be a string/);
  });
});

describe('lazy compilation', () => {
  it('a matcher compiles on first use; a refused pattern throws on each use, not when built', () => {
    const bad = lazyPyreMatcher('(', { flags: 'i' });
    let first: unknown;
    try {
      bad('x');
    } catch (e) {
      first = e;
    }
    expect(isPyreError(first)).toBe(true);
    expect(() => bad('y')).toThrow(first as Error);
    const good = lazyPyreMatcher('conn_.*', { flags: 'i' });
    expect(good('CONN_1')).toBe(true);
    expect(good('other')).toBe(false);
  });

  it('the cache compiles a pattern once per flags', () => {
    const a = compilePyreCached('x+', { flags: 'i' });
    expect(compilePyreCached('x+', { flags: 'i' })).toBe(a);
    expect(compilePyreCached('x+', { flags: '' })).not.toBe(a);
  });

  it('spanExact is false where an empty-matching repeat can end the match elsewhere', () => {
    expect(compilePyre('(?:|a)*').spanExact).toBe(false);
    expect(compilePyre('(?:|a)*').test('a')).toBe(true);
    expect(compilePyre('a*').spanExact).toBe(true);
  });
});
