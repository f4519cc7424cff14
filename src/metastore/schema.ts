/**
 * Airflow's `connection` and `variable` tables, as Airflow's models create them (2.x / 3.0 column
 * set: names, types, nullability, unique constraints; MySQL ids use a binary collation, as
 * Airflow's `sql_engine_collation_for_ids` default does). Used to create the tables in an empty
 * SQLite file for local development, and by the tests for every dialect. Reads never depend on the
 * exact DDL: they select the columns they need, so newer schemas with extra columns still work.
 */
import type { Dialect } from './url.js';

/** Quote an identifier for the dialect (`key` and `schema` are reserved words in MySQL). */
export function quoteIdent(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/** `CREATE TABLE IF NOT EXISTS` statements for both tables, one statement per string. */
export function createTableStatements(dialect: Dialect): string[] {
  const q = (n: string) => quoteIdent(dialect, n);
  const idCol =
    dialect === 'postgresql'
      ? 'id SERIAL NOT NULL'
      : dialect === 'mysql'
        ? 'id INTEGER NOT NULL AUTO_INCREMENT'
        : 'id INTEGER NOT NULL';
  const idType =
    dialect === 'mysql' ? 'VARCHAR(250) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin' : 'VARCHAR(250)';
  const bool = dialect === 'mysql' ? 'BOOL' : 'BOOLEAN';
  const description = dialect === 'sqlite' ? 'VARCHAR(5000)' : 'TEXT';
  const val = dialect === 'mysql' ? 'MEDIUMTEXT' : 'TEXT';
  const tail = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : '';
  return [
    `CREATE TABLE IF NOT EXISTS ${q('connection')} (
  ${idCol},
  ${q('conn_id')} ${idType} NOT NULL,
  ${q('conn_type')} VARCHAR(500) NOT NULL,
  ${q('description')} ${description},
  ${q('host')} VARCHAR(500),
  ${q('schema')} VARCHAR(500),
  ${q('login')} TEXT,
  ${q('password')} TEXT,
  ${q('port')} INTEGER,
  ${q('is_encrypted')} ${bool},
  ${q('is_extra_encrypted')} ${bool},
  ${q('extra')} TEXT,
  CONSTRAINT ${q('connection_pkey')} PRIMARY KEY (id),
  CONSTRAINT ${q('connection_conn_id_uq')} UNIQUE (${q('conn_id')})
)${tail}`,
    `CREATE TABLE IF NOT EXISTS ${q('variable')} (
  ${idCol},
  ${q('key')} ${idType},
  ${q('val')} ${val},
  ${q('description')} TEXT,
  ${q('is_encrypted')} ${bool},
  CONSTRAINT ${q('variable_pkey')} PRIMARY KEY (id),
  CONSTRAINT ${q('variable_key_uq')} UNIQUE (${q('key')})
)${tail}`,
  ];
}

/** The columns a connection lookup reads and a write sets (besides `conn_id`), in order. */
export const CONNECTION_COLUMNS = [
  'conn_type',
  'description',
  'host',
  'schema',
  'login',
  'password',
  'port',
  'is_encrypted',
  'is_extra_encrypted',
  'extra',
] as const;

/** The columns a variable lookup reads. */
export const VARIABLE_COLUMNS = ['val', 'is_encrypted'] as const;
