/**
 * httpOptions: every HttpHook base-URL, header and basic-auth rule against the vectors computed by
 * test/fixtures/clients/make_http_vectors.py, then real requests (fetch) to a local node:http server.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpOptions, urlFromEndpoint } from '../../src/clients/index.js';
import { Connection } from '../../src/connection.js';
import { ConfigurationError } from '../../src/errors.js';
import { type Logger, silentLogger } from '../../src/logger.js';

interface Vector {
  name: string;
  conn: {
    conn_type: string;
    host?: string | null;
    schema?: string | null;
    port?: number | null;
    login?: string | null;
    password?: string | null;
    extra?: string | null;
  };
  headers?: Record<string, string | null>;
  expect:
    | { error: string }
    | { base_url: string; headers: [string, string][]; urls: [string | null, string][] };
}

const file = path.resolve(import.meta.dirname, '../fixtures/clients/http-vectors.json');
const data = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] };

function toConnection(v: Vector['conn']): Connection {
  return new Connection({
    id: 'http_vec',
    type: v.conn_type,
    host: v.host ?? null,
    schema: v.schema ?? null,
    port: v.port ?? null,
    login: v.login ?? null,
    password: v.password ?? null,
    extra: v.extra ?? null,
  });
}

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f ?? {})}`) };
}

describe('httpOptions against HttpHook vectors', () => {
  it('has vectors for every rule group (base URL, errors, headers, auth)', () => {
    const errors = data.vectors.filter((v) => 'error' in v.expect);
    expect(data.vectors.length).toBeGreaterThan(700);
    expect(errors.some((v) => 'error' in v.expect && v.expect.error === 'host')).toBe(true);
    expect(errors.some((v) => 'error' in v.expect && v.expect.error === 'login')).toBe(true);
    expect(errors.some((v) => 'error' in v.expect && v.expect.error.startsWith('extra.'))).toBe(true);
  });

  for (const v of data.vectors) {
    it(v.name, () => {
      const conn = toConnection(v.conn);
      const run = () =>
        httpOptions(conn, { logger: silentLogger, ...(v.headers ? { headers: v.headers } : {}) });
      if ('error' in v.expect) {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ConfigurationError);
        expect((err as ConfigurationError).setting).toBe(v.expect.error);
        return;
      }
      const o = run();
      expect(o.baseUrl).toBe(v.expect.base_url);
      expect(Object.entries(o.headers)).toEqual(v.expect.headers);
      for (const [endpoint, url] of v.expect.urls) expect(urlFromEndpoint(o.baseUrl, endpoint)).toBe(url);
    });
  }
});

describe('httpOptions request options', () => {
  it('maps timeout, verify, cert, proxies, redirects and check_response, and sends none of them as headers', () => {
    const dir = tmpdir();
    const pem = path.join(dir, `clients-http-${process.pid}.pem`);
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const o = httpOptions(
      new Connection({
        type: 'http',
        host: 'h',
        extra: {
          timeout: [3, 7.5],
          verify: pem,
          verify_ssl: false,
          cert: [pem, pem],
          proxies: { https: 'http://127.0.0.1:3128' },
          allow_redirects: 0,
          max_redirects: 2,
          check_response: false,
          stream: true,
          trust_env: false,
        },
      }),
      { logger: silentLogger },
    );
    expect(o.headers).toEqual({});
    expect(o).toMatchObject({
      connectTimeoutMs: 3000,
      timeoutMs: 7500,
      proxies: { https: 'http://127.0.0.1:3128' },
      followRedirects: false,
      maxRedirects: 2,
      checkResponse: false,
    });
    expect(o.tls?.rejectUnauthorized).toBe(true);
    expect(o.tls?.ca).toContain('BEGIN CERTIFICATE');
    const off = httpOptions(new Connection({ type: 'http', host: 'h', extra: { verify_ssl: false } }));
    expect(off.tls).toEqual({ rejectUnauthorized: false });
    expect(httpOptions(new Connection({ type: 'http', host: 'h', extra: { timeout: 2 } })).timeoutMs).toBe(
      2000,
    );
  });

  it("warns when conn_type 'https' still gives an http:// base URL (the hook reads only host and schema)", () => {
    const log = recorder();
    const o = httpOptions(Connection.fromUri('https://api.example.com', 'api'), { logger: log });
    expect(o.baseUrl).toBe('http://api.example.com');
    expect(log.warnings.join('\n')).toContain("conn_type is 'https'");
  });

  it('never quotes more of an invalid header name than the text before its first colon or white space', () => {
    const cases: [Record<string, unknown>, Record<string, string> | undefined, string][] = [
      [{ 'Authorization: Bearer s3cr3t-token': '' }, undefined, 'extra.Authorization'],
      [{ 'X-Key\r\nInjected: s3cr3t-token': 'v' }, undefined, 'extra.X-Key'],
      [{ ' s3cr3t-token': 'v' }, undefined, 'extra'],
      [{}, { 'X-Auth:s3cr3t-token': 'v' }, 'headers.X-Auth'],
    ];
    for (const [extra, headers, setting] of cases) {
      let err: unknown;
      try {
        httpOptions(new Connection({ id: 'api', type: 'http', host: 'h', extra }), {
          logger: silentLogger,
          ...(headers ? { headers } : {}),
        });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).setting).toBe(setting);
      const shown = `${(err as Error).message}\n${inspect(err, { depth: 5 })}\n${JSON.stringify(err)}`;
      expect(shown).toContain('is not a valid header name');
      expect(shown).not.toContain('s3cr3t');
    }
  });

  it('throws ConfigurationError for a conn_type that is not http', () => {
    expect(() => httpOptions(new Connection({ id: 'x', type: 'postgres', host: 'h' }))).toThrow(
      ConfigurationError,
    );
  });

  it('keeps the password and Authorization header out of inspect and JSON', () => {
    const o = httpOptions(
      new Connection({
        type: 'http',
        host: 'h',
        login: 'u',
        password: 'hunter2-secret',
        extra: { 'X-A': 'a' },
      }),
    );
    const shown = `${inspect(o, { depth: 5 })}\n${JSON.stringify(o)}`;
    expect(shown).not.toContain('hunter2-secret');
    expect(shown).not.toContain(Buffer.from('u:hunter2-secret').toString('base64'));
    expect(o.auth?.password).toBe('hunter2-secret');
    expect({ ...o.headers }.Authorization).toBe(
      `Basic ${Buffer.from('u:hunter2-secret').toString('base64')}`,
    );
  });
});

describe('httpOptions against a local HTTP server', () => {
  let server: http.Server;
  let port: number;
  const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the base URL, the extras as headers and basic auth the way the hook would', async () => {
    const conn = new Connection({
      id: 'api',
      type: 'http',
      host: '127.0.0.1',
      port,
      schema: 'http',
      login: 'svc',
      password: 'p@ss:w/rd',
      extra: { 'X-Api-Version': '2', timeout: 5 },
    });
    const o = httpOptions(conn);
    const res = await fetch(urlFromEndpoint(o.baseUrl, 'v1/items?x=1'), {
      headers: o.headers,
      signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
    });
    expect(res.status).toBe(200);
    const got = seen.at(-1)!;
    expect(got.url).toBe('/v1/items?x=1');
    expect(got.headers['x-api-version']).toBe('2');
    expect(got.headers.timeout).toBeUndefined();
    expect(Buffer.from(String(got.headers.authorization).replace(/^Basic /, ''), 'base64').toString()).toBe(
      'svc:p@ss:w/rd',
    );
  });

  it('reaches the server through a host that carries its own scheme, with the port appended', async () => {
    const o = httpOptions(new Connection({ type: 'http', host: 'http://127.0.0.1', port, schema: 'https' }));
    expect(o.baseUrl).toBe(`http://127.0.0.1:${port}`);
    const res = await fetch(urlFromEndpoint(o.baseUrl, '/missing'), { headers: o.headers });
    expect(res.status).toBe(404);
    expect(o.checkResponse).toBe(true);
    expect(seen.at(-1)!.headers.authorization).toBeUndefined();
  });
});
