/**
 * A failing backend says why, in words, never with a value (issue 13 item 2 a and d): which AWS
 * credential is missing, a DNS failure with its host, access denied for a secret name, Vault
 * sealed or refusing a missing token, a file not found or not readable at its path, a database
 * that cannot be reached at its host and port. Each through the real SDK or driver where the
 * failure can be produced on loopback; DNS failures (which need a resolver this machine is not
 * allowed to ask) through the errors Node gives for them.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mapAwsError } from '../../src/backends/aws/common.js';
import {
  fromAirflowKwargs as awsFromKwargs,
  awsSecretsManager,
} from '../../src/backends/aws-secrets-manager/index.js';
import { azureKeyVault } from '../../src/backends/azure-key-vault/index.js';
import { gcpSecretManager } from '../../src/backends/gcp-secret-manager/index.js';
import { mapVaultError } from '../../src/backends/hashicorp-vault/client.js';
import { hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { localFilesystem } from '../../src/backends/local-filesystem/index.js';
import { metastore } from '../../src/backends/metastore.js';
import { main } from '../../src/cli/main.js';
import { AccessDeniedError, BackendUnavailableError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';
import { rejection } from '../helpers/assertions.js';
import { staticTokenCredential } from '../helpers/azure-fixture.js';

let dir: string;
let closedPort: number;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'reasons-'));
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A DNS failure as Node reports it (`getaddrinfo ENOTFOUND <host>`). */
const dnsFailure = (host: string) =>
  Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
    code: 'ENOTFOUND',
    syscall: 'getaddrinfo',
    hostname: host,
  });

