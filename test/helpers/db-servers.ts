/**
 * Throwaway PostgreSQL 15 and MariaDB servers for the metastore tests (binaries found, or installed,
 * by ./provision.ts and handed in by global setup): each is initialised into a
 * fresh temporary directory and listens on a free 127.0.0.1 port (plus a unix socket inside that
 * directory). Running as root, the servers run as the unprivileged `nobody` user (PostgreSQL and
 * MariaDB refuse root). `stop()` kills the server and deletes the directory; an exit hook does the
 * same if the test run dies first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Binaries, defaultDirs, findBinaries, SERVER_PACKAGES, type ServerName } from './provision.js';

/** What global setup hands to the tests (`inject('metastoreDbs')`). */
export interface MetastoreDbs {
  /** Superuser URL (no database), e.g. `postgresql://postgres:…@127.0.0.1:PORT/postgres`. */
  postgres: string | null;
  /** Admin URL with no database, e.g. `mysql://airflow:…@127.0.0.1:PORT`. */
  mysql: string | null;
  /** Why an installed server is not running (failed to start), by server name: its tests fail. */
  errors: Record<string, string>;
  /** Servers that are not installed (and could not be installed), by name, with why: their tests skip outside CI. */
  missing: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    metastoreDbs: MetastoreDbs;
  }
}

export interface RunningServer {
  name: string;
  url: string;
  stop(): Promise<void>;
}

export const PG_PASSWORD = 'pg s3cr:et/@pw';
export const MYSQL_PASSWORD = 'my$ql p@ss:/w';
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const asUser = isRoot ? { uid: NOBODY, gid: NOBODY } : {};

const live = new Set<{ child: ChildProcess | null; dir: string }>();
let hooked = false;
export function track(entry: { child: ChildProcess | null; dir: string }) {
  live.add(entry);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const e of live) {
        try {
          e.child?.kill('SIGKILL');
        } catch {}
        rmSync(e.dir, { recursive: true, force: true });
      }
    });
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (isRoot) chownSync(dir, NOBODY, NOBODY);
  return dir;
}

/** The server's binaries from the default folders (test/helpers/provision.ts), or a thrown reason. */
export function need(server: ServerName): Binaries {
  const found = findBinaries(server, defaultDirs(server));
  if ('missing' in found) {
    const p = SERVER_PACKAGES[server];
    throw new Error(`${p.label} not found (${found.missing.join(', ')}): apt-get install -y ${p.apt}`);
  }
  return found.binaries;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Run a command to completion (as `nobody` when root); reject with its log tail on failure. */
function runTool(cmd: string, args: string[], log: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openSync(log, 'a');
    const child = spawn(cmd, args, { ...asUser, stdio: ['ignore', fd, fd], env: toolEnv() });
    closeSync(fd);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(cmd)} failed (${signal ?? code}):\n${tail(log)}`));
    });
  });
}

function toolEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC' };
}

/** Start a long-running server and wait until `ready()` succeeds (or the server exits). */
export async function startServer(
  name: string,
  cmd: string,
  args: string[],
  dir: string,
  log: string,
  ready: () => Promise<void>,
  timeoutMs = 60_000,
): Promise<ChildProcess> {
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { ...asUser, stdio: ['ignore', fd, fd], env: toolEnv() });
  closeSync(fd);
  const entry = { child, dir };
  track(entry);
  let exited: string | null = null;
  child.on('exit', (code, signal) => {
    exited = `${signal ?? code}`;
  });
  child.on('error', (e) => {
    exited = e.message;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== null) throw new Error(`${name} exited during startup (${exited}):\n${tail(log)}`);
    try {
      await ready();
      return child;
    } catch (e) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `${name} did not become ready in ${timeoutMs} ms (${(e as Error).message}):\n${tail(log)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function stopServer(
  entry: { child: ChildProcess | null; dir: string },
  signal: NodeJS.Signals,
): Promise<void> {
  const child = entry.child;
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
  rmSync(entry.dir, { recursive: true, force: true });
  live.delete(entry);
}

export async function startPostgres(binaries?: Binaries): Promise<RunningServer> {
  const bins = binaries ?? need('postgres');
  const initdb = bins.initdb!;
  const postgres = bins.server!;
  const dir = tempDir('airflow-secrets-pg-');
  const entry = { child: null as ChildProcess | null, dir };
  track(entry);
  try {
    const pwfile = path.join(dir, 'pwfile');
    writeFileSync(pwfile, `${PG_PASSWORD}\n`, { mode: 0o600 });
    if (isRoot) chownSync(pwfile, NOBODY, NOBODY);
    const log = path.join(dir, 'server.log');
    const data = path.join(dir, 'data');
    await runTool(
      initdb,
      [
        '-D',
        data,
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        `--pwfile=${pwfile}`,
        '--no-sync',
        '-E',
        'UTF8',
        '--locale=C',
      ],
      log,
    );
    const port = await freePort();
    const url = `postgresql://postgres:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:${port}/postgres`;
    const { default: pg } = await import('pg');
    entry.child = await startServer(
      'postgres',
      postgres,
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-h',
        '127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      dir,
      log,
      async () => {
        const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
        try {
          await c.connect();
          await c.query('SELECT 1');
        } finally {
          await c.end().catch(() => undefined);
        }
      },
    );
    return { name: 'postgres', url, stop: () => stopServer(entry, 'SIGINT') };
  } catch (e) {
    await stopServer(entry, 'SIGKILL');
    throw e;
  }
}

export async function startMariadb(binaries?: Binaries): Promise<RunningServer> {
  const bins = binaries ?? need('mariadb');
  const server = bins.server!;
  const install = bins.install!;
  const dir = tempDir('airflow-secrets-mariadb-');
  const entry = { child: null as ChildProcess | null, dir };
  track(entry);
  try {
    const log = path.join(dir, 'server.log');
    const data = path.join(dir, 'data');
    const socket = path.join(dir, 'mysqld.sock');
    await runTool(
      install,
      ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
      log,
    );
    const port = await freePort();
    const mysql = (await import('mysql2/promise')).default;
    entry.child = await startServer(
      'mariadbd',
      server,
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        `--pid-file=${path.join(dir, 'mysqld.pid')}`,
        `--log-error=${log}`,
        `--tmpdir=${dir}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        '--innodb-flush-log-at-trx-commit=0',
        '--max-connections=200',
      ],
      dir,
      log,
      async () => {
        const c = await mysql.createConnection({ socketPath: socket, user: 'root', connectTimeout: 2000 });
        try {
          await c.query(
            `CREATE USER IF NOT EXISTS 'airflow'@'127.0.0.1' IDENTIFIED BY ${c.escape(MYSQL_PASSWORD)}`,
          );
          await c.query(`GRANT ALL PRIVILEGES ON *.* TO 'airflow'@'127.0.0.1' WITH GRANT OPTION`);
        } finally {
          await c.end().catch(() => undefined);
        }
      },
    );
    const url = `mysql://airflow:${encodeURIComponent(MYSQL_PASSWORD)}@127.0.0.1:${port}`;
    return { name: 'mariadb', url, stop: () => stopServer(entry, 'SIGTERM') };
  } catch (e) {
    await stopServer(entry, 'SIGKILL');
    throw e;
  }
}
