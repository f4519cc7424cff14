/**
 * SQLAlchemy database URLs as Airflow takes them in `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`:
 * `dialect[+driver]://[user[:password]@][host][:port][/database][?query]`, read with the pattern
 * SQLAlchemy's `make_url` uses (the password runs to the first `@`; user and password are
 * percent-decoded). `redactUrl` masks the password (as SQLAlchemy's `hide_password`) and any query
 * value whose name looks secret, so URLs can appear in errors and logs.
 *
 * The URL is parsed once, into everything the drivers need (`DatabaseUrl.target`: host or socket,
 * port, database, credentials, query options, TLS files), so `drivers.ts` reads plain fields and
 * never comes back here.
 */
import path from 'node:path';
import { ConfigurationError } from '../errors.js';

/** The setting a metastore URL normally comes from; named by configuration errors. */
export const SQL_ALCHEMY_CONN_SETTING = 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN';

export type Dialect = 'sqlite' | 'postgresql' | 'mysql';

export interface DatabaseUrl {
  readonly dialect: Dialect;
  /** The `+driver` part (e.g. `psycopg2`, `pymysql`), or null. Informational: Node uses its own drivers. */
  readonly driver: string | null;
  readonly username: string | null;
  readonly password: string | null;
  readonly host: string | null;
  readonly port: number | null;
  /** Database name (servers) or file path as written (SQLite). */
  readonly database: string | null;
  /** Query parameters; a repeated name keeps every value. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** SQLite only: the absolute file path (relative paths resolved against `cwd`), or `:memory:`. */
  readonly sqlitePath: string | null;
  /** The URL with its password masked; safe for messages. */
  readonly redacted: string;
  /** What the dialect's driver is given, resolved from the URL and its query options. */
  readonly target: DriverTarget;
}

