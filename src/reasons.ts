/**
 * Failure reasons in words, shared by the adapters and the metastore (model layer: imports
 * nothing). A message says why a read failed without quoting a value; these name what the failure
 * was about (a host, an address), which is configuration.
 */

/**
 * A Node network error in words, naming the host or address it was about (configuration, never a
 * value): `DNS lookup failed for 'vault.internal' (ENOTFOUND)`, `connection refused by
 * 127.0.0.1:8200 (ECONNREFUSED)`. `undefined` for anything else.
 */
export function networkReason(e: unknown): string | undefined {
  const err = (e ?? {}) as { code?: unknown; hostname?: unknown; address?: unknown; port?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  const host = typeof err.hostname === 'string' ? `'${err.hostname}'` : 'the host';
  const addr =
    typeof err.address === 'string'
      ? `${err.address}${typeof err.port === 'number' ? `:${err.port}` : ''}`
      : 'the server';
  switch (code) {
    case 'ENOTFOUND':
      return `DNS lookup failed for ${host} (ENOTFOUND)`;
    case 'EAI_AGAIN':
      return `DNS lookup for ${host} failed for now (EAI_AGAIN)`;
    case 'ECONNREFUSED':
      return `connection refused by ${addr} (ECONNREFUSED)`;
    case 'ECONNRESET':
      return 'the connection was reset (ECONNRESET)';
    case 'EHOSTUNREACH':
      return `no route to ${addr} (EHOSTUNREACH)`;
    case 'ENETUNREACH':
      return `network unreachable for ${addr} (ENETUNREACH)`;
    case 'EPIPE':
      return 'the connection closed while sending (EPIPE)';
    case 'ETIMEDOUT':
      return `connecting to ${addr} timed out (ETIMEDOUT)`;
    default:
      return undefined;
  }
}
