/**
 * Every secret-bearing field of what the client builders return is hidden from `util.inspect`
 * (also with `showHidden` and `getters`), `console.log`'s formatting and `JSON.stringify`, while a
 * client library that reads or copies the options still sees the real values.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { format, inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  awsConfig,
  googleCredentials,
  httpOptions,
  mysqlConfig,
  pgConfig,
  redisOptions,
} from '../../src/clients/index.js';
import { Connection } from '../../src/connection.js';
import { silentLogger } from '../../src/logger.js';
import { configureMasker, resetMasker } from '../../src/masker.js';

const dir = mkdtempSync(path.join(tmpdir(), 'clients-secrets-'));
const KEY_PEM = path.join(dir, 'client.key');
const CERT_PEM = path.join(dir, 'client.crt');
writeFileSync(KEY_PEM, '-----BEGIN PRIVATE KEY-----\nKEYMATERIALsecret0001\n-----END PRIVATE KEY-----\n');
writeFileSync(CERT_PEM, '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n');
afterAll(() => resetMasker());

/** Every way the object gets printed. */
function shown(o: unknown): string {
  return [
    inspect(o),
    inspect(o, { showHidden: true, getters: true, depth: null }),
    format('%o', o),
    format('%O', o),
    format('%j', o),
    JSON.stringify(o),
    JSON.stringify({ wrapped: o }),
  ].join('\n');
}

function expectHidden(o: unknown, secrets: readonly string[]): void {
  const text = shown(o);
  for (const s of secrets) expect(text, s).not.toContain(s);
  expect(text).toContain('***');
}

const opts = { logger: silentLogger };

describe('httpOptions', () => {
  const conn = () =>
    new Connection({
      id: 'api',
      type: 'http',
      host: 'h',
      login: 'svc',
      password: 'basic-pass-001',
      extra: {
        'X-Api-Key': 'apikey-value-001',
        Cookie: 'session=cookie-value-001',
        'Proxy-Authorization': 'Basic proxyauth-value-001',
        'X-Vault-Token': 'hvs.vaulttoken001',
        'Ocp-Apim-Subscription-Key': 'subscription-value-001',
        'X-Request-Source': 'batch-visible',
        proxies: { https: 'http://puser:proxy-pass-001@127.0.0.1:3128' },
        cert: [CERT_PEM, KEY_PEM],
      },
    });

  it('masks sensitive header extras, proxies and the TLS key, and keeps them usable', () => {
    const o = httpOptions(conn(), opts);
    expectHidden(o, [
      'basic-pass-001',
      Buffer.from('svc:basic-pass-001').toString('base64'),
      'apikey-value-001',
      'cookie-value-001',
      'proxyauth-value-001',
      'vaulttoken001',
      'subscription-value-001',
      'proxy-pass-001',
      'KEYMATERIALsecret0001',
    ]);
    const text = shown(o);
    expect(text).toContain('batch-visible');
    expect(text).toContain('X-Api-Key');
    expect(o.headers['X-Api-Key']).toBe('apikey-value-001');
    expect({ ...o.headers }.Cookie).toBe('session=cookie-value-001');
    expect(o.proxies?.https).toBe('http://puser:proxy-pass-001@127.0.0.1:3128');
    expect(o.tls?.key).toContain('KEYMATERIALsecret0001');
  });

  it('masks a single cert file that holds the private key too (cert and key from one PEM)', () => {
    const both = path.join(dir, 'both.pem');
    writeFileSync(both, `${readFileSync(CERT_PEM, 'utf8')}${readFileSync(KEY_PEM, 'utf8')}`);
    const o = httpOptions(new Connection({ type: 'http', host: 'h', extra: { cert: both } }), opts);
    expectHidden(o, ['KEYMATERIALsecret0001']);
    expect(o.tls?.cert).toContain('KEYMATERIALsecret0001');
    const p = pgConfig(
      new Connection({ type: 'postgres', host: 'h', extra: { sslmode: 'require', sslcert: both } }),
      opts,
    );
    expectHidden(p, ['KEYMATERIALsecret0001']);
    const r = redisOptions(
      new Connection({ type: 'redis', host: 'h', extra: { ssl: true, ssl_certfile: both } }),
      { ...opts, client: 'node-redis' },
    );
    expectHidden(r, ['KEYMATERIALsecret0001']);
    const m = mysqlConfig(
      new Connection({ type: 'mysql', host: 'h', extra: { ssl_mode: 'REQUIRED', ssl: { cert: both } } }),
      opts,
    );
    expectHidden(m, ['KEYMATERIALsecret0001']);
  });

  it("masks the headers named by the masker's configured sensitive names", () => {
    configureMasker({ sensitiveFields: ['x_tenant'] });
    try {
      const o = httpOptions(
        new Connection({ type: 'http', host: 'h', extra: { 'X-Tenant': 'tenant-value-001' } }),
        opts,
      );
      expectHidden(o, ['tenant-value-001']);
      expect(o.headers['X-Tenant']).toBe('tenant-value-001');
    } finally {
      resetMasker();
    }
  });
});

