/**
 * Rotation: `resolver.watch` and `withFreshConnection`.
 *
 * Watch listeners are told when a lookup, a refresh or `refresh()` reads a different value for an
 * id than the one seen before. What was seen is kept as a keyed hash (HMAC-SHA-256 under a random
 * key of this resolver), never as a second plaintext copy; `node:crypto` is loaded on the first
 * `watch` call, not at import.
 *
 * `withFreshConnection` runs work with a connection, and when it fails because the credentials
 * were rotated (an authentication error), reads the connection again from the source once and
 * retries.
 */
import type { SecretKind } from '../backend.js';
import { Connection } from '../connection.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { cacheKey } from './cache.js';
import type { Resolver } from './types.js';
import type { Answer } from './walk.js';

type Listener = (value: Answer) => unknown;

interface Watched {
  readonly kind: SecretKind;
  readonly id: string;
  readonly listeners: Set<Listener>;
  /** The keyed hash of the value seen last; null for "not found"; undefined before the first read. */
  fingerprint: string | null | undefined;
}

type Crypto = typeof import('node:crypto');

export class Watchers {
  readonly #byKey = new Map<string, Watched>();
  #crypto: Crypto | undefined;
  #secret: Buffer | undefined;

  constructor(readonly logger: Logger) {}

  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Add a listener; `current` is the value known now (from the cache), the baseline to compare the
   * next read with. Returns the unsubscribe function (idempotent).
   */
  add(kind: SecretKind, id: string, listener: Listener, current: { value: Answer } | undefined): () => void {
    const key = cacheKey(kind, id);
    let w = this.#byKey.get(key);
    if (w === undefined) {
      w = { kind, id, listeners: new Set(), fingerprint: undefined };
      if (current !== undefined) w.fingerprint = this.#fingerprint(current.value);
      this.#byKey.set(key, w);
    }
    // The same function added twice is called once per change, and removed by either unsubscribe.
    const entry: Listener = (v) => listener(v);
    w.listeners.add(entry);
    const watched = w;
    return () => {
      if (!watched.listeners.delete(entry)) return;
      if (watched.listeners.size === 0 && this.#byKey.get(key) === watched) this.#byKey.delete(key);
    };
  }

  /** A read of `value` for this id (a real answer: found, or not found with every source answering). */
  seen(kind: SecretKind, id: string, value: Answer): void {
    const w = this.#byKey.get(cacheKey(kind, id));
    if (w === undefined) return;
    const fp = this.#fingerprint(value);
    const before = w.fingerprint;
    w.fingerprint = fp;
    if (before === undefined || before === fp) return;
    for (const l of [...w.listeners]) this.#call(w, l, value);
  }

  #call(w: Watched, l: Listener, value: Answer): void {
    const warn = (e: unknown) =>
      this.logger.warn(`A watch listener for ${w.kind} '${w.id}' failed: ${describeError(e)}`, {
        kind: w.kind,
        id: w.id,
      });
    try {
      const r = l(value);
      if (r instanceof Promise) r.catch(warn);
    } catch (e) {
      warn(e);
    }
  }

  /** HMAC-SHA-256 of the value's fields under this resolver's random key; null for "not found". */
  #fingerprint(value: Answer): string | null {
    if (value === null) return null;
    this.#crypto ??= process.getBuiltinModule('node:crypto') as Crypto;
    this.#secret ??= this.#crypto.randomBytes(32);
    const text =
      value instanceof Connection
        ? JSON.stringify([
            'c',
            value.type,
            value.description,
            value.host,
            value.login,
            value.password,
            value.schema,
            value.port,
            value.extra,
          ])
        : `v${String(value)}`;
    return this.#crypto.createHmac('sha256', this.#secret).update(text).digest('base64');
  }
}

export interface FreshConnectionOptions {
  /**
   * Whether an error thrown by `fn` means the credentials were refused. Default
   * {@link isLikelyAuthError}: PostgreSQL `28P01`/`28000`, MySQL `ER_ACCESS_DENIED_ERROR` (1045),
   * Redis `WRONGPASS`/`NOAUTH`, MongoDB code 18, HTTP 401.
   */
  isAuthError?: ((error: unknown) => boolean) | undefined;
}

/** The error codes and statuses of common clients that mean "these credentials were refused". */
export function isLikelyAuthError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    code?: unknown;
    errno?: unknown;
    status?: unknown;
    statusCode?: unknown;
    message?: unknown;
  };
  if (e.code === '28P01' || e.code === '28000' || e.code === 'ER_ACCESS_DENIED_ERROR' || e.code === 18)
    return true;
  if (e.errno === 1045) return true;
  if (e.status === 401 || e.statusCode === 401) return true;
  return typeof e.message === 'string' && /^(WRONGPASS|NOAUTH)\b/.test(e.message);
}

/**
 * Run `fn` with the connection `connId`. If it throws an error for which `isAuthError` is true, the
 * connection is read again from the source (`forceFetch`, which also tells the resolver's watchers
 * when it changed) and `fn` runs once more with it; any other error, or a second failure, is thrown
 * as it is. Throws `ConnectionNotFoundError` when no source has the id.
 */
export async function withFreshConnection<T>(
  resolver: Resolver,
  connId: string,
  fn: (connection: Connection) => T | Promise<T>,
  options: FreshConnectionOptions = {},
): Promise<T> {
  const isAuthError = options.isAuthError ?? isLikelyAuthError;
  if (typeof fn !== 'function' || typeof isAuthError !== 'function') {
    throw new TypeError('withFreshConnection needs a function, and isAuthError must be a function');
  }
  const conn = await resolver.getConnectionOrThrow(connId);
  try {
    return await fn(conn);
  } catch (e) {
    if (!isAuthError(e)) throw e;
    const fresh = await resolver.getConnectionOrThrow(connId, { forceFetch: true });
    return fn(fresh);
  }
}
