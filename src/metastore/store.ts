/**
 * Reading and writing Airflow's `connection` and `variable` rows, with Airflow's Fernet rules
 * (`airflow/models/crypto.py`, `connection.py`, `variable.py`):
 *
 * - `password` / `extra` are decrypted only when `is_encrypted` / `is_extra_encrypted` is set and
 *   the stored text is non-empty; `variable.val` when `is_encrypted` is set.
 * - A connection field that cannot be decrypted (wrong key, no key configured) fails the lookup —
 *   Airflow raises there too — with a `MalformedSecretError` naming the id and field.
 * - A variable that cannot be decrypted is logged at error level (key only) and read as `null`,
 *   as Airflow's `Variable.get_val` does. (Without any key Airflow returns the token text itself;
 *   we return `null` instead, see docs/metastore.md.)
 * - Writes encrypt with the first key and set the flags to whether a key is configured.
 */
import { Connection } from '../connection.js';
import {
  AccessDeniedError,
  AirflowSecretsError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  InvalidConnectionError,
  isAirflowSecretsError,
  MalformedSecretError,
  safeCause,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { serverText } from '../masker.js';
import { networkReason } from '../reasons.js';
import { classifyDriverError, type Row, type SqlDriver, type SqlExecutor, type SqlValue } from './drivers.js';
import { FERNET_KEY_SETTING, InvalidTokenError, type MultiFernet } from './fernet.js';
import { CONNECTION_COLUMNS, createTableStatements, quoteIdent, VARIABLE_COLUMNS } from './schema.js';
import type { Dialect } from './url.js';

/** `connections add` refused to replace an existing id (pass `overwrite`). */
export class ConnectionExistsError extends AirflowSecretsError {
  override name = 'ConnectionExistsError' as const;
  readonly connId: string;
  constructor(connId: string) {
    super(`A connection with conn_id '${connId}' already exists`);
    this.connId = connId;
  }
}

export interface StoreContext {
  backend: string;
  /** The database, password masked, for messages. */
  database: string;
  logger: Logger;
  /** The configured keys (`null`: plain-text mode). May throw `ConfigurationError` for a malformed key. */
  fernet(): MultiFernet | null;
}

export function sqlFor(dialect: Dialect) {
  const q = (n: string) => quoteIdent(dialect, n);
  const conn = q('connection');
  const vari = q('variable');
  const upsertVar =
    dialect === 'mysql'
      ? `INSERT INTO ${vari} (${q('key')}, ${q('val')}, ${q('description')}, ${q('is_encrypted')}) VALUES (?, ?, ?, ?) ` +
        `ON DUPLICATE KEY UPDATE ${q('val')} = VALUES(${q('val')}), ${q('description')} = VALUES(${q('description')}), ${q('is_encrypted')} = VALUES(${q('is_encrypted')})`
      : `INSERT INTO ${vari} (${q('key')}, ${q('val')}, ${q('description')}, ${q('is_encrypted')}) VALUES (?, ?, ?, ?) ` +
        `ON CONFLICT (${q('key')}) DO UPDATE SET ${q('val')} = excluded.${q('val')}, ${q('description')} = excluded.${q('description')}, ${q('is_encrypted')} = excluded.${q('is_encrypted')}`;
  const writeCols = CONNECTION_COLUMNS; // a write sets the columns a lookup reads, in the same order
  return {
    getConnection: `SELECT ${CONNECTION_COLUMNS.map(q).join(', ')} FROM ${conn} WHERE ${q('conn_id')} = ? LIMIT 1`,
    getVariable: `SELECT ${VARIABLE_COLUMNS.map(q).join(', ')} FROM ${vari} WHERE ${q('key')} = ? LIMIT 1`,
    // Airflow 3.2 multi-team: `team_name = :team OR team_name IS NULL`; with no team, `IS NULL`.
    getConnectionForTeam: `SELECT ${CONNECTION_COLUMNS.map(q).join(', ')} FROM ${conn} WHERE ${q('conn_id')} = ? AND (${q('team_name')} = ? OR ${q('team_name')} IS NULL) LIMIT 1`,
    getConnectionNoTeam: `SELECT ${CONNECTION_COLUMNS.map(q).join(', ')} FROM ${conn} WHERE ${q('conn_id')} = ? AND ${q('team_name')} IS NULL LIMIT 1`,
    getVariableForTeam: `SELECT ${VARIABLE_COLUMNS.map(q).join(', ')} FROM ${vari} WHERE ${q('key')} = ? AND (${q('team_name')} = ? OR ${q('team_name')} IS NULL) LIMIT 1`,
    getVariableNoTeam: `SELECT ${VARIABLE_COLUMNS.map(q).join(', ')} FROM ${vari} WHERE ${q('key')} = ? AND ${q('team_name')} IS NULL LIMIT 1`,
    connectionExists: `SELECT 1 AS ${q('found')} FROM ${conn} WHERE ${q('conn_id')} = ? LIMIT 1`,
    insertConnection: `INSERT INTO ${conn} (${q('conn_id')}, ${writeCols.map(q).join(', ')}) VALUES (?, ${writeCols.map(() => '?').join(', ')})`,
    updateConnection: `UPDATE ${conn} SET ${writeCols.map((c) => `${q(c)} = ?`).join(', ')} WHERE ${q('conn_id')} = ?`,
    deleteConnection: `DELETE FROM ${conn} WHERE ${q('conn_id')} = ?`,
    upsertVariable: upsertVar,
    deleteVariable: `DELETE FROM ${vari} WHERE ${q('key')} = ?`,
    /** The ids, sorted, at most `n` of them (a whole number, checked by the caller; mysql2 takes no LIMIT parameter). */
    listConnections: (n: number) =>
      `SELECT ${q('conn_id')} AS ${q('id')} FROM ${conn} ORDER BY ${q('conn_id')} LIMIT ${Math.trunc(n)}`,
    listVariables: (n: number) =>
      `SELECT ${q('key')} AS ${q('id')} FROM ${vari} ORDER BY ${q('key')} LIMIT ${Math.trunc(n)}`,
  };
}

const truthy = (v: unknown): boolean =>
  v === true || v === 1 || v === '1' || v === 't' || v === 'true' || v === 1n;
const str = (v: unknown): string | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);

