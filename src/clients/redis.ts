/**
 * `redisOptions(conn)`: ioredis (default) or node-redis options from a `redis` connection, the way
 * RedisHook.get_conn builds redis-py's arguments. docs/clients.md lists each rule.
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

const FN = 'redisOptions';

/** TLS options (a subset of `tls.ConnectionOptions`). */
export interface RedisTlsOptions {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  /** Holds a secret (the client key). */
  key?: string;
  /** Present when `ssl_check_hostname` is false: the chain is checked, the host name is not. */
  checkServerIdentity?: () => undefined;
}

/** Options for `new Redis(...)` (ioredis). `password` holds a secret. */
export interface IoredisOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: RedisTlsOptions;
}

/** Options for `createClient(...)` (node-redis). `password` holds a secret. */
export interface NodeRedisOptions {
  socket: { host: string; port: number } & ({ tls?: false } | ({ tls: true } & RedisTlsOptions));
  username?: string;
  password?: string;
  database: number;
}

export interface RedisOptionsOptions extends ClientBuilderOptions {
  /** Which client the options are for. Default `'ioredis'`. */
  client?: 'ioredis' | 'node-redis' | undefined;
}

const CERT_REQS = ['required', 'optional', 'none'];

export function redisOptions(
  conn: Connection,
  options?: RedisOptionsOptions & { client?: 'ioredis' },
): IoredisOptions;
export function redisOptions(
  conn: Connection,
  options: RedisOptionsOptions & { client: 'node-redis' },
): NodeRedisOptions;
export function redisOptions(
  conn: Connection,
  options: RedisOptionsOptions = {},
): IoredisOptions | NodeRedisOptions {
  requireConnType(FN, conn, ['redis']);
  const x = extrasOf(FN, conn, options);
  const host = conn.host || 'localhost';
  const port = conn.port || 6379;
  const pw = conn.password;
  const password = pw === null || ['none', 'false', ''].includes(pw.toLowerCase()) ? undefined : pw;
  const db = redisDb(x);
  const tls = redisTls(x);
  x.warnUnused();
  if (options.client === 'node-redis') {
    const socket: NodeRedisOptions['socket'] = tls ? { host, port, tls: true, ...tls } : { host, port };
    if (tls) hideTlsSecrets(socket as { cert?: string });
    return hideSecrets(
      compact<NodeRedisOptions>({ socket, username: conn.login ?? undefined, password, database: db }),
      ['password'],
    );
  }
  const out = compact<IoredisOptions>({ host, port, username: conn.login ?? undefined, password, db, tls });
  return hideSecrets(out, ['password']);
}

/** `db` from the extras: an integer or its decimal text; redis-py's default 0. */
function redisDb(x: Extras): number {
  const v = x.get('db');
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0) throw extraError(FN, x.conn, 'db', 'must be a non-negative integer');
  return n;
}

/**
 * `ssl` (Python truthiness, as redis-py tests it) turns TLS on; `ssl_cert_reqs` `none` turns
 * verification off (`optional` verifies: a client has no optional mode); `ssl_check_hostname`
 * (default true, redis-py ≥ 6) adds the host-name check; `ssl_ca_certs`, `ssl_certfile`,
 * `ssl_keyfile` are read as PEM files.
 */
function redisTls(x: Extras): RedisTlsOptions | undefined {
  const { conn } = x;
  const on = pyTruthy(x.get('ssl'));
  const reqsRaw = x.get('ssl_cert_reqs');
  const reqs = reqsRaw === undefined || reqsRaw === null ? 'required' : String(reqsRaw).toLowerCase();
  if (!CERT_REQS.includes(reqs)) {
    throw extraError(FN, conn, 'ssl_cert_reqs', `must be one of ${CERT_REQS.join(', ')}`);
  }
  const check = x.get('ssl_check_hostname');
  const files = {
    ca: x.string('ssl_ca_certs'),
    cert: x.string('ssl_certfile'),
    key: x.string('ssl_keyfile'),
  };
  if (!on) {
    x.ignore('TLS is off (ssl is not set, or false)', [
      'ssl_cert_reqs',
      'ssl_check_hostname',
      'ssl_ca_certs',
      'ssl_certfile',
      'ssl_keyfile',
    ]);
    return undefined;
  }
  const tls: RedisTlsOptions = { rejectUnauthorized: reqs !== 'none' };
  if (files.ca) tls.ca = readPem(FN, conn, 'ssl_ca_certs', files.ca);
  if (files.cert) tls.cert = readPem(FN, conn, 'ssl_certfile', files.cert);
  if (files.key) tls.key = readPem(FN, conn, 'ssl_keyfile', files.key);
  if (check !== undefined && check !== null && !pyTruthy(check)) tls.checkServerIdentity = () => undefined;
  return hideTlsSecrets(tls);
}