/** Certificate files named in the query (paths; read when the driver connects). */
export interface SslFiles {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface SqliteTarget {
  readonly dialect: 'sqlite';
  /** The absolute file path, or `:memory:`. */
  readonly file: string;
}

/** node-postgres's view, with libpq's query options (`host`, `port`, `dbname`, `user`, `sslmode`, …). */
export interface PostgresTarget {
  readonly dialect: 'postgresql';
  /** `?host=` (a host or a socket directory) over the URL's host; null: the driver's default. */
  readonly host: string | null;
  readonly port: number;
  readonly database: string | undefined;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly applicationName: string | undefined;
  /** libpq `sslmode` (default `prefer`) and `sslrootcert` / `sslcert` / `sslkey` (`system` is no file). */
  readonly ssl: { readonly mode: string; readonly files: SslFiles };
}

/** mysql2's view, with the mysqlclient/PyMySQL query options (`charset`, `unix_socket`, `ssl_*`). */
export interface MysqlTarget {
  readonly dialect: 'mysql';
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly database: string | undefined;
  /** Upper-cased, default `UTF8MB4`. */
  readonly charset: string;
  readonly socketPath: string | undefined;
  /** null: no TLS. */
  readonly ssl: { readonly files: SslFiles; readonly rejectUnauthorized: boolean } | null;
}

export type DriverTarget = SqliteTarget | PostgresTarget | MysqlTarget;

const DIALECTS: Record<string, Dialect> = {
  sqlite: 'sqlite',
  postgresql: 'postgresql',
  postgres: 'postgresql',
  mysql: 'mysql',
  mariadb: 'mysql',
};

// SQLAlchemy's `_parse_url` pattern (sqlalchemy/engine/url.py), with the same groups.
const URL_RE =
  /^(?<name>[\w+]+):\/\/(?:(?<username>[^:/]*)(?::(?<password>[^@]*))?@)?(?:(?:\[(?<ipv6host>[^/?]+)\]|(?<ipv4host>[^/:?]+))?(?::(?<port>[^/?]*))?)?(?:\/(?<database>[^?]*))?(?:\?(?<query>.*))?/su;

const SECRET_QUERY_KEY = /pass|secret|token|credential/i;

/**
 * Parse a SQLAlchemy URL. A malformed URL or an unsupported dialect is a `ConfigurationError`
 * naming `setting`, and `source` (where the URL came from) when that is not `setting` itself.
 */
export function parseSqlAlchemyUrl(
  url: string,
  setting: string = SQL_ALCHEMY_CONN_SETTING,
  cwd: string = process.cwd(),
  source: string = setting,
): DatabaseUrl {
  const redacted = redactUrl(url);
  const from = source === setting ? '' : ` (from ${source})`;
  const m = URL_RE.exec(url.trim());
  if (!m?.groups) {
    throw new ConfigurationError(
      setting,
      `${setting} is not a SQLAlchemy URL (dialect://…): ${redacted}${from}`,
    );
  }
  const g = m.groups;
  const [base = '', driver = null] = (g.name ?? '').toLowerCase().split('+', 2);
  const dialect = DIALECTS[base];
  if (!dialect) {
    throw new ConfigurationError(
      setting,
      `${setting} uses an unsupported database '${base}' (supported: sqlite, postgresql, mysql): ${redacted}${from}`,
    );
  }
  let port: number | null = null;
  if (g.port !== undefined && g.port !== '') {
    if (!/^\d+$/.test(g.port) || Number(g.port) > 65535) {
      throw new ConfigurationError(setting, `${setting} has an invalid port: ${redacted}${from}`);
    }
    port = Number(g.port);
  }
  const decode = (s: string | undefined): string | null => (s === undefined ? null : unquote(s));
  const database = g.database === undefined || g.database === '' ? null : g.database;
  let sqlitePath: string | null = null;
  if (dialect === 'sqlite') {
    sqlitePath =
      database === null || database === ':memory:'
        ? ':memory:'
        : path.isAbsolute(database)
          ? database
          : path.resolve(cwd, database);
  }
  const parts = {
    dialect,
    driver: driver || null,
    username: decode(g.username),
    password: decode(g.password),
    host: g.ipv4host ?? g.ipv6host ?? null,
    port,
    database,
    query: parseQuery(g.query ?? ''),
    sqlitePath,
    redacted,
  };
  return { ...parts, target: driverTarget(parts) };
}

function driverTarget(url: Omit<DatabaseUrl, 'target'>): DriverTarget {
  if (url.dialect === 'sqlite') return { dialect: 'sqlite', file: url.sqlitePath ?? ':memory:' };
  const q = (name: string) => queryValue(url, name);
  if (url.dialect === 'postgresql') {
    const portText = q('port');
    return {
      dialect: 'postgresql',
      host: q('host') ?? url.host,
      port: portText !== undefined ? Number(portText) : (url.port ?? 5432),
      database: url.database ?? q('dbname') ?? url.username ?? undefined,
      user: url.username ?? q('user'),
      password: url.password ?? q('password'),
      applicationName: q('application_name'),
      ssl: {
        mode: q('sslmode') ?? 'prefer',
        files: sslFiles(q('sslrootcert'), q('sslcert'), q('sslkey'), (p) => p !== 'system'),
      },
    };
  }
  return {
    dialect: 'mysql',
    host: url.host ?? 'localhost',
    port: url.port ?? 3306,
    user: url.username ?? undefined,
    password: url.password ?? undefined,
    database: url.database ?? undefined,
    charset: (q('charset') ?? 'utf8mb4').toUpperCase(),
    socketPath: q('unix_socket'),
    ssl: mysqlSsl(q),
  };
}

/** SQLAlchemy's mysqlclient/PyMySQL `ssl_*` options; null when they ask for no TLS. */
function mysqlSsl(q: (name: string) => string | undefined): MysqlTarget['ssl'] {
  const [ca, cert, key] = [q('ssl_ca'), q('ssl_cert'), q('ssl_key')];
  const mode = (q('ssl_mode') ?? q('ssl-mode'))?.toUpperCase();
  if (!ca && !cert && !key && (mode === undefined || mode === 'DISABLED' || mode === 'PREFERRED'))
    return null;
  return {
    files: sslFiles(ca, cert, key, Boolean),
    rejectUnauthorized: mode === 'REQUIRED' ? false : q('ssl_check_hostname') !== 'false',
  };
}

function sslFiles(
  ca: string | undefined,
  cert: string | undefined,
  key: string | undefined,
  isFile: (p: string) => boolean,
): SslFiles {
  return {
    ...(ca !== undefined && isFile(ca) ? { ca } : {}),
    ...(cert !== undefined && isFile(cert) ? { cert } : {}),
    ...(key !== undefined && isFile(key) ? { key } : {}),
  };
}

/** Python's `parse_qsl` (blank values dropped, `+` is a space), keeping repeated names. */
function parseQuery(q: string): Record<string, string[]> {
  // No prototype: a key such as `constructor` or `__proto__` is an ordinary query name.
  const out: Record<string, string[]> = Object.create(null);
  for (const part of q.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = unquotePlus(part.slice(0, eq));
    const v = unquotePlus(part.slice(eq + 1));
    if (v === '') continue;
    (out[k] ??= []).push(v);
  }
  return out;
}

function unquotePlus(s: string): string {
  return unquote(s.replace(/\+/g, ' '));
}

/** Python's `urllib.parse.unquote`: valid `%XX` runs decode as UTF-8 (bad bytes → U+FFFD); the rest stays. */
function unquote(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'),
  );
}

