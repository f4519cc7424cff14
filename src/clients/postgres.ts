/**
 * `pgConfig(conn)`: node-postgres (`pg`) client/pool options from a `postgres` connection, the way
 * PostgresHook.get_conn builds psycopg's arguments (docs/clients.md lists each rule).
 */
import type { Connection } from '../connection.js';
import {
  type ClientBuilderOptions,
  compact,
  type Extras,
  extraError,
  extrasOf,
  hideSecrets,
  hideTlsSecrets,
  pyTruthy,
  readPem,
  requireConnType,
} from './common.js';

const FN = 'pgConfig';

/** TLS options for `pg` (a subset of `tls.ConnectionOptions`). */
export interface PgTlsOptions {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  /** Holds a secret (the client key). */
  key?: string;
  /** Holds a secret. */
  passphrase?: string;
  crl?: string;
  /** Present for `verify-ca`: the certificate chain is checked, the host name is not. */
  checkServerIdentity?: () => undefined;
}

/** Options for `new pg.Client(...)` / `new pg.Pool(...)`. `password` holds a secret. */
export interface PgConfig {
  host?: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: false | PgTlsOptions;
  application_name?: string;
  options?: string;
  client_encoding?: string;
  connectionTimeoutMillis?: number;
  keepAlive?: boolean;
  keepAliveInitialDelayMillis?: number;
}

export interface PgConfigOptions extends ClientBuilderOptions {
  /** The hook's `database` argument: wins over the connection's schema. */
  database?: string | undefined;
  /** The hook's `options` argument (e.g. `-c search_path=app`); an `options` extra wins, as in the hook. */
  options?: string | undefined;
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

export function pgConfig(conn: Connection, options: PgConfigOptions = {}): PgConfig {
  requireConnType(FN, conn, ['postgres']);
  const x = extrasOf(FN, conn, options);
  if (pyTruthy(x.get('iam'))) {
    throw extraError(FN, conn, 'iam', 'asks for IAM/Entra token authentication, which pgConfig does not do');
  }
  const num = (key: string): number | undefined => {
    const v = x.get(key);
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n)) throw extraError(FN, conn, key, 'must be an integer');
    return n;
  };
  const str = (key: string): string | undefined => {
    const v = x.get(key);
    return v === undefined || v === null ? undefined : String(v);
  };
  const cfg = compact<PgConfig>({
    host: conn.host ?? undefined,
    port: conn.port ?? 5432,
    user: conn.login ?? undefined,
    password: conn.password ?? undefined,
    database: options.database || conn.schema || undefined,
    options: str('options') ?? options.options,
    application_name: str('application_name'),
    client_encoding: str('client_encoding'),
  });
  const timeout = num('connect_timeout');
  if (timeout !== undefined && timeout > 0) cfg.connectionTimeoutMillis = Math.max(timeout, 2) * 1000;
  const keepalives = num('keepalives');
  if (keepalives !== undefined) cfg.keepAlive = keepalives !== 0;
  const idle = num('keepalives_idle');
  if (idle !== undefined && idle > 0) {
    cfg.keepAlive ??= true;
    cfg.keepAliveInitialDelayMillis = idle * 1000;
  }
  const ssl = pgSsl(x, (k) => str(k));
  if (ssl !== undefined) cfg.ssl = ssl;
  x.warnUnused();
  return hideSecrets(cfg, ['password']);
}

/**
 * libpq's sslmode over node's TLS: `disable`/`allow`/`prefer` (and no sslmode, libpq's `prefer`)
 * → no TLS; `require` → encrypted, unverified (verified like `verify-ca` when `sslrootcert` is
 * given, as libpq does); `verify-ca` → chain checked; `verify-full` → chain and host name.
 */
function pgSsl(x: Extras, str: (key: string) => string | undefined): false | PgTlsOptions | undefined {
  const { conn } = x;
  const raw = str('sslmode');
  const rootcert = str('sslrootcert');
  const certFile = str('sslcert');
  const keyFile = str('sslkey');
  const crlFile = str('sslcrl');
  const passphrase = str('sslpassword');
  const mode = raw as (typeof SSL_MODES)[number] | undefined;
  if (mode !== undefined && !SSL_MODES.includes(mode)) {
    throw extraError(FN, conn, 'sslmode', `must be one of ${SSL_MODES.join(', ')}`);
  }
  if (mode === undefined || mode === 'disable' || mode === 'allow' || mode === 'prefer') {
    // libpq would use these files only if it negotiated TLS; here TLS is off, so they do nothing.
    const why = mode === undefined ? 'TLS is off (no sslmode)' : `TLS is off (sslmode '${mode}')`;
    x.ignore(why, ['sslrootcert', 'sslcert', 'sslkey', 'sslcrl', 'sslpassword']);
    return mode === undefined ? undefined : false;
  }
  const system = rootcert === 'system';
  const level = system ? 'verify-full' : mode === 'require' && rootcert ? 'verify-ca' : mode;
  const tls: PgTlsOptions = { rejectUnauthorized: level !== 'require' };
  if (rootcert && !system) tls.ca = readPem(FN, conn, 'sslrootcert', rootcert);
  if (certFile) tls.cert = readPem(FN, conn, 'sslcert', certFile);
  if (keyFile) tls.key = readPem(FN, conn, 'sslkey', keyFile);
  if (crlFile) tls.crl = readPem(FN, conn, 'sslcrl', crlFile);
  if (passphrase) tls.passphrase = passphrase;
  if (level === 'verify-ca') tls.checkServerIdentity = () => undefined;
  return hideTlsSecrets(tls);
}
