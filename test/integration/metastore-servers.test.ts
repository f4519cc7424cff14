/**
 * Server failures, against the real PostgreSQL and MariaDB from global setup: nothing listening,
 * a wrong password, a database that does not exist, a server that never answers. Every error is
 * typed and names the database with its password masked.
 */
import net from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metastore } from '../../src/backends/metastore.js';
import { AccessDeniedError, BackendTimeoutError, BackendUnavailableError } from '../../src/errors.js';
import { parseSqlAlchemyUrl } from '../../src/metastore/url.js';
import { rejection } from '../helpers/assertions.js';
import { serverUrl, skipWithoutServer } from '../helpers/db-targets.js';
import { recordingLogger } from '../helpers/metastore-suite.js';

const SECRET = 'N0t-Th1s_0ne';

function expectMasked(err: Error, ...secrets: string[]) {
  expect(err.message).toContain('***');
  const text = `${err.message} ${inspect(err, { depth: 6 })} ${JSON.stringify(err)}`;
  for (const s of secrets) {
    expect(text).not.toContain(s);
    expect(text).not.toContain(encodeURIComponent(s));
  }
}

let closedPort: number;
let silent: net.Server;
let silentPort: number;
const sockets = new Set<net.Socket>();
beforeAll(async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  silent = net.createServer((s) => void sockets.add(s)); // accepts, never answers
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
});

for (const target of ['postgres', 'mariadb'] as const) {
  const scheme = target === 'postgres' ? 'postgresql+psycopg2' : 'mysql+mysqldb';
  describe(`${target} failures`, () => {
    it('nothing listening: BackendUnavailableError naming the database, password masked', async () => {
      const b = metastore({
        url: `${scheme}://airflow:${SECRET}@127.0.0.1:${closedPort}/airflow`,
        logger: recordingLogger(),
      });
      const err = await rejection(b.getConnection('c'));
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect(err.message).toContain(`127.0.0.1:${closedPort}/airflow`);
      expectMasked(err, SECRET);
      await b.close();
    });

    it('a wrong password: AccessDeniedError, neither password shown', async (ctx) => {
      skipWithoutServer(ctx, target);
      const admin = parseSqlAlchemyUrl(serverUrl(target));
      const url = `${scheme}://${encodeURIComponent(admin.username!)}:${SECRET}@127.0.0.1:${admin.port}/${target === 'postgres' ? 'postgres' : 'mysql'}`;
      const b = metastore({ url, logger: recordingLogger() });
      const err = await rejection(b.getVariable('v'));
      expect(err).toBeInstanceOf(AccessDeniedError);
      expectMasked(err, SECRET, admin.password!);
      await b.close();
    });

    it('a database that does not exist: BackendUnavailableError', async (ctx) => {
      skipWithoutServer(ctx, target);
      const admin = serverUrl(target);
      const url = target === 'postgres' ? admin.replace(/\/postgres$/, '/no_such_db') : `${admin}/no_such_db`;
      const b = metastore({ url, logger: recordingLogger() });
      const err = await rejection(b.getVariable('v'));
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect(err.message).toContain('no_such_db');
      expectMasked(err, parseSqlAlchemyUrl(admin).password!);
      await b.close();
    });

    it('a server that never answers: BackendTimeoutError within timeoutMs', async () => {
      const b = metastore({
        url: `${scheme}://u:${SECRET}@127.0.0.1:${silentPort}/airflow`,
        timeoutMs: 300,
        logger: recordingLogger(),
      });
      const err = await rejection(b.getVariable('v'));
      expect(err).toBeInstanceOf(BackendTimeoutError);
      expectMasked(err, SECRET);
      await b.close();
    });
  });
}
