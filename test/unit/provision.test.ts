/**
 * The test harness on a machine without the servers (test/helpers/provision.ts, test/global-setup.ts):
 * binaries are looked up in an overridable folder list, missing packages are installed with apt-get
 * once (one update, one install, under a lock shared by concurrent runs) when running as root, and
 * otherwise one line says why. A fake `apt-get` (a shell script that records its arguments and
 * "installs" executables into a temp folder) stands in for Debian's; the real apt path is exercised
 * by `.ci/run` on a fresh machine. Last, `vitest` itself is run on every test file that needs a
 * server with the binaries hidden: outside CI it passes with those tests skipped; under CI=true it
 * fails.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, findBinaries, provision } from '../helpers/provision.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-provision-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
/** A folder for binaries, and a fake apt-get that records calls and installs into it. */
function fakeApt(options: { fail?: boolean } = {}) {
  const dir = path.join(work, `case-${++n}`);
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = path.join(dir, 'apt.log');
  const apt = path.join(dir, 'apt-get');
  writeFileSync(
    apt,
    `#!/bin/sh
echo "$*" >> '${log}'
case " $* " in *" install "*) ;; *) exit 0 ;; esac
${options.fail ? 'echo "E: Unable to locate package" >&2; exit 100' : ''}
sleep 0.2
for p in "$@"; do
  case "$p" in
    mariadb-server) set -- mariadbd mariadb-install-db ;;
    postgresql-15) set -- initdb postgres ;;
    redis-server) set -- redis-server ;;
    *) continue ;;
  esac
  for b in "$@"; do printf '#!/bin/sh\\n' > '${bin}'/"$b"; chmod +x '${bin}'/"$b"; done
done
`,
  );
  chmodSync(apt, 0o755);
  const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  return { dir, bin, apt, calls, lockDir: path.join(dir, 'lock') };
}

describe('finding the server binaries', () => {
  it('looks in the given folders, names what is missing, takes any accepted name', () => {
    const f = fakeApt();
    expect(findBinaries('mariadb', [f.bin])).toEqual({
      missing: ['mariadbd or mysqld', 'mariadb-install-db or mysql_install_db'],
    });
    for (const b of ['mysqld', 'mysql_install_db']) {
      writeFileSync(path.join(f.bin, b), '#!/bin/sh\n');
      chmodSync(path.join(f.bin, b), 0o755);
    }
    expect(findBinaries('mariadb', ['/nonexistent', f.bin])).toEqual({
      binaries: { server: path.join(f.bin, 'mysqld'), install: path.join(f.bin, 'mysql_install_db') },
    });
    writeFileSync(path.join(f.bin, 'redis-server'), 'not executable');
    expect(findBinaries('redis', [f.bin])).toEqual({ missing: ['redis-server'] });
  });
});

