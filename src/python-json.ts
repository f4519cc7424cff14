/**
 * A JSON reader that behaves like CPython's `json.loads` (the C scanner, Python 3.12): it accepts
 * `NaN`, `Infinity` and `-Infinity`, and on bad input reports Python's exact message (`e.msg`, e.g.
 * "Expecting ',' delimiter") and line number (`e.lineno`) — never a piece of the input, unlike
 * `JSON.parse`, whose messages quote it. Used where Airflow shows `JSONDecodeError` texts (the
 * local-filesystem backend). Objects are built with own properties only: a `"__proto__"` key is an
 * ordinary key, never a prototype change. Nesting deeper than {@link MAX_DEPTH} is refused (CPython
 * raises `RecursionError` there).
 */

/** Deepest nesting accepted (CPython's default recursion limit is about this). */
export const MAX_DEPTH = 1000;

export type PythonJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; position: number; line: number };

class DecodeError {
  constructor(
    readonly message: string,
    readonly position: number,
  ) {}
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

/** Parse `text` as CPython's `json.loads(text)` would. Never throws for bad input. */
export function parsePythonJson(text: string): PythonJsonResult {
  const s = text;
  const n = s.length;
  // `stop` mirrors CPython's StopIteration(idx): "no value starts here".
  const stop = (i: number): never => {
    throw new DecodeError('Expecting value', i);
  };
  const skipWs = (i: number) => {
    while (i < n && isWs(s[i])) i++;
    return i;
  };

  const scanString = (start: number): [string, number] => {
    // start is just after the opening quote
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
      if (j >= n) throw new DecodeError('Unterminated string starting at', begin);
      out += s.slice(i, j);
      const c = s[j]!;
      if (c === '"') return [out, j + 1];
      if (c !== '\\') throw new DecodeError('Invalid control character at', j);
      j++;
      if (j === n) throw new DecodeError('Unterminated string starting at', begin);
      const e = s[j]!;
      if (e !== 'u') {
        const mapped = ESCAPES[e];
        if (mapped === undefined) throw new DecodeError('Invalid \\escape', j - 1);
        out += mapped;
        i = j + 1;
        continue;
      }
      j++;
      let end = j + 4;
      if (end >= n) throw new DecodeError('Invalid \\uXXXX escape', j - 1);
      const hex = s.slice(j, end);
      if (!HEX.test(hex)) throw new DecodeError('Invalid \\uXXXX escape', end - 5);
      let code = Number.parseInt(hex, 16);
      if (code >= 0xd800 && code <= 0xdbff && end + 6 < n && s[end] === '\\' && s[end + 1] === 'u') {
        const hex2 = s.slice(end + 2, end + 6);
        if (!HEX.test(hex2)) throw new DecodeError('Invalid \\uXXXX escape', end + 1);
        const low = Number.parseInt(hex2, 16);
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          end += 6;
        }
      }
      out += String.fromCodePoint(code);
      i = end;
    }
  };

  const scanNumber = (start: number): [number, number] => {
    let i = start;
    if (s[i] === '-') {
      i++;
      if (i >= n) stop(start);
    }
    if (s[i]! >= '1' && s[i]! <= '9') {
      i++;
      while (isDigit(s[i])) i++;
    } else if (s[i] === '0') i++;
    else stop(start);
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
    return [Number(s.slice(start, i)), i];
  };

  const scanOnce = (i: number, depth: number): [unknown, number] => {
    if (i >= n) stop(i);
    const c = s[i];
    if (c === '"') return scanString(i + 1);
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) throw new DecodeError('Maximum nesting depth exceeded', i);
      return c === '{' ? scanObject(i + 1, depth + 1) : scanArray(i + 1, depth + 1);
    }
    for (const [word, value] of LITERALS) {
      if (s.startsWith(word, i)) return [value, i + word.length];
    }
    return scanNumber(i);
  };

  const scanObject = (start: number, depth: number): [unknown, number] => {
    const obj: Record<string, unknown> = {};
    let i = skipWs(start);
    if (i < n && s[i] === '}') return [obj, i + 1];
    for (;;) {
      if (i >= n || s[i] !== '"')
        throw new DecodeError('Expecting property name enclosed in double quotes', i);
      const [key, afterKey] = scanString(i + 1);
      i = skipWs(afterKey);
      if (i >= n || s[i] !== ':') throw new DecodeError("Expecting ':' delimiter", i);
      i = skipWs(i + 1);
      const [value, afterValue] = scanOnce(i, depth);
      Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      i = skipWs(afterValue);
      if (i < n && s[i] === '}') return [obj, i + 1];
      if (i >= n || s[i] !== ',') throw new DecodeError("Expecting ',' delimiter", i);
      i = skipWs(i + 1);
    }
  };

  const scanArray = (start: number, depth: number): [unknown, number] => {
    const arr: unknown[] = [];
    let i = skipWs(start);
    if (i < n && s[i] === ']') return [arr, i + 1];
    for (;;) {
      const [value, after] = scanOnce(i, depth);
      arr.push(value);
      i = skipWs(after);
      if (i < n && s[i] === ']') return [arr, i + 1];
      if (i >= n || s[i] !== ',') throw new DecodeError("Expecting ',' delimiter", i);
      i = skipWs(i + 1);
    }
  };

  try {
    if (s.startsWith('\ufeff')) throw new DecodeError('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0);
    const [value, end] = scanOnce(skipWs(0), 0);
    const rest = skipWs(end);
    if (rest !== n) throw new DecodeError('Extra data', rest);
    return { ok: true, value };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { ok: false, message: e.message, position: e.position, line: lineOf(s, e.position) };
  }
}

const LITERALS: ReadonlyArray<readonly [string, unknown]> = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
];

/** Python's `doc.count('\n', 0, pos) + 1`. */
function lineOf(s: string, pos: number): number {
  let line = 1;
  for (let i = s.indexOf('\n'); i !== -1 && i < pos; i = s.indexOf('\n', i + 1)) line++;
  return line;
}
