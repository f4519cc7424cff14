/**
 * Private helpers: Python's `json` module semantics (CPython 3.11), needed to produce Airflow's
 * exact bytes. Not part of the public API.
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

const MAX_INT_DIGITS = 4300; // CPython's default int_max_str_digits
const MAX_DEPTH = 900; // below CPython's default recursion limit

/**
 * Python `json.loads(text)`: strict JSON plus `NaN`, `Infinity`, `-Infinity`; integers become
 * `bigint`, numbers with a fraction or exponent become `number`; duplicate keys keep their first
 * position and last value (like a Python dict).
 */
export function pyJsonLoads(text: string): PyValue {
  let i = 0;
  const n = text.length;
  const fail = (what: string): never => {
    throw new PyValueError(`${what} at position ${i}`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const parseString = (): string => {
    // at the opening quote
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('Unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('Invalid control character');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid \\uXXXX escape');
            out += String.fromCharCode(Number.parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            fail('Invalid \\escape');
        }
        i += 2;
        start = i;
        continue;
      }
      i++;
    }
  };
  const NUM = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
  const parseValue = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail('Nesting too deep');
    ws();
    const c = text[i];
    if (c === '"') return parseString();
    if (c === '{') {
      i++;
      const d: PyDict = new Map();
      ws();
      if (text[i] === '}') {
        i++;
        return d;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
        const k = parseString();
        ws();
        if (text[i] !== ':') fail("Expecting ':' delimiter");
        i++;
        d.set(k, parseValue(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return d;
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === '[') {
      i++;
      const a: PyValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(parseValue(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('NaN', i)) {
      i += 3;
      return Number.NaN;
    }
    if (text.startsWith('Infinity', i)) {
      i += 8;
      return Number.POSITIVE_INFINITY;
    }
    if (text.startsWith('-Infinity', i)) {
      i += 9;
      return Number.NEGATIVE_INFINITY;
    }
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (m) {
      i = NUM.lastIndex;
      if (m[1] === undefined && m[2] === undefined) {
        const digits = m[0].startsWith('-') ? m[0].length - 1 : m[0].length;
        if (digits > MAX_INT_DIGITS) fail('Integer literal exceeds the limit for integer string conversion');
        return BigInt(m[0]);
      }
      return Number(m[0]);
    }
    return fail('Expecting value');
  };
  const v = parseValue(0);
  ws();
  if (i !== n) fail('Extra data');
  return v;
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

const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

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
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
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