describe('installing what is missing', () => {
  it('as root: one apt-get update and one install of every missing package, then found', async () => {
    const f = fakeApt();
    const lines: string[] = [];
    const found = await provision(['postgres', 'mariadb', 'redis'], {
      dirs: [f.bin],
      root: true,
      aptGet: f.apt,
      lockDir: f.lockDir,
      log: (l) => lines.push(l),
    });
    expect(found.postgres).toEqual({
      binaries: { initdb: path.join(f.bin, 'initdb'), server: path.join(f.bin, 'postgres') },
    });
    expect(found.mariadb).toMatchObject({ binaries: { server: path.join(f.bin, 'mariadbd') } });
    expect(found.redis).toMatchObject({ binaries: { server: path.join(f.bin, 'redis-server') } });
    expect(f.calls()).toEqual([
      '-o DPkg::Lock::Timeout=600 update -qq',
      '-o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends postgresql-15 mariadb-server redis-server',
    ]);
    expect(lines).toEqual([
      'test servers: installing postgresql-15 mariadb-server redis-server with apt-get (not found)',
      'test servers: installed postgresql-15 mariadb-server redis-server',
    ]);
    expect(existsSync(f.lockDir)).toBe(false);
    // Installed now: a second run installs nothing.
    await provision(['postgres', 'mariadb', 'redis'], {
      dirs: [f.bin],
      root: true,
      aptGet: f.apt,
      lockDir: f.lockDir,
    });
    expect(f.calls()).toHaveLength(2);
  });

  it('concurrent runs install once: the lock is held during apt-get, the binaries looked up again after', async () => {
    const f = fakeApt();
    const opts = { dirs: [f.bin], root: true, aptGet: f.apt, lockDir: f.lockDir };
    const results = await Promise.all([provision(['mariadb'], opts), provision(['mariadb'], opts)]);
    for (const r of results) expect(r.mariadb).toHaveProperty('binaries');
    expect(f.calls().filter((c) => c.includes(' install '))).toHaveLength(1);
  });

  it('a lock left by a process that is gone is taken over', async () => {
    const f = fakeApt();
    mkdirSync(f.lockDir);
    writeFileSync(path.join(f.lockDir, 'pid'), '999999999');
    const release = await acquireLock(f.lockDir, 5_000);
    expect(readFileSync(path.join(f.lockDir, 'pid'), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(f.lockDir)).toBe(false);
  });

  it.each([
    [{ root: false }, 'not running as root, so not installed with apt-get'],
    [{ root: true, install: false }, 'AIRFLOW_SECRETS_TEST_PROVISION=0'],
    [{ root: true, aptGet: null }, 'no apt-get on this machine'],
  ])('%j: no apt-get call, one line saying why and what to run', async (o, why) => {
    const f = fakeApt();
    const found = await provision(['mariadb'], { dirs: [f.bin], aptGet: f.apt, lockDir: f.lockDir, ...o });
    expect(f.calls()).toEqual([]);
    const error = (found.mariadb as { error: string }).error;
    expect(error).toBe(
      `MariaDB is not installed (mariadbd or mysqld, mariadb-install-db or mysql_install_db not found in ${f.bin}; ${why}). Install it: apt-get install -y mariadb-server`,
    );
    expect(error).not.toContain('\n');
  });

  it('a failing apt-get is reported with its last lines', async () => {
    const f = fakeApt({ fail: true });
    const found = await provision(['redis'], {
      dirs: [f.bin],
      root: true,
      aptGet: f.apt,
      lockDir: f.lockDir,
    });
    expect((found.redis as { error: string }).error).toMatch(
      /redis-server is not installed .*apt-get failed: apt-get install redis-server: exit 100: E: Unable to locate package/,
    );
    expect(existsSync(f.lockDir)).toBe(false);
  });
});

/**
 * Every test file that needs a server: those that use the database or redis helpers, or read what
 * global setup provides. Found by reading the files, so a new server test is covered too.
 */
function serverTestFiles(): string[] {
  const uses =
    /helpers\/(db-targets|db-servers|metastore-suite|redis-server)\.js|inject\('(metastoreDbs|redisServer)'\)/;
  return ['test/integration', 'test/robustness']
    .flatMap((dir) => readdirSync(path.join(ROOT, dir)).map((f) => `${dir}/${f}`))
    .filter((f) => f.endsWith('.test.ts') && uses.test(readFileSync(path.join(ROOT, f), 'utf8')))
    .sort();
}

describe('vitest on a machine without the servers', () => {
  const vitest = (env: Record<string, string>, files = ['test/integration/metastore-mariadb.test.ts']) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'CI' && k !== 'TEST'),
    );
    return spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...files], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 280_000,
      env: {
        ...clean,
        AIRFLOW_SECRETS_TEST_BIN_PATH: '/nonexistent',
        AIRFLOW_SECRETS_TEST_PROVISION: '0',
        NO_COLOR: '1',
        ...env,
      },
    });
  };

  it('outside CI: one line per missing server, every server test file skips its server tests, the run passes', () => {
    const files = serverTestFiles();
    expect(files).toEqual(
      expect.arrayContaining([
        'test/integration/clients-redis.test.ts',
        'test/integration/clients-sql.db.test.ts',
        'test/integration/metastore-cancellation.test.ts',
        'test/integration/metastore-cli.test.ts',
        'test/integration/metastore-mariadb.test.ts',
        'test/integration/metastore-postgres.test.ts',
        'test/integration/metastore-servers.test.ts',
        'test/integration/rotation-postgres.db.test.ts',
      ]),
    );
    const r = vitest({}, files);
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(0);
    expect(out).toContain(
      'MariaDB is not installed (mariadbd or mysqld, mariadb-install-db or mysql_install_db not found in /nonexistent; AIRFLOW_SECRETS_TEST_PROVISION=0). Install it: apt-get install -y mariadb-server — its tests skip (outside CI only).',
    );
    for (const server of ['MariaDB', 'PostgreSQL 15', 'redis-server']) {
      expect(out.match(new RegExp(`^${server} is not installed`, 'gm')), server).toHaveLength(1);
    }
    expect(out).toMatch(new RegExp(`Test Files\\s+${files.length} passed \\(${files.length}\\)`));
    expect(out).toMatch(/Tests\s+\d+ passed \| \d+ skipped \(\d+\)/);
    expect(out).not.toMatch(/\d+ failed/);
  }, 300_000);

  it('under CI=true: the run fails, naming each missing server', () => {
    const r = vitest({ CI: 'true' });
    const out = r.stdout + r.stderr;
    expect(r.status, out).not.toBe(0);
    expect(out).toContain('CI=true: the test servers must be installed.');
    expect(out).toContain('MariaDB is not installed');
    expect(out).toContain('PostgreSQL 15 is not installed');
  });
});
