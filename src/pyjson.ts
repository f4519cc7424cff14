/**
 * Private helpers: Python's `json` module semantics (CPython 3.11/3.12), needed to produce Airflow's
 * exact bytes and `JSONDecodeError` texts. The one JSON reader of the library: {@link pyJsonLoads}
 * gives the Python model, {@link parsePythonJson} the plain-JS view of it. Not part of the public API.
 *
 * Values are modelled the way Python sees them after `json.loads`: `bigint` is a Python `int`,
 * `number` a Python `float`, `Map` a `dict` (insertion order kept, even for keys like `"1"` that a
 * JS object would reorder), arrays are lists. Errors never quote the input.
 */

/** A JSON value as Python holds it. */
export type PyValue = null | boolean | string | bigint | number | PyValue[] | PyDict;
/** A Python `dict` with string keys, in insertion order. */
export type PyDict = Map<string, PyValue>;

/** A parse or encode failure. The message never contains the input text. */
export class PyValueError extends Error {
  override name = 'PyValueError';
}

/**
 * Deepest nesting of arrays/objects that {@link pyJsonLoads} reads and {@link pyJsonDumps} writes
 * (CPython raises `RecursionError` about here, at its default recursion limit).
 */
export const MAX_DEPTH = 1000;
const MAX_INT_DIGITS = 4300; // CPython's default int_max_str_digits

/**
 * Python's `json.JSONDecodeError`: `msg` is CPython's exact message (e.g. "Expecting ',' delimiter"),
 * `pos` the 0-based index, `lineno`/`colno` 1-based. Neither the message nor any field quotes the input.
 */
