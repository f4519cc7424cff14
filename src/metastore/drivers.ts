/**
 * One small SQL seam over the three drivers, each imported only when its dialect is used:
 * better-sqlite3 (SQLite, synchronous, one handle, operations serialised), `pg` (a bounded
 * `pg.Pool`) and `mysql2` (a bounded pool, server-side prepared statements). SQL is written with
 * `?` placeholders and always parameterised; the PostgreSQL driver renumbers them to `$n`.
 * Drivers throw the raw driver errors; `classifyDriverError` tells the store what kind they are.
 * Each driver is configured from the URL's `target`, resolved once by `url.ts`.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type BetterSqlite3 from 'better-sqlite3';
import type * as Mysql2 from 'mysql2/promise';
import type * as Pg from 'pg';
import { importOptional } from '../optional-import.js';
import type { DatabaseUrl, Dialect, MysqlTarget, PostgresTarget, SqliteTarget, SslFiles } from './url.js';

export type SqlValue = string | number | boolean | null;
export type Row = Record<string, unknown>;

/**
 * The cancellation of one read (the backends' `CallCancel` has this shape): when it fires, a
 * server driver destroys the connection running the query, so nothing is left running.
 */
export interface Cancellation {
  onCancel(fn: () => void): () => void;
}

export interface SqlExecutor {
  /** Rows of a SELECT; `cancel` (server drivers) destroys the connection running it when it fires. */
  all(sql: string, params?: readonly SqlValue[], cancel?: Cancellation): Promise<Row[]>;
  /** Execute a statement; resolves to the number of affected rows. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: Dialect;
  /** Run `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DriverOptions {
  poolSize: number;
  timeoutMs: number;
  /** SQLite: create the file if it does not exist (writes only). */
  create?: boolean | undefined;
  /** Receives errors of idle pooled connections (e.g. the server went away). */
  onIdleError?: ((e: unknown) => void) | undefined;
}

const USED_BY = 'the metastore backend';

export async function openDriver(url: DatabaseUrl, options: DriverOptions): Promise<SqlDriver> {
  const target = url.target;
  if (target.dialect === 'sqlite') return openSqlite(target, options);
  if (target.dialect === 'postgresql') return openPostgres(target, options);
  return openMysql(target, options);
}

async function openSqlite(target: SqliteTarget, options: DriverOptions): Promise<SqlDriver> {
  const mod = await importOptional<{ default?: typeof BetterSqlite3 } & typeof BetterSqlite3>(
    'better-sqlite3',
    USED_BY,
    () => import('better-sqlite3'),
  );
  const Database = (mod.default ?? mod) as typeof BetterSqlite3;
  const file = target.file;
  if (options.create && file !== ':memory:') createPrivateFile(file);
  const db = new Database(file, {
    fileMustExist: file !== ':memory:' && !options.create,
    timeout: options.timeoutMs,
  });
  // One connection: serialise every operation so a transaction never interleaves with another.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string) => {
    let st = statements.get(sql);
    if (!st) statements.set(sql, (st = db.prepare(sql)));
    return st;
  };
  const exec: SqlExecutor = {
    all: async (sql, params = []) => prepare(sql).all(...sqliteParams(params)) as Row[],
    run: async (sql, params = []) => prepare(sql).run(...sqliteParams(params)).changes,
  };
  let closed = false;
  return {
    dialect: 'sqlite',
    all: (sql, params) => serial(() => exec.all(sql, params)),
    run: (sql, params) => serial(() => exec.run(sql, params)),
    transaction: (fn) =>
      serial(async () => {
        db.prepare('BEGIN IMMEDIATE').run();
        try {
          const out = await fn(exec);
          db.prepare('COMMIT').run();
          return out;
        } catch (e) {
          if (db.inTransaction) db.prepare('ROLLBACK').run();
          throw e;
        }
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await serial(() => db.close());
    },
  };
}

