/**
 * Where the metastore is and what happens when it is not there: the default SQLite location,
 * configured files that are missing or corrupt, new files created by writes, Airflow's
 * environment (`fromAirflowKwargs`), and lazy driver loading.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromAirflowKwargs, metastore, metastoreFromSettings } from '../../src/backends/metastore.js';
import { Connection } from '../../src/connection.js';
import { BackendError, BackendUnavailableError, ConfigurationError } from '../../src/errors.js';
import { openDriver } from '../../src/metastore/drivers.js';
import { parseSqlAlchemyUrl } from '../../src/metastore/url.js';
import { rejection } from '../helpers/assertions.js';
import { py, recordingLogger } from '../helpers/metastore-suite.js';

const dirs: string[] = [];
const tempHome = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-sqlite-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('default SQLite location ($AIRFLOW_HOME/airflow.db)', () => {
  it('a missing default database answers not found for every lookup and creates no file', async () => {
    const home = tempHome();
    const b = metastoreFromSettings({ airflowHome: home, logger: recordingLogger() });
    expect(await b.getConnection('x')).toBeNull();
    expect(await b.getVariable('x')).toBeNull();
    await b.close();
    expect(existsSync(path.join(home, 'airflow.db'))).toBe(false);
  });

  it('reads the default database once it exists', async () => {
    const home = tempHome();
    const writer = metastoreFromSettings({ airflowHome: home, fernetKey: py.fernetKeySetting });
    await writer.setVariable('k', 'v');
    await writer.close();
    const reader = metastoreFromSettings({ airflowHome: home, fernetKey: py.fernetKeySetting });
    expect(await reader.getVariable('k')).toBe('v');
    await reader.close();
  });

  it('a configured URL wins over the default location', async () => {
    const home = tempHome();
    const other = path.join(tempHome(), 'other.db');
    const b = metastoreFromSettings({ airflowHome: home, sqlAlchemyConn: `sqlite:///${other}` });
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toContain('other.db');
  });
});

describe('configured SQLite files', () => {
  it('a configured file that does not exist is a BackendUnavailableError naming it (not "not found")', async () => {
    const file = path.join(tempHome(), 'missing.db');
    const b = metastore({ url: `sqlite:///${file}` });
    const err = await rejection(b.getConnection('x'));
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toContain(file);
    expect(existsSync(file)).toBe(false);
  });

  it('a corrupt file is a BackendError naming the database, and nothing is written to it', async () => {
    const file = path.join(tempHome(), 'corrupt.db');
    const junk = 'this is not a sqlite database at all, just text '.repeat(200);
    writeFileSync(file, junk);
    const b = metastore({ url: `sqlite:///${file}`, fernetKey: py.fernetKeySetting });
    const err = await rejection(b.getVariable('x'));
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).reason).toBe('failed');
    expect(err.message).toMatch(/not a valid SQLite database/);
    expect(err.message).toContain(file);
    const werr = await rejection(b.setVariable('x', 'y'));
    expect(werr).toBeInstanceOf(BackendError);
    await b.close();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(file, 'utf8')).toBe(junk);
  });

  it('a write to a new file creates it with Airflow’s two tables and columns', async () => {
    const file = path.join(tempHome(), 'new.db');
    const b = metastore({ url: `sqlite:///${file}`, fernetKey: null });
    await b.setConnection(new Connection({ id: 'c', type: 'http', host: 'h' }));
    await b.close();
    const d = await openDriver(parseSqlAlchemyUrl(`sqlite:///${file}`), { poolSize: 1, timeoutMs: 5000 });
    try {
      const cols = async (t: string) => (await d.all(`PRAGMA table_info(${t})`)).map((r) => r.name);
      expect(await cols('connection')).toEqual([
        'id',
        'conn_id',
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
      ]);
      expect(await cols('variable')).toEqual(['id', 'key', 'val', 'description', 'is_encrypted']);
      const idx = await d.all(`SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name`);
      expect(idx.map((r) => r.name)).toEqual(
        expect.arrayContaining([expect.stringMatching(/connection/), expect.stringMatching(/variable/)]),
      );
    } finally {
      await d.close();
    }
  });

  it('sqlite:// is an in-memory database with the tables ready', async () => {
    const b = metastore({ url: 'sqlite://', fernetKey: py.fernetKeySetting });
    expect(await b.getVariable('x')).toBeNull();
    await b.setVariable('x', 'y');
    expect(await b.getVariable('x')).toBe('y');
    await b.close();
  });

  it('an unknown scheme is a ConfigurationError at construction, naming the setting, password masked', () => {
    let err: unknown;
    try {
      metastoreFromSettings({ airflowHome: '/x', sqlAlchemyConn: 'oracle://scott:tiger-pw@h/db' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    expect((err as Error).message).not.toContain('tiger-pw');
  });
});

describe('fromAirflowKwargs (airflow.secrets.metastore.MetastoreBackend)', () => {
  it('reads AIRFLOW__DATABASE__SQL_ALCHEMY_CONN and AIRFLOW__CORE__FERNET_KEY from the given env', async () => {
    const file = path.join(tempHome(), 'airflow.db');
    const seed = metastore({ url: `sqlite:///${file}`, fernetKey: py.fernetKeySetting });
    await seed.setVariable('from_env', 'yes');
    await seed.close();
    const logger = recordingLogger();
    const b = fromAirflowKwargs(
      {},
      {
        env: {
          AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${file}`,
          AIRFLOW__CORE__FERNET_KEY: py.fernetKeySetting,
        },
        logger,
      },
    );
    expect(b.name).toBe('metastore');
    expect(await b.getVariable('from_env')).toBe('yes');
    await b.close();
  });

  it('falls back to the legacy AIRFLOW__CORE__SQL_ALCHEMY_CONN and names it in errors', () => {
    let err: unknown;
    try {
      fromAirflowKwargs(
        {},
        { env: { AIRFLOW__CORE__SQL_ALCHEMY_CONN: 'bogus://u:pw@h/d' }, logger: recordingLogger() },
      );
    } catch (e) {
      err = e;
    }
    expect((err as ConfigurationError).setting).toBe('AIRFLOW__CORE__SQL_ALCHEMY_CONN');
  });

  it('uses $AIRFLOW_HOME/airflow.db when no URL is set (missing → not found)', async () => {
    const home = tempHome();
    const b = fromAirflowKwargs({}, { env: { AIRFLOW_HOME: home }, logger: recordingLogger() });
    expect(await b.getVariable('x')).toBeNull();
    expect(existsSync(path.join(home, 'airflow.db'))).toBe(false);
  });

  it('rejects backend_kwargs, which MetastoreBackend does not take', () => {
    expect(() => fromAirflowKwargs({ foo: 1 }, { env: {}, logger: recordingLogger() })).toThrow(
      ConfigurationError,
    );
  });
});

describe('lazy drivers', () => {
  it('importing the backend loads no database driver; a SQLite lookup loads better-sqlite3 only', () => {
    const home = tempHome();
    const script = `
      import { createRequire } from 'node:module';
      const req = createRequire(import.meta.url);
      const loaded = () => ['better-sqlite3', 'pg', 'mysql2'].filter((p) =>
        Object.keys(req.cache).some((k) => k.includes('/node_modules/' + p + '/')));
      const m = await import('./src/backends/metastore.ts');
      const before = loaded();
      // No Fernet key: the plaintext warning is expected; errors still go to stderr.
      const logger = { debug() {}, warn() {}, error: (m) => console.error(m) };
      const b = m.metastore({ url: 'sqlite:///${home}/x.db', missingDatabase: 'not-found', logger });
      await b.setVariable('a', 'b');
      const after = loaded();
      await b.close();
      console.log(JSON.stringify({ before, after }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ before: [], after: ['better-sqlite3'] });
  });
});
