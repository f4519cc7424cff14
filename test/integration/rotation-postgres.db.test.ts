/**
 * Issue 15 item 2, end to end against the real PostgreSQL 15 that global setup starts: a service
 * holds a `pg.Pool` built from a cached connection; the password is rotated in the database and in
 * the source; the next query fails authentication, `withFreshConnection` reads the connection
 * again, `watch` sees the new value and rebuilds the pool, and the query succeeds — no restart.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memory } from '../../src/backends/memory.js';
import { pgConfig } from '../../src/clients/index.js';
import type { Connection } from '../../src/connection.js';
import { silentLogger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { withFreshConnection } from '../../src/resolver/rotation.js';
import { missingServer, serverUrl, skipWithoutServer } from '../helpers/db-targets.js';

const ROLE = `rot_${process.pid}_${Date.now().toString(36)}`;
const FIRST = 'first-Passw0rd';
const SECOND = 'second-Passw0rd';
let admin: pg.Client | undefined;
let server: URL;

beforeAll(async () => {
  // Not installed (outside CI): the test skips (skipWithoutServer); under CI=true it fails there.
  if (missingServer('postgres') !== null) return;
  server = new URL(serverUrl('postgres'));
  admin = new pg.Client({
    host: server.hostname,
    port: Number(server.port),
    user: decodeURIComponent(server.username),
    password: decodeURIComponent(server.password),
    database: 'postgres',
  });
  await admin.connect();
  await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${FIRST}'`);
});

afterAll(async () => {
  if (!admin) return;
  await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${ROLE}'`);
  await admin.query(`DROP ROLE IF EXISTS ${ROLE}`);
  await admin.end();
});

const uri = (password: string) =>
  `postgres://${ROLE}:${encodeURIComponent(password)}@${server.hostname}:${server.port}/postgres`;

describe('a pg.Pool rebuilt on rotation', () => {
  it('rotating the password in the database and the source needs no restart', async (ctx) => {
    skipWithoutServer(ctx, 'postgres');
    const db = admin!;
    const source = memory({ connections: { orders_db: uri(FIRST) } });
    const resolver = createResolver({ backends: [source], cache: { ttl: 900, refreshAhead: 0.8 } });

    // The service: one pool from the cached connection, rebuilt whenever the connection changes.
    const poolFor = (c: Connection) => {
      const p = new pg.Pool({ ...pgConfig(c, { logger: silentLogger }), max: 2 });
      p.on('error', () => {}); // an idle client killed by the server must not crash the process
      return p;
    };
    let pool = poolFor(await resolver.getConnectionOrThrow('orders_db'));
    const retired: pg.Pool[] = [];
    let rebuilt = 0;
    const stop = resolver.watch('connection', 'orders_db', (c) => {
      if (!c) return;
      retired.push(pool);
      pool = poolFor(c);
      rebuilt++;
    });
    const whoAmI = () =>
      withFreshConnection(resolver, 'orders_db', async () => {
        const r = await pool.query<{ u: string }>('SELECT current_user AS u');
        return r.rows[0]!.u;
      });

    expect(await whoAmI()).toBe(ROLE);
    expect(rebuilt).toBe(0);

    // Rotate: the database first, then the source; the open sessions are closed by the server.
    // Until the pool has seen its idle session die, it could hand that dead session out (57P01):
    // wait for the pool's 'remove' event of each session it holds (listening before the kill).
    const sessions = pool.totalCount;
    expect(sessions).toBeGreaterThan(0);
    const current = pool;
    const removed = new Promise<void>((resolve) => {
      let n = 0;
      current.on('remove', () => {
        if (++n === sessions) resolve();
      });
    });
    await db.query(`ALTER ROLE ${ROLE} PASSWORD '${SECOND}'`);
    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${ROLE}'`);
    await removed;
    expect(pool.totalCount).toBe(0);
    source.setConnection('orders_db', uri(SECOND));

    // The old pool's new session is refused (28P01); the retry reads the source, the watcher
    // rebuilds the pool, and the query goes through the new one.
    expect(await whoAmI()).toBe(ROLE);
    expect(rebuilt).toBe(1);
    expect((await resolver.getConnection('orders_db'))?.password).toBe(SECOND);
    expect(await whoAmI()).toBe(ROLE);
    expect(rebuilt).toBe(1);

    stop();
    await Promise.all([...retired, pool].map((p) => p.end()));
    await resolver.close();
  });
});