/**
 * Create a new SQLite file readable by its owner only (0600; SQLite gives its journal and WAL files
 * the database file's mode). An existing file is left as it is.
 */
function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'EEXIST') throw e;
  }
}

function sqliteParams(params: readonly SqlValue[]): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/** node-postgres pool settings for a target. */
async function pgPoolConfig(target: PostgresTarget, options: DriverOptions): Promise<Pg.PoolConfig> {
  const config: Pg.PoolConfig = {
    host: target.host ?? (existsSync('/var/run/postgresql') ? '/var/run/postgresql' : 'localhost'),
    port: target.port,
    database: target.database,
    max: options.poolSize,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: options.timeoutMs,
    query_timeout: options.timeoutMs,
    allowExitOnIdle: true,
    ssl: await pgSsl(target.ssl),
  };
  if (target.user !== undefined) config.user = target.user;
  if (target.password !== undefined) config.password = target.password;
  if (target.applicationName !== undefined) config.application_name = target.applicationName;
  return config;
}

type PgStatement = (sql: string) => { name: string; text: string };

/** Each distinct statement becomes a named prepared statement (parsed once per connection). */
function pgStatements(): PgStatement {
  const named = new Map<string, { name: string; text: string }>();
  return (sql: string) => {
    let q = named.get(sql);
    if (!q) {
      let n = 0;
      q = { name: `airflow_secrets_${named.size + 1}`, text: sql.replace(/\?/g, () => `$${++n}`) };
      named.set(sql, q);
    }
    return q;
  };
}

async function openPostgres(target: PostgresTarget, options: DriverOptions): Promise<SqlDriver> {
  const mod = await importOptional<{ default?: typeof Pg } & typeof Pg>('pg', USED_BY, () => import('pg'));
  const pg = (mod.default ?? mod) as typeof Pg;
  const config = await pgPoolConfig(target, options);
  const tracked = trackedPool(pg, config);
  const { pool, clients } = tracked;
  pool.on('error', (e) => options.onIdleError?.(e));
  const toPg = pgStatements();
  const execOn = (c: Pg.Pool | Pg.PoolClient): SqlExecutor => ({
    all: async (sql, params = []) =>
      (await c.query({ ...toPg(sql), values: params as unknown[] })).rows as Row[],
    run: async (sql, params = []) =>
      (await c.query({ ...toPg(sql), values: params as unknown[] })).rowCount ?? 0,
  });
  const pooled = execOn(pool);
  const cancellable = pgCancellableRead(pg, config, tracked, toPg);
  let closing: Promise<void> | undefined;
  return {
    dialect: 'postgresql',
    all: (sql, params = [], cancel) => (cancel ? cancellable(sql, params, cancel) : pooled.all(sql, params)),
    run: pooled.run,
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await fn(execOn(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw e;
      } finally {
        client.release(broken);
      }
    },
    close: () =>
      (closing ??= (() => {
        for (const c of clients) destroyPgClient(c);
        return pool.end();
      })()),
  };
}

/** A read that can be cancelled: on its own connection, destroyed (not returned) when cancelled. */
function pgCancellableRead(
  pg: typeof Pg,
  config: Pg.PoolConfig,
  { pool, takeCreated }: ReturnType<typeof trackedPool>,
  toPg: PgStatement,
) {
  return async (sql: string, params: readonly SqlValue[], cancel: Cancellation): Promise<Row[]> => {
    // pg-pool creates a new client synchronously inside connect(): that one is ours to destroy
    // if the read is cancelled while it connects.
    takeCreated();
    const pending = pool.connect();
    const connecting = takeCreated();
    const offConnect = cancel.onCancel(() => connecting && destroyPgClient(connecting));
    let client: Pg.PoolClient;
    try {
      client = await pending;
    } finally {
      offConnect();
    }
    let broken = false;
    // A checked-out client has no error listener of the pool's: its socket destroyed below must
    // not become an uncaught 'error'.
    const ignore = () => undefined;
    client.on('error', ignore);
    const off = cancel.onCancel(() => {
      broken = true;
      // The server would otherwise go on running (or waiting on a lock for) the query: PostgreSQL
      // notices a closed client only when it next writes to it.
      sendPgCancel(pg, config, client);
      destroyPgClient(client);
    });
    try {
      return (await client.query({ ...toPg(sql), values: params as unknown[] })).rows as Row[];
    } catch (e) {
      broken = true;
      throw e;
    } finally {
      off();
      client.removeListener('error', ignore);
      client.release(broken);
    }
  };
}

