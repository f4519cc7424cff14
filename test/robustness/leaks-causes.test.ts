/**
 * Adversarial leak audit of error `cause` chains: every adapter failure path, with the REAL SDK
 * against the loopback fakes, and the error printed every way a service might print it — `String`,
 * `stack`, `JSON.stringify` (of the error and of each cause, as structured loggers do), and
 * `util.inspect` with and without the SDKs' own custom inspectors. None may carry a planted secret
 * (bearer token, client secret, approle secret_id, userpass password, AWS secret key / session token).
 */
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import { azureKeyVault } from '../../src/backends/azure-key-vault/index.js';
import { gcpSecretManager } from '../../src/backends/gcp-secret-manager/index.js';
import { hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import {
  AccessDeniedError,
  AirflowSecretsError,
  BackendError,
  BackendUnavailableError,
  ConfigurationError,
  MalformedSecretError,
  ThrottledError,
} from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { type AwsFake, MALFORMED_MARKER, startAwsFake } from '../fakes/aws-fake.js';
import { type GcpFake, startGcpFake } from '../fakes/gcp-fake.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';
import { rejection } from '../helpers/assertions.js';
import { awsFakeOptions } from '../helpers/aws-fixture.js';
import { type AzureFixture, startAzureFixture, staticTokenCredential } from '../helpers/azure-fixture.js';

/** Every way an error gets printed or shipped to a log pipeline. */
function printed(err: unknown): string[] {
  const out = [
    String(err),
    String((err as Error).stack),
    JSON.stringify(err) ?? '',
    inspect(err),
    inspect(err, { depth: Infinity, showHidden: true }),
    inspect(err, { depth: Infinity, showHidden: true, customInspect: false }),
  ];
  // Structured loggers (pino, winston) serialise the cause chain's enumerable properties.
  let c: unknown = (err as Error).cause;
  for (let i = 0; c instanceof Object && i < 10; i++) {
    out.push(JSON.stringify(c) ?? '', String(c));
    c = (c as Error).cause;
  }
  return out;
}

function expectNoLeak(err: unknown, secrets: readonly string[]): void {
  for (const text of printed(err)) for (const s of secrets) expect(text).not.toContain(s);
}

describe('errors keep only a sanitised cause', () => {
  const SECRET = 'x-vault-token-s3cret-0001';
  const foreign = () => {
    const inner = Object.assign(new Error(`connect ECONNREFUSED (auth ${SECRET})`), { code: 'ECONNREFUSED' });
    return Object.assign(new Error(`Request failed: ${SECRET}`, { cause: inner }), {
      name: 'AxiosError',
      code: 'ERR_BAD_REQUEST',
      status: 403,
      config: { headers: { 'X-Vault-Token': SECRET }, data: `{"secret_id":"${SECRET}"}` },
      response: { statusCode: 403, body: { errors: [SECRET] } },
    });
  };

  it('a foreign cause becomes a copy with its name, code and status only, its own cause sanitised too', () => {
    const err = new AccessDeniedError('b', 'b: access denied', { cause: foreign() });
    expectNoLeak(err, [SECRET]);
    const cause = err.cause as Error & { code?: unknown; status?: unknown; config?: unknown };
    expect(cause).toBeInstanceOf(Error);
    expect(cause.name).toBe('AxiosError');
    expect(cause.code).toBe('ERR_BAD_REQUEST');
    expect(cause.status).toBe(403);
    expect(cause.config).toBeUndefined();
    expect((cause.cause as { code?: unknown }).code).toBe('ECONNREFUSED');
  });

  it('every class of the hierarchy sanitises (ConfigurationError, MalformedSecretError, the base)', () => {
    for (const err of [
      new ConfigurationError('AIRFLOW__X', 'bad', { cause: foreign() }),
      new MalformedSecretError('b', 'bad', { cause: foreign() }),
      new AirflowSecretsError('bad', { cause: foreign() }),
    ]) {
      expectNoLeak(err, [SECRET]);
      expect((err.cause as Error).name).toBe('AxiosError');
    }
  });

  it('a cause of our own hierarchy is kept as it is; no cause stays undefined', () => {
    const inner = new ThrottledError('b', 'b: throttled');
    expect(new BackendError('b', 'failed', 'm', { cause: inner }).cause).toBe(inner);
    expect(new BackendError('b', 'failed', 'm').cause).toBeUndefined();
  });

  it('a foreign error that only borrows one of our names is sanitised too', () => {
    const fake = Object.assign(new Error(`ConfigurationError: ${SECRET}`), { name: 'ConfigurationError' });
    const err = new BackendError('b', 'failed', 'm', { cause: fake });
    expectNoLeak(err, [SECRET]);
    expect((err.cause as Error).name).toBe('ConfigurationError');
  });
});

describe('Azure Key Vault failures (real SDK, fake vault + Entra ID)', () => {
  const TENANT = '72f988bf-0000-4000-8000-2d7cd011db47';
  const BEARER = 'azure-bearer-t0ken-planted-7731';
  const CLIENT_SECRET = 'entra-client-s3cret-planted-5521';
  let azure: AzureFixture;
  beforeAll(async () => {
    azure = await startAzureFixture({
      tenantId: TENANT,
      clientId: 'app',
      clientSecret: 'the-right-secret',
      staticToken: BEARER,
    });
  });
  afterAll(() => azure.close());
  const staticBackend = () =>
    azureKeyVault({
      vaultUrl: azure.vault.url,
      credential: staticTokenCredential(BEARER),
      clientOptions: azure.clientOptions(),
      retryOptions: { maxRetries: 0 },
      timeoutMs: 5_000,
      logger: silentLogger,
    });

  it('403: AccessDeniedError whose cause does not carry the request and its bearer token', async () => {
    azure.vault.fault('airflow-variables-denied', 'forbidden');
    const err = await rejection(staticBackend().getVariable('denied'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expectNoLeak(err, [BEARER]);
    expect((err as Error & { cause: { statusCode?: number } }).cause.statusCode).toBe(403);
  });

  it('429 and 503: typed errors without the bearer token', async () => {
    azure.vault.fault('airflow-variables-hot', 'throttled');
    azure.vault.fault('airflow-variables-down', 'unavailable');
    const hot = await rejection(staticBackend().getVariable('hot'));
    const down = await rejection(staticBackend().getVariable('down'));
    expect(hot).toBeInstanceOf(ThrottledError);
    expect(down).toBeInstanceOf(BackendUnavailableError);
    expectNoLeak(hot, [BEARER]);
    expectNoLeak(down, [BEARER]);
  });

  it('a refused client secret: AccessDeniedError without the client secret', async () => {
    const b = azureKeyVault({
      vaultUrl: azure.vault.url,
      tenantId: TENANT,
      clientId: 'app',
      clientSecret: CLIENT_SECRET,
      credentialOptions: azure.credentialOptions(),
      clientOptions: azure.clientOptions(),
      retryOptions: { maxRetries: 0 },
      timeoutMs: 5_000,
      logger: silentLogger,
    });
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expectNoLeak(err, [CLIENT_SECRET]);
  });
});

describe('HashiCorp Vault failures (real node-vault / axios, fake Vault)', () => {
  let fake: VaultFake;
  beforeAll(async () => {
    fake = await startVaultFake();
  });
  afterAll(() => fake.close());

  it('approle login refused: AccessDeniedError without the secret_id sent in the login body', async () => {
    const SECRET_ID = 'approle-secret-id-planted-9043';
    const b = hashicorpVault({
      url: fake.url,
      authType: 'approle',
      roleId: fake.credentials.approle.roleId,
      secretId: SECRET_ID,
      logger: silentLogger,
    });
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expectNoLeak(err, [SECRET_ID]);
  });

  it('userpass login refused: AccessDeniedError without the password', async () => {
    const PASSWORD = 'userpass-passw0rd-planted-1187';
    const b = hashicorpVault({
      url: fake.url,
      authType: 'userpass',
      username: 'alice',
      password: PASSWORD,
      logger: silentLogger,
    });
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expectNoLeak(err, [PASSWORD]);
  });

  it('a 403 read and a sealed Vault: typed errors without the X-Vault-Token', async () => {
    fake.denied.add('secret/data/variables/k');
    const b = hashicorpVault({ url: fake.url, token: fake.rootToken, logger: silentLogger });
    const denied = await rejection(b.getVariable('k'));
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expectNoLeak(denied, [fake.rootToken]);
    fake.sealed = true;
    try {
      const sealed = await rejection(b.getVariable('other'));
      expect(sealed).toBeInstanceOf(BackendUnavailableError);
      expectNoLeak(sealed, [fake.rootToken]);
    } finally {
      fake.sealed = false;
    }
  });
});

describe('AWS Secrets Manager failures (real SDK, fake AWS)', () => {
  const CREDS = {
    accessKeyId: 'AKIDLEAKTEST',
    secretAccessKey: 'aws-secret-access-key-planted-4411',
    sessionToken: 'aws-session-token-planted-8812',
  };
  let fake: AwsFake;
  beforeAll(async () => {
    fake = await startAwsFake();
  });
  afterAll(() => fake.close());
  const b = () =>
    awsSecretsManager({
      ...awsFakeOptions(fake, { attempts: 1, credentials: CREDS }),
      logger: silentLogger,
    });

  it('access denied, throttling and a malformed body: typed errors without credentials or body', async () => {
    fake.fail({ kind: 'access-denied' }, { times: 1 });
    const denied = await rejection(b().getVariable('a'));
    fake.fail({ kind: 'throttling' }, { times: 1 });
    const throttled = await rejection(b().getVariable('b'));
    fake.fail({ kind: 'malformed' }, { times: 1 });
    const malformed = await rejection(b().getVariable('c'));
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect(malformed).toBeInstanceOf(BackendError);
    for (const err of [denied, throttled, malformed]) {
      expectNoLeak(err, [CREDS.secretAccessKey, CREDS.sessionToken, MALFORMED_MARKER]);
    }
  });
});

describe('GCP Secret Manager failures (real SDK over gRPC, fake server)', () => {
  let fake: GcpFake;
  const require = createRequire(import.meta.url);
  const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
    grpc: { credentials: { createInsecure(): unknown } };
  };
  beforeAll(async () => {
    fake = await startGcpFake({ project: 'fake-project' });
  });
  afterAll(() => fake.close());

  it('PERMISSION_DENIED: AccessDeniedError whose cause keeps the gRPC code but not the raw SDK error', async () => {
    fake.fault('airflow-variables-k', 'permission-denied');
    const b = gcpSecretManager({
      projectId: 'fake-project',
      clientOptions: {
        apiEndpoint: '127.0.0.1',
        port: fake.port,
        sslCreds: gax.grpc.credentials.createInsecure(),
        universeDomain: 'googleapis.com',
      },
      maxRetries: 0,
      timeoutMs: 5_000,
      logger: silentLogger,
    });
    try {
      const err = await rejection(b.getVariable('k'));
      expect(err).toBeInstanceOf(AccessDeniedError);
      const cause = (err as Error).cause as Record<string, unknown>;
      expect(cause.code).toBe(7);
      // The raw grpc/gax error carries response metadata and server details; none of it is kept.
      expect(cause.metadata).toBeUndefined();
      expect(cause.details).toBeUndefined();
    } finally {
      await b.close?.();
    }
  });
});