/** The last value of a query parameter (SQLAlchemy passes single values to the DBAPI). */
export function queryValue(url: Pick<DatabaseUrl, 'query'>, name: string): string | undefined {
  const v = url.query[name];
  return v === undefined ? undefined : v[v.length - 1];
}

/**
 * The URL with its credentials replaced by `***` (and secret-looking query values too). Everything
 * between `scheme://` and the host is masked whatever its characters: the credentials end at the
 * URL's last `@` (a password may hold an un-escaped `@`, `/`, `?` or `#`); the user name is kept
 * only when it is a plain name (no `:`, `/`, `?`, `#`, `@` or space). Text that is not a URL at all
 * is replaced entirely, since it might be a secret pasted in the wrong place.
 */
export function redactUrl(url: string): string {
  const text = url.trim();
  const scheme = /^[\w+]+:\/\//.exec(text)?.[0];
  if (!scheme) return '***';
  const rest = text.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return redactAfterCredentials(scheme, rest);
  const credentials = rest.slice(0, at);
  const colon = credentials.indexOf(':');
  const user = colon < 0 ? credentials : credentials.slice(0, colon);
  const shown = /^[^:/?#@\s]*$/u.test(user) ? `${user}${colon < 0 ? '' : ':***'}@` : '***@';
  return `${scheme}${shown}${redactAfterCredentials('', rest.slice(at + 1))}`;
}

/** Host, port, database and query of a URL with no credentials left in it, secret parts masked. */
function redactAfterCredentials(scheme: string, rest: string): string {
  const m = URL_RE.exec(`x://${rest}`);
  if (!m?.groups) return `${scheme}***`;
  const g = m.groups;
  let out = scheme;
  if (g.ipv6host !== undefined) out += `[${g.ipv6host}]`;
  else if (g.ipv4host !== undefined) out += g.ipv4host;
  // Without a host, `user:password` parses as host `user` and port `password`: a port that is not
  // a number is never shown.
  if (g.port !== undefined) out += /^\d*$/.test(g.port) ? `:${g.port}` : ':***';
  if (g.database !== undefined) out += `/${g.database}`;
  if (g.query !== undefined) {
    out += `?${g.query
      .split('&')
      .map((kv) => {
        const eq = kv.indexOf('=');
        return eq >= 0 && SECRET_QUERY_KEY.test(unquotePlus(kv.slice(0, eq))) ? `${kv.slice(0, eq)}=***` : kv;
      })
      .join('&')}`;
  }
  return out;
}
