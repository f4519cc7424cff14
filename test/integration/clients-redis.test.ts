/**
 * redisOptions: ioredis and node-redis connect to a real redis-server (started by global setup on a
 * free loopback port, test/helpers/redis-server.ts) with the options, and run commands. Outside CI
 * a machine without redis-server skips the server tests with one line; under CI=true global setup
 * fails instead.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { describe, expect, inject, it, type TestContext } from 'vitest';
import { redisOptions } from '../../src/clients/index.js';
import { Connection } from '../../src/connection.js';
import { ConfigurationError } from '../../src/errors.js';
import { type Logger, silentLogger } from '../../src/logger.js';
import type { RedisServerInfo } from '../helpers/redis-server.js';

const provided = inject('redisServer');
const server = 'port' in provided ? (provided as RedisServerInfo) : null;
let said = false;

/** The server, or (outside CI only) a skip with one clear line. */
function need(ctx: TestContext): RedisServerInfo {
  if (server) return server;
  const why = (provided as { error: string }).error;
  if (process.env.CI === 'true') throw new Error(`CI=true: no redis-server: ${why}`);
  if (!said) console.warn(`clients-redis: skipping the redis-server tests: ${why}`);
  said = true;
  ctx.skip();
  throw new Error('unreachable');
}

const conn = (s: RedisServerInfo, extra: Record<string, unknown> = {}, login: string | null = s.username) =>
  new Connection({
    id: 'cache',
    type: 'redis',
    host: s.host,
    port: s.port,
    login,
    password: login === null ? s.defaultPassword : s.password,
    extra,
  });

describe('redisOptions against redis-server', () => {
  it('ioredis connects with login, password and db, and runs commands', async (ctx) => {
    const s = need(ctx);
    const client = new Redis({
      ...redisOptions(conn(s, { db: 3 })),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    try {
      await client.connect();
      await client.set('clients:k', 'v1');
      expect(await client.get('clients:k')).toBe('v1');
      expect(await client.acl('WHOAMI')).toBe(s.username);
      const info = (await client.client('INFO')) as string;
      expect(info).toMatch(/ db=3 /);
    } finally {
      client.disconnect();
    }
  });

  it('node-redis connects with the default user (no login) and the db as its database', async (ctx) => {
    const s = need(ctx);
    const o = redisOptions(conn(s, { db: '2' }, null), { client: 'node-redis' });
    expect(o.database).toBe(2);
    const client = createClient({ ...o, socket: { ...o.socket, reconnectStrategy: false } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.set('clients:n', 'v2');
      expect(await client.get('clients:n')).toBe('v2');
      expect(await client.sendCommand(['ACL', 'WHOAMI'])).toBe('default');
    } finally {
      await client.close();
    }
  });

  it('a wrong password is refused by the server (so the password really is what is sent)', async (ctx) => {
    const s = need(ctx);
    const o = redisOptions(
      new Connection({ type: 'redis', host: s.host, port: s.port, login: s.username, password: 'nope' }),
    );
    const errors: string[] = [];
    const client = new Redis({ ...o, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', (e: Error) => errors.push(e.message));
    await expect(client.connect()).rejects.toThrow();
    expect(errors.join('\n')).toMatch(/WRONGPASS/);
    client.disconnect();
  });
});

describe('redisOptions rules (data)', () => {
  const base = { type: 'redis', host: 'cache.example', login: 'u', password: 'pw-s3cret' } as const;
  const pemFile = path.join(tmpdir(), `clients-redis-${process.pid}.pem`);
  writeFileSync(pemFile, '-----BEGIN PRIVATE KEY-----\nredis-key-s3cret\n-----END PRIVATE KEY-----\n');

  it('defaults: localhost, 6379, db 0; the password is dropped when it is None, false or empty', () => {
    expect({ ...redisOptions(new Connection({ type: 'redis' })) }).toEqual({
      host: 'localhost',
      port: 6379,
      db: 0,
    });
    for (const pw of ['None', 'FALSE', 'false']) {
      expect(redisOptions(new Connection({ ...base, password: pw })).password).toBeUndefined();
    }
    expect(redisOptions(new Connection({ ...base })).password).toBe('pw-s3cret');
    expect(() => redisOptions(new Connection({ ...base, extra: { db: 'x' } }))).toThrow(/extra 'db'/);
  });

  it('ssl turns TLS on by Python truthiness; cert reqs, hostname check and files map onto node TLS', () => {
    const tls = (extra: Record<string, unknown>) => redisOptions(new Connection({ ...base, extra })).tls;
    expect(tls({})).toBeUndefined();
    expect(tls({ ssl: false })).toBeUndefined();
    expect(tls({ ssl: '' })).toBeUndefined();
    expect(tls({ ssl: 'false' })).toEqual({ rejectUnauthorized: true });
    expect(tls({ ssl: true, ssl_cert_reqs: 'none' })).toEqual({ rejectUnauthorized: false });
    expect(tls({ ssl: true, ssl_cert_reqs: 'optional' })).toEqual({ rejectUnauthorized: true });
    const t = tls({
      ssl: true,
      ssl_check_hostname: false,
      ssl_ca_certs: pemFile,
      ssl_keyfile: pemFile,
      ssl_certfile: pemFile,
    })!;
    expect(t.rejectUnauthorized).toBe(true);
    expect(t.checkServerIdentity?.()).toBeUndefined();
    expect(t.key).toContain('redis-key-s3cret');
    expect(tls({ ssl: true, ssl_check_hostname: true })?.checkServerIdentity).toBeUndefined();
    expect(() => tls({ ssl: true, ssl_cert_reqs: 'sometimes' })).toThrow(/extra 'ssl_cert_reqs'/);
    const nr = redisOptions(new Connection({ ...base, extra: { ssl: true, ssl_keyfile: pemFile } }), {
      client: 'node-redis',
    });
    expect(nr.socket).toMatchObject({
      host: 'cache.example',
      port: 6379,
      tls: true,
      rejectUnauthorized: true,
    });
  });

  it('warns about unused extras by name, keeps secrets out of inspect, and checks conn_type', () => {
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (m) => warnings.push(m) };
    const o = redisOptions(
      new Connection({ ...base, extra: { ssl: true, ssl_keyfile: pemFile, retry: 'pw-s3cret' } }),
      {
        logger: log,
      },
    );
    expect(warnings).toEqual(['redisOptions: extras not used: retry']);
    const nr = redisOptions(new Connection({ ...base, extra: { ssl: true, ssl_keyfile: pemFile } }), {
      client: 'node-redis',
    });
    const shown = [
      inspect(o, { depth: 5 }),
      JSON.stringify(o),
      inspect(nr, { depth: 5 }),
      JSON.stringify(nr),
    ].join('\n');
    expect(shown).not.toContain('pw-s3cret');
    expect(shown).not.toContain('redis-key-s3cret');
    expect(() => redisOptions(new Connection({ type: 'http', host: 'h' }))).toThrow(ConfigurationError);
  });
});
