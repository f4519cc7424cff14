/**
 * The process environment must not redirect reads (issue 11 item 11). With an explicit `env`
 * given to `resolverFromEnv`, the SDKs read nothing from `process.env` that `env` did not give:
 * node-vault's `VAULT_*`, the AWS SDK's region, keys, profile, endpoint and retry settings, the
 * proxies of Azure's pipeline and grpc-js. Each test fills `process.env` with values that would
 * send the read elsewhere (or fail it), and checks on the wire that they were not used.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromAirflowKwargs as awsFromKwargs } from '../../src/backends/aws-secrets-manager/index.js';
import { azureKeyVault } from '../../src/backends/azure-key-vault/index.js';
import { fromAirflowKwargs as gcpFromKwargs } from '../../src/backends/gcp-secret-manager/index.js';
import { hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { resolverFromEnv } from '../../src/config/index.js';
import { silentLogger } from '../../src/logger.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { type GcpFake, startGcpFake } from '../fakes/gcp-fake.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';
import { rejection } from '../helpers/assertions.js';
import { type AzureFixture, startAzureFixture, staticTokenCredential } from '../helpers/azure-fixture.js';

/** A dead address: a proxy or endpoint that, if used, fails the read. */
const DEAD = 'http://127.0.0.1:9';
let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('hashicorp-vault', () => {
  let fake: VaultFake;
  beforeAll(async () => {
    fake = await startVaultFake();
  });
  afterAll(() => fake.close());

  it('VAULT_PREFIX, VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE and VAULT_SKIP_VERIFY in process.env change nothing', async () => {
    fake.reset();
    fake.put('secret', 'variables/k', { value: 'right' });
    Object.assign(process.env, {
      VAULT_PREFIX: '/evil-prefix',
      VAULT_ADDR: DEAD,
      VAULT_TOKEN: 'process-token',
      VAULT_NAMESPACE: 'process-namespace',
      VAULT_SKIP_VERIFY: 'true',
    });
    const r = await resolverFromEnv(
      {
        AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ url: fake.url, token: fake.rootToken }),
        AIRFLOW_HOME: '/nonexistent-airflow-home',
      },
      { logger: silentLogger, cache: false },
    );
    expect(await r.getVariable('k')).toBe('right');
    const x = await r.explain('variable', 'k');
    expect(x.steps[0]!.secretName).toBe('secret/variables/k');
    expect(fake.reads()).toEqual(['secret/data/variables/k', 'secret/data/variables/k']);
    expect(fake.requests.every((q) => q.namespace === undefined && q.token === fake.rootToken)).toBe(true);
    await r.close();
  });

  const vaultEnv = (kwargs: Record<string, unknown>, more: Record<string, string> = {}) => ({
    AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
    AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ url: fake.url, ...kwargs }),
    AIRFLOW_HOME: '/nonexistent-airflow-home',
    ...more,
  });

  it("aws_iam with no keys in the given env: process.env's keys are not used (no login is signed with them)", async () => {
    fake.reset();
    fake.put('secret', 'variables/k', { value: 'right' });
    fake.credentials.aws.keys.set('AKIAPROCESSENVKEY123', { secret: 'processsecret' });
    const dir = mkdtempSync(path.join(tmpdir(), 'vault-aws-env-'));
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAPROCESSENVKEY123',
      AWS_SECRET_ACCESS_KEY: 'processsecret',
      AWS_PROFILE: 'process-profile',
    });
    const r = await resolverFromEnv(
      vaultEnv(
        { auth_type: 'aws_iam', role_id: 'airflow' },
        { HOME: dir, AWS_EC2_METADATA_DISABLED: 'true' },
      ),
      { logger: silentLogger, cache: false },
    );
    const x = await r.explain('variable', 'k');
    expect(x.steps[0]!.detail).toMatch(/no AWS credentials for the aws_iam login \(no AWS credentials/);
    expect(fake.awsLogins).toEqual([]);
    await r.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('aws_iam: the keys of the given env sign the login, not those of process.env', async () => {
    fake.reset();
    fake.put('secret', 'variables/k', { value: 'right' });
    fake.credentials.aws.keys.set('AKIDGIVEN', { secret: 'given-secret' });
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAPROCESSENVKEY123',
      AWS_SECRET_ACCESS_KEY: 'processsecret',
    });
    const r = await resolverFromEnv(
      vaultEnv(
        { auth_type: 'aws_iam', role_id: 'airflow' },
        { AWS_ACCESS_KEY_ID: 'AKIDGIVEN', AWS_SECRET_ACCESS_KEY: 'given-secret' },
      ),
      { logger: silentLogger, cache: false },
    );
    expect(await r.getVariable('k')).toBe('right');
    expect(fake.awsLogins.map((l) => l.refused)).toEqual([null]);
    expect(JSON.stringify(fake.awsLogins[0]!.headers)).toContain('Credential=AKIDGIVEN/');
    await r.close();
  });

  it("gcp: the key file named by the given env's GOOGLE_APPLICATION_CREDENTIALS and its project, not process.env's", async () => {
    fake.reset();
    fake.put('secret', 'variables/k', { value: 'right' });
    const dir = mkdtempSync(path.join(tmpdir(), 'vault-gcp-env-'));
    const file = path.join(dir, 'sa.json');
    writeFileSync(file, JSON.stringify(fake.gcpKey()), { mode: 0o600 });
    Object.assign(process.env, {
      GOOGLE_APPLICATION_CREDENTIALS: path.join(dir, 'missing.json'),
      GOOGLE_CLOUD_PROJECT: 'process-project',
      GCLOUD_PROJECT: 'process-project',
    });
    const b = hashicorpVault({
      url: fake.url,
      authType: 'gcp',
      roleId: 'airflow',
      gcpScopes: 'https://www.googleapis.com/auth/cloud-platform',
      gcpIamEndpoint: `${fake.url}/google/iam`,
      gcpUseJwtAccessWithScope: true,
      env: { GOOGLE_APPLICATION_CREDENTIALS: file },
      logger: silentLogger,
    });
    expect(await b.getVariable('k')).toBe('right');
    expect(fake.logins().map((l) => l.path)).toEqual(['auth/gcp/login']);
    await b.close?.();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('aws-secrets-manager', () => {
  let fake: AwsFake;
  let dir: string;
  beforeAll(async () => {
    fake = await startAwsFake();
    dir = mkdtempSync(path.join(tmpdir(), 'aws-env-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    fake.reset();
    fake.secrets.set('airflow/variables/k', 'right');
    // What would redirect or re-sign a read if the SDK took it from the process.
    Object.assign(process.env, {
      AWS_REGION: 'eu-process-1',
      AWS_DEFAULT_REGION: 'eu-process-1',
      AWS_ACCESS_KEY_ID: 'AKIDPROCESS',
      AWS_SECRET_ACCESS_KEY: 'process-secret',
      AWS_ENDPOINT_URL: DEAD,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: DEAD,
      AWS_PROFILE: 'process-profile',
      AWS_MAX_ATTEMPTS: '9',
      AWS_CONFIG_FILE: path.join(dir, 'process-config'),
    });
    writeFileSync(path.join(dir, 'process-config'), '[profile process-profile]\nregion = eu-process-2\n');
  });

  it('keys, region and endpoint come from the given env only', async () => {
    const b = awsFromKwargs(
      {},
      {
        env: {
          AWS_ACCESS_KEY_ID: 'AKIDGIVEN',
          AWS_SECRET_ACCESS_KEY: 'given-secret',
          AWS_REGION: 'us-given-1',
          AWS_ENDPOINT_URL: fake.url,
        },
        logger: silentLogger,
      },
    );
    expect(await b.getVariable('k')).toBe('right');
    expect(fake.requests.map((q) => [q.accessKeyId, q.region])).toEqual([['AKIDGIVEN', 'us-given-1']]);
    await b.close?.();
  });

  it("no region in the given env: the profile's region from the config file the env names, not AWS_REGION", async () => {
    writeFileSync(path.join(dir, 'given-config'), '[default]\nregion = us-fromfile-2\n');
    const b = awsFromKwargs(
      { endpoint_url: fake.url },
      {
        env: {
          AWS_ACCESS_KEY_ID: 'AKIDGIVEN',
          AWS_SECRET_ACCESS_KEY: 'given-secret',
          AWS_CONFIG_FILE: path.join(dir, 'given-config'),
        },
        logger: silentLogger,
      },
    );
    expect(await b.getVariable('k')).toBe('right');
    expect(fake.requests.map((q) => q.region)).toEqual(['us-fromfile-2']);
    await b.close?.();
  });

  it("no keys in the given env: process.env's keys are not used (the read fails, saying why)", async () => {
    const b = awsFromKwargs(
      { endpoint_url: fake.url, region_name: 'us-given-1' },
      { env: { HOME: dir, AWS_EC2_METADATA_DISABLED: 'true' }, logger: silentLogger },
    );
    const err = await rejection(b.getVariable('k'));
    expect(err.message).toMatch(/no AWS credentials found/);
    expect(fake.requests).toEqual([]);
    await b.close?.();
  });
});

describe('azure-key-vault', () => {
  let azure: AzureFixture;
  beforeAll(async () => {
    azure = await startAzureFixture({ tenantId: 't', clientId: 'c', clientSecret: 's', staticToken: 'tok' });
  });
  afterAll(() => azure.close());

  it("Vault's azure login: AZURE_AUTHORITY_HOST of the given env, not process.env's", async () => {
    const vault = await startVaultFake();
    vault.put('secret', 'variables/k', { value: 'right' });
    (vault.credentials.azure as { tokens: Set<string> }).tokens = azure.vault.tokens;
    const { authorityHost, ...credentialOptions } = azure.credentialOptions();
    Object.assign(process.env, { AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9' });
    const b = hashicorpVault({
      url: vault.url,
      authType: 'azure',
      roleId: 'airflow',
      azureTenantId: 't',
      azureResource: 'https://management.azure.com/',
      keyId: 'c',
      secretId: 's',
      azureCredentialOptions: credentialOptions,
      env: { AZURE_AUTHORITY_HOST: authorityHost },
      logger: silentLogger,
    });
    expect(await b.getVariable('k')).toBe('right');
    expect(vault.logins().map((l) => l.path)).toEqual(['auth/azure/login']);
    await b.close?.();
    await vault.close();
  });

  it('HTTPS_PROXY in process.env is not used when the given env names none', async () => {
    azure.vault.set('airflow-variables-k', 'right');
    Object.assign(process.env, {
      HTTPS_PROXY: DEAD,
      HTTP_PROXY: DEAD,
      https_proxy: DEAD,
      NO_PROXY: '',
      no_proxy: '',
    });
    const b = azureKeyVault({
      vaultUrl: azure.vault.url,
      credential: staticTokenCredential('tok'),
      clientOptions: azure.clientOptions(),
      retryOptions: { maxRetries: 0 },
      env: {},
      logger: silentLogger,
    });
    expect(await b.getVariable('k')).toBe('right');
    await b.close?.();
  });
});

describe('gcp-secret-manager', () => {
  let fake: GcpFake;
  beforeAll(async () => {
    fake = await startGcpFake({ project: 'given-project' });
  });
  afterAll(() => fake.close());

  it("grpc_proxy in process.env is not used, and the project is the given env's", async () => {
    fake.set('airflow-variables-k', 'right');
    Object.assign(process.env, {
      grpc_proxy: DEAD,
      https_proxy: DEAD,
      http_proxy: DEAD,
      no_grpc_proxy: '',
      NO_PROXY: '',
      no_proxy: '',
      GOOGLE_CLOUD_PROJECT: 'process-project',
    });
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
      grpc: { credentials: { createInsecure(): unknown } };
    };
    const b = gcpFromKwargs(
      {},
      { env: { GOOGLE_CLOUD_PROJECT: 'given-project' }, logger: silentLogger },
      {
        clientOptions: {
          apiEndpoint: '127.0.0.1',
          port: fake.port,
          sslCreds: gax.grpc.credentials.createInsecure(),
        },
        maxRetries: 0,
        timeoutMs: 5_000,
      },
    );
    expect(await b.getVariable('k')).toBe('right');
    expect(fake.requests.map((q) => q.name)).toEqual([
      'projects/given-project/secrets/airflow-variables-k/versions/latest',
    ]);
    await b.close?.();
  });
});