/**
 * PostgreSQL's CancelRequest for the query `client` is running: a separate short connection
 * carrying the session's process id and secret key (what libpq's `PQcancel` sends). Best effort:
 * its failures are ignored, and its socket is closed as soon as the request is written.
 */
function sendPgCancel(pg: typeof Pg, config: Pg.PoolConfig, client: Pg.PoolClient): void {
  const c = client as unknown as { processID?: number; secretKey?: number };
  if (c.processID === undefined || c.secretKey === undefined) return;
  type Con = {
    on(ev: string, fn: (...a: unknown[]) => void): void;
    connect(port: number | string, host?: string): void;
    cancel(pid: number, key: number): void;
    end(): void;
    stream?: { destroy(): void };
  };
  const Connection = (pg as unknown as { Connection?: new (o: object) => Con }).Connection;
  if (!Connection) return;
  try {
    const con = new Connection({ ssl: config.ssl });
    con.on('error', () => undefined);
    const host = String(config.host ?? 'localhost');
    if (host.startsWith('/')) con.connect(`${host}/.s.PGSQL.${config.port ?? 5432}`);
    else con.connect(config.port ?? 5432, host);
    con.on('connect', () => {
      con.cancel(c.processID!, c.secretKey!);
      con.end();
    });
    setTimeout(() => con.stream?.destroy(), 5_000).unref();
  } catch {
    // best effort
  }
}

/**
 * A `pg.Pool` whose clients are all known (`clients`: connecting, busy or idle), so `close()` can
 * destroy them; `takeCreated()` returns (and forgets) the client the pool created last, which
 * pg-pool does synchronously inside `connect()`.
 */
function trackedPool(pg: typeof Pg, config: Pg.PoolConfig) {
  const clients = new Set<Pg.Client>();
  let created: Pg.Client | undefined;
  class TrackedClient extends pg.Client {
    constructor(c?: string | Pg.ClientConfig) {
      super(c);
      clients.add(this);
      created = this;
      this.once('end', () => clients.delete(this));
    }
  }
  const pool = new pg.Pool({ ...config, Client: TrackedClient } as Pg.PoolConfig);
  const takeCreated = () => {
    const c = created;
    created = undefined;
    return c;
  };
  return { pool, clients, takeCreated };
}