/** Turn a `connection` row into a `Connection`, decrypting as Airflow does. */
export function connectionFromRow(ctx: StoreContext, connId: string, row: Row): Connection {
  const decrypt = (field: 'password' | 'extra', raw: string | null, encrypted: boolean): string | null => {
    if (raw === null || raw === '' || !encrypted) return raw;
    const fernet = ctx.fernet();
    if (fernet === null) {
      ctx.logger.error('metastore: connection field is encrypted but no Fernet key is configured', {
        connId,
        field,
      });
      throw new MalformedSecretError(
        ctx.backend,
        `Can't decrypt the ${field} of connection '${connId}' in ${ctx.database}: ${FERNET_KEY_SETTING} is not set`,
        { secretName: connId },
      );
    }
    try {
      return fernet.decryptText(raw);
    } catch (e) {
      if (!(e instanceof InvalidTokenError)) throw e;
      ctx.logger.error('metastore: cannot decrypt connection field, invalid token or wrong key', {
        connId,
        field,
      });
      throw new MalformedSecretError(
        ctx.backend,
        `Can't decrypt the ${field} of connection '${connId}' in ${ctx.database}: invalid token, or not encrypted with any key in ${FERNET_KEY_SETTING}`,
        { secretName: connId },
      );
    }
  };
  const password = decrypt('password', str(row.password), truthy(row.is_encrypted));
  const extra = decrypt('extra', str(row.extra), truthy(row.is_extra_encrypted));
  if (extra !== null && extra !== '') checkExtra(ctx, connId, extra);
  const port = row.port === null || row.port === undefined || row.port === '' ? null : Number(row.port);
  try {
    return new Connection({
      id: connId,
      type: str(row.conn_type),
      description: str(row.description),
      host: str(row.host),
      schema: str(row.schema),
      login: str(row.login),
      password,
      port: port !== null && Number.isFinite(port) ? port : null,
      extra,
    });
  } catch (e) {
    throw new MalformedSecretError(
      ctx.backend,
      `Connection '${connId}' in ${ctx.database} cannot be loaded`,
      {
        cause: safeCause(e),
        secretName: connId,
      },
    );
  }
}

