/**
 * `mongoUri(conn)`: a MongoDB connection string for the Node driver from a `mongo` connection, the
 * way MongoHook builds pymongo's URI and keyword options (the keywords become URI options here).
 * docs/clients.md lists each rule. The string holds the password.
 */
import type { Connection } from '../connection.js';
import { ConfigurationError } from '../errors.js';
import { quote } from '../pyurl.js';
import { type ClientBuilderOptions, extraError, extrasOf, pyTruthy, requireConnType } from './common.js';

const FN = 'mongoUri';

/** The value of one URI option, as the Node driver reads it. */
function optionValue(conn: Connection, key: string, v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (typeof v === 'boolean') return [v ? 'true' : 'false'];
  if (typeof v === 'number' || typeof v === 'string') return [String(v)];
  if (Array.isArray(v)) return v.flatMap((item) => optionValue(conn, key, item));
  if (typeof v === 'object') {
    return [
      Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k}:${String(x)}`)
        .join(','),
    ];
  }
  throw extraError(FN, conn, key, 'has a value that cannot be a URI option');
}

export function mongoUri(conn: Connection, options: ClientBuilderOptions = {}): string {
  if (conn.type === 'mongodb+srv') {
    throw new ConfigurationError(
      'conn_type',
      `${FN}: Mongo SRV connections should have the conn_type 'mongo' and set 'srv' to true in extras.`,
    );
  }
  requireConnType(FN, conn, ['mongo']);
  const x = extrasOf(FN, conn, options);
  const extras = { ...x.values };
  x.use(...Object.keys(extras));
  if (conn.port && pyTruthy(extras.srv))
    throw extraError(FN, conn, 'srv', 'is set, and an SRV URI must not have a port');
  const srv = pyTruthy(extras.srv);
  delete extras.srv;
  const isTrue = (v: unknown) => String(v === undefined ? 'false' : pyStr(v)).toLowerCase() === 'true';
  const allowInsecure = isTrue(extras.allow_insecure);
  delete extras.allow_insecure;
  const ssl = isTrue(extras.ssl) || isTrue(extras.tls);
  if (ssl && allowInsecure) {
    // The hook drops `ssl` and adds tlsAllowInvalidCertificates; TLS stays on (said explicitly here).
    delete extras.ssl;
    extras.tls = true;
    extras.tlsAllowInvalidCertificates = true;
  }
  let netloc = conn.host ?? '';
  if (conn.login !== null && conn.password !== null) {
    netloc = `${quote(conn.login, '')}:${quote(conn.password, '')}@${netloc}`;
  }
  if (conn.port) netloc = `${netloc}:${conn.port}`;
  const path = conn.schema ? `/${conn.schema}` : '';
  const query = Object.entries(extras)
    .flatMap(([k, v]) =>
      optionValue(conn, k, v).map((s) => `${encodeURIComponent(k)}=${encodeURIComponent(s)}`),
    )
    .join('&');
  const scheme = srv ? 'mongodb+srv' : 'mongodb';
  return `${scheme}://${netloc}${path || (query ? '/' : '')}${query ? `?${query}` : ''}`;
}

/** Python `str()` of a JSON value, for the hook's `str(v).lower() == "true"` tests. */
function pyStr(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null) return 'None';
  return String(v);
}
