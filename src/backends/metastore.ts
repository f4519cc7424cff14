/**
 * Airflow's `MetastoreBackend`: connections and variables read from (and, for local development,
 * written to) Airflow's own metadata database — SQLite, PostgreSQL or MySQL/MariaDB, addressed by a
 * SQLAlchemy URL — with Fernet decryption and key rotation. See docs/metastore.md.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AdapterContext, Lookup, SecretKind, SecretsBackend } from '../backend.js';
import { type Connection, deserializeConnection } from '../connection.js';
import {
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  describeError,
  SecretExistsError,
} from '../errors.js';
import { consoleLogger, type Logger } from '../logger.js';
import { classifyDriverError, openDriver, type SqlDriver } from '../metastore/drivers.js';
import { FERNET_KEY_SETTING, fernetFromSetting, type MultiFernet } from '../metastore/fernet.js';
import * as store from '../metastore/store.js';
import { type DatabaseUrl, parseSqlAlchemyUrl, SQL_ALCHEMY_CONN_SETTING } from '../metastore/url.js';
import { type CallCancel, DEFAULT_TIMEOUT_MS, InFlightCalls, withDeadline } from './base.js';
import { checkPutOptions, emptyList, encodeValue, listLimit, refusedId } from './list-write.js';

export { ConnectionExistsError } from '../metastore/store.js';

const DRIVER_NAME = 'metastore';

export interface MetastoreOptions {
  /** SQLAlchemy URL: `sqlite:////abs/path`, `postgresql[+driver]://…`, `mysql[+driver]://…`. */
  url: string;
  /** `AIRFLOW__CORE__FERNET_KEY`: comma-separated keys, the first encrypts. Unset/empty: plain text. */
  fernetKey?: string | null | undefined;
  /** Default `consoleLogger`. */
  logger?: Logger | undefined;
  /** Most server connections held at once. Default 4. */
  poolSize?: number | undefined;
  /** Bound on one database call, in ms. Default `DEFAULT_TIMEOUT_MS` (10 s). */
  timeoutMs?: number | undefined;
  /** A SQLite file that does not exist: `'error'` (default) or `'not-found'` for every lookup. */
  missingDatabase?: 'not-found' | 'error' | undefined;
  /** Called after each committed write, e.g. to invalidate a cache. */
  onWrite?: ((kind: 'connection' | 'variable', id: string) => void) | undefined;
  /** The setting the URL came from, named in errors. Default `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`. */
  urlSetting?: string | undefined;
  /** Where the URL came from when that is not `urlSetting` itself (e.g. `airflow.cfg [database] sql_alchemy_conn`); errors say it. */
  urlSource?: string | undefined;
  /** Where `fernetKey` came from when that is not `AIRFLOW__CORE__FERNET_KEY` itself; errors say it. */
  fernetKeySource?: string | undefined;
  /**
   * Airflow's `[core] multi_team` (Airflow 3.2 schema, with the `team_name` column): rows of the
   * lookup's `team` or of no team are read; without a team, only rows of no team. Default `false`:
   * the column is not read at all.
   */
  multiTeam?: boolean | undefined;
  /** The team of the lookups; used only with `multiTeam`. */
  team?: string | undefined;
}

export interface MetastoreBackend extends SecretsBackend {
  /** Create or replace a variable (Airflow's `Variable.set`), encrypted when a key is configured. */
  setVariable(key: string, value: string, opts?: { description?: string | null }): Promise<void>;
  /** `true` when a row was deleted. */
  deleteVariable(key: string): Promise<boolean>;
  /** Insert a connection; an existing id throws `ConnectionExistsError` unless `overwrite`. */
  setConnection(conn: Connection, opts?: { overwrite?: boolean }): Promise<void>;
  deleteConnection(connId: string): Promise<boolean>;
  /** Create the `connection` and `variable` tables when missing (Airflow-compatible DDL). */
  ensureSchema(): Promise<void>;
  close(): Promise<void>;
}