export class PyJsonDecodeError extends PyValueError {
  override name = 'PyJsonDecodeError';
  readonly lineno: number;
  readonly colno: number;
  constructor(
    readonly msg: string,
    doc: string,
    readonly pos: number,
  ) {
    const lineno = lineOf(doc, pos);
    const colno = pos === 0 ? 1 : pos - doc.lastIndexOf('\n', pos - 1); // pos - doc.rfind('\n', 0, pos)
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`);
    this.lineno = lineno;
    this.colno = colno;
  }
}

/** Python's `doc.count('\n', 0, pos) + 1`. */
function lineOf(s: string, pos: number): number {
  let line = 1;
  for (let i = s.indexOf('\n'); i !== -1 && i < pos; i = s.indexOf('\n', i + 1)) line++;
  return line;
}

const isWs = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const HEX = /^[0-9a-fA-F]{4}$/;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const LITERALS: ReadonlyArray<readonly [string, PyValue]> = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
];

function fail(s: string, msg: string, pos: number): never {
  throw new PyJsonDecodeError(msg, s, pos);
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s[i])) i++;
  return i;
}

/** A string whose opening quote is just before `start`: its value and the index after the closing quote. */
function scanString(s: string, start: number): [string, number] {
  const n = s.length;
  const begin = start - 1;
  let out = '';
  let i = start;
  for (;;) {
    let j = i;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 0x22 || c === 0x5c || c < 0x20) break;
      j++;
    }
    if (j >= n) fail(s, 'Unterminated string starting at', begin);
    out += s.slice(i, j);
    const c = s[j]!;
    if (c === '"') return [out, j + 1];
    if (c !== '\\') fail(s, 'Invalid control character at', j);
    j++;
    if (j === n) fail(s, 'Unterminated string starting at', begin);
    const e = s[j]!;
    if (e !== 'u') {
      const mapped = ESCAPES[e];
      if (mapped === undefined) fail(s, 'Invalid \\escape', j - 1);
      out += mapped;
      i = j + 1;
      continue;
    }
    const [code, end] = scanUnicodeEscape(s, j + 1);
    out += String.fromCodePoint(code);
    i = end;
  }
}

/** The 4 hex digits after `\u` at `j` (with a following low surrogate): the code point, the index after. */
function scanUnicodeEscape(s: string, j: number): [number, number] {
  const n = s.length;
  let end = j + 4;
  if (end >= n) fail(s, 'Invalid \\uXXXX escape', j - 1);
  const hex = s.slice(j, end);
  if (!HEX.test(hex)) fail(s, 'Invalid \\uXXXX escape', end - 5);
  let code = Number.parseInt(hex, 16);
  if (code >= 0xd800 && code <= 0xdbff && end + 6 < n && s[end] === '\\' && s[end + 1] === 'u') {
    const hex2 = s.slice(end + 2, end + 6);
    if (!HEX.test(hex2)) fail(s, 'Invalid \\uXXXX escape', end + 1);
    const low = Number.parseInt(hex2, 16);
    if (low >= 0xdc00 && low <= 0xdfff) {
      code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      end += 6;
    }
  }
  return [code, end];
}

function scanNumber(s: string, start: number): [bigint | number, number] {
  const n = s.length;
  let i = start;
  if (s[i] === '-') {
    i++;
    if (i >= n) fail(s, 'Expecting value', start);
  }
  if (s[i]! >= '1' && s[i]! <= '9') {
    i++;
    while (isDigit(s[i])) i++;
  } else if (s[i] === '0') i++;
  else fail(s, 'Expecting value', start);
  const intEnd = i;
  if (i < n - 1 && s[i] === '.' && isDigit(s[i + 1])) {
    i += 2;
    while (isDigit(s[i])) i++;
  }
  if (i < n - 1 && (s[i] === 'e' || s[i] === 'E')) {
    const eStart = i;
    i++;
    if (i < n - 1 && (s[i] === '-' || s[i] === '+')) i++;
    while (isDigit(s[i])) i++;
    if (!isDigit(s[i - 1])) i = eStart;
  }
  const literal = s.slice(start, i);
  if (i !== intEnd) return [Number(literal), i];
  const digits = s[start] === '-' ? literal.length - 1 : literal.length;
  if (digits > MAX_INT_DIGITS) {
    fail(
      s,
      `Exceeds the limit (${MAX_INT_DIGITS} digits) for integer string conversion: value has ${digits} digits; use sys.set_int_max_str_digits() to increase the limit`,
      start,
    );
  }
  return [BigInt(literal), i];
}

function scanOnce(s: string, i: number, depth: number): [PyValue, number] {
  if (i >= s.length) fail(s, 'Expecting value', i);
  const c = s[i];
  if (c === '"') return scanString(s, i + 1);
  if (c === '{' || c === '[') {
    if (depth >= MAX_DEPTH) fail(s, 'Maximum nesting depth exceeded', i);
    return c === '{' ? scanObject(s, i + 1, depth + 1) : scanArray(s, i + 1, depth + 1);
  }
  for (const [word, value] of LITERALS) {
    if (s.startsWith(word, i)) return [value, i + word.length];
  }
  return scanNumber(s, i);
}

function scanObject(s: string, start: number, depth: number): [PyDict, number] {
  const n = s.length;
  const obj: PyDict = new Map();
  let i = skipWs(s, start);
  if (i < n && s[i] === '}') return [obj, i + 1];
  for (;;) {
    if (i >= n || s[i] !== '"') fail(s, 'Expecting property name enclosed in double quotes', i);
    const [key, afterKey] = scanString(s, i + 1);
    i = skipWs(s, afterKey);
    if (i >= n || s[i] !== ':') fail(s, "Expecting ':' delimiter", i);
    i = skipWs(s, i + 1);
    const [value, afterValue] = scanOnce(s, i, depth);
    obj.set(key, value);
    i = skipWs(s, afterValue);
    if (i < n && s[i] === '}') return [obj, i + 1];
    if (i >= n || s[i] !== ',') fail(s, "Expecting ',' delimiter", i);
    i = skipWs(s, i + 1);
  }
}

function scanArray(s: string, start: number, depth: number): [PyValue[], number] {
  const n = s.length;
  const arr: PyValue[] = [];
  let i = skipWs(s, start);
  if (i < n && s[i] === ']') return [arr, i + 1];
  for (;;) {
    const [value, after] = scanOnce(s, i, depth);
    arr.push(value);
    i = skipWs(s, after);
    if (i < n && s[i] === ']') return [arr, i + 1];
    if (i >= n || s[i] !== ',') fail(s, "Expecting ',' delimiter", i);
    i = skipWs(s, i + 1);
  }
}

/**
 * Python `json.loads(text)` (CPython's C scanner, Python 3.12): strict JSON plus `NaN`, `Infinity`,
 * `-Infinity`; integers become `bigint` (refused beyond CPython's 4300-digit limit), numbers with a
 * fraction or exponent become `number`; duplicate keys keep their first position and last value
 * (like a Python dict). Bad input throws a {@link PyJsonDecodeError} with CPython's message and
 * position; nesting deeper than {@link MAX_DEPTH} is refused instead of overflowing the stack.
 * The scanner functions above take the whole text and an index, and return the value and the index after it.
 */
export function pyJsonLoads(text: string): PyValue {
  const s = text;
  if (s.startsWith('\ufeff')) fail(s, 'Unexpected UTF-8 BOM (decode using utf-8-sig)', 0);
  const [value, end] = scanOnce(s, skipWs(s, 0), 0);
  const rest = skipWs(s, end);
  if (rest !== s.length) fail(s, 'Extra data', rest);
  return value;
}

/** {@link parsePythonJson}'s answer: the plain-JS value, or CPython's error message, position and line. */
export type PythonJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; position: number; line: number };

/**
 * `json.loads(text)` as plain JS (via {@link toJs}: objects with own properties only, so a
 * `"__proto__"` key is an ordinary key; ints as numbers). Used where Airflow shows `JSONDecodeError`
 * texts (the local-filesystem backend): never throws for bad input, reports CPython's `e.msg` and
 * `e.lineno` instead — never a piece of the input, unlike `JSON.parse`.
 */
export function parsePythonJson(text: string): PythonJsonResult {
  try {
    return { ok: true, value: toJs(pyJsonLoads(text)) };
  } catch (e) {
    if (!(e instanceof PyJsonDecodeError)) throw e;
    return { ok: false, message: e.msg, position: e.pos, line: e.lineno };
  }
}

/** Python `json.dumps(value)` with default settings (`", "`/`": "` separators, `ensure_ascii`). */
export function pyJsonDumps(value: PyValue): string {
  const out: string[] = [];
  const walk = (v: PyValue, depth: number) => {
    if (depth > MAX_DEPTH) throw new PyValueError('Nesting too deep');
    if (v === null) out.push('null');
    else if (v === true) out.push('true');
    else if (v === false) out.push('false');
    else if (typeof v === 'string') out.push(pyJsonString(v));
    else if (typeof v === 'bigint') out.push(v.toString());
    else if (typeof v === 'number') {
      if (Number.isNaN(v)) out.push('NaN');
      else if (v === Number.POSITIVE_INFINITY) out.push('Infinity');
      else if (v === Number.NEGATIVE_INFINITY) out.push('-Infinity');
      else out.push(pyFloatRepr(v));
    } else if (Array.isArray(v)) {
      out.push('[');
      v.forEach((x, k) => {
        if (k) out.push(', ');
        walk(x, depth + 1);
      });
      out.push(']');
    } else {
      out.push('{');
      let first = true;
      for (const [k, x] of v) {
        if (!first) out.push(', ');
        first = false;
        out.push(pyJsonString(k), ': ');
        walk(x, depth + 1);
      }
      out.push('}');
    }
  };
  walk(value, 0);
  return out.join('');
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Python's `json.encoder.py_encode_basestring_ascii`: every char outside ' '..'~' is escaped. */
export function pyJsonString(s: string): string {
  return `"${s.replace(/[^ -~]|["\\]/g, (ch) => JSON_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** Python `repr(float)` (= `str(float)`) for a finite number: shortest round-trip digits. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const [mant = '0', expText = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const e = Number(expText);
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(e);
    return `${sign}${m}e${e < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const intPart = digits.length > e + 1 ? digits.slice(0, e + 1) : digits.padEnd(e + 1, '0');
  const frac = digits.slice(e + 1);
  return `${sign}${intPart}.${frac || '0'}`;
}

/**
 * Python's non-printable characters (what `repr` escapes), as a pattern.
 * Built on first use, not written as a literal: V8 checks a literal's Unicode property escapes
 * (`\p{…}`) while it compiles the file, 70–280 µs each even inside a function never called, and
 * that is paid by every import of the package root (bench: "importing the package root").
 */
let nonPrintable: RegExp | undefined;
const NON_PRINTABLE = (): RegExp =>
  // biome-ignore lint/complexity/useRegexLiterals: not a literal on purpose (above)
  (nonPrintable ??= new RegExp(String.raw`^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$`, 'u'));

/** Python `repr(str)`. */
export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x7f) out += ch;
    else if (ch !== ' ' && NON_PRINTABLE().test(ch)) {
      if (cp <= 0xff) out += `\\x${cp.toString(16).padStart(2, '0')}`;
      else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
      else out += `\\U${cp.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + q;
}

/** Python `repr(value)` for a JSON-loaded value. */
export function pyRepr(v: PyValue): string {
  if (typeof v === 'string') return pyStrRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return pyStr(v);
}

/** Python `str(value)` for a JSON-loaded value: `True`, `None`, `1.0`, `[1, 2]`, `{'a': 'b'}`. */
export function pyStr(v: PyValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return pyFloatRepr(v);
  return pyRepr(v);
}

/** Python truthiness of a JSON-loaded value. */
export function pyTruthy(v: PyValue): boolean {
  if (v === null || v === false || v === '' || v === 0n || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true; // NaN is truthy in Python
}

/**
 * Convert a JS value (e.g. an `extra` object a caller passed) into the Python model, as
 * `json.dumps` would see the equivalent Python object. Integral numbers become ints (JS cannot
 * tell `1.0` from `1`). `undefined` object members are dropped (as by `JSON.stringify`).
 */
export function fromJs(v: unknown, depth = 0, seen: Set<object> = new Set()): PyValue {
  if (depth > MAX_DEPTH) throw new PyValueError('Nesting too deep');
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'object') {
    if (seen.has(v)) throw new PyValueError('Circular reference detected');
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : fromJs(x, depth + 1, seen)));
      if (v instanceof Map) {
        const d: PyDict = new Map();
        for (const [k, x] of v) {
          if (typeof k !== 'string') throw new PyValueError('keys must be strings');
          if (x !== undefined) d.set(k, fromJs(x, depth + 1, seen));
        }
        return d;
      }
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return fromJs(toJSON.call(v), depth + 1, seen);
      const d: PyDict = new Map();
      for (const [k, x] of Object.entries(v)) if (x !== undefined) d.set(k, fromJs(x, depth + 1, seen));
      return d;
    } finally {
      seen.delete(v);
    }
  }
  throw new PyValueError(`Object of type ${typeof v} is not JSON serializable`);
}

