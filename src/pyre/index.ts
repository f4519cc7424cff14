/**
 * Python 3.11 `re` patterns on JavaScript: `compilePyre(pattern, { flags: 'i' })` parses a pattern
 * exactly as CPython 3.11 does (same refusals, same messages and positions), and translates it to
 * an equivalent `RegExp` for Node 20's V8 (no regexp modifiers, atomic groups or possessive
 * quantifiers there), or refuses, naming the construct that has no equivalent. `match()` has
 * `re.match` semantics: anchored at the start only.
 *
 * Leaf module: imports nothing else of the library. Callers wrap `PyreError` in their own errors.
 */
import { FLAG } from './ast.js';
import { pythonCompileChecks } from './checks.js';
import { emit } from './emit.js';
import { PyreError } from './errors.js';
import { parse } from './parser.js';
import { cpLength } from './tokenizer.js';

export { isPyreError, PyreError, type PyreErrorKind } from './errors.js';

/** Python flag letters, as in `(?aimsux)`: the flags the caller passes to `re.compile`/`re.match`. */
export type PyreFlag = 'a' | 'i' | 'L' | 'm' | 's' | 'u' | 'x';

export interface PyreOptions {
  /** The caller's flags, e.g. `'i'` for `re.IGNORECASE` (Airflow's lookup patterns). Default none. */
  readonly flags?: string;
}

const FLAG_LETTERS: Record<PyreFlag, number> = {
  a: FLAG.ASCII,
  i: FLAG.IGNORECASE,
  L: FLAG.LOCALE,
  m: FLAG.MULTILINE,
  s: FLAG.DOTALL,
  u: FLAG.UNICODE,
  x: FLAG.VERBOSE,
};

/** A compiled pattern. */
export class PyPattern {
  /** The JavaScript equivalent (flag `u`, anchored at the start). */
  readonly regexp: RegExp;
  /** Python's `pattern.groups`. */
  readonly groups: number;
  /** What Python would warn about (`FutureWarning: Possible nested set at position 1`, …). */
  readonly warnings: readonly string[];
  /**
   * False when the pattern has a repeat whose body can match the empty string: the answer of
   * `test()` is still Python's, but the end of the match may differ from Python's span.
   */
  readonly spanExact: boolean;

  /** @internal */
  constructor(regexp: RegExp, groups: number, warnings: readonly string[], spanExact: boolean) {
    this.regexp = regexp;
    this.groups = groups;
    this.warnings = warnings;
    this.spanExact = spanExact;
  }

  /** `re.match(pattern, s)`: null, or the end of the match in code points (it starts at 0). */
  match(s: string): { readonly end: number } | null {
    let m: RegExpExecArray | null;
    try {
      m = this.regexp.exec(s);
    } catch {
      throw PyreError.unsupported(
        'matching',
        null,
        "the input exhausted the JavaScript regexp engine's stack",
      );
    }
    return m ? { end: cpLength(m[0]) } : null;
  }

  /** `bool(re.match(pattern, s))`. */
  test(s: string): boolean {
    return this.match(s) !== null;
  }
}

function flagBits(flags: string): number {
  let bits = 0;
  for (const letter of flags) {
    const bit = FLAG_LETTERS[letter as PyreFlag];
    if (bit === undefined || !Object.hasOwn(FLAG_LETTERS, letter)) {
      throw PyreError.pythonOther('ValueError', `unknown flag letter ${JSON.stringify(letter)}`);
    }
    bits |= bit;
  }
  return bits;
}

/**
 * Compile a Python pattern. Throws `PyreError` (and nothing else): kind `invalid` where Python
 * 3.11 refuses the pattern, `unsupported` where it has no JavaScript equivalent.
 */
export function compilePyre(pattern: string, options: PyreOptions = {}): PyPattern {
  if (typeof pattern !== 'string') {
    throw PyreError.pythonOther('ValueError', 'the pattern must be a string');
  }
  const bits = flagBits(options.flags ?? '');
  const parsed = guarded(() => parse(pattern, bits));
  guarded(() => pythonCompileChecks(parsed.sub, parsed.state.flags, parsed.state));
  const emitted = guarded(() => emit(parsed));
  let regexp: RegExp;
  try {
    regexp = new RegExp(emitted.source, 'u');
    // V8 compiles a RegExp on first use, once per string width: do it now, so that an engine
    // limit (stack depth on a few thousand groups) is a compile error, not a lookup error.
    regexp.exec('');
    regexp.exec('\u0100');
  } catch (e) {
    const limit = e instanceof RangeError || /(Stack overflow|too large)$/.test(String((e as Error).message));
    throw PyreError.unsupported(
      'pattern',
      null,
      limit
        ? "its translation exceeds the JavaScript regexp engine's limits (V8 overflows its stack near 5,000 groups)"
        : 'the JavaScript regexp engine rejected the translation (a bug in the translator)',
    );
  }
  return new PyPattern(regexp, parsed.state.groups - 1, parsed.state.warnings, emitted.spanExact);
}

/** Run a translation step; anything but our error (a stack overflow on huge input) becomes one. */
function guarded<T>(step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof PyreError) throw e;
    throw PyreError.unsupported(
      'pattern',
      null,
      e instanceof RangeError ? 'too large or too deeply nested to translate' : 'internal translator error',
    );
  }
}

const CACHE_SIZE = 512;
const cache = new Map<string, PyPattern | PyreError>();

/** `compilePyre` through a cache (as Python's `re` caches): the same pattern compiles once. */
export function compilePyreCached(pattern: string, options: PyreOptions = {}): PyPattern {
  const key = `${options.flags ?? ''}\u0000${pattern}`;
  let entry = cache.get(key);
  if (entry === undefined) {
    try {
      entry = compilePyre(pattern, options);
    } catch (e) {
      entry = e as PyreError;
    }
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
  }
  if (entry instanceof PyreError) throw entry;
  return entry;
}

/**
 * A predicate compiled on first use, as Airflow compiles a lookup pattern only when a lookup of
 * that kind happens: building it never throws; each call throws the same `PyreError` if the
 * pattern is refused.
 */
export function lazyPyreMatcher(pattern: string, options: PyreOptions = {}): (s: string) => boolean {
  let compiled: PyPattern | undefined;
  return (s: string) => {
    compiled ??= compilePyreCached(pattern, options);
    return compiled.test(s);
  };
}
