/**
 * mongoUri and googleCredentials. No MongoDB server or Google endpoint runs here, so these are unit
 * tests on the produced URI / options, each also handed to the real client library (the mongodb
 * driver parses the URI; google-auth-library builds its client) without any network call.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { GoogleAuth, Impersonated, JWT } from 'google-auth-library';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { googleCredentials, mongoUri } from '../../src/clients/index.js';
import { Connection } from '../../src/connection.js';
import { ConfigurationError } from '../../src/errors.js';
import { type Logger, silentLogger } from '../../src/logger.js';

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (m) => warnings.push(m) };
}

describe('mongoUri (MongoHook)', () => {
  const base = {
    id: 'mongo_default',
    type: 'mongo',
    host: 'db1.example:27017,db2.example',
    login: 'app',
  } as const;

  it('builds mongodb://login:password@host[:port]/schema with the extras as URI options', () => {
    const uri = mongoUri(
      new Connection({
        ...base,
        password: 'p@ss w:rd/',
        schema: 'orders',
        extra: { replicaSet: 'rs0', authSource: 'admin', connectTimeoutMS: 30000, retryWrites: false },
      }),
    );
    expect(uri).toBe(
      'mongodb://app:p%40ss%20w%3Ard%2F@db1.example:27017,db2.example/orders?replicaSet=rs0&authSource=admin&connectTimeoutMS=30000&retryWrites=false',
    );
    const client = new MongoClient(uri);
    expect(client.options.credentials?.username).toBe('app');
    expect(client.options.credentials?.password).toBe('p@ss w:rd/');
    expect(client.options.credentials?.source).toBe('admin');
    expect(client.options.dbName).toBe('orders');
    expect(client.options.replicaSet).toBe('rs0');
    expect(client.options.hosts.map(String)).toEqual(['db1.example:27017', 'db2.example:27017']);
    expect(client.options.retryWrites).toBe(false);
  });

  it('uses mongodb+srv with srv, refuses a port with srv, and never sends srv or allow_insecure', () => {
    const uri = mongoUri(
      new Connection({ ...base, host: 'cluster.example', password: 'pw', extra: { srv: true } }),
    );
    expect(uri).toBe('mongodb+srv://app:pw@cluster.example');
    expect(new MongoClient(uri).options.srvHost).toBe('cluster.example');
    expect(() =>
      mongoUri(new Connection({ ...base, host: 'cluster.example', port: 27017, extra: { srv: true } })),
    ).toThrow(/SRV URI must not have a port/);
    expect(mongoUri(new Connection({ ...base, password: 'pw', extra: { allow_insecure: true } }))).toBe(
      'mongodb://app:pw@db1.example:27017,db2.example',
    );
  });

  it('ssl/tls: on, and allow_insecure with ssl gives tlsAllowInvalidCertificates (TLS kept on)', () => {
    const secure = mongoUri(new Connection({ ...base, password: 'pw', extra: { ssl: true } }));
    expect(new MongoClient(secure).options.tls).toBe(true);
    expect(
      (new MongoClient(secure).options as unknown as { rejectUnauthorized?: boolean }).rejectUnauthorized,
    ).not.toBe(false);
    const insecure = mongoUri(
      new Connection({ ...base, password: 'pw', extra: { ssl: 'True', allow_insecure: 'true' } }),
    );
    expect(insecure).toContain('tls=true&tlsAllowInvalidCertificates=true');
    expect(insecure).not.toContain('ssl=');
    const o = new MongoClient(insecure).options;
    expect(o.tls).toBe(true);
    expect((o as unknown as { rejectUnauthorized?: boolean }).rejectUnauthorized).toBe(false);
  });

  it('leaves credentials out unless both login and password are set', () => {
    expect(mongoUri(new Connection({ ...base }))).toBe('mongodb://db1.example:27017,db2.example');
    expect(mongoUri(new Connection({ type: 'mongo', host: 'h', port: 27018 }))).toBe('mongodb://h:27018');
  });

  it("refuses other conn_types, with the hook's own message for mongodb+srv", () => {
    expect(() => mongoUri(new Connection({ type: 'mongodb+srv', host: 'h' }))).toThrow(
      /should have the conn_type 'mongo'/,
    );
    expect(() => mongoUri(new Connection({ type: 'postgres', host: 'h' }))).toThrow(ConfigurationError);
  });
});

describe('googleCredentials (GoogleBaseHook)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-gcp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = {
    type: 'service_account',
    project_id: 'key-project',
    private_key_id: 'abc',
    private_key: privateKey,
    client_email: 'svc@key-project.iam.gserviceaccount.com',
    client_id: '1',
    token_uri: 'https://127.0.0.1:1/token',
  };
  const gcp = (extra: Record<string, unknown>) =>
    new Connection({ id: 'gcp', type: 'google_cloud_platform', extra });

  it('keyfile_dict (JSON text with escaped newlines): credentials, scopes, project from the key', async () => {
    const text = JSON.stringify({ ...key, private_key: privateKey.replaceAll('\n', '\\n') });
    const o = googleCredentials(gcp({ keyfile_dict: text, scope: 'https://a/x, https://a/y' }));
    expect(o.scopes).toEqual(['https://a/x', 'https://a/y']);
    expect(o.projectId).toBe('key-project');
    expect((o.credentials as { private_key: string }).private_key).toBe(privateKey);
    const auth = new GoogleAuth(o);
    expect((await auth.getCredentials()).client_email).toBe(key.client_email);
    expect(await auth.getProjectId()).toBe('key-project');
    const c = await auth.getClient();
    expect(c).toBeInstanceOf(JWT);
    expect((c as JWT).scopes).toEqual(['https://a/x', 'https://a/y']);
    const shown = `${inspect(o, { depth: 6 })}${JSON.stringify(o)}`;
    expect(shown).not.toContain('PRIVATE KEY');
  });

  it('key_path (a .json file) with the old prefixed names, project overriding, default scope', async () => {
    const file = path.join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(key));
    const o = googleCredentials(
      gcp({
        extra__google_cloud_platform__key_path: file,
        extra__google_cloud_platform__project: 'other',
        scope: '',
      }),
    );
    expect(o).toEqual({
      keyFilename: file,
      projectId: 'other',
      scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      numRetries: 5,
    });
    const auth = new GoogleAuth(o);
    expect((await auth.getCredentials()).client_email).toBe(key.client_email);
    expect(await auth.getProjectId()).toBe('other');
  });

  it('rejects .p12 and unknown key extensions, two key sources, and the sources it does not build', () => {
    expect(() => googleCredentials(gcp({ key_path: '/k.p12' }))).toThrow(/legacy P12/);
    expect(() => googleCredentials(gcp({ key_path: '/k.pem' }))).toThrow(/unrecognised extension/);
    expect(() => googleCredentials(gcp({ key_path: '/k.json', keyfile_dict: key }))).toThrow(
      /mutually exclusive/,
    );
    expect(() => googleCredentials(gcp({ keyfile_dict: '{not json' }))).toThrow(/Invalid key JSON/);
    for (const extra of [
      { key_secret_name: 's' },
      { is_anonymous: true },
      { idp_issuer_url: 'https://idp' },
    ]) {
      expect(() => googleCredentials(gcp(extra))).toThrow(ConfigurationError);
    }
    expect(() => googleCredentials(new Connection({ type: 'aws' }))).toThrow(/takes 'google_cloud_platform'/);
  });

  it('impersonation_chain: last account is the target, the rest delegates (usable by Impersonated)', async () => {
    const o = googleCredentials(
      gcp({ keyfile_dict: key, impersonation_chain: 'a@p.iam, b@p.iam , c@p.iam' }),
    );
    expect(o.impersonation).toEqual({ targetPrincipal: 'c@p.iam', delegates: ['a@p.iam', 'b@p.iam'] });
    const source = (await new GoogleAuth(o).getClient()) as JWT;
    const imp = new Impersonated({ sourceClient: source, ...o.impersonation!, targetScopes: o.scopes });
    expect(imp).toBeInstanceOf(Impersonated);
    expect(googleCredentials(gcp({ impersonation_chain: 'only@p.iam' })).impersonation).toEqual({
      targetPrincipal: 'only@p.iam',
      delegates: [],
    });
  });

  it('credential_config_file as JSON text, num_retries, and a warning naming unused extras', () => {
    const log = recorder();
    const o = googleCredentials(
      gcp({
        credential_config_file: JSON.stringify({ type: 'external_account', audience: 'aud' }),
        num_retries: '3',
        unknown_thing: 'x',
      }),
      { logger: log },
    );
    expect(o.credentials).toEqual({ type: 'external_account', audience: 'aud' });
    expect(o.numRetries).toBe(3);
    expect(log.warnings).toEqual(['googleCredentials: extras not used: unknown_thing']);
  });
});