/** `extra` must be JSON text; a row with anything else is refused by id (its text is never quoted). */
function checkExtra(ctx: StoreContext, connId: string, extra: string): void {
  try {
    JSON.parse(extra);
  } catch (e) {
    throw new MalformedSecretError(
      ctx.backend,
      `The extra field of connection '${connId}' in ${ctx.database} is not valid JSON`,
      { cause: safeCause(e), secretName: connId },
    );
  }
}

/** A `variable` row's value, decrypted as Airflow's `Variable.get_val` does (`null` when it cannot be). */
export function variableFromRow(ctx: StoreContext, key: string, row: Row): string | null {
  const val = str(row.val);
  if (val === null || !truthy(row.is_encrypted)) return val;
  const fernet = ctx.fernet();
  if (fernet === null) {
    ctx.logger.error(`metastore: can't decrypt _val for key=${key}, FERNET_KEY configuration missing`, {
      key,
    });
    return null;
  }
  try {
    return fernet.decryptText(val);
  } catch (e) {
    if (!(e instanceof InvalidTokenError)) throw e;
    ctx.logger.error(`metastore: can't decrypt _val for key=${key}, invalid token or value`, { key });
    return null;
  }
}

/** Encrypt a value for storage as Airflow's setters do: `[stored, isEncrypted]`. Empty/null stays plain. */
export function encryptField(ctx: StoreContext, value: string | null): [string | null, boolean] {
  if (value === null || value === '') return [value, false];
  const fernet = ctx.fernet();
  return fernet === null ? [value, false] : [fernet.encrypt(value), true];
}

/** The parameters of an INSERT/UPDATE of a connection (the write columns, in `sqlFor` order). */
export function connectionParams(ctx: StoreContext, conn: Connection): SqlValue[] {
  const id = conn.id ?? '';
  if (!conn.type) {
    throw new InvalidConnectionError(`Connection '${id}' has no conn_type; it is required`, id);
  }
  if (conn.extra !== null && conn.extra !== '') checkExtraForWrite(id, conn.extra);
  const [password, isEncrypted] = encryptField(ctx, conn.password);
  const [extra, isExtraEncrypted] = encryptField(ctx, conn.extra);
  return [
    conn.type,
    conn.description,
    conn.host,
    conn.schema,
    conn.login,
    password,
    conn.port,
    isEncrypted,
    isExtraEncrypted,
    extra,
  ];
}

function checkExtraForWrite(id: string, extra: string): void {
  try {
    JSON.parse(extra);
  } catch (e) {
    throw new InvalidConnectionError(`The extra of connection '${id}' is not valid JSON`, id, {
      cause: safeCause(e),
    });
  }
}

/** Create both tables if they are missing (SQLite writes; the tests for every dialect). */
export async function ensureSchema(exec: SqlExecutor, dialect: Dialect): Promise<void> {
  for (const stmt of createTableStatements(dialect)) await exec.run(stmt);
}

/**
 * Map a driver failure to a typed error naming the database (password masked) and, when known,
 * the id (`writing`: the failure was a write's). Our own errors pass through. The driver's message is never kept (it can quote data).
 */