/**
 * Convert a Python-model value to plain JS (what `extraDejson` returns): ints become numbers
 * (precision is lost beyond 2^53), dicts become plain objects (own `__proto__` keys kept as data).
 */
export function toJs(v: PyValue): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toJs);
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) {
      Object.defineProperty(o, k, { value: toJs(x), enumerable: true, writable: true, configurable: true });
    }
    return o;
  }
  return v;
}

/** Python `==` between two JSON-loaded values (dict equality ignores order; `1 == 1.0`; NaN ≠ NaN). */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  if (typeof a === 'bigint' || typeof a === 'number' || typeof a === 'boolean') {
    if (typeof b !== 'bigint' && typeof b !== 'number' && typeof b !== 'boolean') return false;
    const na = typeof a === 'boolean' ? (a ? 1n : 0n) : a;
    const nb = typeof b === 'boolean' ? (b ? 1n : 0n) : b;
    if (typeof na === 'bigint' && typeof nb === 'bigint') return na === nb;
    if (typeof na === 'number' && typeof nb === 'number') return na === nb;
    // int vs float: equal only when the float is integral and has the same value
    const f = (typeof na === 'number' ? na : nb) as number;
    const i = (typeof na === 'bigint' ? na : nb) as bigint;
    return Number.isInteger(f) && BigInt(f) === i;
  }
  if (a === null || typeof a === 'string') return a === b;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, k) => pyEquals(x, b[k] as PyValue));
  }
  if (!(b instanceof Map) || a.size !== b.size) return false;
  for (const [k, x] of a) {
    if (!b.has(k) || !pyEquals(x, b.get(k) as PyValue)) return false;
  }
  return true;
}
