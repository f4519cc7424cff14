/**
 * Remote work stops when a lookup settles (issue 11 item 2): against servers that never answer,
 * answer one byte at a time, or answer without end, each adapter's request is cancelled at its
 * deadline, when the lookup's `signal` aborts, and on `close()`. "Cancelled" is checked on the wire:
 * the server sees its connection closed by the client (and no retry opens another one). The real
 * SDKs run against `test/fakes/hostile-http.ts`; nothing here asserts a duration.
 */
import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import { awsSsm } from '../../src/backends/aws-ssm/index.js';
import { azureKeyVault } from '../../src/backends/azure-key-vault/index.js';
import { gcpSecretManager } from '../../src/backends/gcp-secret-manager/index.js';
import { hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { BackendError, BackendTimeoutError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { type GcpFake, startGcpFake } from '../fakes/gcp-fake.js';
import { closed, type HostileServer, startHostileServer } from '../fakes/hostile-http.js';
import { makeTestCerts } from '../fakes/vault-fake.js';
import { rejection } from '../helpers/assertions.js';
import { staticTokenCredential } from '../helpers/azure-fixture.js';

const require = createRequire(import.meta.url);
const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
  grpc: { credentials: { createInsecure(): unknown } };
};

const servers: HostileServer[] = [];
const backends: SecretsBackend[] = [];
// The SDKs loaded up front: a deadline that passed while one was still being imported would end
// the read before it reached the server, and the wire checks below would have nothing to see.
beforeAll(async () => {
  await Promise.all([
    import('node-vault'),
    import('@aws-sdk/client-secrets-manager'),
    import('@aws-sdk/client-ssm'),
    import('@azure/keyvault-secrets'),
    import('@google-cloud/secret-manager'),
  ]);
}, 60_000);
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close?.()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(mode: 'silent' | 'trickle' | 'flood'): Promise<HostileServer> {
  const s = await startHostileServer(mode);
  servers.push(s);
  return s;
}

function keep<B extends SecretsBackend>(b: B): B {
  backends.push(b);
  return b;
}

const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const ROLE = { roleArn: 'arn:aws:iam::123456789012:role/reader', region: 'us-east-1', credentials: CREDS };

type Make = (url: string, timeoutMs: number) => SecretsBackend;
const HTTP_ADAPTERS: [string, Make][] = [
  [
    'hashicorp-vault',
    (url, timeoutMs) => hashicorpVault({ url, token: 'root', timeoutMs, logger: silentLogger }),
  ],
  [
    'aws-secrets-manager',
    (url, timeoutMs) =>
      awsSecretsManager({
        endpoint: url,
        region: 'us-east-1',
        credentials: CREDS,
        timeoutMs,
        logger: silentLogger,
      }),
  ],
  [
    'aws-ssm',
    (url, timeoutMs) =>
      awsSsm({ endpoint: url, region: 'us-east-1', credentials: CREDS, timeoutMs, logger: silentLogger }),
  ],
  // role_arn: the first request goes to STS (AssumeRole), which never answers here; it is
  // cancelled as the service call would be (it used to retry on its own after the lookup settled).
  [
    'aws-secrets-manager with role_arn (STS)',
    (url, timeoutMs) =>
      awsSecretsManager({ ...ROLE, endpoint: url, stsEndpoint: url, timeoutMs, logger: silentLogger }),
  ],
  [
    'aws-ssm with role_arn (STS)',
    (url, timeoutMs) => awsSsm({ ...ROLE, endpoint: url, stsEndpoint: url, timeoutMs, logger: silentLogger }),
  ],
  [
    'azure-key-vault',
    (url, timeoutMs) =>
      azureKeyVault({
        vaultUrl: url,
        credential: staticTokenCredential('t'),
        clientOptions: { allowInsecureConnection: true, disableChallengeResourceVerification: true },
        retryOptions: { maxRetries: 3, retryDelayInMs: 1, maxRetryDelayInMs: 2 },
        timeoutMs,
        logger: silentLogger,
      }),
  ],
];

describe.each(HTTP_ADAPTERS)('%s: the request stops when the lookup settles', (_name, make) => {
  it('at the deadline, against a server that never answers: the connection is closed, no retry follows', async () => {
    const s = await server('silent');
    const b = keep(make(s.url, 1000));
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(BackendTimeoutError);
    await closed(await s.connection(1));
    // A retry would have opened a second connection by the time the first one is closed.
    expect(s.connections).toHaveLength(1);
  });

  it("when the lookup's signal aborts, mid-request", async () => {
    const s = await server('silent');
    const b = keep(make(s.url, 60_000));
    const ac = new AbortController();
    const pending = rejection(b.getVariable('k', { signal: ac.signal }));
    const socket = await s.connection(1);
    ac.abort();
    expect(await pending).toBeInstanceOf(BackendError);
    await closed(socket);
    expect(s.connections).toHaveLength(1);
  });

  it('on close(), mid-request: the socket is destroyed and the read rejects', async () => {
    const s = await server('silent');
    const b = make(s.url, 60_000);
    const pending = rejection(b.getVariable('k'));
    const socket = await s.connection(1);
    await b.close?.();
    expect(await pending).toBeInstanceOf(Error);
    await closed(socket);
    expect(s.connections).toHaveLength(1);
  });

  it('against a server that trickles its answer, the deadline closes the connection', async () => {
    const s = await server('trickle');
    const b = keep(make(s.url, 1000));
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(BackendTimeoutError);
    await closed(await s.connection(1));
  });
});

describe('hashicorp-vault: an answer without end', () => {
  it('is cut at the body limit: a typed error, the socket closed, the body not kept', async () => {
    const s = await server('flood');
    const b = keep(hashicorpVault({ url: s.url, token: 'root', timeoutMs: 60_000, logger: silentLogger }));
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(BackendError);
    expect(err.message).toMatch(/larger than \d+ bytes; the read was stopped/);
    await closed(await s.connection(1));
  });
});

/**
 * The Vault cloud logins (aws_iam's STS AssumeRole, gcp's IAM signJwt) against a server that never
 * answers: the login's cancellation reaches the SDK call, at the deadline and on close(). Vault
 * itself is never reached (its address is a dead one).
 */
describe('hashicorp-vault cloud logins: the SDK call stops when the lookup settles', () => {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const LOGINS: [string, (url: string, timeoutMs: number) => SecretsBackend][] = [
    [
      'aws_iam (STS AssumeRole)',
      (url, timeoutMs) =>
        hashicorpVault({
          url: 'http://127.0.0.1:9',
          authType: 'aws_iam',
          roleId: 'r',
          assumeRoleKwargs: { RoleArn: 'arn:aws:iam::123456789012:role/x', RoleSessionName: 's' },
          env: { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL_STS: url },
          timeoutMs,
          logger: silentLogger,
        }),
    ],
    [
      'gcp (IAM signJwt)',
      (url, timeoutMs) =>
        hashicorpVault({
          url: 'http://127.0.0.1:9',
          authType: 'gcp',
          roleId: 'r',
          gcpScopes: 'https://www.googleapis.com/auth/cloud-platform',
          gcpIamEndpoint: url,
          gcpUseJwtAccessWithScope: true,
          gcpKeyfileDict: {
            type: 'service_account',
            project_id: 'p',
            private_key_id: 'k1',
            private_key: privateKey,
            client_email: 'sa@p.iam.gserviceaccount.com',
            client_id: '1',
            token_uri: `${url}/token`,
          },
          env: {},
          timeoutMs,
          logger: silentLogger,
        }),
    ],
  ];
  beforeAll(async () => {
    await Promise.all([import('@aws-sdk/credential-providers'), import('google-auth-library')]);
  }, 60_000);

  it.each(LOGINS)('%s: at the deadline the connection is closed, no retry follows', async (_n, make) => {
    const s = await server('silent');
    const b = keep(make(s.url, 1000));
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(BackendTimeoutError);
    await closed(await s.connection(1));
    expect(s.connections).toHaveLength(1);
  });

  it('azure (Entra token, over TLS): at the deadline and on close() the connection is closed', async () => {
    const certs = makeTestCerts();
    const sockets: Socket[] = [];
    const silent = https.createServer({ key: certs.serverKey, cert: certs.serverCert }, () => undefined);
    silent.on('secureConnection', (sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const authorityHost = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const make = (timeoutMs: number) =>
      hashicorpVault({
        url: 'http://127.0.0.1:9',
        authType: 'azure',
        roleId: 'r',
        azureTenantId: 't',
        azureResource: 'https://management.azure.com/',
        keyId: 'c',
        secretId: 's',
        azureCredentialOptions: {
          authorityHost,
          disableInstanceDiscovery: true,
          tlsOptions: { ca: certs.caPem },
        },
        env: {},
        timeoutMs,
        logger: silentLogger,
      });
    try {
      const b = keep(make(1000));
      expect(await rejection(b.getVariable('k'))).toBeInstanceOf(BackendTimeoutError);
      await closed(sockets[0]!);
      expect(sockets).toHaveLength(1);
      const c = make(60_000);
      const pending = rejection(c.getVariable('k'));
      while (sockets.length < 2) await new Promise((r) => setTimeout(r, 20));
      await c.close?.();
      expect(await pending).toBeInstanceOf(Error);
      await closed(sockets[1]!);
      expect(sockets).toHaveLength(2);
    } finally {
      await new Promise<void>((r) => silent.close(() => r()));
      for (const sock of sockets) sock.destroy();
      certs.cleanup();
    }
  });

  it.each(LOGINS)('%s: close() mid-login ends the call and closes its connection', async (_n, make) => {
    const s = await server('silent');
    const b = make(s.url, 60_000);
    const pending = rejection(b.getVariable('k'));
    const socket = await s.connection(1);
    await b.close?.();
    expect(await pending).toBeInstanceOf(Error);
    await closed(socket);
    expect(s.connections).toHaveLength(1);
  });
});

describe('gcp-secret-manager: the gRPC call stops when the lookup settles', () => {
  let fake: GcpFake;
  beforeEach(async () => {
    fake = await startGcpFake({ project: 'p' });
  });
  afterEach(() => fake.close());
  const make = (port: number, timeoutMs: number) =>
    keep(
      gcpSecretManager({
        projectId: 'p',
        clientOptions: {
          apiEndpoint: '127.0.0.1',
          port,
          sslCreds: gax.grpc.credentials.createInsecure(),
          universeDomain: 'googleapis.com',
        },
        maxRetries: 0,
        timeoutMs,
        logger: silentLogger,
      }),
    );

  it("the server sees the call cancelled when the lookup's signal aborts", async () => {
    fake.fault('airflow-variables-k', 'hang');
    const b = make(fake.port, 60_000);
    const ac = new AbortController();
    const pending = rejection(b.getVariable('k', { signal: ac.signal }));
    const call = await fake.hung(1);
    ac.abort();
    expect(await pending).toBeInstanceOf(BackendError);
    await call.cancelled;
  });

  it('the server sees the call cancelled on close()', async () => {
    fake.fault('airflow-variables-k', 'hang');
    const b = make(fake.port, 60_000);
    const pending = rejection(b.getVariable('k'));
    const call = await fake.hung(1);
    await b.close?.();
    expect(await pending).toBeInstanceOf(Error);
    await call.cancelled;
  });

  // The call carries the deadline as its gRPC timeout, and the adapter cancels it at the deadline:
  // either way the server must see it end (without both, it would hang until the test times out).
  it('the server sees the call cancelled at the deadline', async () => {
    fake.fault('airflow-variables-k', 'hang');
    const b = make(fake.port, 300);
    const pending = rejection(b.getVariable('k'));
    const call = await fake.hung(1);
    expect(call.name).toBe('projects/p/secrets/airflow-variables-k/versions/latest');
    expect(await pending).toBeInstanceOf(BackendTimeoutError);
    await call.cancelled;
  });

  it('rejects at the deadline against a server that never answers', async () => {
    const s = await server('silent');
    const b = make(s.port, 300);
    expect(await rejection(b.getVariable('k'))).toBeInstanceOf(BackendTimeoutError);
  });
});
