/**
 * `httpOptions(conn)`: a base URL, headers and basic auth for fetch, undici or axios from an `http`
 * connection, the way HttpHook builds its requests Session (base URL, headers from the extras,
 * basic auth from login and password). docs/clients.md lists each rule; the rules are tested
 * against vectors computed by test/fixtures/clients/make_http_vectors.py.
 */
import type { Connection } from '../connection.js';
import { ConfigurationError } from '../errors.js';
import { isSensitiveName } from '../masker.js';
import { PyValueError } from '../pyjson.js';
import { urlsplit } from '../pyurl.js';
import {
  type ClientBuilderOptions,
  type Extras,
  extraError,
  extrasOf,
  hideSecrets,
  hideTlsSecrets,
  pyTruthy,
  readPem,
  requireConnType,
} from './common.js';

const FN = 'httpOptions';

export interface HttpTlsOptions {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  /** Holds a secret (the client key). */
  key?: string;
}

/**
 * What HttpHook would send. `auth`, `headers` (its `Authorization`, and extras such as
 * `X-Api-Key` or `Cookie`), `proxies` (user-info) and `tls.key` may hold secrets;
 * `util.inspect`/`JSON.stringify` of the whole object mask them, but `headers` itself is a plain
 * record (fetch and axios need one) and shows its values.
 */
export interface HttpOptions {
  /** HttpHook's `base_url`; join an endpoint with {@link urlFromEndpoint}. */
  baseUrl: string;
  /** The extras that are not request options, then `options.headers`, then basic auth's `Authorization`. */
  headers: Record<string, string>;
  /** Basic auth from login and password (axios' `auth` shape); also in `headers.Authorization`. */
  auth?: { username: string; password: string };
  /** `timeout` (seconds, or `[connect, read]`) in milliseconds. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** From `verify`/`verify_ssl` and `cert`. */
  tls?: HttpTlsOptions;
  /** `proxies` (or `proxy`): requests' scheme → proxy URL map, as given (masked when inspected: a URL may hold credentials). */
  proxies?: Record<string, string>;
  /** `allow_redirects` (default true). */
  followRedirects: boolean;
  /** `max_redirects` (requests' default 30). */
  maxRedirects: number;
  /** `check_response` (default true): the hook raises on a status ≥ 400. */
  checkResponse: boolean;
}

export interface HttpOptionsOptions extends ClientBuilderOptions {
  /** The `headers` argument of the hook's `get_conn`/`run`: applied after the extras. */
  headers?: Record<string, string | null> | undefined;
}

/** The request options HttpHook takes out of the extras; every other key is a header. */
const REQUEST_OPTION_KEYS = [
  'stream',
  'cert',
  'proxies',
  'proxy',
  'timeout',
  'verify',
  'verify_ssl',
  'allow_redirects',
  'max_redirects',
  'trust_env',
  'check_response',
];

/** HttpHook's `_url_from_endpoint`: one `/` between them when neither side has it. */
export function urlFromEndpoint(baseUrl: string | null | undefined, endpoint?: string | null): string {
  if (baseUrl && !baseUrl.endsWith('/') && endpoint && !endpoint.startsWith('/')) {
    return `${baseUrl}/${endpoint}`;
  }
  return (baseUrl ?? '') + (endpoint ?? '');
}

/** HttpHook's `_set_base_url`. */
export function httpBaseUrl(conn: Connection): string {
  const host = conn.host || '';
  const schema = conn.schema || 'http';
  let base = host.includes('://') ? host : host ? `${schema}://${host}` : `${schema}://`;
  if (conn.port) base = `${base}:${conn.port}`;
  let scheme: string;
  try {
    scheme = urlsplit(base).scheme;
  } catch (e) {
    if (!(e instanceof PyValueError)) throw e;
    scheme = '';
  }
  if (!scheme) {
    throw new ConfigurationError('host', `${FN}: connection '${conn.id}' gives a base URL without a scheme.`);
  }
  return base;
}

export function httpOptions(conn: Connection, options: HttpOptionsOptions = {}): HttpOptions {
  requireConnType(FN, conn, ['http', 'https']);
  const x = extrasOf(FN, conn, options);
  const baseUrl = httpBaseUrl(conn);
  const out: HttpOptions = {
    baseUrl,
    headers: {},
    followRedirects: true,
    maxRedirects: 30,
    checkResponse: true,
  };
  // requests' CaseInsensitiveDict: a later key replaces an earlier one whatever its case (the
  // position stays, the spelling is the later one's); a null value removes the header.
  const headers = new Map<string, [string, string | null]>();
  const set = (name: string, value: string | null) => headers.set(name.toLowerCase(), [name, value]);
  if (conn.extra) {
    requestOptions(x, out);
    for (const [k, v] of Object.entries(x.values)) {
      if (!REQUEST_OPTION_KEYS.includes(k)) set(k, v === null ? null : headerValue(conn, k, v));
    }
  }
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    set(k, v === null ? null : headerValue(conn, k, v, 'headers'));
  }
  if (conn.login) {
    const password = conn.password ?? 'None';
    if (/[^\x00-\xff]/.test(conn.login + password)) {
      throw new ConfigurationError(
        'login',
        `${FN}: basic auth of connection '${conn.id}' needs a login and password in Latin-1.`,
      );
    }
    set('Authorization', `Basic ${Buffer.from(`${conn.login}:${password}`, 'latin1').toString('base64')}`);
    out.auth = hideSecrets({ username: conn.login, password }, ['password']);
  }
  for (const [name, value] of headers.values()) if (value !== null) out.headers[name] = value;
  x.use(...Object.keys(x.values));
  if (conn.type === 'https' && baseUrl.startsWith('http://')) {
    x.logger.warn(
      `${FN}: conn_type is 'https' but HttpHook's rule gives an http:// base URL; put https in the schema or the host`,
      { connId: conn.id },
    );
  }
  const nested: Record<string, string[]> = {
    headers: Object.keys(out.headers).filter(secretHeader),
  };
  if (out.proxies) nested.proxies = Object.keys(out.proxies);
  return hideSecrets(out, ['auth'], nested);
}

