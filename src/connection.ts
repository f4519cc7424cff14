/**
 * Airflow's Connection model (spec §8): the URI and JSON forms, parsed and produced byte for byte
 * as Airflow core 2.x / 3.0–3.1 does, with secrets kept out of every printable form.
 *
 * `getUri()` and `asJson()` are the only ways to see the password. It and `extra` live in private
 * fields behind prototype accessors, so `JSON.stringify`, `String()`, `util.inspect`,
 * `console.log`, `{...conn}`, `Object.entries` and `structuredClone` never carry them.
 */
import { InvalidConnectionError, safeCause } from './errors.js';
import { consoleLogger } from './logger.js';
import { isSensitiveName, maskSecret, redact } from './masker.js';
import {
  fromJs,
  type PyDict,
  type PyValue,
  PyValueError,
  pyEquals,
  pyJsonDumps,
  pyJsonLoads,
  pyStrRepr,
  pyTruthy,
  toJs,
} from './pyjson.js';
import {
  hostname as netlocHostname,
  port as netlocPort,
  parseQsl,
  quote,
  unquote,
  urlencode,
  urlsplit,
  userinfo,
} from './pyurl.js';

/** Fields accepted by the constructor (Airflow's `Connection(...)` kwargs, camel-free as in the SDK). */
export interface ConnectionFields {
  id?: string | null | undefined;
  type?: string | null | undefined;
  description?: string | null | undefined;
  host?: string | null | undefined;
  login?: string | null | undefined;
  password?: string | null | undefined;
  schema?: string | null | undefined;
  port?: number | null | undefined;
  /** JSON text of an object, or an object (serialised like Python's json.dumps). */
  extra?: string | Record<string, unknown> | null | undefined;
  /** A connection URI; mixing it with any truthy field is an error, as in Airflow. */
  uri?: string | null | undefined;
}

/** `util.inspect.custom`, without importing `node:util` at load (its ESM facade alone costs ~1 ms). */
const INSPECT_CUSTOM = Symbol.for('nodejs.util.inspect.custom');
type Inspect = typeof import('node:util').inspect;

const EXTRA_KEY = '__extra__';
/** The accessors that reveal secrets (see the class's static block). */
const SECRET_ACCESSORS = ['password', 'extra', 'extraDejson'] as const;
const MASK = '***';
const STRING_FIELDS = ['id', 'type', 'description', 'host', 'login', 'password', 'schema', 'uri'] as const;

function idText(id: string | null | undefined): string {
  return id === null || id === undefined ? 'None' : pyStrRepr(id);
}

function invalidUri(id: string | null | undefined, why?: string, cause?: unknown): InvalidConnectionError {
  const where = id === null || id === undefined ? '' : ` for conn_id ${pyStrRepr(id)}`;
  return new InvalidConnectionError(
    `Invalid connection string${where}${why ? `: ${why}` : ''}.`,
    id ?? undefined,
    cause === undefined ? undefined : { cause: safeCause(cause) },
  );
}

/** Airflow's `_normalize_conn_type`: `postgresql` → `postgres`, else every `-` → `_`. */
function normalizeConnType(t: string): string {
  if (t === 'postgresql') return 'postgres';
  return t.includes('-') ? t.replaceAll('-', '_') : t;
}

/** Parse and check an `extra` text the way `_validate_extra` does; returns the dict. */
function validateExtra(extra: string, id: string | null): PyDict {
  let v: PyValue;
  try {
    v = pyJsonLoads(extra);
  } catch (e) {
    throw new InvalidConnectionError(
      `Encountered non-JSON in \`extra\` field for connection ${idText(id)}.`,
      id ?? undefined,
      { cause: safeCause(e) },
    );
  }
  if (!(v instanceof Map)) {
    throw new InvalidConnectionError(
      `Encountered JSON value in \`extra\` which does not parse as a dictionary in connection ${idText(id)}. ` +
        'The `extra` field must contain a JSON representation of a Python dict.',
      id ?? undefined,
    );
  }
  return v;
}

