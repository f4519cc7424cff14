/**
 * Finding and, when missing, installing the server binaries the tests need: PostgreSQL 15,
 * MariaDB and redis-server, from Debian's packages (`postgresql-15`, `mariadb-server`,
 * `redis-server`), as `.ci/run` does.
 *
 * - Binaries are looked up in a list of folders: `AIRFLOW_SECRETS_TEST_BIN_PATH` (colon-separated)
 *   replaces the default list, so a test can simulate "not installed" without uninstalling;
 *   `PG_BIN` is searched first for PostgreSQL.
 * - Missing packages are installed with `apt-get` (one `update`, one `install` for all of them) when
 *   the process runs as root and `apt-get` exists, unless `AIRFLOW_SECRETS_TEST_PROVISION=0`.
 *   Installs are serialised across processes by a lock directory (two `npm test` runs or parallel
 *   projects never run apt at once), and the binaries are looked up again once the lock is held.
 * - What cannot be found or installed is reported as one line per server, saying why and the
 *   command that fixes it. The caller decides what that means (global setup: skip outside CI,
 *   fail under `CI=true`).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type ServerName = 'postgres' | 'mariadb' | 'redis';

/** The executables a server needs, each one of several names. */
interface ServerPackage {
  /** Shown in messages. */
  label: string;
  /** The Debian package that provides it. */
  apt: string;
  /** role → accepted file names (the first one found in the folders wins). */
  binaries: Record<string, readonly string[]>;
}

export const SERVER_PACKAGES: Record<ServerName, ServerPackage> = {
  postgres: {
    label: 'PostgreSQL 15',
    apt: 'postgresql-15',
    binaries: { initdb: ['initdb'], server: ['postgres'] },
  },
  mariadb: {
    label: 'MariaDB',
    apt: 'mariadb-server',
    binaries: { server: ['mariadbd', 'mysqld'], install: ['mariadb-install-db', 'mysql_install_db'] },
  },
  redis: { label: 'redis-server', apt: 'redis-server', binaries: { server: ['redis-server'] } },
};

/** role → absolute path of the executable. */
export type Binaries = Record<string, string>;

export type Found = { binaries: Binaries } | { error: string };

export interface ProvisionOptions {
  /** Folders to look in (default: `AIRFLOW_SECRETS_TEST_BIN_PATH`, else the usual Debian folders). */
  dirs?: readonly string[];
  /** Install missing packages (default: unless `AIRFLOW_SECRETS_TEST_PROVISION=0`). */
  install?: boolean;
  /** Running as root (default: the process's uid is 0). */
  root?: boolean;
  /** The apt-get executable (default: /usr/bin/apt-get when it exists). */
  aptGet?: string | null;
  /** The lock directory that serialises installs across processes. */
  lockDir?: string;
  /** Progress lines (installing …, installed …). */
  log?: (line: string) => void;
}

