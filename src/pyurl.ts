/**
 * Private helpers: ports of CPython 3.11's `urllib.parse` functions that Airflow's Connection uses
 * (`urlsplit` and the `SplitResult` properties, `quote`, `quote_plus`, `unquote`, `urlencode`,
 * `parse_qsl`). Errors are {@link PyValueError}s whose messages never quote the input.
 */
import { type PyValue, PyValueError, pyStr } from './pyjson.js';

export interface SplitResult {
  scheme: string;
  netloc: string;
  path: string;
  query: string;
  fragment: string;
}

const SCHEME_CHARS = /^[A-Za-z0-9+\-.]*$/;

/** Python `urllib.parse.urlsplit(url)` (CPython 3.11.7, incl. the bracketed-host and NFKC checks). */
export function urlsplit(url: string): SplitResult {
  url = url.replace(/^[\x00-\x20]+/, '').replace(/[\t\r\n]/g, '');
  let scheme = '';
  let netloc = '';
  let query = '';
  let fragment = '';
  const i = url.indexOf(':');
  if (i > 0 && /^[A-Za-z]/.test(url) && SCHEME_CHARS.test(url.slice(0, i))) {
    scheme = url.slice(0, i).toLowerCase();
    url = url.slice(i + 1);
  }
  if (url.startsWith('//')) {
    let delim = url.length;
    for (const c of '/?#') {
      const w = url.indexOf(c, 2);
      if (w >= 0) delim = Math.min(delim, w);
    }
    netloc = url.slice(2, delim);
    url = url.slice(delim);
    const open = netloc.includes('[');
    const close = netloc.includes(']');
    if (open !== close) throw new PyValueError('Invalid IPv6 URL');
    if (open && close) {
      const after = netloc.slice(netloc.indexOf('[') + 1);
      const end = after.indexOf(']');
      checkBracketedHost(end >= 0 ? after.slice(0, end) : after);
    }
  }
  const hash = url.indexOf('#');
  if (hash >= 0) {
    fragment = url.slice(hash + 1);
    url = url.slice(0, hash);
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    query = url.slice(q + 1);
    url = url.slice(0, q);
  }
  checkNetloc(netloc);
  return { scheme, netloc, path: url, query, fragment };
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

function checkNetloc(netloc: string): void {
  if (!netloc || isAscii(netloc)) return;
  const n = netloc.replace(/[@:#?]/g, '');
  const n2 = n.normalize('NFKC');
  if (n === n2) return;
  for (const c of '/?#@:') {
    if (n2.includes(c)) throw new PyValueError('netloc contains invalid characters under NFKC normalization');
  }
}

function checkBracketedHost(host: string): void {
  if (host.startsWith('v')) {
    if (!/^v[a-fA-F0-9]+\.[\s\S]+$/.test(host)) throw new PyValueError('IPvFuture address is invalid');
    return;
  }
  if (isIPv4(host)) throw new PyValueError('An IPv4 address cannot be in brackets');
  if (!isIPv6(host)) throw new PyValueError('does not appear to be an IPv4 or IPv6 address');
}

/** Python `ipaddress.IPv4Address(s)` accepts it. */
function isIPv4(s: string): boolean {
  if (s.includes('/')) return false;
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^[0-9]{1,3}$/.test(p) && (p === '0' || p[0] !== '0') && Number(p) <= 255);
}

/** Python `ipaddress.IPv6Address(s)` accepts it (incl. a `%scope` suffix and an embedded IPv4 tail). */
function isIPv6(s: string): boolean {
  if (s.includes('/')) return false;
  const pct = s.indexOf('%');
  let addr = s;
  if (pct >= 0) {
    const scope = s.slice(pct + 1);
    if (!scope || scope.includes('%')) return false;
    addr = s.slice(0, pct);
  }
  if (!addr) return false;
  const parts = addr.split(':');
  if (parts.length < 3) return false;
  if (parts[parts.length - 1]!.includes('.')) {
    if (!isIPv4(parts.pop()!)) return false;
    parts.push('0', '0');
  }
  if (parts.length > 9) return false;
  let skip = -1;
  for (let k = 1; k < parts.length - 1; k++) {
    if (!parts[k]) {
      if (skip >= 0) return false;
      skip = k;
    }
  }
  let hi: number;
  let lo: number;
  if (skip >= 0) {
    hi = skip;
    lo = parts.length - skip - 1;
    if (!parts[0]) {
      hi -= 1;
      if (hi) return false;
    }
    if (!parts[parts.length - 1]) {
      lo -= 1;
      if (lo) return false;
    }
    if (8 - (hi + lo) < 1) return false;
  } else {
    if (parts.length !== 8) return false;
    hi = parts.length;
    lo = 0;
  }
  const hextets = [...parts.slice(0, hi), ...(lo ? parts.slice(parts.length - lo) : [])];
  return hextets.every((h) => /^[0-9a-fA-F]{1,4}$/.test(h));
}

/** `SplitResult.username` / `.password`: userinfo before the LAST `@`, split at the first `:`. */
export function userinfo(netloc: string): { username: string | null; password: string | null } {
  const at = netloc.lastIndexOf('@');
  if (at < 0) return { username: null, password: null };
  const info = netloc.slice(0, at);
  const colon = info.indexOf(':');
  if (colon < 0) return { username: info, password: null };
  return { username: info.slice(0, colon), password: info.slice(colon + 1) };
}

function hostinfo(netloc: string): { hostname: string; port: string | null } {
  const hostinfo = netloc.slice(netloc.lastIndexOf('@') + 1);
  const br = hostinfo.indexOf('[');
  let hostname: string;
  let port: string;
  if (br >= 0) {
    const bracketed = hostinfo.slice(br + 1);
    const close = bracketed.indexOf(']');
    hostname = close >= 0 ? bracketed.slice(0, close) : bracketed;
    const rest = close >= 0 ? bracketed.slice(close + 1) : '';
    const c = rest.indexOf(':');
    port = c >= 0 ? rest.slice(c + 1) : '';
  } else {
    const c = hostinfo.indexOf(':');
    hostname = c >= 0 ? hostinfo.slice(0, c) : hostinfo;
    port = c >= 0 ? hostinfo.slice(c + 1) : '';
  }
  return { hostname, port: port || null };
}

/** `SplitResult.hostname`: lower-cased (except an IPv6 zone after `%`), brackets removed, or null. */
export function hostname(netloc: string): string | null {
  const h = hostinfo(netloc).hostname;
  if (!h) return null;
  const pct = h.indexOf('%');
  return pct < 0 ? h.toLowerCase() : h.slice(0, pct).toLowerCase() + h.slice(pct);
}

/**
 * `SplitResult.port`: an int 0..65535 or null. Python's first message quotes the port text; ours
 * does not (with an unencoded `/` in a password, that text can be part of the password).
 */
export function port(netloc: string): number | null {
  const p = hostinfo(netloc).port;
  if (p === null) return null;
  if (!/^[0-9]+$/.test(p)) throw new PyValueError('Port could not be cast to integer value');
  const v = Number(p);
  if (!(v >= 0 && v <= 65535)) throw new PyValueError('Port out of range 0-65535');
  return v;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const pct = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Python `quote(s, safe)`: UTF-8 bytes, everything but `A-Za-z0-9_.-~` and the ASCII characters of
 * `safe` as `%XX` (upper-case hex). A lone surrogate cannot be encoded (Python raises
 * UnicodeEncodeError). Built on `encodeURIComponent`, which also leaves `!'()*` alone.
 */
export function quote(s: string, safe = '/'): string {
  if (!s) return s;
  if (LONE_SURROGATE.test(s)) throw new PyValueError("'utf-8' codec can't encode a surrogate");
  let out = encodeURIComponent(s).replace(/[!'()*]/g, pct);
  // '%' last: un-escaping it must not create new escapes for the others
  for (const c of [...new Set(safe)].sort((a, b) => Number(a === '%') - Number(b === '%'))) {
    if (c.charCodeAt(0) < 128 && !/[A-Za-z0-9_.~-]/.test(c)) out = out.replaceAll(pct(c), c);
  }
  return out;
}

/** Python `quote_plus(s, safe='')`: like `quote` with `' '` → `+`. */
export function quotePlus(s: string, safe = ''): string {
  if (!s.includes(' ')) return quote(s, safe);
  return quote(s, `${safe} `).replaceAll(' ', '+');
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Python `unquote(s)`: `%XX` decoded per ASCII run, as UTF-8 with U+FFFD replacement. */
export function unquote(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/[\x00-\x7f]+/g, (run) => {
    if (!run.includes('%')) return run;
    const bytes: number[] = [];
    for (let k = 0; k < run.length; k++) {
      const c = run.charCodeAt(k);
      if (c === 0x25 && /^[0-9A-Fa-f]{2}$/.test(run.slice(k + 1, k + 3))) {
        bytes.push(Number.parseInt(run.slice(k + 1, k + 3), 16));
        k += 2;
      } else bytes.push(c);
    }
    return utf8Decoder.decode(new Uint8Array(bytes));
  });
}

/** Python `urlencode(pairs)` (quote_via=quote_plus, values `str()`'d). */
export function urlencode(pairs: Iterable<[string, PyValue]>): string {
  const parts: string[] = [];
  for (const [k, v] of pairs) parts.push(`${quotePlus(k)}=${quotePlus(pyStr(v))}`);
  return parts.join('&');
}

/** Python `parse_qsl(qs, keep_blank_values)`: `&`-separated, `+` → space, then unquote. */
export function parseQsl(qs: string, keepBlankValues = false): [string, string][] {
  const r: [string, string][] = [];
  if (!qs) return r;
  for (const nameValue of qs.split('&')) {
    if (!nameValue) continue;
    const eq = nameValue.indexOf('=');
    let name: string;
    let value: string;
    if (eq < 0) {
      if (!keepBlankValues) continue;
      name = nameValue;
      value = '';
    } else {
      name = nameValue.slice(0, eq);
      value = nameValue.slice(eq + 1);
    }
    if (value.length || keepBlankValues) {
      r.push([unquote(name.replaceAll('+', ' ')), unquote(value.replaceAll('+', ' '))]);
    }
  }
  return r;
}