describe('AWS', () => {
  let fake: AwsFake;
  beforeAll(async () => {
    fake = await startAwsFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('the Astro .env with the secret key missing: the message says the secret access key is missing, and where', async () => {
    const b = awsFromKwargs(
      { endpoint_url: fake.url, region_name: 'us-east-1' },
      { env: { AWS_ACCESS_KEY_ID: 'AKIDASTRO' }, logger: silentLogger },
    );
    const err = await rejection(b.getConnection('orders_db'));
    expect(err.message).toBe(
      "aws-secrets-manager: cannot read 'airflow/connections/orders_db': missing AWS secret access key (AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not)",
    );
    expect(fake.requests).toEqual([]);
    await b.close?.();
  });

  it('kwargs with a secret key and no key id: the access key id is missing', async () => {
    const b = awsFromKwargs(
      { endpoint_url: fake.url, region_name: 'us-east-1', aws_secret_access_key: 'only-the-secret' },
      { env: {}, logger: silentLogger },
    );
    const err = await rejection(b.getVariable('k'));
    expect(err.message).toMatch(
      /missing AWS access key id \(aws_secret_access_key is set but aws_access_key_id is not\)/,
    );
    expect(err.message).not.toContain('only-the-secret');
    await b.close?.();
  });

  it('no region: says which settings give one', async () => {
    const b = awsFromKwargs(
      { endpoint_url: fake.url },
      { env: { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', HOME: dir }, logger: silentLogger },
    );
    const err = await rejection(b.getVariable('k'));
    expect(err.message).toMatch(
      /no AWS region configured: set region_name .*AWS_REGION or AWS_DEFAULT_REGION/,
    );
    await b.close?.();
  });

  it('access denied names the secret', async () => {
    fake.deniedSecrets.add('airflow/connections/orders_db');
    const b = awsSecretsManager({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'A', secretAccessKey: 'B' },
      logger: silentLogger,
    });
    const err = await rejection(b.getConnection('orders_db'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(err.message).toMatch(
      /^aws-secrets-manager: access denied reading 'airflow\/connections\/orders_db'/,
    );
    await b.close?.();
  });

  it('a DNS failure names the host; a refused connection the address', async () => {
    const dns = mapAwsError(
      'aws-secrets-manager',
      'airflow/connections/orders_db',
      dnsFailure('secretsmanager.example.internal'),
    );
    expect(dns.message).toBe(
      "aws-secrets-manager: cannot reach AWS for 'airflow/connections/orders_db': DNS lookup failed for 'secretsmanager.example.internal' (ENOTFOUND)",
    );
    const b = awsSecretsManager({
      endpoint: `http://127.0.0.1:${closedPort}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'A', secretAccessKey: 'B' },
      maxAttempts: 1,
      logger: silentLogger,
    });
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toContain(`connection refused by 127.0.0.1:${closedPort} (ECONNREFUSED)`);
    await b.close?.();
  });

  it('the CLI explains the missing secret key in words', async () => {
    const out: string[] = [];
    await main(['explain', 'connection', 'orders_db'], {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      env: {
        AIRFLOW__SECRETS__BACKEND:
          'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
          endpoint_url: fake.url,
          region_name: 'us-east-1',
        }),
        AWS_ACCESS_KEY_ID: 'AKIDASTRO',
        AIRFLOW_HOME: path.join(dir, 'no-airflow-home'),
      },
    });
    expect(out.join('\n')).toContain('missing AWS secret access key');
  });
});

describe('Vault', () => {
  let fake: VaultFake;
  beforeAll(async () => {
    fake = await startVaultFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('an empty token file: permission denied, and no token was sent', async () => {
    const tokenFile = path.join(dir, 'empty-token');
    writeFileSync(tokenFile, '\n');
    const b = hashicorpVault({ url: fake.url, tokenPath: tokenFile, logger: silentLogger });
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(err.message).toMatch(/\(HTTP 40[03]\) reading 'secret\/variables\/k'; no token was sent/);
    await b.close?.();
  });

  it('sealed, permission denied, DNS, refused', async () => {
    fake.sealed = true;
    const sealed = await rejection(
      hashicorpVault({ url: fake.url, token: fake.rootToken, logger: silentLogger }).getVariable('k'),
    );
    expect(sealed.message).toBe("hashicorp-vault: Vault is sealed (HTTP 503) reading 'secret/variables/k'");
    fake.sealed = false;
    fake.denied.add('secret/data/variables/k');
    const denied = await rejection(
      hashicorpVault({ url: fake.url, token: fake.rootToken, logger: silentLogger }).getVariable('k'),
    );
    expect(denied.message).toBe("hashicorp-vault: permission denied (HTTP 403) reading 'secret/variables/k'");
    const dns = mapVaultError('secret/variables/k', dnsFailure('vault.example.internal'), {
      url: 'https://vault.example.internal:8200',
    });
    expect(dns.message).toBe(
      "hashicorp-vault: cannot reach Vault at https://vault.example.internal:8200 for 'secret/variables/k': DNS lookup failed for 'vault.example.internal' (ENOTFOUND)",
    );
    const refused = await rejection(
      hashicorpVault({ url: `http://127.0.0.1:${closedPort}`, token: 't', logger: silentLogger }).getVariable(
        'k',
      ),
    );
    expect(refused.message).toContain(`connection refused by 127.0.0.1:${closedPort} (ECONNREFUSED)`);
  });
});

describe('Azure', () => {
  it('a vault that cannot be reached: the host and the failure in words', async () => {
    const b = azureKeyVault({
      vaultUrl: `https://127.0.0.1:${closedPort}`,
      credential: staticTokenCredential('t'),
      retryOptions: { maxRetries: 0 },
      logger: silentLogger,
    });
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toContain(`connection refused by 127.0.0.1:${closedPort} (ECONNREFUSED)`);
    await b.close?.();
  });
});

describe('Google Cloud', () => {
  it('a service that cannot be reached: UNAVAILABLE with the connection failure in words', async () => {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
      grpc: { credentials: { createInsecure(): unknown } };
    };
    const b = gcpSecretManager({
      projectId: 'p',
      clientOptions: {
        apiEndpoint: '127.0.0.1',
        port: closedPort,
        sslCreds: gax.grpc.credentials.createInsecure(),
      },
      maxRetries: 0,
      timeoutMs: 5_000,
      logger: silentLogger,
    });
    const err = await rejection(b.getVariable('k'));
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toMatch(
      /service unavailable \(UNAVAILABLE\) reading secret 'airflow-variables-k' in project 'p'/,
    );
    expect(err.message).toContain('ECONNREFUSED');
    await b.close?.();
  });
});

describe('local files', () => {
  it('not found, and not readable, at the path', async () => {
    const missing = path.join(dir, 'missing.json');
    const b = localFilesystem({ connectionsFilePath: missing, logger: silentLogger });
    expect((await rejection(b.getConnection('c'))).message).toContain(`"${missing}"`);
    expect((await rejection(b.getConnection('c'))).message).toMatch(/does not exist/);
    const folder = path.join(dir, 'folder.json');
    mkdirSync(folder);
    const d = localFilesystem({ connectionsFilePath: folder, logger: silentLogger });
    expect((await rejection(d.getConnection('c'))).message).toContain(
      `"${folder}" (connections_file_path) is a directory`,
    );
    // root reads a 0000 file anyway: the permission case is checked where it can happen.
    if (process.getuid?.() !== 0) {
      const locked = path.join(dir, 'locked.json');
      writeFileSync(locked, '{}');
      chmodSync(locked, 0o000);
      const l = localFilesystem({ connectionsFilePath: locked, logger: silentLogger });
      expect((await rejection(l.getConnection('c'))).message).toMatch(
        /cannot be read: permission denied \(EACCES\)/,
      );
    }
  });
});

describe('metastore', () => {
  it('PostgreSQL that cannot be reached: the host and port, and why', async () => {
    const b = metastore({
      url: `postgresql://airflow:pw@127.0.0.1:${closedPort}/airflow`,
      logger: silentLogger,
    });
    const err = await rejection(b.getVariable('v'));
    expect(err.message).toContain(`127.0.0.1:${closedPort}`);
    expect(err.message).toContain(`connection refused by 127.0.0.1:${closedPort} (ECONNREFUSED)`);
    await b.close();
  });

  it('a SQLite file that does not exist: the path', async () => {
    const file = path.join(dir, 'nope', 'airflow.db');
    const b = metastore({ url: `sqlite:///${file}`, logger: silentLogger });
    const err = await rejection(b.getVariable('v'));
    expect(err.message).toContain(`no file at '${file}'`);
    await b.close();
  });
});