export function defaultDirs(server?: ServerName): string[] {
  const fromEnv = process.env.AIRFLOW_SECRETS_TEST_BIN_PATH;
  if (fromEnv !== undefined) return fromEnv.split(':').filter(Boolean);
  const pg =
    server === 'postgres' || server === undefined ? [process.env.PG_BIN, '/usr/lib/postgresql/15/bin'] : [];
  return [...pg, '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'].filter(
    (d): d is string => typeof d === 'string' && d !== '',
  );
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The server's binaries in `dirs`, or the names that are missing. */
export function findBinaries(
  server: ServerName,
  dirs: readonly string[],
): { binaries: Binaries } | { missing: string[] } {
  const found: Binaries = {};
  const missing: string[] = [];
  for (const [role, names] of Object.entries(SERVER_PACKAGES[server].binaries)) {
    const hit = dirs.flatMap((d) => names.map((n) => path.join(d, n))).find(executable);
    if (hit) found[role] = hit;
    else missing.push(names.join(' or '));
  }
  return missing.length ? { missing } : { binaries: found };
}

function defaultAptGet(): string | null {
  return executable('/usr/bin/apt-get') ? '/usr/bin/apt-get' : null;
}

/**
 * Each server's binaries, installing the missing packages first when allowed. Never throws for a
 * missing server: its entry says why it is missing.
 */
export async function provision(
  servers: readonly ServerName[],
  options: ProvisionOptions = {},
): Promise<Record<string, Found>> {
  const dirsFor = (s: ServerName) => options.dirs ?? defaultDirs(s);
  const look = () =>
    Object.fromEntries(servers.map((s) => [s, findBinaries(s, dirsFor(s))] as const)) as Record<
      ServerName,
      ReturnType<typeof findBinaries>
    >;
  let seen = look();
  const missing = () => servers.filter((s) => 'missing' in seen[s]);
  const install = options.install ?? process.env.AIRFLOW_SECRETS_TEST_PROVISION !== '0';
  const root = options.root ?? process.getuid?.() === 0;
  const aptGet = options.aptGet === undefined ? defaultAptGet() : options.aptGet;
  let installError: string | null = null;
  if (missing().length > 0 && install && root && aptGet) {
    const lockDir = options.lockDir ?? path.join(tmpdir(), 'airflow-secrets-test-provision.lock');
    const release = await acquireLock(lockDir);
    try {
      seen = look(); // another run may have installed them while we waited
      const packages = missing().map((s) => SERVER_PACKAGES[s].apt);
      if (packages.length > 0) {
        options.log?.(`test servers: installing ${packages.join(' ')} with apt-get (not found)`);
        installError = await aptInstall(aptGet, packages);
        seen = look();
        if (!installError) options.log?.(`test servers: installed ${packages.join(' ')}`);
      }
    } finally {
      release();
    }
  }
  const why = (s: ServerName): string => {
    if (installError) return `apt-get failed: ${installError}`;
    if (!install) return 'AIRFLOW_SECRETS_TEST_PROVISION=0';
    if (!root) return 'not running as root, so not installed with apt-get';
    if (!aptGet) return 'no apt-get on this machine';
    return `still missing after apt-get install ${SERVER_PACKAGES[s].apt}`;
  };
  return Object.fromEntries(
    servers.map((s) => {
      const r = seen[s];
      if (!('missing' in r)) return [s, r];
      const p = SERVER_PACKAGES[s];
      const where = dirsFor(s).join(':') || '(no folders)';
      return [
        s,
        {
          error: `${p.label} is not installed (${r.missing.join(', ')} not found in ${where}; ${why(s)}). Install it: apt-get install -y ${p.apt}`,
        },
      ];
    }),
  );
}

/** `apt-get update` then one `apt-get install` of every package; null on success, else the reason. */
async function aptInstall(aptGet: string, packages: readonly string[]): Promise<string | null> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  const update = await run(aptGet, [...lockWait, 'update', '-qq'], env);
  if (update) return `apt-get update: ${update}`;
  const installed = await run(
    aptGet,
    [...lockWait, 'install', '-y', '-qq', '--no-install-recommends', ...packages],
    env,
  );
  return installed ? `apt-get install ${packages.join(' ')}: ${installed}` : null;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => resolve(e.message));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(null);
      else {
        const tail = output.trim().split('\n').slice(-5).join(' | ');
        resolve(`exit ${signal ?? code}${tail ? `: ${tail}` : ''}`);
      }
    });
  });
}

/**
 * A lock across processes: a directory created atomically, holding the owner's pid. A lock whose
 * owner is gone is taken over. Waits up to 20 minutes (an apt install of three servers).
 */
export async function acquireLock(dir: string, waitMs = 20 * 60_000): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!ownerAlive(dir)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the install lock ${dir}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function ownerAlive(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
  } catch {
    // No pid yet: being created right now, or its owner died in between (then it is old).
    try {
      return Date.now() - statSync(dir).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