interface Parsed {
  type: string;
  host: string | null;
  schema: string;
  login: string | null;
  password: string | null;
  port: number | null;
  extra: string | null;
}

/** Airflow's `_parse_from_uri` (spec §8.3). Errors never quote the URI. */
function parseUri(uri: string, id: string | null): Parsed {
  const n = uri.split('://').length - 1;
  if (n > 2) throw invalidUri(id, "more than two '://'");
  const withProtocol = n === 2;
  try {
    const rawType = urlsplit(uri).scheme;
    const type = normalizeConnType(rawType);
    const rest = uri.replaceAll(`${rawType}://`, withProtocol ? '' : '//');
    if (withProtocol) {
      const first = rest.split('://', 1)[0] ?? '';
      if (first.includes('@') || first.includes(':')) {
        throw invalidUri(id, "the host's protocol must not contain '@' or ':'");
      }
    }
    const p = urlsplit(rest);
    const protocol = withProtocol ? p.scheme : null;
    let host = unquote(netlocHostname(p.netloc) ?? '');
    if (host.includes('/')) {
      host = p.netloc;
      const at = host.lastIndexOf('@');
      if (at >= 0) host = host.slice(at + 1);
      const colon = host.indexOf(':');
      if (colon >= 0) host = host.slice(0, colon);
      host = unquote(host);
    }
    const fullHost = host && protocol ? `${protocol}://${host}` : host;
    const quotedSchema = p.path.slice(1);
    const { username, password } = userinfo(p.netloc);
    const parsed: Parsed = {
      type,
      host: fullHost,
      schema: quotedSchema ? unquote(quotedSchema) : quotedSchema,
      login: username ? unquote(username) : username,
      password: password ? unquote(password) : password,
      port: netlocPort(p.netloc),
      extra: null,
    };
    if (p.query) {
      const q = new Map<string, PyValue>(parseQsl(p.query, true));
      const raw = q.get(EXTRA_KEY);
      parsed.extra = typeof raw === 'string' ? raw : pyJsonDumps(q);
    }
    return parsed;
  } catch (e) {
    if (e instanceof PyValueError) throw invalidUri(id, e.message, e);
    throw e;
  }
}

const PY_SPACE =
  /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

const digitValues = new Map<number, number>();

/**
 * A Unicode decimal digit, and Python's `int()` syntax for a string of them (after the sign).
 * Built on first use, not written as a literal: V8 checks a literal's Unicode property escapes
 * (`\p{…}`) while it compiles the file, 70–280 µs each even inside a function never called, and
 * that is paid by every import of the package root (bench: "importing the package root").
 */
let digit: RegExp | undefined;
let integer: RegExp | undefined;
// biome-ignore lint/complexity/useRegexLiterals: not a literal on purpose (above)
const DIGIT = (): RegExp => (digit ??= new RegExp(String.raw`\p{Nd}`, 'u'));
// biome-ignore lint/complexity/useRegexLiterals: not a literal on purpose (above)
const INTEGER = (): RegExp => (integer ??= new RegExp(String.raw`^([+-]?)(\p{Nd}+(?:_\p{Nd}+)*)$`, 'u'));

/** The value of a Unicode decimal digit (`\p{Nd}` comes in aligned runs of ten). */
function digitValue(ch: string): number {
  const start = ch.codePointAt(0)!;
  let v = digitValues.get(start);
  if (v === undefined) {
    let cp = start;
    while (DIGIT().test(String.fromCodePoint(cp - 1))) cp--;
    v = (start - cp) % 10;
    if (digitValues.size < 1000) digitValues.set(start, v);
  }
  return v;
}

/** Python `int(v)` for a JSON value, as `from_json` applies it to `port`; `null` when Python raises. */
function pyInt(v: PyValue): number | null {
  if (v === true) return 1;
  if (v === false) return 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : null;
  if (typeof v !== 'string') return null;
  const s = v.replace(PY_SPACE, '');
  const m = INTEGER().exec(s);
  if (!m) return null;
  let n = 0;
  for (const ch of m[2]!.replaceAll('_', '')) n = n * 10 + digitValue(ch);
  return m[1] === '-' ? -n : n;
}

