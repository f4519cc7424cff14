/**
 * Starts the servers the metastore integration tests need — a throwaway PostgreSQL 15 and MariaDB —
 * once per `vitest run`, hands their admin URLs to the tests (`inject('metastoreDbs')`), and stops
 * them (killing the processes and deleting their temporary directories) at the end.
 *
 * With `CI=true` a server that cannot start fails the whole run. Otherwise the failure is handed to
 * the tests, and every test that needs that server fails with the reason. When the run's test files
 * include none that need a database (names containing `metastore` or `.db.`), nothing is started,
 * unless `AIRFLOW_SECRETS_TEST_DBS=1`. A redis-server for the client tests (`inject('redisServer')`)
 * starts the same way when a test file's name contains `redis`, and always under `CI=true`.
 */
import type { TestProject } from 'vitest/node';
import { type MetastoreDbs, type RunningServer, startMariadb, startPostgres } from './helpers/db-servers.js';
import { startRedis } from './helpers/redis-server.js';

const NEEDS_DB = /metastore|\.db\./i;
const NEEDS_REDIS = /redis/i;

let running: RunningServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  await setupRedis(project, ci);
  const dbs: MetastoreDbs = { postgres: null, mysql: null, errors: {} };
  if (!ci && process.env.AIRFLOW_SECRETS_TEST_DBS !== '1' && !runIncludesDbTests(project)) {
    dbs.errors.all = 'global setup started no database server: no test file of this run needed one';
    project.provide('metastoreDbs', dbs);
    return;
  }
  const results = await Promise.allSettled([startPostgres(), startMariadb()]);
  running.push(...results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
  const [pg, maria] = results;
  if (pg?.status === 'fulfilled') dbs.postgres = pg.value.url;
  else dbs.errors.postgres = String((pg?.reason as Error)?.message ?? pg?.reason);
  if (maria?.status === 'fulfilled') dbs.mysql = maria.value.url;
  else dbs.errors.mariadb = String((maria?.reason as Error)?.message ?? maria?.reason);
  if (ci && Object.keys(dbs.errors).length > 0) {
    await teardown();
    throw new Error(
      `CI=true: the metastore test servers must start.\n${Object.values(dbs.errors).join('\n')}`,
    );
  }
  project.provide('metastoreDbs', dbs);
}

export async function teardown(): Promise<void> {
  const servers = running;
  running = [];
  await Promise.allSettled(servers.map((s) => s.stop()));
}

/** redis-server for the client tests (file names containing `redis`); under CI it must start. */
async function setupRedis(project: TestProject, ci: boolean): Promise<void> {
  if (!ci && !runIncludesDbTests(project, NEEDS_REDIS)) {
    project.provide('redisServer', {
      error: 'global setup started no redis-server: no test file needed one',
    });
    return;
  }
  try {
    const server = await startRedis();
    running.push(server);
    project.provide('redisServer', server.info);
  } catch (e) {
    if (ci) throw new Error(`CI=true: the redis test server must start.\n${(e as Error).message}`);
    project.provide('redisServer', { error: (e as Error).message });
  }
}

/** The test files of this run, when vitest has listed them already; unknown → assume yes. */
function runIncludesDbTests(project: TestProject, needs: RegExp = NEEDS_DB): boolean {
  try {
    const paths =
      (project.vitest as unknown as { state?: { getPaths?(): string[] } }).state?.getPaths?.() ?? [];
    return paths.length === 0 || paths.some((p) => needs.test(p));
  } catch {
    return true;
  }
}
