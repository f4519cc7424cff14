/**
 * The metastore's server drivers stop their remote work when a lookup settles (issue 11 item 2):
 * against a server that never answers, and against the real PostgreSQL and MariaDB from global
 * setup with the table locked by another session (so our SELECT waits on the server). When the
 * lookup's signal aborts or the backend closes, our connection is destroyed: the silent server
 * sees it closed, the real server no longer lists our session. No durations are asserted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { metastore } from '../../src/backends/metastore.js';
import { BackendError } from '../../src/errors.js';
import { closed, type HostileServer, startHostileServer } from '../fakes/hostile-http.js';
import { rejection } from '../helpers/assertions.js';
import { createTestDatabase, skipWithoutServer, type TestDatabase } from '../helpers/db-targets.js';
import { recordingLogger } from '../helpers/metastore-suite.js';

const servers: HostileServer[] = [];
const dbs: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(dbs.splice(0).map((d) => d.drop()));
});

/** Polls `check` until it is true; fails after `ms` (an "eventually", not a speed claim). */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not true within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const [target, scheme] of [
  ['postgres', 'postgresql'],
  ['mariadb', 'mysql'],
] as const) {
  describe(`${target}: reads are cancelled`, () => {
    it("a server that never answers: the lookup's signal closes the connection", async () => {
      const s = await startHostileServer('silent');
      servers.push(s);
      const b = metastore({
        url: `${scheme}://u:p@127.0.0.1:${s.port}/airflow`,
        timeoutMs: 60_000,
        logger: recordingLogger(),
      });
      const ac = new AbortController();
      const pending = rejection(b.getVariable('v', { signal: ac.signal }));
      const socket = await s.connection(1);
      ac.abort();
      expect(await pending).toBeInstanceOf(BackendError);
      await closed(socket);
      await b.close();
    });

    it('a server that never answers: close() closes the connection and returns', async () => {
      const s = await startHostileServer('silent');
      servers.push(s);
      const b = metastore({
        url: `${scheme}://u:p@127.0.0.1:${s.port}/airflow`,
        timeoutMs: 60_000,
        logger: recordingLogger(),
      });
      const pending = rejection(b.getVariable('v'));
      const socket = await s.connection(1);
      await b.close();
      expect(await pending).toBeInstanceOf(Error);
      await closed(socket);
    });

    it('a query waiting on a locked table: aborting ends our session on the server', async (ctx) => {
      skipWithoutServer(ctx, target);
      const db = await createTestDatabase(target);
      dbs.push(db);
      await db.createTables();
      const app = `cancel_${process.pid}_${Date.now().toString(36)}`;
      const url = target === 'postgres' ? `${db.url}?application_name=${app}` : db.url;
      const dbName = db.url.slice(db.url.lastIndexOf('/') + 1);
      const sessions = async () => {
        const rows =
          target === 'postgres'
            ? await db.raw.all('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ?', [app])
            : await db.raw.all(
                'SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE ?',
                [dbName, 'SELECT%variable%'],
              );
        return Number(rows[0]!.n);
      };
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      let locked = () => {};
      const isLocked = new Promise<void>((r) => (locked = r));
      const lock = db.raw.transaction(async (tx) => {
        await tx.run(
          target === 'postgres'
            ? 'LOCK TABLE variable IN ACCESS EXCLUSIVE MODE'
            : 'LOCK TABLES variable WRITE',
        );
        locked();
        await held;
        if (target === 'mariadb') await tx.run('UNLOCK TABLES');
      });
      await isLocked;
      const b = metastore({ url, timeoutMs: 60_000, logger: recordingLogger() });
      const ac = new AbortController();
      const pending = rejection(b.getVariable('v', { signal: ac.signal }));
      await eventually(async () => (await sessions()) === 1);
      ac.abort();
      expect(await pending).toBeInstanceOf(BackendError);
      await eventually(async () => (await sessions()) === 0);
      release();
      await lock;
      await b.close();
    });
  });
}