/**
 * Header names whose values are masked in `util.inspect`/`JSON.stringify` of the result: the
 * masker's sensitive names (Airflow's list plus `sensitive_var_conn_names`), and names that
 * speak of auth, keys, cookies, sessions, credentials or signatures (`Proxy-Authorization`,
 * `Cookie`, `X-Auth-Token`, `Ocp-Apim-Subscription-Key`, …).
 */
function secretHeader(name: string): boolean {
  return isSensitiveName(name) || /auth|key|cookie|session|credential|signature/i.test(name);
}

/** Python's `str.isspace()` characters (what `\s` matches in requests' header patterns). */
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const HEADER_NAME = new RegExp(`^[^:${PY_WS}][^:\\r\\n]*$`);
const HEADER_VALUE = new RegExp(`^([^${PY_WS}][^\\r\\n]*)?$`);

/**
 * What of an invalid header name can be named: the text before its first `:` or white space, at
 * most 32 characters (a name such as `Authorization: Bearer …` carries a value after its `:`).
 * test/fixtures/clients/make_http_vectors.py computes the same.
 */
function headerNamePrefix(name: string): string {
  return (name.split(NAME_END, 1)[0] ?? '').slice(0, 32);
}
const NAME_END = new RegExp(`[:${PY_WS}]`);

function badHeaderName(conn: Connection, name: string, where: string): ConfigurationError {
  const prefix = headerNamePrefix(name);
  const place = where === 'extra' ? 'an extra' : 'a key of the headers option';
  return new ConfigurationError(
    prefix ? `${where}.${prefix}` : where,
    `${FN}: ${place} of connection '${conn.id}' is not a valid header name (it has a ':', a line break or leading white space)${prefix ? `; it starts with '${prefix}'` : ''}.`,
  );
}

/**
 * requests' header checks (a name without `:` or leading space, a text value without CR/LF or
 * leading space), and http.client's: the value must be Latin-1.
 */
function headerValue(conn: Connection, name: string, v: unknown, where = 'extra'): string {
  if (!HEADER_NAME.test(name)) throw badHeaderName(conn, name, where);
  const setting = `${where}.${name}`;
  if (typeof v !== 'string') {
    throw new ConfigurationError(
      setting,
      `${FN}: header '${name}' of connection '${conn.id}' must be a string (the hook sends every extra that is not a request option as a header).`,
    );
  }
  if (!HEADER_VALUE.test(v)) {
    throw new ConfigurationError(setting, `${FN}: header '${name}' has leading white space or a line break.`);
  }
  if (/[^\x00-\xff]/.test(v)) {
    throw new ConfigurationError(setting, `${FN}: header '${name}' has characters outside Latin-1.`);
  }
  return v;
}

/** The request options: `timeout`, `verify`/`verify_ssl`, `cert`, `proxies`/`proxy`, redirects, `check_response`. */
function requestOptions(x: Extras, out: HttpOptions): void {
  const { conn } = x;
  const v = x.values;
  const pick = (a: string, b: string) => (Object.hasOwn(v, a) ? v[a] : v[b]);
  const timeout = v.timeout;
  if (typeof timeout === 'number' && timeout > 0) out.timeoutMs = timeout * 1000;
  else if (Array.isArray(timeout) && timeout.length === 2) {
    const [c, r] = timeout as unknown[];
    if (typeof c === 'number') out.connectTimeoutMs = c * 1000;
    if (typeof r === 'number') out.timeoutMs = r * 1000;
  } else if (timeout !== undefined && timeout !== null) {
    throw extraError(FN, conn, 'timeout', 'must be a number of seconds or [connect, read]');
  }
  const verify = pick('verify', 'verify_ssl') ?? true;
  const cert = v.cert;
  const tls: HttpTlsOptions = { rejectUnauthorized: pyTruthy(verify) };
  if (typeof verify === 'string') tls.ca = readPem(FN, conn, 'verify', verify);
  if (typeof cert === 'string') tls.cert = tls.key = readPem(FN, conn, 'cert', cert);
  else if (Array.isArray(cert) && cert.length === 2 && cert.every((c) => typeof c === 'string')) {
    tls.cert = readPem(FN, conn, 'cert', cert[0] as string);
    tls.key = readPem(FN, conn, 'cert', cert[1] as string);
  } else if (cert !== undefined && cert !== null) {
    throw extraError(FN, conn, 'cert', 'must be a file name or [cert file, key file]');
  }
  if (!tls.rejectUnauthorized || tls.ca || tls.cert) out.tls = hideTlsSecrets(tls);
  const proxies = pick('proxies', 'proxy');
  if (proxies && typeof proxies === 'object' && !Array.isArray(proxies)) {
    out.proxies = { ...(proxies as Record<string, string>) };
  }
  if (v.allow_redirects !== undefined && v.allow_redirects !== null)
    out.followRedirects = pyTruthy(v.allow_redirects);
  if (typeof v.max_redirects === 'number') out.maxRedirects = v.max_redirects;
  if (v.check_response !== undefined && v.check_response !== null)
    out.checkResponse = pyTruthy(v.check_response);
}
