/**
 * What the client-option builders share: the conn_type check, a reader of the connection's extras
 * that remembers which keys were used (so the rest can be named in one warning), Python truthiness,
 * PEM files read for TLS options, and hiding the secrets of a returned object from `util.inspect`
 * and `JSON.stringify` without changing what a client library sees.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import type { Connection } from '../connection.js';
import { ConfigurationError } from '../errors.js';
import { consoleLogger, type Logger } from '../logger.js';

/** Options every builder takes. */
export interface ClientBuilderOptions {
  /** Where the warning about unused extras goes (key names only). Default: the library's console logger. */
  logger?: Logger | undefined;
}

const MASK = '***';

function connLabel(conn: Connection): string {
  return conn.id === null ? 'the connection' : `connection '${conn.id}'`;
}

/** Throw a `ConfigurationError` unless the connection's conn_type is one of `accepted`. */
export function requireConnType(fn: string, conn: Connection, accepted: readonly string[]): void {
  if (conn.type !== null && accepted.includes(conn.type)) return;
  const got = conn.type === null ? 'no conn_type' : `conn_type '${conn.type}'`;
  throw new ConfigurationError(
    'conn_type',
    `${fn}: ${connLabel(conn)} has ${got}; ${fn} takes ${accepted.map((t) => `'${t}'`).join(' or ')}.`,
  );
}

/** A `ConfigurationError` about one extra of the connection; the message never quotes its value. */
export function extraError(fn: string, conn: Connection, key: string, why: string): ConfigurationError {
  return new ConfigurationError(`extra.${key}`, `${fn}: extra '${key}' of ${connLabel(conn)} ${why}.`);
}

/** Python `bool(v)` for a value parsed from JSON. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/**
 * The connection's extras (`extraDejson`), read through `get`, which records the key as used.
 * `warnUnused()` names the keys nobody read, once, through the logger.
 */
export class Extras {
  readonly values: Record<string, unknown>;
  readonly #used = new Set<string>();
  readonly #ignored: { why: string; keys: string[] }[] = [];
  readonly #moreUnused: string[] = [];
  constructor(
    readonly fn: string,
    readonly conn: Connection,
    readonly logger: Logger,
  ) {
    this.values = conn.extraDejson;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.values, key);
  }

  get(key: string): unknown {
    this.#used.add(key);
    return Object.hasOwn(this.values, key) ? this.values[key] : undefined;
  }

  /** Mark keys as used without reading them (e.g. keys a later step consumes as a group). */
  use(...keys: string[]): void {
    for (const k of keys) this.#used.add(k);
  }

  /** A string extra, or undefined when absent or null; anything else is an error. */
  string(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw extraError(this.fn, this.conn, key, 'must be a string');
    return v;
  }

  /**
   * Keys that were read but change nothing, and `why` (e.g. `TLS is off (sslmode 'prefer')`):
   * those set (not null or `""`) are named, keys only, in a warning of their own.
   */
  ignore(why: string, keys: readonly string[]): void {
    const set = keys.filter((k) => this.has(k) && this.values[k] !== null && this.values[k] !== '');
    this.use(...keys);
    if (set.length) this.#ignored.push({ why, keys: set });
  }

  /** Name nested keys nobody read (e.g. `ssl.capath`) in the unused-extras warning. */
  unusedNested(...keys: string[]): void {
    this.#moreUnused.push(...keys);
  }

  /** Keys present but never read. */
  unused(): string[] {
    return Object.keys(this.values).filter((k) => !this.#used.has(k));
  }

  /**
   * Warn once about the unused keys, plus `more` (e.g. nested keys such as `config_kwargs.foo`),
   * then once per reason about the {@link ignore}d ones.
   */
  warnUnused(more: readonly string[] = []): void {
    const keys = [...this.unused(), ...this.#moreUnused, ...more].map(keyLabel);
    if (keys.length > 0) {
      this.logger.warn(`${this.fn}: extras not used: ${keys.join(', ')}`, { connId: this.conn.id, keys });
    }
    for (const { why, keys: ignored } of this.#ignored) {
      this.logger.warn(`${this.fn}: extras ignored because ${why}: ${ignored.join(', ')}`, {
        connId: this.conn.id,
        keys: ignored,
      });
    }
  }
}

/**
 * An extra's key as a warning names it: a key of letters, digits, `_`, `.`, `-` (at most 64) as it
 * is; any other only up to its first other character, then `…` (a key such as `password=…` or
 * `Authorization: Bearer …` carries a value).
 */
function keyLabel(key: string): string {
  const head = /^[\p{L}\p{N}_.-]{0,64}/u.exec(key)?.[0] ?? '';
  return head === key ? key : `${head}…`;
}

export function extrasOf(fn: string, conn: Connection, options: ClientBuilderOptions | undefined): Extras {
  return new Extras(fn, conn, options?.logger ?? consoleLogger);
}

/** Read a PEM (or CRL) file named by an extra; the error names the extra and the reason, not the path. */
export function readPem(fn: string, conn: Connection, key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'error';
    throw extraError(fn, conn, key, `names a file that cannot be read (${code})`);
  }
}

/**
 * Make `util.inspect` and `JSON.stringify` of `obj` show `***` for `keys`, and for `nested[k]` inside
 * `obj[k]` (non-enumerable hooks, so `Object.assign`, spread and client libraries that copy
 * options see the real values). Objects that fetch iterates (header records) must not get the
 * hooks themselves (undici rejects any symbol key): mask them from their parent through `nested`.
 */
export function hideSecrets<T extends object>(
  obj: T,
  keys: readonly string[],
  nested: Record<string, readonly string[]> = {},
): T {
  const masked = () => {
    const copy: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
    for (const k of keys) if (copy[k] !== undefined && copy[k] !== null) copy[k] = MASK;
    for (const [k, inner] of Object.entries(nested)) {
      const v = copy[k];
      if (v && typeof v === 'object') {
        const c: Record<string, unknown> = { ...(v as Record<string, unknown>) };
        for (const i of inner) if (c[i] !== undefined) c[i] = MASK;
        copy[k] = c;
      }
    }
    return copy;
  };
  Object.defineProperty(obj, inspect.custom, {
    enumerable: false,
    value: (_depth: number, options: object, fn?: typeof inspect) =>
      (typeof fn === 'function' ? fn : inspect)(masked(), options),
  });
  Object.defineProperty(obj, 'toJSON', { enumerable: false, value: masked });
  return obj;
}

/**
 * {@link hideSecrets} for a TLS options object: `key` and `passphrase`, and `cert` too when its
 * PEM holds a private key (one file given for both, as requests' `cert` or libpq allow).
 */
export function hideTlsSecrets<T extends { cert?: string | undefined }>(tls: T): T {
  const keys = ['key', 'passphrase'];
  if (typeof tls.cert === 'string' && /PRIVATE KEY/.test(tls.cert)) keys.push('cert');
  return hideSecrets(tls, keys);
}

/** Drop `undefined` values (for `exactOptionalPropertyTypes`-friendly literals). */
export function compact<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
  return o as T;
}
