/**
 * `variables set|delete` and `connections add|delete` against real databases (SQLite files, and
 * PostgreSQL for one round trip), checked by reading back through the backend.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { metastore } from '../../src/backends/metastore.js';
import { main } from '../../src/cli/main.js';
import { createTestDatabase, skipWithoutServer } from '../helpers/db-targets.js';
import { py } from '../helpers/metastore-suite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(extraEnv: Record<string, string> = {}) {
  const home = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-sqlite-'));
  dirs.push(home);
  const env: Record<string, string> = {
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__FERNET_KEY: py.fernetKeySetting,
    ...extraEnv,
  };
  const out: string[] = [];
  const err: string[] = [];
  const run = (group: 'connections' | 'variables', action: string, ...argv: string[]) =>
    main([group, action, ...argv], { env, out: (s) => void out.push(s), err: (s) => void err.push(s) });
  const read = () =>
    metastore({
      url: env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?? `sqlite:///${home}/airflow.db`,
      fernetKey: py.fernetKeySetting,
      missingDatabase: 'not-found',
    });
  return { home, env, out, err, run, read, printed: () => [...out, ...err].join('\n') };
}

describe('CLI writes to the metadata database', () => {
  it('variables set creates $AIRFLOW_HOME/airflow.db with the tables, encrypted, and never prints the value', async () => {
    const t = setup();
    expect(await t.run('variables', 'set', 'api_key', 'v3ry-s3cret', '--description', 'the key')).toBe(0);
    expect(existsSync(path.join(t.home, 'airflow.db'))).toBe(true);
    const b = t.read();
    expect(await b.getVariable('api_key')).toBe('v3ry-s3cret');
    await b.close();
    expect(t.printed()).not.toContain('v3ry-s3cret');
    expect(t.out.join('\n')).toContain('api_key');
  });

  it('variables delete: 0 when deleted, 1 when the key does not exist', async () => {
    const t = setup();
    await t.run('variables', 'set', 'k', 'v');
    expect(await t.run('variables', 'delete', 'k')).toBe(0);
    expect(await t.run('variables', 'delete', 'k')).toBe(1);
  });

  it('connections add --conn-uri stores the parsed connection, the password encrypted and unprinted', async () => {
    const t = setup();
    const code = await t.run(
      'connections',
      'add',
      'my_db',
      '--conn-uri',
      'postgresql://u:p%40ss@db.example.com:5432/app?sslmode=require',
    );
    expect(code).toBe(0);
    const b = t.read();
    const c = await b.getConnection('my_db');
    await b.close();
    expect(c).toMatchObject({
      type: 'postgres',
      host: 'db.example.com',
      login: 'u',
      password: 'p@ss',
      port: 5432,
      schema: 'app',
    });
    expect(c!.extraDejson).toEqual({ sslmode: 'require' });
    expect(t.printed()).not.toContain('p@ss');
    expect(t.printed()).not.toContain('p%40ss');
  });

  it('connections add with field options and --conn-extra', async () => {
    const t = setup();
    const code = await t.run(
      'connections',
      'add',
      'fields',
      '--conn-type',
      'mysql',
      '--conn-host',
      'h',
      '--conn-login',
      'l',
      '--conn-password',
      'pw-123',
      '--conn-schema',
      's',
      '--conn-port',
      '3307',
      '--conn-extra',
      '{"charset": "utf8mb4"}',
      '--conn-description=desc',
    );
    expect(code).toBe(0);
    const b = t.read();
    const c = await b.getConnection('fields');
    await b.close();
    expect(c).toMatchObject({
      type: 'mysql',
      host: 'h',
      login: 'l',
      password: 'pw-123',
      schema: 's',
      port: 3307,
      description: 'desc',
    });
    expect(c!.extraDejson).toEqual({ charset: 'utf8mb4' });
    expect(t.printed()).not.toContain('pw-123');
  });

  it('connections add --conn-json', async () => {
    const t = setup();
    expect(
      await t.run(
        'connections',
        'add',
        'j',
        '--conn-json',
        '{"conn_type": "http", "host": "api", "password": "pj"}',
      ),
    ).toBe(0);
    const b = t.read();
    expect(await b.getConnection('j')).toMatchObject({ type: 'http', host: 'api', password: 'pj' });
    await b.close();
  });

  it('refuses to overwrite an existing id (exit 1, row unchanged) unless --overwrite', async () => {
    const t = setup();
    await t.run('connections', 'add', 'dup', '--conn-type', 'http', '--conn-host', 'one');
    expect(await t.run('connections', 'add', 'dup', '--conn-type', 'http', '--conn-host', 'two')).toBe(1);
    expect(t.err.join('\n')).toContain('already exists');
    let b = t.read();
    expect((await b.getConnection('dup'))!.host).toBe('one');
    await b.close();
    expect(
      await t.run('connections', 'add', 'dup', '--conn-type', 'http', '--conn-host', 'two', '--overwrite'),
    ).toBe(0);
    b = t.read();
    expect((await b.getConnection('dup'))!.host).toBe('two');
    await b.close();
  });

  it('connections delete: 0 when deleted, 1 when the id does not exist', async () => {
    const t = setup();
    await t.run('connections', 'add', 'gone', '--conn-type', 'http');
    expect(await t.run('connections', 'delete', 'gone')).toBe(0);
    expect(await t.run('connections', 'delete', 'gone')).toBe(1);
  });

  it.each([
    [['connections', 'add', 'x'], /Must supply either conn-uri or conn-json/],
    [['connections', 'add', 'x', '--conn-uri', 'http://h', '--conn-json', '{}'], /Cannot supply both/],
    [
      ['connections', 'add', 'x', '--conn-uri', 'http://h', '--conn-host', 'h'],
      /not compatible with the --conn-uri/,
    ],
    [['connections', 'add', 'x', '--conn-type', 'http', '--conn-port', 'abc'], /--conn-port/],
    [['connections', 'add', 'x', '--conn-type', 'http', '--bogus', '1'], /Unknown option --bogus/],
    [['variables', 'set', 'only-key'], /needs KEY and VALUE/],
    [['variables', 'delete'], /needs exactly one KEY/],
  ])('usage error %j exits 2 and writes nothing', async (args, message) => {
    const t = setup();
    const [group, action, ...rest] = args as ['connections' | 'variables', string, ...string[]];
    expect(await t.run(group, action, ...rest)).toBe(2);
    expect(t.err.join('\n')).toMatch(message);
    const b = t.read();
    expect(await b.getConnection('x')).toBeNull();
    await b.close();
  });

  it('invalid --conn-extra JSON exits 2 naming the id, nothing written, value not printed', async () => {
    const t = setup();
    expect(
      await t.run('connections', 'add', 'bad', '--conn-type', 'http', '--conn-extra', '{"token": "tok-XYZ"'),
    ).toBe(2);
    expect(t.err.join('\n')).toContain("'bad'");
    expect(t.printed()).not.toContain('tok-XYZ');
    const b = t.read();
    expect(await b.getConnection('bad')).toBeNull();
    await b.close();
  });

  it('a malformed Fernet key exits 2 naming AIRFLOW__CORE__FERNET_KEY, not the key', async () => {
    const t = setup({ AIRFLOW__CORE__FERNET_KEY: 'definitely-not-a-fernet-key' });
    expect(await t.run('variables', 'set', 'k', 'v')).toBe(2);
    expect(t.err.join('\n')).toContain('AIRFLOW__CORE__FERNET_KEY');
    expect(t.printed()).not.toContain('definitely-not-a-fernet-key');
  });

  it('an unknown database scheme exits 2 with the password masked', async () => {
    const t = setup({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'mssql://sa:pw-mssql-1@h/db' });
    expect(await t.run('variables', 'set', 'k', 'v')).toBe(2);
    expect(t.err.join('\n')).toContain('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    expect(t.printed()).not.toContain('pw-mssql-1');
  });

  it('writes to PostgreSQL given AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', async (ctx) => {
    skipWithoutServer(ctx, 'postgres');
    const db = await createTestDatabase('postgres');
    try {
      await db.createTables();
      const t = setup({
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: db.url.replace('postgresql://', 'postgresql+psycopg2://'),
      });
      expect(await t.run('variables', 'set', 'pgv', 'on-postgres')).toBe(0);
      expect(await t.run('connections', 'add', 'pgc', '--conn-uri', 'http://u:pw@h')).toBe(0);
      const b = t.read();
      expect(await b.getVariable('pgv')).toBe('on-postgres');
      expect((await b.getConnection('pgc'))!.password).toBe('pw');
      await b.close();
      expect(existsSync(path.join(t.home, 'airflow.db'))).toBe(false);
    } finally {
      await db.drop();
    }
  });
});

describe('plaintext writes and new database files (issue 11 item 14)', () => {
  it('without a Fernet key, variables set and connections add warn once, naming AIRFLOW__CORE__FERNET_KEY', async () => {
    const t = setup({ AIRFLOW__CORE__FERNET_KEY: '' });
    expect(await t.run('variables', 'set', 'k', 'plain-value-1')).toBe(0);
    const warning = t.err.join('\n');
    expect(warning).toContain('values will not be stored encrypted');
    expect(warning).toContain('AIRFLOW__CORE__FERNET_KEY');
    expect(warning).not.toContain('plain-value-1');
    const t2 = setup({ AIRFLOW__CORE__FERNET_KEY: '' });
    expect(await t2.run('connections', 'add', 'c', '--conn-uri', 'postgres://u:pw-value-2@h/db')).toBe(0);
    expect(t2.err.join('\n')).toContain('AIRFLOW__CORE__FERNET_KEY');
    expect(t2.printed()).not.toContain('pw-value-2');
  });

  it('with a Fernet key, no warning', async () => {
    const t = setup();
    expect(await t.run('variables', 'set', 'k', 'v')).toBe(0);
    expect(t.err.join('\n')).not.toContain('encrypted');
  });

  it('a new SQLite file is created readable by its owner only (0600)', async () => {
    const t = setup();
    expect(await t.run('variables', 'set', 'k', 'v')).toBe(0);
    expect(statSync(path.join(t.home, 'airflow.db')).mode & 0o777).toBe(0o600);
  });

  it('an existing SQLite file keeps its mode', async () => {
    const t = setup();
    writeFileSync(path.join(t.home, 'airflow.db'), '');
    chmodSync(path.join(t.home, 'airflow.db'), 0o640);
    expect(await t.run('variables', 'set', 'k', 'v')).toBe(0);
    expect(statSync(path.join(t.home, 'airflow.db')).mode & 0o777).toBe(0o640);
  });
});