export function mapDriverError(
  ctx: StoreContext,
  dialect: Dialect,
  e: unknown,
  id?: string,
  writing = false,
): Error {
  if (isAirflowSecretsError(e)) return e;
  const kind = classifyDriverError(dialect, e);
  const opts = { cause: safeCause(e), secretName: id };
  const what = id === undefined ? '' : ` (${writing ? 'writing' : 'looking up'} '${id}')`;
  switch (kind) {
    case 'missing-table':
      return new BackendError(
        ctx.backend,
        'failed',
        `The Airflow tables (connection, variable) are missing in ${ctx.database}; run \`airflow db migrate\` first${what}`,
        opts,
      );
    case 'missing-column':
      return new BackendError(
        ctx.backend,
        'failed',
        `The connection/variable tables in ${ctx.database} lack columns Airflow 2+ has${what}`,
        opts,
      );
    case 'corrupt':
      return new BackendError(
        ctx.backend,
        'failed',
        `${ctx.database} is not a valid SQLite database (corrupt file?)`,
        opts,
      );
    case 'missing-file':
      return new BackendUnavailableError(
        ctx.backend,
        `Cannot open ${ctx.database}${what}: ${fileReason(e)}`,
        opts,
      );
    case 'auth':
      return new AccessDeniedError(
        ctx.backend,
        `Access denied by ${ctx.database}${what}: ${AUTH_WORDS[codeOf(e)] ?? 'the server refused the login or the query'}`,
        opts,
      );
    case 'timeout':
      return new BackendTimeoutError(ctx.backend, `${ctx.database} did not answer in time${what}`, opts);
    case 'unavailable': {
      const why = networkReason(e) ?? UNAVAILABLE_WORDS[codeOf(e)];
      return new BackendUnavailableError(
        ctx.backend,
        `Cannot reach ${ctx.database}${what}${why ? `: ${why}` : ''}`,
        opts,
      );
    }
    default:
      return new BackendError(
        ctx.backend,
        'failed',
        `Query on ${ctx.database} failed${what}: ${codeOf(e)}`,
        opts,
      );
  }
}

/** The driver's error code (a SQLSTATE, a Node or MySQL code), or the error's name; server text only through serverText. */
function codeOf(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const raw =
    typeof code === 'string' || typeof code === 'number'
      ? String(code)
      : e instanceof Error
        ? e.name
        : 'error';
  return serverText(raw, 40) || 'error';
}

/** Login and privilege failures, in words (PostgreSQL SQLSTATEs, MySQL codes, SQLite codes). */
const AUTH_WORDS: Record<string, string> = {
  '28P01': 'wrong password (28P01)',
  '28000': 'the user may not log in (28000)',
  '42501': 'the user lacks the privilege (42501)',
  ER_ACCESS_DENIED_ERROR: 'wrong user name or password (ER_ACCESS_DENIED_ERROR)',
  ER_DBACCESS_DENIED_ERROR: 'the user may not use this database (ER_DBACCESS_DENIED_ERROR)',
  ER_TABLEACCESS_DENIED_ERROR: 'the user may not read the table (ER_TABLEACCESS_DENIED_ERROR)',
  SQLITE_READONLY: 'the file is read-only (SQLITE_READONLY)',
  SQLITE_PERM: 'permission denied (SQLITE_PERM)',
};

/** Server-side "unavailable" codes, in words. */
const UNAVAILABLE_WORDS: Record<string, string> = {
  '3D000': 'the database does not exist (3D000)',
  ER_BAD_DB_ERROR: 'the database does not exist (ER_BAD_DB_ERROR)',
  '57P01': 'the server is shutting down (57P01)',
  '57P03': 'the server is starting up (57P03)',
  PROTOCOL_CONNECTION_LOST: 'the server closed the connection (PROTOCOL_CONNECTION_LOST)',
  POOL_CLOSED: 'the backend is closed (POOL_CLOSED)',
  ENOENT: 'no such socket file (ENOENT)',
};

/** Why a SQLite file could not be opened. */
function fileReason(e: unknown): string {
  const code = codeOf(e);
  if (code.startsWith('SQLITE_CANTOPEN'))
    return `the file cannot be opened (${code}: missing, a directory, or no permission)`;
  return code;
}

export type { SqlDriver };
