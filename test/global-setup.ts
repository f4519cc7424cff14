/**
 * Starts the servers the integration tests need — a throwaway PostgreSQL 15 and MariaDB for the
 * metastore tests, a redis-server for the client tests — once per `vitest run`, hands their URLs
 * to the tests (`inject('metastoreDbs')`, `inject('redisServer')`), and stops them (killing the
 * processes and deleting their temporary directories) at the end.
 *
 * A server that is not installed is installed first, with apt-get, when running as root
 * (test/helpers/provision.ts: once, under a lock shared by concurrent runs). If it still is not
 * there, one line says so and why, and the tests that need it skip — outside CI only: with
 * `CI=true` a missing server, or one that cannot start, fails the whole run. Outside CI a server
 * that is installed but cannot start is handed to the tests as an error, and they fail with it.
 *
 * When the run's test files include none that need a database (names containing `metastore` or
 * `.db.`), no database server is started, unless `AIRFLOW_SECRETS_TEST_DBS=1`; redis-server starts
 * only when a test file's name contains `redis`. Under `CI=true` all three always start.
 *
 * The package is built and packed once (test/helpers/packed.ts) when a test file's name contains
 * `installed` or `bundl` (the tests that install the tarball into a consumer project), and always
 * under `CI=true`.
 */
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { type MetastoreDbs, type RunningServer, startMariadb, startPostgres } from './helpers/db-servers.js';
import { packPackage } from './helpers/packed.js';
import { type Found, provision, type ServerName } from './helpers/provision.js';
import { startRedis } from './helpers/redis-server.js';

const NEEDS_DB = /metastore|\.db\./i;
const NEEDS_REDIS = /redis/i;
const NEEDS_PACKAGE = /installed|bundl/i;

let running: RunningServer[] = [];
const cleanups: (() => void)[] = [];

export async function setup(project: TestProject): Promise<void> {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  const wantDbs = ci || process.env.AIRFLOW_SECRETS_TEST_DBS === '1' || runIncludes(project, NEEDS_DB);
  const wantRedis = ci || runIncludes(project, NEEDS_REDIS);
  const wanted: ServerName[] = [
    ...(wantDbs ? (['postgres', 'mariadb'] as const) : []),
    ...(wantRedis ? (['redis'] as const) : []),
  ];
  const found = await provision(wanted, { log: (line) => console.log(line) });
  const missing = wanted.flatMap((s) => {
    const f = found[s];
    return f && 'error' in f ? [f.error] : [];
  });
  if (ci && missing.length > 0) {
    throw new Error(`CI=true: the test servers must be installed.\n${missing.join('\n')}`);
  }
  for (const line of missing) console.warn(`${line} — its tests skip (outside CI only).`);
  setupPackage(project, ci || runIncludes(project, NEEDS_PACKAGE));
  try {
    await setupRedis(project, wantRedis ? found.redis : undefined, ci);
    await setupDbs(project, wantDbs ? found : null, ci);
  } catch (e) {
    await teardown();
    throw e;
  }
}

export async function teardown(): Promise<void> {
  const servers = running;
  running = [];
  for (const c of cleanups.splice(0)) c();
  await Promise.allSettled(servers.map((s) => s.stop()));
}

/** The package built and packed once, for the tests that install it (test/helpers/packed.ts). */
function setupPackage(project: TestProject, wanted: boolean): void {
  if (!wanted) {
    project.provide('packedPackage', {
      error: 'global setup packed nothing: no test file needed the package',
    });
    return;
  }
  const packed = packPackage();
  cleanups.push(() => rmSync(packed.dir, { recursive: true, force: true }));
  project.provide('packedPackage', packed);
}

async function setupDbs(
  project: TestProject,
  found: Record<string, Found> | null,
  ci: boolean,
): Promise<void> {
  const dbs: MetastoreDbs = { postgres: null, mysql: null, errors: {}, missing: {} };
  if (!found) {
    dbs.errors.all = 'global setup started no database server: no test file of this run needed one';
    project.provide('metastoreDbs', dbs);
    return;
  }
  const start = async (name: 'postgres' | 'mariadb'): Promise<void> => {
    const f = found[name]!;
    if ('error' in f) {
      dbs.missing[name] = f.error;
      return;
    }
    try {
      const server = name === 'postgres' ? await startPostgres(f.binaries) : await startMariadb(f.binaries);
      running.push(server);
      if (name === 'postgres') dbs.postgres = server.url;
      else dbs.mysql = server.url;
    } catch (e) {
      dbs.errors[name] = String((e as Error)?.message ?? e);
    }
  };
  await Promise.all([start('postgres'), start('mariadb')]);
  if (ci && Object.keys(dbs.errors).length > 0) {
    throw new Error(
      `CI=true: the metastore test servers must start.\n${Object.values(dbs.errors).join('\n')}`,
    );
  }
  project.provide('metastoreDbs', dbs);
}

/** redis-server for the client tests (file names containing `redis`); under CI it must start. */
async function setupRedis(project: TestProject, found: Found | undefined, ci: boolean): Promise<void> {
  if (!found) {
    project.provide('redisServer', {
      error: 'global setup started no redis-server: no test file needed one',
    });
    return;
  }
  if ('error' in found) {
    project.provide('redisServer', { error: found.error });
    return;
  }
  try {
    const server = await startRedis(found.binaries);
    running.push(server);
    project.provide('redisServer', server.info);
  } catch (e) {
    if (ci) throw new Error(`CI=true: the redis test server must start.\n${(e as Error).message}`);
    project.provide('redisServer', { error: (e as Error).message });
  }
}

/** Whether this run's test files (when vitest has listed them already) need it; unknown → yes. */
function runIncludes(project: TestProject, needs: RegExp): boolean {
  try {
    const paths =
      (project.vitest as unknown as { state?: { getPaths?(): string[] } }).state?.getPaths?.() ?? [];
    return paths.length === 0 || paths.some((p) => needs.test(p));
  } catch {
    return true;
  }
}