export function metastore(options: MetastoreOptions): MetastoreBackend {
  const setting = options.urlSetting ?? SQL_ALCHEMY_CONN_SETTING;
  const url = parseSqlAlchemyUrl(options.url, setting, undefined, options.urlSource ?? setting);
  const logger = options.logger ?? consoleLogger;
  let fernet: { value: MultiFernet | null } | undefined;
  const keys = () => fernetFromSetting(options.fernetKey, FERNET_KEY_SETTING, options.fernetKeySource);
  const ctx: store.StoreContext = {
    backend: DRIVER_NAME,
    database: url.redacted,
    logger,
    fernet: () => (fernet ??= { value: keys() }).value,
  };
  const db = database(url, options, ctx);
  const sql = store.sqlFor(url.dialect);
  const backend: MetastoreBackend = {
    name: DRIVER_NAME,
    locate(kind: SecretKind, id: string): Lookup {
      if (kind === 'config') return { skip: 'the metadata database holds no config values' };
      // The one exception to "no I/O" in a locate: a stat of the default SQLite file, so that
      // explain says why nothing was asked instead of "not found" (lookups answer null then).
      if (db.missingFile()) return { skip: `no database file at ${url.sqlitePath}` };
      return { name: kind === 'connection' ? `connection.conn_id=${id}` : `variable.key=${id}` };
    },
    async getConnection(connId, readOptions) {
      const [query, params] = teamQuery(
        options,
        sql.getConnection,
        sql.getConnectionForTeam,
        sql.getConnectionNoTeam,
        connId,
      );
      const row = await db.use(
        false,
        connId,
        async (d, cancel) => (await d.all(query, params, cancel))[0] ?? null,
        readOptions?.signal,
      );
      return row ? store.connectionFromRow(ctx, connId, row) : null;
    },
    async getVariable(key, readOptions) {
      const [query, params] = teamQuery(
        options,
        sql.getVariable,
        sql.getVariableForTeam,
        sql.getVariableNoTeam,
        key,
      );
      const row = await db.use(
        false,
        key,
        async (d, cancel) => (await d.all(query, params, cancel))[0] ?? null,
        readOptions?.signal,
      );
      return row ? store.variableFromRow(ctx, key, row) : null;
    },
    ...writes(db, sql, ctx, (kind, id) => options.onWrite?.(kind, id)),
    ensureSchema: db.ensureSchema,
    close: db.close,
  };
  return { ...backend, ...listAndPut(backend, db, sql) };
}