/** The kind of a `port` value Python's `int()` refused, for the message (never the value itself). */
function describePort(v: PyValue): string {
  if (typeof v === 'string') return 'a string that is not a whole number';
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (Array.isArray(v)) return 'a JSON array';
  if (v instanceof Map) return 'a JSON object';
  return typeof v;
}

/**
 * The keyword parameters of Airflow's `Connection.__init__` besides `conn_id`, in signature order:
 * the keys `from_json` takes (the local-filesystem backend adds `conn_id` and `extra_dejson`).
 */
export const CONNECTION_PARAMETERS = [
  'conn_type',
  'description',
  'host',
  'login',
  'password',
  'schema',
  'port',
  'extra',
  'uri',
] as const;
const JSON_KEYS: ReadonlySet<string> = new Set(CONNECTION_PARAMETERS);

/** Mask a Python-model extra for display: sensitive keys → `***`, other strings redacted. */
function maskPy(v: PyValue, hide: boolean): PyValue {
  if (v instanceof Map) {
    const m: PyDict = new Map();
    for (const [k, x] of v) m.set(k, maskPy(x, hide || isSensitiveName(k)));
    return m;
  }
  if (Array.isArray(v)) return v.map((x) => maskPy(x, hide));
  if (hide && v !== null) return MASK;
  return typeof v === 'string' ? redact(v) : v;
}

/** A frozen connection's setters refuse, as its plain fields do in strict mode. */
function refuseIfFrozen(c: Connection, field: string): void {
  if (Object.isFrozen(c)) {
    throw new TypeError(
      `Cannot set ${field}: this Connection is frozen (shared); change a copy from clone()`,
    );
  }
}

export class Connection {
  id: string | null = null;
  type: string | null = null;
  description: string | null = null;
  host: string | null = null;
  login: string | null = null;
  schema: string | null = null;
  port: number | null = null;
  #password: string | null = null;
  #extra: string | null = null;

