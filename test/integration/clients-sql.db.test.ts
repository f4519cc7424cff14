/**
 * pgConfig and mysqlConfig: the options connect to the real PostgreSQL 15 and MariaDB servers that
 * global setup starts, and run queries; the TLS mapping of the extras is checked as data.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mysqlConfig, pgConfig } from '../../src/clients/index.js';
import { Connection } from '../../src/connection.js';
import { ConfigurationError } from '../../src/errors.js';
import { type Logger, silentLogger } from '../../src/logger.js';
import { MYSQL_PASSWORD, PG_PASSWORD } from '../helpers/db-servers.js';
import { serverUrl, skipWithoutServer } from '../helpers/db-targets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-clients-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pem = (name: string, body: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, body);
  return p;
};
const CA = pem('ca.pem', '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
const CERT = pem('cert.pem', '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n');
const KEY = pem('key.pem', '-----BEGIN PRIVATE KEY-----\nclient-key-s3cret\n-----END PRIVATE KEY-----\n');
const CRL = pem('crl.pem', '-----BEGIN X509 CRL-----\nCRL\n-----END X509 CRL-----\n');

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (m) => warnings.push(m) };
}

describe('pgConfig against PostgreSQL 15', () => {
  beforeEach((ctx) => skipWithoutServer(ctx, 'postgres'));
  const conn = (extra: Record<string, unknown>) => {
    const u = new URL(serverUrl('postgres'));
    return new Connection({
      id: 'orders_db',
      type: 'postgres',
      host: u.hostname,
      port: Number(u.port),
      login: 'postgres',
      password: PG_PASSWORD,
      schema: 'postgres',
      extra,
    });
  };

  it('connects with a pg.Pool and runs a query (database from schema, application_name, options)', async () => {
    const log = recorder();
    const cfg = pgConfig(
      conn({ application_name: 'clients-test', connect_timeout: 10, options: '-c search_path=public' }),
      {
        logger: log,
      },
    );
    const pool = new pg.Pool(cfg);
    try {
      const r = await pool.query(
        "SELECT current_database() AS db, current_user AS usr, current_setting('application_name') AS app, current_setting('search_path') AS sp",
      );
      expect(r.rows[0]).toEqual({ db: 'postgres', usr: 'postgres', app: 'clients-test', sp: 'public' });
    } finally {
      await pool.end();
    }
    expect(log.warnings).toEqual([]);
    expect(cfg.connectionTimeoutMillis).toBe(10_000);
  });

  it("takes the hook's database argument over the schema, and warns about unused extras by name only", async () => {
    const log = recorder();
    const cfg = pgConfig(conn({ cursor: 'dictcursor', target_session_attrs: 'read-write' }), {
      logger: log,
      database: 'template1',
    });
    const client = new pg.Client(cfg);
    await client.connect();
    try {
      expect((await client.query('SELECT current_database() AS db')).rows[0].db).toBe('template1');
    } finally {
      await client.end();
    }
    expect(log.warnings).toEqual(['pgConfig: extras not used: cursor, target_session_attrs']);
  });

  it('asks the server for TLS with sslmode=require (this test server has none, so pg says so)', async () => {
    const client = new pg.Client(pgConfig(conn({ sslmode: 'require' })));
    await expect(client.connect()).rejects.toThrow(/does not support SSL/);
    await client.end().catch(() => undefined);
  });

  it('keeps the password out of inspect and JSON, and gives it to pg', () => {
    const cfg = pgConfig(conn({ sslmode: 'verify-full', sslrootcert: CA, sslcert: CERT, sslkey: KEY }));
    const shown = `${inspect(cfg, { depth: 5 })}${JSON.stringify(cfg)}${inspect(cfg.ssl)}`;
    expect(shown).not.toContain(PG_PASSWORD);
    expect(shown).not.toContain('client-key-s3cret');
    expect(cfg.password).toBe(PG_PASSWORD);
    expect(Object.assign({}, cfg.ssl as { key?: string }).key).toContain('client-key-s3cret');
  });
});

describe('pgConfig sslmode mapping (data)', () => {
  const base = { type: 'postgres', host: 'db.example', login: 'u' } as const;
  const cases: [string, Record<string, unknown>, unknown][] = [
    ['no sslmode (libpq prefer): no TLS option', {}, undefined],
    ['disable', { sslmode: 'disable' }, false],
    ['allow', { sslmode: 'allow' }, false],
    ['prefer', { sslmode: 'prefer', sslrootcert: CA }, false],
    ['require: encrypted, not verified', { sslmode: 'require' }, { rejectUnauthorized: false }],
    ['require with a root cert: like verify-ca', { sslmode: 'require', sslrootcert: CA }, 'verify-ca'],
    ['verify-ca', { sslmode: 'verify-ca', sslrootcert: CA }, 'verify-ca'],
    [
      'verify-full with client cert, key, CRL and key password',
      { sslmode: 'verify-full', sslrootcert: CA, sslcert: CERT, sslkey: KEY, sslcrl: CRL, sslpassword: 'kp' },
      { rejectUnauthorized: true, ca: 'CA', cert: 'CLIENT', key: 'client-key', crl: 'CRL', passphrase: 'kp' },
    ],
    [
      'sslrootcert=system: system CAs, verify-full',
      { sslmode: 'require', sslrootcert: 'system' },
      { rejectUnauthorized: true },
    ],
  ];
  for (const [name, extra, want] of cases) {
    it(name, () => {
      const ssl = pgConfig(new Connection({ ...base, extra }), { logger: silentLogger }).ssl;
      if (want === 'verify-ca') {
        expect(ssl).toMatchObject({ rejectUnauthorized: true });
        expect((ssl as { ca: string }).ca).toContain('CA');
        expect((ssl as { checkServerIdentity: () => unknown }).checkServerIdentity()).toBeUndefined();
      } else if (want && typeof want === 'object') {
        const got = ssl as unknown as Record<string, unknown>;
        for (const [k, v] of Object.entries(want)) {
          if (typeof v === 'string' && k !== 'passphrase') expect(String(got[k]), k).toContain(v);
          else expect(got[k], k).toEqual(v);
        }
        expect(got.checkServerIdentity).toBeUndefined();
        expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      } else {
        expect(ssl).toEqual(want);
      }
    });
  }

  it('rejects an unknown sslmode and an unreadable file, naming the extra', () => {
    expect(() => pgConfig(new Connection({ ...base, extra: { sslmode: 'maybe' } }))).toThrow(
      /extra 'sslmode'/,
    );
    let err: unknown;
    try {
      pgConfig(
        new Connection({
          ...base,
          extra: { sslmode: 'verify-full', sslrootcert: path.join(dir, 'nope.pem') },
        }),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe('extra.sslrootcert');
    expect((err as Error).message).toContain('ENOENT');
  });

  it('maps port (default 5432), keepalives and refuses iam and a non-postgres conn_type', () => {
    const cfg = pgConfig(
      new Connection({ ...base, extra: { keepalives_idle: '30', client_encoding: 'UTF8' } }),
    );
    expect(cfg).toMatchObject({
      port: 5432,
      keepAlive: true,
      keepAliveInitialDelayMillis: 30_000,
      client_encoding: 'UTF8',
    });
    expect(pgConfig(new Connection({ ...base, extra: { keepalives: 0 } })).keepAlive).toBe(false);
    expect(() => pgConfig(new Connection({ ...base, extra: { iam: true } }))).toThrow(/extra 'iam'/);
    expect(() => pgConfig(new Connection({ type: 'mysql', host: 'h' }))).toThrow(ConfigurationError);
    expect(() => pgConfig(new Connection({ host: 'h' }))).toThrow(/no conn_type/);
  });
});

describe('mysqlConfig against MariaDB', () => {
  beforeEach((ctx) => skipWithoutServer(ctx, 'mariadb'));
  const admin = () => new URL(serverUrl('mariadb'));
  const conn = (extra: Record<string, unknown> = {}, schema: string | null = null) =>
    new Connection({
      id: 'mysql_db',
      type: 'mysql',
      host: admin().hostname,
      port: Number(admin().port),
      login: 'airflow',
      password: MYSQL_PASSWORD,
      schema,
      extra,
    });

  it('connects and runs a query, with the charset extra and no mysql2 option warnings', async () => {
    const errors = vi.spyOn(console, 'error');
    const log = recorder();
    const c = await mysql.createConnection(mysqlConfig(conn({ charset: 'utf8mb4' }), { logger: log }));
    try {
      const [rows] = await c.query('SELECT CURRENT_USER() AS u, @@character_set_client AS cs');
      expect(rows).toEqual([{ u: 'airflow@127.0.0.1', cs: 'utf8mb4' }]);
    } finally {
      await c.end();
    }
    expect(log.warnings).toEqual([]);
    expect(errors.mock.calls.flat().join('\n')).not.toContain('Ignoring invalid configuration option');
    errors.mockRestore();
  });

  it('uses the schema as the database, and LOAD DATA LOCAL only with localInfile', async () => {
    const db = `clients_${process.pid}`;
    const setup = await mysql.createConnection(mysqlConfig(conn()));
    await setup.query(`CREATE DATABASE IF NOT EXISTS ${db}`);
    await setup.end();
    const data = pem('rows.tsv', '1\n2\n3\n');
    const pool = mysql.createPool(mysqlConfig(conn({}, db), { localInfile: true }));
    const closed = mysql.createPool(mysqlConfig(conn({}, db)));
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS t (a INT)');
      const [[{ d }]] = (await pool.query('SELECT DATABASE() AS d')) as unknown as [[{ d: string }]];
      expect(d).toBe(db);
      await pool.query(`LOAD DATA LOCAL INFILE ${pool.escape(data)} INTO TABLE t`);
      const [[{ n }]] = (await pool.query('SELECT COUNT(*) AS n FROM t')) as unknown as [[{ n: number }]];
      expect(n).toBe(3);
      await expect(
        closed.query(`LOAD DATA LOCAL INFILE ${pool.escape(data)} INTO TABLE t`),
      ).rejects.toThrow();
    } finally {
      await pool.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
      await pool.end();
      await closed.end();
    }
  });

  it('keeps the password out of inspect and JSON', () => {
    const cfg = mysqlConfig(conn());
    expect(`${inspect(cfg)}${JSON.stringify(cfg)}`).not.toContain(MYSQL_PASSWORD);
    expect(cfg.password).toBe(MYSQL_PASSWORD);
  });
});

describe('mysqlConfig TLS and client mapping (data)', () => {
  const base = { type: 'mysql', host: 'db.example', login: 'u' } as const;
  const ssl = (extra: Record<string, unknown>) =>
    mysqlConfig(new Connection({ ...base, extra }), { logger: silentLogger }).ssl as
      | Record<string, unknown>
      | undefined;

  it('mysqlclient: ssl dict (object or JSON text) and ssl_mode', () => {
    expect(ssl({})).toBeUndefined();
    expect(ssl({ ssl_mode: 'PREFERRED' })).toBeUndefined();
    expect(ssl({ ssl: { ca: CA }, ssl_mode: 'DISABLED' })).toBeUndefined();
    expect(ssl({ ssl_mode: 'required' })).toEqual({ rejectUnauthorized: false });
    expect(ssl({ ssl_mode: 'VERIFY_CA' })).toEqual({ rejectUnauthorized: true });
    expect(ssl({ ssl_mode: 'VERIFY_IDENTITY' })).toEqual({ rejectUnauthorized: true, verifyIdentity: true });
    const dict = ssl({ ssl: JSON.stringify({ ca: CA, cert: CERT, key: KEY, cipher: 'AES256-SHA' }) })!;
    expect(dict.rejectUnauthorized).toBe(true);
    expect(dict.verifyIdentity).toBeUndefined();
    expect(String(dict.ca)).toContain('CA');
    expect(String(dict.key)).toContain('client-key');
    expect(dict.ciphers).toBe('AES256-SHA');
    expect(ssl({ ssl: { cert: CERT, key: KEY } })!.rejectUnauthorized).toBe(false);
    expect(ssl({ ssl: { ca: CA, check_hostname: true } })).toMatchObject({
      rejectUnauthorized: true,
      verifyIdentity: true,
    });
    expect(ssl({ ssl: { ca: CA }, ssl_mode: 'REQUIRED' })!.rejectUnauthorized).toBe(false);
    expect(() => ssl({ ssl: 'not json' })).toThrow(/extra 'ssl'/);
    expect(() => ssl({ ssl_mode: 'SOMETIMES' })).toThrow(/extra 'ssl_mode'/);
  });

  it('mysql-connector-python: the ssl_* extras only; the others are warned about', () => {
    const log = recorder();
    const cfg = mysqlConfig(
      new Connection({
        ...base,
        extra: {
          client: 'mysql-connector-python',
          ssl_ca: CA,
          ssl_verify_cert: true,
          charset: 'utf8',
          ssl_foo: 1,
        },
      }),
      { logger: log },
    );
    expect(cfg.ssl).toMatchObject({ rejectUnauthorized: true });
    expect(cfg.charset).toBeUndefined();
    expect(log.warnings).toEqual(['mysqlConfig: extras not used: charset, ssl_foo']);
    expect(() => mysqlConfig(new Connection({ ...base, extra: { client: 'pymysql' } }))).toThrow(
      /extra 'client'/,
    );
  });

  it('defaults: localhost, 3306, empty password and database; unix_socket; LOCAL_FILES off', () => {
    const cfg = mysqlConfig(new Connection({ type: 'mysql', extra: { unix_socket: '/run/mysqld.sock' } }));
    expect({ ...cfg }).toEqual({
      host: 'localhost',
      port: 3306,
      password: '',
      database: '',
      socketPath: '/run/mysqld.sock',
      flags: ['-LOCAL_FILES'],
    });
    expect(() => mysqlConfig(new Connection({ ...base, extra: { iam: true } }))).toThrow(/extra 'iam'/);
    expect(() => mysqlConfig(new Connection({ type: 'postgres', host: 'h' }))).toThrow(ConfigurationError);
  });
});