/** Destroy a pg client's socket at once (a query in flight fails; the pool drops the client). */
function destroyPgClient(c: Pg.Client | Pg.PoolClient): void {
  (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** libpq `sslmode` (and `sslrootcert`/`sslcert`/`sslkey` file paths) → node-postgres `ssl`. */
async function pgSsl(ssl: PostgresTarget['ssl']): Promise<Pg.PoolConfig['ssl']> {
  const mode = ssl.mode;
  // libpq's `prefer`/`allow` fall back to plain text when the server has no TLS; node-postgres
  // cannot negotiate that, so they connect without TLS (see docs/metastore.md).
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  const files = await readSslFiles(ssl.files);
  if (mode === 'require' && !files.ca) return { ...files, rejectUnauthorized: false };
  if (mode === 'verify-ca' || mode === 'require') {
    return { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  }
  return { ...files, rejectUnauthorized: true }; // verify-full (and unknown modes: strictest)
}

async function readSslFiles(files: SslFiles): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  if (files.ca !== undefined) out.ca = await readFile(files.ca);
  if (files.cert !== undefined) out.cert = await readFile(files.cert);
  if (files.key !== undefined) out.key = await readFile(files.key);
  return out;
}

/** mysql2 pool settings for a target. */
async function mysqlPoolConfig(target: MysqlTarget, options: DriverOptions): Promise<Mysql2.PoolOptions> {
  const config: Mysql2.PoolOptions = {
    host: target.host,
    port: target.port,
    connectionLimit: options.poolSize,
    maxIdle: options.poolSize,
    idleTimeout: 10_000,
    connectTimeout: options.timeoutMs,
    charset: target.charset,
    supportBigNumbers: true,
    dateStrings: true,
  };
  if (target.user !== undefined) config.user = target.user;
  if (target.password !== undefined) config.password = target.password;
  if (target.database !== undefined) config.database = target.database;
  if (target.socketPath !== undefined) config.socketPath = target.socketPath;
  if (target.ssl) {
    const files = await readSslFiles(target.ssl.files);
    config.ssl = { ...files, rejectUnauthorized: target.ssl.rejectUnauthorized } as NonNullable<
      Mysql2.PoolOptions['ssl']
    >;
  }
  return config;
}

async function openMysql(target: MysqlTarget, options: DriverOptions): Promise<SqlDriver> {
  const mod = await importOptional<{ default?: unknown }>(
    'mysql2/promise',
    USED_BY,
    () => import('mysql2/promise'),
  );
  const mysql = (
    typeof (mod.default as typeof Mysql2 | undefined)?.createPool === 'function' ? mod.default : mod
  ) as typeof Mysql2;
  const pool = mysql.createPool(await mysqlPoolConfig(target, options));
  pool.on('connection', (c) => {
    (c as unknown as { on(ev: string, fn: (e: unknown) => void): void }).on('error', (e) =>
      options.onIdleError?.(e),
    );
  });
  const execOn = (c: Mysql2.Pool | Mysql2.PoolConnection): SqlExecutor => ({
    all: async (sql, params = []) => {
      const [rows] = await c.execute({ sql, timeout: options.timeoutMs }, params as SqlValue[]);
      return rows as Row[];
    },
    run: async (sql, params = []) => {
      const [res] = await c.execute({ sql, timeout: options.timeoutMs }, params as SqlValue[]);
      return (res as Mysql2.ResultSetHeader).affectedRows;
    },
  });
  const pooled = execOn(pool);
  const cancellable = mysqlCancellableRead(pool, execOn);
  let closing: Promise<void> | undefined;
  return {
    dialect: 'mysql',
    all: (sql, params = [], cancel) => (cancel ? cancellable(sql, params, cancel) : pooled.all(sql, params)),
    run: pooled.run,
    async transaction(fn) {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        const out = await fn(execOn(conn));
        await conn.commit();
        return out;
      } catch (e) {
        await conn.rollback().catch(() => undefined);
        throw e;
      } finally {
        conn.release();
      }
    },
    close: () =>
      (closing ??= (() => {
        destroyMysqlConnections(pool);
        return pool.end();
      })()),
  };
}

/** A read that can be cancelled: on its own connection, destroyed (not returned) when cancelled. */
function mysqlCancellableRead(pool: Mysql2.Pool, execOn: (c: Mysql2.PoolConnection) => SqlExecutor) {
  return async (sql: string, params: readonly SqlValue[], cancel: Cancellation): Promise<Row[]> => {
    // mysql2 creates a new connection synchronously inside getConnection(): that one is ours to
    // destroy if the read is cancelled while it connects.
    const all = corePool(pool)?._allConnections;
    const before = all?.length ?? 0;
    const pending = pool.getConnection();
    const connecting = all && all.length > before ? all.peekBack?.() : undefined;
    const offConnect = cancel.onCancel(() => connecting?.destroy?.());
    let conn: Mysql2.PoolConnection;
    try {
      conn = await pending;
    } finally {
      offConnect();
    }
    let cancelled = false;
    let broken = false;
    const off = cancel.onCancel(() => {
      cancelled = true;
      conn.destroy();
    });
    try {
      return await execOn(conn).all(sql, params);
    } catch (e) {
      broken = true;
      throw e;
    } finally {
      off();
      if (!cancelled) broken ? conn.destroy() : conn.release();
    }
  };
}

/**
 * Destroy every connection of a mysql2 pool, connecting, busy or idle (`pool.end()` alone sends
 * COM_QUIT and waits, which a server that does not answer never lets finish). mysql2 keeps them in
 * the core pool's `_allConnections`; without it, `end()` is all there is.
 */
function destroyMysqlConnections(pool: Mysql2.Pool): void {
  const all = corePool(pool)?._allConnections;
  for (const c of all?.toArray?.() ?? []) c.destroy?.();
}

type CoreConnection = { destroy?(): void };
/** mysql2/promise's pool wraps a callback pool, whose `_allConnections` (a deque) holds every connection. */
function corePool(pool: Mysql2.Pool) {
  return (
    pool as unknown as {
      pool?: {
        _allConnections?: { length: number; peekBack?(): CoreConnection; toArray?(): CoreConnection[] };
      };
    }
  ).pool;
}

export type DriverErrorKind =
  | 'missing-table'
  | 'missing-column'
  | 'unique'
  | 'auth'
  | 'unavailable'
  | 'timeout'
  | 'corrupt'
  | 'missing-file'
  | 'other';

/** What kind of failure a raw driver error is (by code, never by message text that may quote data). */
export function classifyDriverError(dialect: Dialect, e: unknown): DriverErrorKind {
  const err = e as { code?: unknown; errno?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : '';
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'ENOENT', 'EPIPE', 'EAI_AGAIN'].includes(code)
  ) {
    return 'unavailable';
  }
  if (code === 'ETIMEDOUT' || code === 'PROTOCOL_SEQUENCE_TIMEOUT' || /timeout/i.test(message)) {
    return code.startsWith('SQLITE') ? 'other' : 'timeout';
  }
  if (dialect === 'sqlite') {
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return 'corrupt';
    if (code.startsWith('SQLITE_CANTOPEN')) return 'missing-file';
    if (code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return 'unique';
    if (code === 'SQLITE_ERROR' && /^no such table/.test(message)) return 'missing-table';
    if (code === 'SQLITE_ERROR' && /^no such column/.test(message)) return 'missing-column';
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'timeout';
    if (code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') return 'auth';
    return 'other';
  }
  if (dialect === 'postgresql') {
    if (code === '42P01' || code === '3F000') return 'missing-table';
    if (code === '42703') return 'missing-column';
    if (code === '23505') return 'unique';
    if (code === '28P01' || code === '28000' || code === '42501') return 'auth';
    if (code === '3D000' || code.startsWith('08') || code === '57P01' || code === '57P03')
      return 'unavailable';
    if (code === '57014') return 'timeout';
    if (/Connection terminated|connect/i.test(message) && code === '') return 'unavailable';
    return 'other';
  }
  if (code === 'ER_NO_SUCH_TABLE') return 'missing-table';
  if (code === 'ER_BAD_FIELD_ERROR') return 'missing-column';
  if (code === 'ER_DUP_ENTRY') return 'unique';
  if (
    code === 'ER_ACCESS_DENIED_ERROR' ||
    code === 'ER_DBACCESS_DENIED_ERROR' ||
    code === 'ER_TABLEACCESS_DENIED_ERROR'
  ) {
    return 'auth';
  }
  if (code === 'ER_BAD_DB_ERROR' || code === 'PROTOCOL_CONNECTION_LOST' || code === 'POOL_CLOSED')
    return 'unavailable';
  return 'other';
}
