/**
 * `withFreshConnection`: run work with a connection, and when it fails because the credentials were
 * rotated (an authentication error), read the connection again from the source once and retry.
 */
import type { Connection } from '../connection.js';
import type { Resolver } from './types.js';

export interface FreshConnectionOptions {
  /**
   * Whether an error thrown by `fn` means the credentials were refused. Default
   * {@link isLikelyAuthError}: PostgreSQL `28P01`/`28000`, MySQL `ER_ACCESS_DENIED_ERROR` (1045),
   * Redis `WRONGPASS`/`NOAUTH`, MongoDB code 18, HTTP 401.
   */
  isAuthError?: (error: unknown) => boolean;
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