describe('the SQL and redis builders', () => {
  it('pgConfig: password, the TLS key and its passphrase', () => {
    const o = pgConfig(
      new Connection({
        type: 'postgres',
        host: 'h',
        login: 'u',
        password: 'pg-pass-001',
        extra: { sslmode: 'require', sslcert: CERT_PEM, sslkey: KEY_PEM, sslpassword: 'pg-keypass-001' },
      }),
      opts,
    );
    expectHidden(o, ['pg-pass-001', 'KEYMATERIALsecret0001', 'pg-keypass-001']);
    expect(o.password).toBe('pg-pass-001');
    expect({ ...o }.ssl && { ...o.ssl }.passphrase).toBe('pg-keypass-001');
  });

  it('mysqlConfig: password and the TLS key (both clients)', () => {
    const a = mysqlConfig(
      new Connection({
        type: 'mysql',
        host: 'h',
        password: 'my-pass-001',
        extra: { ssl: { cert: CERT_PEM, key: KEY_PEM }, ssl_mode: 'REQUIRED' },
      }),
      opts,
    );
    expectHidden(a, ['my-pass-001', 'KEYMATERIALsecret0001']);
    const b = mysqlConfig(
      new Connection({
        type: 'mysql',
        host: 'h',
        password: 'my-pass-002',
        extra: { client: 'mysql-connector-python', ssl_cert: CERT_PEM, ssl_key: KEY_PEM },
      }),
      opts,
    );
    expectHidden(b, ['my-pass-002', 'KEYMATERIALsecret0001']);
    expect(b.ssl?.key).toContain('KEYMATERIALsecret0001');
  });

  it('redisOptions: password and the TLS key, for ioredis and node-redis', () => {
    const conn = new Connection({
      type: 'redis',
      host: 'h',
      password: 'redis-pass-001',
      extra: { ssl: true, ssl_certfile: CERT_PEM, ssl_keyfile: KEY_PEM },
    });
    const io = redisOptions(conn, opts);
    expectHidden(io, ['redis-pass-001', 'KEYMATERIALsecret0001']);
    const nr = redisOptions(conn, { ...opts, client: 'node-redis' });
    expectHidden(nr, ['redis-pass-001', 'KEYMATERIALsecret0001']);
    expect(nr.password).toBe('redis-pass-001');
  });
});

describe('googleCredentials and awsConfig', () => {
  it('googleCredentials: the whole key', () => {
    const o = googleCredentials(
      new Connection({
        type: 'google_cloud_platform',
        extra: {
          keyfile_dict: {
            type: 'service_account',
            project_id: 'proj',
            private_key: 'gcp-private-key-001',
            client_email: 'a@proj.iam.gserviceaccount.com',
          },
        },
      }),
      opts,
    );
    expectHidden(o, ['gcp-private-key-001']);
    expectHidden(o.credentials, ['gcp-private-key-001']);
    expect(o.credentials?.private_key).toBe('gcp-private-key-001');
  });

  it('awsConfig: what the provider resolves to hides the secret key and the session token', async () => {
    const cfg = awsConfig(
      new Connection({
        type: 'aws',
        login: 'AKIDVISIBLE',
        password: 'aws-secret-001',
        extra: { aws_session_token: 'aws-session-token-001', region_name: 'eu-west-1' },
      }),
      opts,
    );
    for (const s of ['aws-secret-001', 'aws-session-token-001']) expect(shown(cfg)).not.toContain(s);
    const creds = await cfg.credentials!();
    expectHidden(creds, ['aws-secret-001', 'aws-session-token-001']);
    expect(shown(creds)).toContain('AKIDVISIBLE');
    expect({ ...creds }).toEqual({
      accessKeyId: 'AKIDVISIBLE',
      secretAccessKey: 'aws-secret-001',
      sessionToken: 'aws-session-token-001',
    });
  });
});

describe('the unused-extras warning', () => {
  it('names a key that carries a value only up to its first character that is not a name character', () => {
    const warnings: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (m: string, f?: object) => warnings.push(`${m} ${JSON.stringify(f)}`),
    };
    pgConfig(
      new Connection({
        id: 'pg',
        type: 'postgres',
        host: 'h',
        extra: {
          'Authorization: Bearer s3cr3t-token': 1,
          'password=s3cr3t-pass': 1,
          target_session_attrs: 'any',
        },
      }),
      { logger },
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('extras not used: Authorization…, password…, target_session_attrs');
    expect(warnings[0]).not.toContain('s3cr3t');
  });
});
