/**
 * The metastore conformance suite, run unchanged against SQLite, PostgreSQL and MariaDB: reads of
 * rows as Airflow writes them (Fernet tokens made by Python's `cryptography`), key rotation, plain
 * rows, bad rows, extra columns, writes and their encryption flags, errors — plus the shared
 * backend conformance suite.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MetastoreBackend, type MetastoreOptions, metastore } from '../../src/backends/metastore.js';
import { Connection, deserializeConnection } from '../../src/connection.js';
import {
  BackendError,
  InvalidConnectionError,
  MalformedSecretError,
  SecretExistsError,
} from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { Fernet } from '../../src/metastore/fernet.js';
import { ConnectionExistsError } from '../../src/metastore/store.js';
import { runBackendConformance } from '../../src/testing/conformance.js';
import { rejection } from './assertions.js';
import {
  createTestDatabase,
  missingServer,
  skipWithoutServer,
  type TargetName,
  type TestDatabase,
} from './db-targets.js';

type SqlRow = Record<string, string | number | boolean | null>;
interface PythonFixture {
  keys: { old: string; new: string; other: string };
  fernetKeySetting: string;
  rows: { connection: SqlRow[]; variable: SqlRow[] };
  expected: {
    connection: Record<string, { password: string; extra: Record<string, unknown> }>;
    variable: Record<string, string>;
  };
}
export const py: PythonFixture = JSON.parse(
  readFileSync(new URL('../fixtures/metastore/fernet-python.json', import.meta.url), 'utf8'),
);

export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), warn: at('warn'), error: at('error') };
}

export function runMetastoreSuite(target: TargetName): void {
  describe(`metastore on ${target}`, () => {
    let db: TestDatabase;
    const opened: MetastoreBackend[] = [];
    const open = (o: Partial<MetastoreOptions> = {}) => {
      const b = metastore({
        url: db.url,
        fernetKey: py.fernetKeySetting,
        timeoutMs: 20_000,
        logger: recordingLogger(),
        ...o,
      });
      opened.push(b);
      return b;
    };

    beforeAll(async () => {
      if (missingServer(target) !== null) return; // every test skips (beforeEach below)
      db = await createTestDatabase(target);
      await db.createTables();
    });
    afterAll(async () => {
      await Promise.all(opened.map((b) => b.close()));
      await db?.drop();
    });
    beforeEach(async (ctx) => {
      skipWithoutServer(ctx, target);
      await db.raw.run('DELETE FROM connection');
      await db.raw.run(`DELETE FROM ${db.dialect === 'mysql' ? '`variable`' : 'variable'}`);
    });
    const seedPythonRows = async () => {
      for (const row of py.rows.connection) await db.insert('connection', row);
      for (const row of py.rows.variable) await db.insert('variable', row);
    };

    describe('reads rows Airflow wrote (tokens from Python cryptography)', () => {
      it('decrypts password and extra of connections under the current and the rotated-out key', async () => {
        await seedPythonRows();
        const b = open();
        for (const [id, exp] of Object.entries(py.expected.connection)) {
          const c = await b.getConnection(id);
          expect(c, id).not.toBeNull();
          expect(c!.password).toBe(exp.password);
          expect(c!.extraDejson).toEqual(exp.extra);
        }
        const pgNew = await b.getConnection('pg_new');
        expect(pgNew).toMatchObject({
          id: 'pg_new',
          type: 'postgres',
          host: 'db.example.com',
          schema: 'app',
          login: 'app_user',
          port: 5432,
          description: 'written with the current key',
        });
      });

      it('decrypts variables under the current and the rotated-out key, and reads plain ones', async () => {
        await seedPythonRows();
        const b = open();
        for (const [key, value] of Object.entries(py.expected.variable)) {
          expect(await b.getVariable(key), key).toBe(value);
        }
      });

      it('reads a connection with no password and no extra as nulls', async () => {
        await seedPythonRows();
        const c = await open().getConnection('bare');
        expect(c).toMatchObject({
          type: 'sqlite',
          host: '/tmp/x.db',
          password: null,
          login: null,
          port: null,
        });
        expect(c!.extra).toBeNull();
      });

      it('reads plain rows without any key configured', async () => {
        await seedPythonRows();
        const b = open({ fernetKey: null });
        expect((await b.getConnection('http_plain'))!.password).toBe('plain-pass');
        expect(await b.getVariable('var_plain')).toBe('plain value');
      });

      it('once the old key is removed, old-key connections fail by id and old-key variables read as null with an error log', async () => {
        await seedPythonRows();
        const logger = recordingLogger();
        const b = open({ fernetKey: py.keys.new, logger });
        const err = await rejection(b.getConnection('mysql_old'));
        expect(err).toBeInstanceOf(MalformedSecretError);
        expect(err.message).toContain("'mysql_old'");
        expect(err.message).not.toContain('old-key p@ss');
        expect(await b.getVariable('var_old')).toBeNull();
        expect(await b.getVariable('var_new')).toBe('current value');
        const logged = logger.lines.filter((l) => l.level === 'error');
        expect(logged.some((l) => l.message.includes('key=var_old'))).toBe(true);
        expect(JSON.stringify(logger.lines)).not.toContain('rotated value');
        expect(JSON.stringify(logger.lines)).not.toContain(py.rows.variable[1]!.val as string);
      });

      it('a row encrypted under a key nobody has: connection is a MalformedSecretError, variable null, nothing leaked', async () => {
        await seedPythonRows();
        const logger = recordingLogger();
        const b = open({ logger });
        const err = await rejection(b.getConnection('foreign_key'));
        expect(err).toBeInstanceOf(MalformedSecretError);
        expect((err as MalformedSecretError).secretName).toBe('foreign_key');
        expect(await b.getVariable('var_foreign')).toBeNull();
        const text = JSON.stringify(logger.lines) + err.message + inspect(err);
        expect(text).not.toContain('unreachable');
        expect(text).not.toContain((py.rows.connection[4]!.password as string).slice(0, 30));
      });

      it('with no key configured, an encrypted connection fails naming AIRFLOW__CORE__FERNET_KEY, an encrypted variable is null', async () => {
        await seedPythonRows();
        const logger = recordingLogger();
        const b = open({ fernetKey: null, logger });
        const err = await rejection(b.getConnection('pg_new'));
        expect(err).toBeInstanceOf(MalformedSecretError);
        expect(err.message).toContain('AIRFLOW__CORE__FERNET_KEY');
        expect(await b.getVariable('var_new')).toBeNull();
        expect(logger.lines.some((l) => l.level === 'error' && l.message.includes('FERNET_KEY'))).toBe(true);
      });

      it('a row whose extra is not JSON is a MalformedSecretError naming the id, never the text', async () => {
        await db.insert('connection', {
          conn_id: 'bad_extra',
          conn_type: 'http',
          extra: '{not json: "hunter2"',
          is_encrypted: false,
          is_extra_encrypted: false,
        });
        const err = await rejection(open().getConnection('bad_extra'));
        expect(err).toBeInstanceOf(MalformedSecretError);
        expect(err.message).toContain("'bad_extra'");
        expect(err.message + inspect(err)).not.toContain('hunter2');
      });

      it('ignores rows of other ids and is case-sensitive on ids', async () => {
        await seedPythonRows();
        const b = open();
        expect(await b.getConnection('PG_NEW')).toBeNull();
        expect(await b.getVariable('VAR_PLAIN')).toBeNull();
      });

      it('a malformed key fails encrypted lookups with a ConfigurationError naming the setting, plain rows still read', async () => {
        await seedPythonRows();
        const b = open({ fernetKey: 'not-a-key' });
        const err = await rejection(b.getVariable('var_new'));
        expect(err.name).toBe('ConfigurationError');
        expect(err.message).toContain('AIRFLOW__CORE__FERNET_KEY');
        expect(err.message).not.toContain('not-a-key');
        expect(await b.getVariable('var_plain')).toBe('plain value');
      });
    });

    describe('writes', () => {
      it('setVariable encrypts with the first key and sets is_encrypted, as Airflow does', async () => {
        const b = open();
        await b.setVariable('w1', 'v@lue ż', { description: 'desc' });
        const [row] = await db.raw.all(rowSql(db, 'variable', 'w1'), ['w1']);
        expect(row).toBeDefined();
        expect(Boolean(Number(row!.is_encrypted) || row!.is_encrypted === true)).toBe(true);
        expect(row!.val).not.toContain('v@lue');
        expect(new Fernet(py.keys.new).decrypt(String(row!.val)).toString()).toBe('v@lue ż');
        expect(row!.description).toBe('desc');
        expect(await b.getVariable('w1')).toBe('v@lue ż');
      });

      it('setVariable without a key stores plain text with is_encrypted false', async () => {
        const b = open({ fernetKey: null });
        await b.setVariable('w2', 'plain');
        const [row] = await db.raw.all(rowSql(db, 'variable', 'w2'), ['w2']);
        expect(row!.val).toBe('plain');
        expect(Boolean(row!.is_encrypted)).toBe(false);
      });

      it('setVariable replaces an existing value and description; "" is stored as a value', async () => {
        const b = open();
        await b.setVariable('w3', 'one', { description: 'first' });
        await b.setVariable('w3', '');
        expect(await b.getVariable('w3')).toBe('');
        const rows = await db.raw.all(rowSql(db, 'variable', 'w3'), ['w3']);
        expect(rows).toHaveLength(1);
        expect(rows[0]!.description).toBeNull();
      });

      it('deleteVariable deletes and reports whether a row existed', async () => {
        const b = open();
        await b.setVariable('w4', 'x');
        expect(await b.deleteVariable('w4')).toBe(true);
        expect(await b.getVariable('w4')).toBeNull();
        expect(await b.deleteVariable('w4')).toBe(false);
      });

      it('setConnection encrypts password and extra, sets both flags, and reads back', async () => {
        const b = open();
        const conn = new Connection({
          id: 'wc1',
          type: 'postgres',
          host: 'h.example.com',
          login: 'u',
          password: 'p@ss:/w',
          port: 5433,
          schema: 's',
          extra: '{"sslmode": "require"}',
          description: 'd',
        });
        await b.setConnection(conn);
        const [row] = await db.raw.all(rowSql(db, 'connection', 'wc1'), ['wc1']);
        expect(Boolean(row!.is_encrypted)).toBe(true);
        expect(Boolean(row!.is_extra_encrypted)).toBe(true);
        expect(String(row!.password)).not.toContain('p@ss');
        expect(String(row!.extra)).not.toContain('sslmode');
        const back = await b.getConnection('wc1');
        expect(back).toMatchObject({
          type: 'postgres',
          host: 'h.example.com',
          login: 'u',
          password: 'p@ss:/w',
          port: 5433,
          schema: 's',
          description: 'd',
        });
        expect(back!.extraDejson).toEqual({ sslmode: 'require' });
      });

      it('setConnection without a key stores plain text with both flags false', async () => {
        const b = open({ fernetKey: null });
        await b.setConnection(new Connection({ id: 'wc2', type: 'http', password: 'pw', extra: '{"a": 1}' }));
        const [row] = await db.raw.all(rowSql(db, 'connection', 'wc2'), ['wc2']);
        expect(row!.password).toBe('pw');
        expect(row!.extra).toBe('{"a": 1}');
        expect(Boolean(row!.is_encrypted)).toBe(false);
        expect(Boolean(row!.is_extra_encrypted)).toBe(false);
      });

      it('setConnection refuses an existing id unless overwrite, leaving the row unchanged', async () => {
        const b = open();
        await b.setConnection(new Connection({ id: 'wc3', type: 'http', host: 'one' }));
        const err = await rejection(
          b.setConnection(new Connection({ id: 'wc3', type: 'http', host: 'two' })),
        );
        expect(err).toBeInstanceOf(ConnectionExistsError);
        expect((await b.getConnection('wc3'))!.host).toBe('one');
        await b.setConnection(new Connection({ id: 'wc3', type: 'ftp', host: 'two' }), { overwrite: true });
        expect(await b.getConnection('wc3')).toMatchObject({ type: 'ftp', host: 'two' });
        expect(await db.raw.all(rowSql(db, 'connection', 'wc3'), ['wc3'])).toHaveLength(1);
      });

      it('setConnection with invalid extra JSON or no conn_type throws by id and writes nothing', async () => {
        const b = open();
        const badExtra = new Connection({ id: 'wc4', type: 'http', password: 'pw' });
        badExtra.extra = '{oops';
        const e1 = await rejection(b.setConnection(badExtra));
        expect(e1).toBeInstanceOf(InvalidConnectionError);
        const e2 = await rejection(b.setConnection(new Connection({ id: 'wc4', host: 'h' })));
        expect(e2).toBeInstanceOf(InvalidConnectionError);
        expect(await db.raw.all(rowSql(db, 'connection', 'wc4'), ['wc4'])).toHaveLength(0);
      });

      it('deleteConnection deletes and reports whether a row existed', async () => {
        const b = open();
        await b.setConnection(new Connection({ id: 'wc5', type: 'http' }));
        expect(await b.deleteConnection('wc5')).toBe(true);
        expect(await b.getConnection('wc5')).toBeNull();
        expect(await b.deleteConnection('wc5')).toBe(false);
      });

      it('calls onWrite after each committed write, not for a delete of a missing id', async () => {
        const writes: string[] = [];
        const b = open({ onWrite: (kind, id) => writes.push(`${kind}:${id}`) });
        await b.setVariable('hv', 'x');
        await b.deleteVariable('hv');
        await b.deleteVariable('hv');
        await b.setConnection(new Connection({ id: 'hc', type: 'http' }));
        await b.deleteConnection('hc');
        expect(writes).toEqual(['variable:hv', 'variable:hv', 'connection:hc', 'connection:hc']);
      });

      it('rows written by us decrypt with Python-compatible tokens and survive rotation', async () => {
        await open({ fernetKey: py.keys.old }).setVariable('rot', 'before rotation');
        expect(await open({ fernetKey: `${py.keys.new},${py.keys.old}` }).getVariable('rot')).toBe(
          'before rotation',
        );
        expect(await open({ fernetKey: py.keys.new }).getVariable('rot')).toBeNull();
      });
    });

    describe('schemas and failures', () => {
      it('keeps working with extra columns of newer Airflow schemas (team_name and more)', async () => {
        const extra = await createTestDatabase(target);
        try {
          await extra.createTables();
          const add =
            extra.dialect === 'mysql'
              ? [
                  'ALTER TABLE connection ADD COLUMN team_name VARCHAR(50) NULL',
                  'ALTER TABLE `variable` ADD COLUMN team_name VARCHAR(50) NULL',
                  "ALTER TABLE connection ADD COLUMN future_col VARCHAR(20) NOT NULL DEFAULT 'x'",
                ]
              : [
                  'ALTER TABLE connection ADD COLUMN team_name VARCHAR(50)',
                  'ALTER TABLE variable ADD COLUMN team_name VARCHAR(50)',
                  "ALTER TABLE connection ADD COLUMN future_col VARCHAR(20) NOT NULL DEFAULT 'x'",
                ];
          for (const s of add) await extra.raw.run(s);
          for (const row of py.rows.connection) await extra.insert('connection', { ...row, team_name: null });
          for (const row of py.rows.variable) await extra.insert('variable', row);
          const b = metastore({ url: extra.url, fernetKey: py.fernetKeySetting });
          try {
            expect((await b.getConnection('pg_new'))!.password).toBe('s3cr:et/@pg');
            expect(await b.getVariable('var_old')).toBe('rotated value');
            await b.setVariable('new_var', 'v');
            await b.setConnection(new Connection({ id: 'new_conn', type: 'http', password: 'p' }));
            expect((await b.getConnection('new_conn'))!.password).toBe('p');
            expect(await b.getVariable('new_var')).toBe('v');
          } finally {
            await b.close();
          }
        } finally {
          await extra.drop();
        }
      });

      it('missing tables are a BackendError naming the database with its password masked', async () => {
        const empty = await createTestDatabase(target);
        try {
          const b = metastore({ url: empty.url, fernetKey: py.fernetKeySetting });
          try {
            const err = await rejection(b.getVariable('x'));
            expect(err).toBeInstanceOf(BackendError);
            expect(err.message).toMatch(/tables .*missing/);
            expect(err.message).toContain(target === 'sqlite' ? 'airflow.db' : '127.0.0.1');
            if (empty.password) {
              expect(err.message).toContain('***');
              expect(err.message + inspect(err)).not.toContain(empty.password);
              expect(err.message).not.toContain(encodeURIComponent(empty.password));
            }
          } finally {
            await b.close();
          }
        } finally {
          await empty.drop();
        }
      });

      it('a failing insert (a newer NOT NULL column we cannot fill) is a typed error and writes nothing', async () => {
        const strict = await createTestDatabase(target);
        try {
          await strict.createTables();
          await strict.raw.run('ALTER TABLE connection ADD COLUMN required_col VARCHAR(20) NOT NULL');
          const b = metastore({ url: strict.url, fernetKey: py.fernetKeySetting });
          try {
            const err = await rejection(
              b.setConnection(new Connection({ id: 'nope', type: 'http', password: 'secret-pw' })),
            );
            expect(err).toBeInstanceOf(BackendError);
            expect(err.message + inspect(err)).not.toContain('secret-pw');
            expect(await strict.raw.all('SELECT conn_id FROM connection')).toHaveLength(0);
          } finally {
            await b.close();
          }
        } finally {
          await strict.drop();
        }
      });

      it('locate names the table and key column, without I/O', () => {
        const b = metastore({ url: db.url });
        expect(b.locate('connection', 'my_db')).toEqual({ name: 'connection.conn_id=my_db' });
        expect(b.locate('variable', 'foo')).toEqual({ name: 'variable.key=foo' });
        expect('skip' in b.locate('config', 'x')).toBe(true);
      });

      it('close() is idempotent and later lookups fail as unavailable', async () => {
        const b = metastore({ url: db.url });
        await b.getVariable('x');
        await b.close();
        await b.close();
        const err = await rejection(b.getVariable('x'));
        expect(err.name).toBe('BackendUnavailableError');
      });

      it('answers many concurrent lookups through a small pool', async () => {
        await seedPythonRows();
        const b = open({ poolSize: 2 });
        const values = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? b.getVariable('var_new') : b.getVariable('var_old'))),
        );
        expect(values).toEqual(values.map((_, i) => (i % 2 ? 'current value' : 'rotated value')));
      });
    });

    describe('lists and puts', () => {
      it('lists ids sorted, bounded, never a value; rows Airflow wrote included', async () => {
        await seedPythonRows();
        const b = open();
        const conns = await b.list!('connection');
        const ids = py.rows.connection.map((r) => String(r.conn_id));
        expect(conns.truncated).toBe(false);
        expect(new Set(conns.entries.map((e) => e.id))).toEqual(new Set(ids));
        expect(conns.entries[0]).toEqual({
          id: conns.entries[0]!.id,
          secretName: `connection.conn_id=${conns.entries[0]!.id}`,
        });
        const one = await b.list!('connection', { limit: 1 });
        expect(one.entries).toHaveLength(1);
        expect(one.truncated).toBe(ids.length > 1);
        expect((await b.list!('variable')).entries.map((e) => e.id).sort()).toEqual(
          py.rows.variable.map((r) => String(r.key)).sort(),
        );
        expect((await b.list!('config')).entries).toEqual([]);
      });

      it('puts through the writes (encrypted), refusing an existing id without overwrite', async () => {
        const b = open();
        const c = new Connection({ type: 'postgres', host: 'h', password: 'pw', extra: { a: 1 } });
        expect(await b.put!('connection', 'put_db', c)).toEqual({
          secretName: 'connection.conn_id=put_db',
          action: 'created',
        });
        expect((await b.getConnection('put_db'))!.password).toBe('pw');
        const [row] = await db.raw.all(rowSql(db, 'connection', 'put_db'), ['put_db']);
        expect(row!.password).not.toBe('pw');
        await expect(b.put!('connection', 'put_db', c)).rejects.toBeInstanceOf(SecretExistsError);
        expect((await b.put!('variable', 'put_v', 'x')).action).toBe('created');
        expect((await b.put!('variable', 'put_v', 'y', { overwrite: true })).action).toBe('updated');
        expect(await b.getVariable('put_v')).toBe('y');
        expect(await b.delete!('variable', 'put_v')).toBe(true);
        expect(b.locateWrite!('connection', 'not valid')).toHaveProperty('skip');
      });
    });

    runBackendConformance(
      { describe, it },
      {
        name: `metastore (${target}, encrypted)`,
        create: async (seed) => {
          await db.raw.run('DELETE FROM connection');
          await db.raw.run(`DELETE FROM ${db.dialect === 'mysql' ? '`variable`' : 'variable'}`);
          const b = metastore({ url: db.url, fernetKey: py.fernetKeySetting });
          for (const [id, value] of Object.entries(seed.connections))
            await b.setConnection(deserializeConnection(id, value));
          for (const [key, value] of Object.entries(seed.variables)) await b.setVariable(key, value);
          return b;
        },
      },
    );
  });
}

function rowSql(db: TestDatabase, table: 'connection' | 'variable', _id: string): string {
  const q = (n: string) => (db.dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
  return `SELECT * FROM ${q(table)} WHERE ${q(table === 'connection' ? 'conn_id' : 'key')} = ?`;
}
