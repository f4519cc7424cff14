/**
 * The examples of docs/clients.md, line for line, against the real client libraries: `npm run
 * typecheck` compiles this file (so each example type-checks against the library's own types),
 * and the tests build each client from a connection read through the default resolver
 * (AIRFLOW_CONN_* variables) without a server — except fetch and axios, which call a local
 * HTTP server. The last test checks that every line of every example in the page is in this file.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import axios from 'axios';
import { GoogleAuth } from 'google-auth-library';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  awsConfig,
  googleCredentials,
  httpOptions,
  mongoUri,
  mysqlConfig,
  pgConfig,
  redisOptions,
  urlFromEndpoint,
} from '../../src/clients/index.js';
import { getConnectionOrThrow, resetDefaultResolver } from '../../src/index.js';

const saved = { ...process.env };
const seen: http.IncomingHttpHeaders[] = [];
let server: http.Server;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  Object.assign(process.env, {
    AIRFLOW_HOME: '/nonexistent-airflow-home',
    AIRFLOW_CONN_ORDERS_DB: 'postgres://app:pg-pass@127.0.0.1:5432/orders',
    AIRFLOW_CONN_SHOP_DB: 'mysql://app:my-pass@127.0.0.1:3306/shop',
    AIRFLOW_CONN_CACHE: 'redis://:redis-pass@127.0.0.1:1?db=2',
    AIRFLOW_CONN_EVENTS: 'mongo://app:mongo-pass@127.0.0.1:27017/events?authSource=admin',
    AIRFLOW_CONN_BILLING_API: JSON.stringify({
      conn_type: 'http',
      host: '127.0.0.1',
      port,
      login: 'svc',
      password: 'http-pass',
      extra: { 'X-Api-Version': '2', timeout: 5 },
    }),
    AIRFLOW_CONN_AWS_DEFAULT: JSON.stringify({
      conn_type: 'aws',
      login: 'AKIDEXAMPLE',
      password: 'aws-secret',
      extra: { region_name: 'eu-west-1', endpoint_url: 'http://127.0.0.1:1' },
    }),
    AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT: JSON.stringify({
      conn_type: 'google_cloud_platform',
      extra: { key_path: '/nonexistent/key.json', project: 'example-project' },
    }),
  });
  resetDefaultResolver();
});

afterAll(async () => {
  resetDefaultResolver();
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await new Promise<void>((r) => server.close(() => r()));
});

describe('docs/clients.md examples', () => {
  it('pg', async () => {
    const pool = new pg.Pool(pgConfig(await getConnectionOrThrow('orders_db')));
    const client = new pg.Client(pgConfig(await getConnectionOrThrow('orders_db'), { database: 'reports' }));
    expect(pool.options).toMatchObject({ host: '127.0.0.1', port: 5432, database: 'orders', user: 'app' });
    expect(client.database).toBe('reports');
    await pool.end();
  });

  it('mysql2', async () => {
    const pool = mysql.createPool(mysqlConfig(await getConnectionOrThrow('shop_db')));
    const { config } = pool.pool as unknown as { config: { connectionConfig: object } };
    expect(config.connectionConfig).toMatchObject({ host: '127.0.0.1', database: 'shop' });
    await pool.end();
  });

  it('ioredis and node-redis', async () => {
    const cache = await getConnectionOrThrow('cache');
    const io = new Redis(redisOptions(cache)); // ioredis (the default)
    io.on('error', () => {});
    io.disconnect();
    const nr = createClient(redisOptions(cache, { client: 'node-redis' })); // then: await nr.connect()
    expect(io.options).toMatchObject({ host: '127.0.0.1', port: 1, db: 2, password: 'redis-pass' });
    expect(nr.options).toMatchObject({ database: 2, password: 'redis-pass' });
  });

  it('MongoDB', async () => {
    const mongo = new MongoClient(mongoUri(await getConnectionOrThrow('events')));
    expect(mongo.options.dbName).toBe('events');
    expect(mongo.options.credentials?.source).toBe('admin');
  });

  it('fetch and axios', async () => {
    const api = httpOptions(await getConnectionOrThrow('billing_api'));
    const url = urlFromEndpoint(api.baseUrl, 'v1/invoices'); // HttpHook's join, not new URL()
    // fetch
    const res = await fetch(url, {
      headers: api.headers,
      redirect: api.followRedirects ? 'follow' : 'manual',
      signal: AbortSignal.timeout(api.timeoutMs ?? 30_000),
    });
    // axios
    const got = await axios.get(url, {
      headers: api.headers,
      maxRedirects: api.followRedirects ? api.maxRedirects : 0,
      timeout: api.timeoutMs ?? 30_000,
      validateStatus: (status) => !api.checkResponse || status < 400,
    });
    expect(res.status).toBe(200);
    expect(got.data).toEqual({ ok: true });
    expect(seen).toHaveLength(2);
    for (const h of seen) {
      expect(h['x-api-version']).toBe('2');
      expect(h.authorization).toBe(`Basic ${Buffer.from('svc:http-pass').toString('base64')}`);
    }
  });

  it('AWS SDK v3', async () => {
    const aws = await getConnectionOrThrow('aws_default');
    const sm = new SecretsManagerClient(awsConfig(aws, { service: 'secretsmanager' }));
    expect(await sm.config.region()).toBe('eu-west-1');
    expect((await sm.config.credentials()).accessKeyId).toBe('AKIDEXAMPLE');
    sm.destroy();
  });

  it('google-auth-library', async () => {
    const auth = new GoogleAuth(googleCredentials(await getConnectionOrThrow('google_cloud_default')));
    expect(await auth.getProjectId()).toBe('example-project');
  });

  it('every line of every example in the page is in this file, and imports what the packages export', async () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/clients.md'), 'utf8');
    const here = readFileSync(import.meta.filename, 'utf8');
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const ours: Record<string, Record<string, unknown>> = {
      'airflow-secrets': await import('../../src/index.js'),
      'airflow-secrets/clients': await import('../../src/clients/index.js'),
    };
    for (const block of blocks) {
      for (const line of block.split('\n').map((l) => l.trim())) {
        if (line === '') continue;
        const m = /^import \{ ([^}]+) \} from '(airflow-secrets(?:\/clients)?)';$/.exec(line);
        if (m) {
          for (const name of m[1]!.split(',').map((n) => n.trim()))
            expect(ours[m[2]!], line).toHaveProperty(name);
        } else expect(here, line).toContain(line);
      }
    }
  });
});