/** Airflow's rule for a conn_id (`sanitize_conn_id`), and the columns' length. */
const CONN_ID = /^[\p{L}\p{N}_#!()\-.:/\\]{1,250}$/u;

/** `list` (sorted ids), and `put`/`delete` over the writes (`SecretExistsError` for an existing id). */
function listAndPut(
  b: MetastoreBackend,
  db: Database,
  sql: ReturnType<typeof store.sqlFor>,
): Pick<MetastoreBackend, 'list' | 'put' | 'delete' | 'locateWrite' | 'checkPut'> {
  const exists = async (kind: SecretKind, id: string) =>
    (
      (await db.use(false, id, (d) =>
        d.all(kind === 'connection' ? sql.connectionExists : sql.getVariable, [id]),
      )) ?? []
    ).length > 0;
  const locateWrite = (kind: SecretKind, id: string): Lookup => {
    const l = b.locate(kind, id);
    if (!('name' in l)) return l;
    if (kind === 'connection' && !CONN_ID.test(id))
      return { skip: "Airflow's conn_id allows only letters, digits and _ # ! ( ) - . : /  (1 to 250)" };
    if (id.length > 250) return { skip: 'the key column holds at most 250 characters' };
    return l;
  };
  return {
    locateWrite,
    async list(kind, options) {
      const limit = listLimit(options);
      if (kind === 'config') return emptyList();
      const rows = await db.use(false, '(list)', (d) =>
        d.all((kind === 'connection' ? sql.listConnections : sql.listVariables)(limit + 1), []),
      );
      const ids = (rows ?? []).map((r) => String(r.id));
      return {
        entries: ids
          .slice(0, limit)
          .map((id) => ({ id, secretName: (b.locate(kind, id) as { name: string }).name })),
        truncated: ids.length > limit,
      };
    },
    checkPut: (_kind, options) => checkPutOptions(DRIVER_NAME, options, []),
    async put(kind, id, value, options = {}) {
      checkPutOptions(DRIVER_NAME, options, []);
      const where = locateWrite(kind, id);
      if (!('name' in where)) throw refusedId(DRIVER_NAME, kind, id, where.skip);
      const existed = await exists(kind, id);
      if (existed && !options.overwrite) throw new SecretExistsError(DRIVER_NAME, where.name);
      if (kind === 'variable') await b.setVariable(id, encodeValue(kind, id, value, 'uri'));
      else {
        const c = typeof value === 'string' ? deserializeConnection(id, value) : value.clone();
        c.id = id;
        await b.setConnection(c, { overwrite: true });
      }
      return { secretName: where.name, action: existed ? 'updated' : 'created' };
    },
    async delete(kind, id) {
      if (kind === 'connection') return b.deleteConnection(id);
      return kind === 'variable' ? b.deleteVariable(id) : false;
    },
  };
}

/** The lookup query and its parameters: the plain one, or Airflow 3.2's team filter in multi-team mode. */
function teamQuery(
  o: MetastoreOptions,
  plain: string,
  forTeam: string,
  noTeam: string,
  id: string,
): [string, string[]] {
  if (!o.multiTeam) return [plain, [id]];
  return o.team ? [forTeam, [id, o.team]] : [noTeam, [id]];
}

/** One database behind a backend: the driver opened on first use, deadlines, typed errors, close. */
interface Database {
  /**
   * Run one operation with a deadline (and the lookup's `signal`), mapping driver failures to typed
   * errors; null: no database file. A server read gets the call's cancellation, which destroys the
   * connection running it.
   */
  use<T>(
    write: boolean,
    id: string,
    fn: (d: SqlDriver, cancel?: CallCancel) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T | null>;
  /** A SQLite file that does not exist (yet) and counts as "no database" (`missingDatabase: 'not-found'`). */
  missingFile(): boolean;
  ensureSchema(): Promise<void>;
  close(): Promise<void>;
}

function database(url: DatabaseUrl, options: MetastoreOptions, ctx: store.StoreContext): Database {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const isFile = url.dialect === 'sqlite' && url.sqlitePath !== ':memory:';
  let driver: Promise<SqlDriver> | undefined;
  let schemaReady = false;
  let closed = false;
  const inFlight = new InFlightCalls();

  const missingFile = () =>
    !closed && !driver && isFile && options.missingDatabase === 'not-found' && !existsSync(url.sqlitePath!);
  const getDriver = (write: boolean): Promise<SqlDriver> | null => {
    if (closed)
      throw new BackendUnavailableError(DRIVER_NAME, `The metastore backend for ${url.redacted} is closed`);
    if (!driver && isFile && !write && !existsSync(url.sqlitePath!)) {
      if (options.missingDatabase === 'not-found') return null;
      throw new BackendUnavailableError(
        DRIVER_NAME,
        `The metadata database ${url.redacted} does not exist: no file at '${url.sqlitePath}'`,
      );
    }
    driver ??= openDatabaseDriver(url, options, ctx, write);
    driver.catch(() => (driver = undefined));
    return driver;
  };

  const use: Database['use'] = async (write, id, fn, signal) => {
    try {
      const d = getDriver(write);
      if (d === null) return null;
      const run = async (cancel?: CallCancel) => {
        const db = await d;
        if (write && db.dialect === 'sqlite' && !schemaReady) {
          await store.ensureSchema(db, 'sqlite');
          schemaReady = true;
        }
        return fn(db, cancel);
      };
      // SQLite is in-process and bounded by its busy timeout; servers get a deadline per call.
      return url.dialect === 'sqlite'
        ? await run()
        : await withDeadline(
            DRIVER_NAME,
            id,
            timeoutMs,
            (cancel) => inFlight.track(cancel, run(cancel)),
            signal,
          );
    } catch (e) {
      throw typedError(url, ctx, timeoutMs, id, e, write);
    }
  };

  return {
    use,
    missingFile,
    async ensureSchema() {
      await use(true, 'schema', async (d) => {
        await d.transaction((tx) => store.ensureSchema(tx, d.dialect));
        schemaReady = true;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      inFlight.cancelAll();
      const d = driver;
      driver = undefined;
      if (d) await d.then((x) => x.close()).catch(() => undefined);
    },
  };
}

/** Open the driver (an in-memory SQLite database gets Airflow's tables at once). */
function openDatabaseDriver(
  url: DatabaseUrl,
  options: MetastoreOptions,
  ctx: store.StoreContext,
  write: boolean,
): Promise<SqlDriver> {
  return openDriver(url, {
    poolSize: options.poolSize ?? 4,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    create: write,
    onIdleError: (e) =>
      ctx.logger.warn('metastore: an idle database connection failed', { error: describeError(e) }),
  }).then(async (d) => {
    if (url.sqlitePath === ':memory:') await store.ensureSchema(d, 'sqlite');
    return d;
  });
}

/** A failed operation as a typed error: a deadline names the database and the id, never a value. */
function typedError(
  url: DatabaseUrl,
  ctx: store.StoreContext,
  timeoutMs: number,
  id: string,
  e: unknown,
  write: boolean,
): Error {
  if (e instanceof BackendTimeoutError) {
    return new BackendTimeoutError(
      DRIVER_NAME,
      `${url.redacted} did not answer within ${timeoutMs} ms (for '${id}')`,
      { secretName: id },
    );
  }
  return store.mapDriverError(ctx, url.dialect, e, id, write);
}

type Writes = Pick<MetastoreBackend, 'setVariable' | 'deleteVariable' | 'setConnection' | 'deleteConnection'>;

/**
 * Airflow's `Variable.set` / `Connection` writes, each in one transaction, then `wrote(kind, id)`.
 * Without a Fernet key values are stored in plain text, and (as Airflow's `get_fernet`) the first
 * such write warns, naming the setting.
 */
function writes(
  db: Database,
  sql: ReturnType<typeof store.sqlFor>,
  ctx: store.StoreContext,
  wrote: (kind: 'connection' | 'variable', id: string) => void,
): Writes {
  let warned = false;
  const warnIfPlain = () => {
    if (warned || ctx.fernet() !== null) return;
    warned = true;
    ctx.logger.warn(
      `empty cryptography key - values will not be stored encrypted. Set ${FERNET_KEY_SETTING} to encrypt what is written to ${ctx.database}.`,
      { backend: DRIVER_NAME, setting: FERNET_KEY_SETTING },
    );
  };
  return {
    async setVariable(key, value, opts = {}) {
      warnIfPlain();
      const [val, encrypted] = store.encryptField(ctx, value);
      await db.use(true, key, (d) =>
        d.transaction((tx) => tx.run(sql.upsertVariable, [key, val, opts.description ?? null, encrypted])),
      );
      wrote('variable', key);
    },
    async deleteVariable(key) {
      const n = await db.use(true, key, (d) => d.transaction((tx) => tx.run(sql.deleteVariable, [key])));
      if (n) wrote('variable', key);
      return (n ?? 0) > 0;
    },
    async setConnection(conn, opts = {}) {
      const id = conn.id;
      if (!id) throw new ConfigurationError('conn_id', 'A connection to store needs a non-empty conn_id');
      warnIfPlain();
      const params = store.connectionParams(ctx, conn);
      await db.use(true, id, (d) =>
        d.transaction(async (tx) => {
          const exists = (await tx.all(sql.connectionExists, [id])).length > 0;
          if (exists && !opts.overwrite) throw new store.ConnectionExistsError(id);
          if (exists) await tx.run(sql.updateConnection, [...params, id]);
          else
            await tx.run(sql.insertConnection, [id, ...params]).catch((e) => {
              // Another writer inserted the id since our check.
              throw classifyDriverError(d.dialect, e) === 'unique' ? new store.ConnectionExistsError(id) : e;
            });
        }),
      );
      wrote('connection', id);
    },
    async deleteConnection(connId) {
      const n = await db.use(true, connId, (d) =>
        d.transaction((tx) => tx.run(sql.deleteConnection, [connId])),
      );
      if (n) wrote('connection', connId);
      return (n ?? 0) > 0;
    },
  };
}

/**
 * The metastore as Airflow configures it: the configured URL (unreachable → an error), or the
 * default `sqlite:///$AIRFLOW_HOME/airflow.db`, which is read only if it exists (a missing default
 * database is "not found" for every lookup; no file is created).
 */
export function metastoreFromSettings(settings: {
  sqlAlchemyConn?: string | null | undefined;
  fernetKey?: string | null | undefined;
  airflowHome: string;
  logger?: Logger;
  onWrite?: MetastoreOptions['onWrite'];
  urlSetting?: string;
  urlSource?: string | undefined;
  fernetKeySource?: string | undefined;
  multiTeam?: boolean | undefined;
  team?: string | undefined;
}): MetastoreBackend {
  const base = {
    fernetKey: settings.fernetKey ?? null,
    fernetKeySource: settings.fernetKeySource,
    multiTeam: settings.multiTeam,
    team: settings.team,
    ...(settings.logger ? { logger: settings.logger } : {}),
    ...(settings.onWrite ? { onWrite: settings.onWrite } : {}),
  };
  const configured = settings.sqlAlchemyConn?.trim();
  if (configured) {
    return metastore({
      ...base,
      url: configured,
      urlSetting: settings.urlSetting ?? SQL_ALCHEMY_CONN_SETTING,
      urlSource: settings.urlSource,
    });
  }
  const file = path.resolve(settings.airflowHome, 'airflow.db');
  return metastore({ ...base, url: `sqlite:///${file}`, missingDatabase: 'not-found' });
}

/** `airflow.secrets.metastore.MetastoreBackend`: takes no kwargs; reads Airflow's settings from `context.env`. */
export function fromAirflowKwargs(
  kwargs: Record<string, unknown>,
  context: AdapterContext,
): MetastoreBackend {
  const unknown = Object.keys(kwargs)[0];
  if (unknown !== undefined) {
    throw new ConfigurationError(
      `AIRFLOW__SECRETS__BACKEND_KWARGS.${unknown}`,
      `MetastoreBackend takes no backend_kwargs (got '${unknown}')`,
    );
  }
  const env = context.env;
  const fromDatabase = env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN;
  const home = env.AIRFLOW_HOME;
  return metastoreFromSettings({
    sqlAlchemyConn: fromDatabase || env.AIRFLOW__CORE__SQL_ALCHEMY_CONN,
    urlSetting: fromDatabase ? SQL_ALCHEMY_CONN_SETTING : 'AIRFLOW__CORE__SQL_ALCHEMY_CONN',
    fernetKey: env.AIRFLOW__CORE__FERNET_KEY,
    airflowHome: !home
      ? path.join(os.homedir(), 'airflow')
      : home.startsWith('~')
        ? path.join(os.homedir(), home.slice(1))
        : home,
    logger: context.logger,
    multiTeam: context.multiTeam,
    team: context.team,
  });
}