  /**
   * Airflow's `Connection(...)`. `uri` with any truthy field (other than `id`/`description`) is an
   * error; an object `extra` is serialised like Python's `json.dumps`; an empty password is `null`;
   * a non-empty `extra` must be JSON text of an object; `port` must be an integer 0..65535.
   */
  constructor(fields: ConnectionFields = {}) {
    const f = fields as Record<string, unknown>;
    for (const k of STRING_FIELDS) {
      const v = f[k];
      if (v !== undefined && v !== null && typeof v !== 'string') {
        throw new InvalidConnectionError(
          `Expected a string for \`${k === 'id' ? 'conn_id' : k === 'type' ? 'conn_type' : k}\` in connection ${idText(typeof f.id === 'string' ? f.id : null)}.`,
          typeof f.id === 'string' ? f.id : undefined,
        );
      }
    }
    this.id = fields.id ?? null;
    this.description = fields.description ?? null;
    let extra: string | Record<string, unknown> | null | undefined = fields.extra;
    if (extra !== null && extra !== undefined && typeof extra !== 'string') {
      let py: PyValue;
      try {
        py = fromJs(extra);
      } catch (e) {
        throw new InvalidConnectionError(
          `The \`extra\` of connection ${idText(this.id)} is not JSON-serialisable.`,
          this.id ?? undefined,
          { cause: safeCause(e) },
        );
      }
      extra = pyTruthy(py) ? pyJsonDumps(py) : null;
    }
    const { uri } = fields;
    if (uri) {
      if (
        fields.type ||
        fields.host ||
        fields.login ||
        fields.password ||
        fields.schema ||
        fields.port ||
        extra
      ) {
        throw new InvalidConnectionError(
          'You must create an object using the URI or individual values ' +
            '(conn_type, host, login, password, schema, port or extra).' +
            "You can't mix these two ways to create this object.",
          this.id ?? undefined,
        );
      }
      const p = parseUri(uri, this.id);
      this.type = p.type;
      this.host = p.host;
      this.schema = p.schema;
      this.login = p.login;
      this.password = p.password;
      this.port = p.port;
      this.#extra = p.extra;
    } else {
      this.type = fields.type ?? null;
      this.host = fields.host ?? null;
      this.login = fields.login ?? null;
      this.password = fields.password ?? null;
      this.schema = fields.schema ?? null;
      const port = fields.port ?? null;
      if (
        port !== null &&
        !(typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535)
      ) {
        throw new InvalidConnectionError(
          `Expected an integer value for \`port\` in the range 0-65535 in connection ${idText(this.id)}.`,
          this.id ?? undefined,
        );
      }
      this.port = port;
      this.#extra = extra ?? null;
    }
    if (this.#extra) validateExtra(this.#extra, this.id);
    if (this.#password) {
      maskSecret(this.#password);
    }
  }

  /** The password. Setting a falsy value stores `null` (Airflow's ORM setter ignores falsy values). */
  get password(): string | null {
    return this.#password;
  }
  set password(value: string | null) {
    refuseIfFrozen(this, 'password');
    this.#password = value ? value : null;
  }

  /** JSON text of an object, or null. Not validated on assignment (it is when constructing). */
  get extra(): string | null {
    return this.#extra;
  }
  set extra(value: string | null) {
    refuseIfFrozen(this, 'extra');
    this.#extra = value;
  }

  /**
   * Make this connection immutable (`Object.freeze`, and the `password`/`extra` setters refuse):
   * the resolver hands out frozen connections, shared by every caller. `clone()` gives a mutable copy.
   */
  freeze(): this {
    return Object.freeze(this);
  }

  /**
   * Airflow's `extra_dejson`: the parsed `extra` object, or `{}`. Text that is not JSON of an
   * object gives `{}` and an error log naming the connection id (never the text). Values under
   * sensitive keys are registered with the masker.
   */
  get extraDejson(): Record<string, unknown> {
    const d = this.#extraDict(true);
    if (!d) return {};
    const js = toJs(d) as Record<string, unknown>;
    maskSecret(js);
    return js;
  }

  #extraDict(log: boolean): PyDict | null {
    if (!this.#extra) return null;
    try {
      const v = pyJsonLoads(this.#extra);
      if (v instanceof Map) return v;
    } catch {
      // fall through
    }
    if (log) consoleLogger.error('Failed parsing the JSON in `extra` of a connection', { connId: this.id });
    return null;
  }

  /** Airflow's `get_uri()`, byte for byte (the newer `protocol == conn_type` host rule). */
  getUri(): string {
    try {
      return this.#buildUri(false);
    } catch (e) {
      if (e instanceof PyValueError) {
        throw new InvalidConnectionError(
          `Connection ${idText(this.id)} cannot be written as a URI (a field holds a lone surrogate).`,
          this.id ?? undefined,
        );
      }
      throw e;
    }
  }

  #buildUri(masked: boolean): string {
    const type = this.type;
    let uri = type ? `${type.toLowerCase().replaceAll('_', '-')}://` : '//';
    let protocol: string | null = null;
    let host = this.host;
    if (host?.includes('://')) {
      const i = host.indexOf('://');
      protocol = host.slice(0, i);
      host = host.slice(i + 3);
      if (protocol === type) {
        protocol = null;
        host = this.host;
      }
    }
    if (protocol) uri += `${protocol}://`;
    let auth = '';
    if (this.login !== null) auth += quote(this.login, '');
    if (this.#password !== null) auth += `:${masked ? MASK : quote(this.#password, '')}`;
    if (auth) uri += `${auth}@`;
    let hostBlock = host ? quote(host, '') : '';
    if (this.port) hostBlock += hostBlock === '' && auth === '' ? `@:${this.port}` : `:${this.port}`;
    if (this.schema) hostBlock += `/${quote(this.schema, '')}`;
    uri += hostBlock;
    if (this.#extra) {
      let extraText: string = this.#extra;
      let d = this.#extraDict(!masked) ?? new Map<string, PyValue>();
      if (masked) {
        d = maskPy(d, false) as PyDict;
        extraText = this.#extraDict(false) ? pyJsonDumps(d) : MASK;
      }
      const qs = urlencode(d);
      const back = new Map<string, PyValue>(parseQsl(qs, true));
      const sep = this.schema ? '?' : '/?';
      uri += qs && pyEquals(d, back) ? sep + qs : sep + urlencode([[EXTRA_KEY, extraText]]);
    }
    return uri;
  }

  /** Airflow's `as_json()`: `json.dumps` of the non-null fields (no conn_id), extra as an object. */
  asJson(): string {
    const d: PyDict = new Map();
    const put = (k: string, v: string | number | null) => {
      if (v !== null) d.set(k, typeof v === 'number' ? (Number.isInteger(v) ? BigInt(v) : v) : v);
    };
    put('conn_type', this.type);
    put('description', this.description);
    put('host', this.host);
    put('login', this.login);
    put('password', this.#password);
    put('schema', this.schema);
    put('port', this.port);
    const extra = this.#extraDict(true);
    if (extra && extra.size > 0) {
      maskSecret(toJs(extra));
      d.set('extra', extra);
    }
    return pyJsonDumps(d);
  }

  /** The fields with the password as `***` and extra values under sensitive keys masked. */
  toJSON(): Record<string, unknown> {
    if (!(#password in this)) return {}; // `JSON.stringify(Connection.prototype)` and the like
    const r = (s: string | null) => (s === null ? null : redact(s));
    const d = this.#extraDict(false);
    return {
      id: this.id,
      type: this.type,
      description: r(this.description),
      host: r(this.host),
      login: r(this.login),
      password: this.#password === null ? null : MASK,
      schema: r(this.schema),
      port: this.port,
      extra:
        this.#extra === null ? null : d ? pyJsonDumps(maskPy(d, false)) : this.#extra ? MASK : this.#extra,
    };
  }

  /** `Connection<id uri>` with the password and sensitive extras masked. */
  toString(): string {
    if (!(#password in this)) return 'Connection';
    let uri: string;
    try {
      uri = redact(this.#buildUri(true)).replaceAll('%2A%2A%2A', MASK);
    } catch {
      uri = '<unprintable>';
    }
    return `Connection<${this.id === null ? '' : `${this.id} `}${uri}>`;
  }

  /**
   * `password`, `extra` and `extraDejson` are moved off `Connection.prototype` onto a prototype of
   * their own below it, whose `constructor` is `Object`. `util.inspect` lists (and with `getters`
   * calls) accessors of a class's prototypes only down to the first prototype that belongs to a
   * built-in (it stops at a `constructor` named like a built-in), so even `showHidden` with
   * `getters` and `customInspect: false` never reaches them, while `conn.password` still finds them
   * through the prototype chain. The class's declared API (and its `.d.ts`) is unchanged.
   */
  static {
    const hidden = Object.create(Object.prototype, {
      constructor: { value: Object, writable: true, configurable: true, enumerable: false },
    }) as object;
    for (const key of SECRET_ACCESSORS) {
      const d = Object.getOwnPropertyDescriptor(Connection.prototype, key);
      if (!d) continue;
      Object.defineProperty(hidden, key, d);
      delete (Connection.prototype as unknown as Record<string, unknown>)[key];
    }
    Object.setPrototypeOf(Connection.prototype, hidden);
  }

  [INSPECT_CUSTOM](depth: number, options: object, inspectFn?: Inspect): string {
    const fn =
      typeof inspectFn === 'function'
        ? inspectFn
        : (process.getBuiltinModule('node:util') as typeof import('node:util')).inspect;
    return `Connection ${fn(this.toJSON(), { ...options, depth })}`;
  }

  /** Airflow's `Connection(uri=...)`. Errors name the id, never the URI. */
  /**
   * An independent, mutable copy (mutating it leaves this one as it is; a copy of a frozen
   * connection is not frozen). Password and extra are copied as they are, without re-validating
   * `extra`: this connection was validated when it was built.
   */
  clone(): Connection {
    const copy = new Connection({
      id: this.id,
      type: this.type,
      description: this.description,
      host: this.host,
      login: this.login,
      schema: this.schema,
      port: this.port,
    });
    copy.password = this.password;
    copy.extra = this.extra;
    return copy;
  }

  static fromUri(uri: string, id?: string | null): Connection {
    return new Connection({ uri, id: id ?? null });
  }

  /**
   * Airflow core's `Connection.from_json` (2.x / 3.0–3.1): keys are the constructor's parameters
   * (`conn_type`, `description`, `host`, `login`, `password`, `schema`, `port`, `extra`, `uri`); a
   * truthy object `extra` is serialised, falsy ones dropped; `conn_type` normalised; a `port` other
   * than null/`""` goes through Python `int()` (0 stays 0, as in the newest core). Errors never quote the input.
   */
  static fromJson(json: string, id?: string | null): Connection {
    const cid = id ?? null;
    let v: PyValue;
    try {
      v = pyJsonLoads(json);
    } catch (e) {
      throw new InvalidConnectionError(`Connection ${idText(cid)} is not valid JSON.`, cid ?? undefined, {
        cause: safeCause(e),
      });
    }
    if (!(v instanceof Map)) {
      throw new InvalidConnectionError(`Connection ${idText(cid)} must be a JSON object.`, cid ?? undefined);
    }
    const unknown = [...v.keys()].filter((k) => !JSON_KEYS.has(k));
    if (unknown.length) {
      throw new InvalidConnectionError(
        `Connection ${idText(cid)} has ${unknown.length === 1 ? 'a key' : `${unknown.length} keys`} that ` +
          `${unknown.length === 1 ? 'is not a' : 'are not'} connection parameter${unknown.length === 1 ? '' : 's'} ` +
          `(allowed: ${CONNECTION_PARAMETERS.join(', ')}).`,
        cid ?? undefined,
      );
    }
    const fields: ConnectionFields = { id: cid };
    const str = (key: string): string | null => {
      const x = v.get(key);
      if (x === undefined || x === null) return null;
      if (typeof x !== 'string') {
        throw new InvalidConnectionError(
          `Expected a string for \`${key}\` in connection ${idText(cid)}.`,
          cid ?? undefined,
        );
      }
      return x;
    };
    const extra = v.get('extra');
    if (extra !== undefined && pyTruthy(extra))
      fields.extra = typeof extra === 'string' ? extra : pyJsonDumps(extra);
    const type = v.get('conn_type');
    if (type !== undefined && pyTruthy(type)) fields.type = normalizeConnType(str('conn_type')!);
    const port = v.get('port');
    // Newest core's `_coerce_port`: only None and "" mean no port, so 0 stays 0 (older: `if port:`).
    if (port !== undefined && port !== null && port !== '') {
      const p = pyInt(port);
      if (p === null) {
        throw new InvalidConnectionError(
          `Expected integer value for \`port\`, but got ${describePort(port)} instead.`,
          cid ?? undefined,
        );
      }
      fields.port = p;
    }
    for (const k of ['description', 'host', 'login', 'password', 'schema', 'uri'] as const) {
      if (v.has(k)) fields[k] = str(k);
    }
    return new Connection(fields);
  }
}

/**
 * Airflow's `BaseSecretsBackend.deserialize_connection`: strip; a value starting with `{` is JSON
 * (`fromJson`), anything else a URI. Errors are `InvalidConnectionError` naming the id, never the value.
 */
export function deserializeConnection(connId: string, value: string): Connection {
  const v = value.replace(PY_SPACE, '');
  return v.startsWith('{') ? Connection.fromJson(v, connId) : Connection.fromUri(v, connId);
}
