/**
 * `mysqlConfig(conn)`: mysql2 connection/pool options from a `mysql` connection, the way MySqlHook
 * builds the arguments of its default client, mysqlclient (or of mysql-connector-python when the
 * `client` extra asks for it). docs/clients.md lists each rule.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
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

const FN = 'mysqlConfig';

/** TLS options for mysql2 (its `SslOptions`). */
export interface MysqlTlsOptions {
  rejectUnauthorized: boolean;
  /** Check the server's host name too (mysql2's own option). */
  verifyIdentity?: boolean;
  ca?: string;
  cert?: string;
  /** Holds a secret (the client key). */
  key?: string;
  ciphers?: string;
}

/** Options for `mysql.createConnection(...)` / `createPool(...)`. `password` holds a secret. */
export interface MysqlConfig {
  host: string;
  port: number;
  user?: string;
  password: string;
  database: string;
  charset?: string;
  socketPath?: string;
  ssl?: MysqlTlsOptions;
  /** `['-LOCAL_FILES']` unless `localInfile` is set (mysqlclient's default: LOAD DATA LOCAL off). */
  flags?: string[];
  /** Set with `localInfile`: the server may read any local file the client can. */
  infileStreamFactory?: (path: string) => Readable;
}

export interface MysqlConfigOptions extends ClientBuilderOptions {
  /** The hook's `schema` argument: wins over the connection's schema. */
  schema?: string | undefined;
  /** The hook's `local_infile` argument. Default false. */
  localInfile?: boolean | undefined;
}

const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'];
/** The keys of mysqlclient's `ssl` dict that mysql2 can express. */
const SSL_DICT_KEYS = ['ca', 'cert', 'key', 'cipher', 'check_hostname'];

export function mysqlConfig(conn: Connection, options: MysqlConfigOptions = {}): MysqlConfig {
  requireConnType(FN, conn, ['mysql']);
  const x = extrasOf(FN, conn, options);
  if (pyTruthy(x.get('iam'))) {
    throw extraError(FN, conn, 'iam', 'asks for AWS IAM token authentication, which mysqlConfig does not do');
  }
  const client = x.get('client') ?? 'mysqlclient';
  const cfg: MysqlConfig = {
    host: conn.host || 'localhost',
    port: conn.port || 3306,
    password: conn.password || '',
    database: options.schema || conn.schema || '',
  };
  if (conn.login !== null) cfg.user = conn.login;
  if (client === 'mysqlclient') fromMysqlclient(x, cfg);
  else if (client === 'mysql-connector-python') fromConnectorPython(x, cfg);
  else throw extraError(FN, conn, 'client', "must be 'mysqlclient' or 'mysql-connector-python'");
  if (options.localInfile) cfg.infileStreamFactory = (path) => createReadStream(path);
  else cfg.flags = ['-LOCAL_FILES'];
  x.warnUnused();
  return hideSecrets(cfg, ['password']);
}

/** mysqlclient: `charset`, `unix_socket`, the `ssl` dict (or its JSON text) and `ssl_mode`. */
function fromMysqlclient(x: Extras, cfg: MysqlConfig): void {
  const { conn } = x;
  const charset = x.get('charset');
  if (pyTruthy(charset)) cfg.charset = String(charset);
  const socket = x.get('unix_socket');
  if (pyTruthy(socket)) cfg.socketPath = String(socket);
  let dict: Record<string, unknown> | undefined;
  const ssl = x.get('ssl');
  if (pyTruthy(ssl)) {
    let v = ssl;
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        throw extraError(FN, conn, 'ssl', 'is text that is not JSON');
      }
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw extraError(FN, conn, 'ssl', 'must be an object (or the JSON text of one)');
    }
    dict = v as Record<string, unknown>;
  }
  const rawMode = x.get('ssl_mode');
  const mode = pyTruthy(rawMode) ? String(rawMode).toUpperCase() : undefined;
  if (mode !== undefined && !SSL_MODES.includes(mode)) {
    throw extraError(FN, conn, 'ssl_mode', `must be one of ${SSL_MODES.join(', ')}`);
  }
  if (mode === 'DISABLED') x.ignore("TLS is off (ssl_mode 'DISABLED')", ['ssl']);
  if (mode === 'DISABLED' || (!dict && (mode === undefined || mode === 'PREFERRED'))) return;
  const d = dict ?? {};
  x.unusedNested(
    ...Object.keys(d)
      .filter((k) => !SSL_DICT_KEYS.includes(k))
      .map((k) => `ssl.${k}`),
  );
  const file = (k: string) => {
    const p = d[k];
    return typeof p === 'string' && p ? readPem(FN, conn, `ssl.${k}`, p) : undefined;
  };
  const ca = file('ca');
  const verify =
    mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY' || (mode !== 'REQUIRED' && ca !== undefined);
  const tls = compact<MysqlTlsOptions>({
    rejectUnauthorized: verify || pyTruthy(d.check_hostname),
    verifyIdentity: mode === 'VERIFY_IDENTITY' || pyTruthy(d.check_hostname) || undefined,
    ca,
    cert: file('cert'),
    key: file('key'),
    ciphers: typeof d.cipher === 'string' ? d.cipher : undefined,
  });
  cfg.ssl = hideTlsSecrets(tls);
}

/** mysql-connector-python: every `ssl_*` extra (the hook passes them all); the ones below are mapped. */
function fromConnectorPython(x: Extras, cfg: MysqlConfig): void {
  const { conn } = x;
  const ssl: Record<string, unknown> = {};
  for (const k of Object.keys(x.values)) if (k.startsWith('ssl_')) ssl[k] = x.values[k];
  const known = ['ssl_ca', 'ssl_cert', 'ssl_key', 'ssl_verify_cert', 'ssl_verify_identity', 'ssl_disabled'];
  x.use(...known.filter((k) => k in ssl));
  const keys = Object.keys(ssl).filter((k) => known.includes(k));
  if (pyTruthy(ssl.ssl_disabled)) {
    x.ignore(
      'TLS is off (ssl_disabled)',
      known.filter((k) => k !== 'ssl_disabled'),
    );
    return;
  }
  if (keys.length === 0) return;
  const file = (k: string) => {
    const p = ssl[k];
    return typeof p === 'string' && p ? readPem(FN, conn, k, p) : undefined;
  };
  const identity = pyTruthy(ssl.ssl_verify_identity);
  const tls = compact<MysqlTlsOptions>({
    rejectUnauthorized: pyTruthy(ssl.ssl_verify_cert) || identity,
    verifyIdentity: identity || undefined,
    ca: file('ssl_ca'),
    cert: file('ssl_cert'),
    key: file('ssl_key'),
  });
  cfg.ssl = hideTlsSecrets(tls);
}
