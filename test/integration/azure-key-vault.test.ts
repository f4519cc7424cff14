/**
 * The azureKeyVault adapter with the REAL `@azure/keyvault-secrets` SecretClient and
 * `@azure/identity` credentials, against a fake Key Vault (401 challenge flow) and a fake Entra ID
 * over HTTPS on 127.0.0.1 with a throw-away certificate (test/fakes/azure-fake.ts).
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import {
  type AzureKeyVaultOptions,
  azureKeyVault,
  fromAirflowKwargs,
} from '../../src/backends/azure-key-vault/index.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  MalformedSecretError,
  ThrottledError,
} from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { runBackendConformance } from '../../src/testing/conformance.js';
import type { EntraFake, KeyVaultFake } from '../fakes/azure-fake.js';
import { rejection } from '../helpers/assertions.js';
import { type AzureFixture, startAzureFixture, staticTokenCredential } from '../helpers/azure-fixture.js';
import { packagesAroundMark } from '../helpers/module-probe.js';

const TENANT = '72f988bf-0000-4000-8000-2d7cd011db47';
const CLIENT_ID = 'airflow-app';
const CLIENT_SECRET = 'entra-app-s3cret';
const STATIC_TOKEN = 'static-test-token';

let azure: AzureFixture;
let vault: KeyVaultFake;
let entra: EntraFake;
const open: SecretsBackend[] = [];

beforeAll(async () => {
  azure = await startAzureFixture({
    tenantId: TENANT,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    staticToken: STATIC_TOKEN,
  });
  ({ vault, entra } = azure);
});
afterEach(() => {
  open.splice(0);
  vault.requests.length = 0;
  entra.tokenRequests.length = 0;
});
afterAll(() => azure.close());

const clientOptions = () => azure.clientOptions();
const credentialOptions = () => azure.credentialOptions();
/** A credential that never leaves the process (for tests that are not about authentication). */
const staticCredential = staticTokenCredential(STATIC_TOKEN);

function captureLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const push = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: push('debug'), warn: push('warn'), error: push('error') };
  return { logger, lines };
}

function backend({
  realAuth,
  ...options
}: Partial<AzureKeyVaultOptions> & { realAuth?: boolean } = {}): SecretsBackend {
  const b = azureKeyVault({
    vaultUrl: vault.url,
    ...(realAuth ? {} : { credential: staticCredential }),
    clientOptions: clientOptions(),
    retryOptions: { maxRetries: 0 },
    timeoutMs: 5_000,
    logger: captureLogger().logger,
    ...options,
  });
  open.push(b);
  return b;
}

/** The real ClientSecretCredential against the fake Entra ID. */
function servicePrincipalBackend(options: Partial<AzureKeyVaultOptions> = {}): SecretsBackend {
  return backend({
    realAuth: true,
    tenantId: TENANT,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    credentialOptions: credentialOptions(),
    ...options,
  });
}

const azureName = (prefix: string, id: string) => `${prefix}-${id}`.replaceAll('_', '-');

runBackendConformance(
  { describe, it },
  {
    name: 'azure-key-vault (real SDK + ClientSecretCredential, HTTPS fakes)',
    create(seed) {
      for (const [id, v] of Object.entries(seed.connections))
        vault.set(azureName('airflow-connections', id), v);
      for (const [id, v] of Object.entries(seed.variables)) vault.set(azureName('airflow-variables', id), v);
      return servicePrincipalBackend();
    },
  },
);

describe('azure-key-vault naming', () => {
  it('replaces every _ in the whole name by sep, prefix included', () => {
    const b = backend({ connectionsPrefix: 'af_conns', sep: '-' });
    expect(b.locate('connection', 'connection_default')).toEqual({ name: 'af-conns-connection-default' });
    expect(b.locate('variable', 'my_var')).toEqual({ name: 'airflow-variables-my-var' });
    expect(b.locate('config', 'sql_alchemy_conn')).toEqual({ name: 'airflow-config-sql-alchemy-conn' });
  });

  it('strips trailing sep characters from a prefix (Python rstrip) and uses the bare id for an empty prefix', () => {
    const b = backend({ variablesPrefix: 'vars--', connectionsPrefix: '' });
    expect(b.locate('variable', 'a_b')).toEqual({ name: 'vars-a-b' });
    expect(b.locate('connection', 'my_db')).toEqual({ name: 'my-db' });
  });

  it('uses a custom sep both between prefix and id and for underscores', () => {
    const b = backend({ sep: 'x' });
    expect(b.locate('variable', 'a_b')).toEqual({ name: 'airflow-variablesxaxb' });
  });

  it('asks the vault for GET /secrets/<name>/ with the api-version query', async () => {
    vault.set('airflow-variables-wire-check', 'v');
    expect(await backend().getVariable('wire_check')).toBe('v');
    const last = vault.requests.at(-1);
    expect(last).toMatchObject({
      method: 'GET',
      path: '/secrets/airflow-variables-wire-check/',
      authorized: true,
    });
    expect(last?.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}$|^7\.\d$/);
  });

  it('skips a kind whose prefix is null without any request', async () => {
    const b = backend({ connectionsPrefix: null, variablesPrefix: null, configPrefix: null });
    expect(b.locate('connection', 'x')).toEqual({ skip: 'connections_prefix is null' });
    expect(await b.getConnection('x')).toBeNull();
    expect(await b.getVariable('x')).toBeNull();
    expect(await b.getConfig?.('x')).toBeNull();
    expect(vault.requests).toHaveLength(0);
  });
});

describe('azure-key-vault authentication', () => {
  it('performs the 401 challenge, gets a token from Entra ID with the client secret, and retries', async () => {
    vault.set('airflow-variables-auth-check', 'ok');
    const b = servicePrincipalBackend();
    expect(await b.getVariable('auth_check')).toBe('ok');
    expect(vault.requests.map((r) => r.authorized)).toEqual([false, true]);
    expect(entra.tokenRequests).toEqual([
      {
        tenant: TENANT,
        clientId: CLIENT_ID,
        scope: 'https://vault.azure.net/.default',
        grantType: 'client_credentials',
        secretOk: true,
      },
    ]);
  });

  it('reuses one client and its token for later lookups', async () => {
    vault.set('airflow-variables-one', '1');
    vault.set('airflow-variables-two', '2');
    const b = servicePrincipalBackend();
    expect(await b.getVariable('one')).toBe('1');
    expect(await b.getVariable('two')).toBe('2');
    expect(await b.getVariable('one')).toBe('1');
    expect(entra.tokenRequests).toHaveLength(1);
    expect(vault.requests.filter((r) => !r.authorized)).toHaveLength(1);
  });

  it('reports a wrong client secret as AccessDeniedError naming the settings, not the secret', async () => {
    const err = await rejection(servicePrincipalBackend({ clientSecret: 'wrong-value' }).getVariable('x'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(err.message).toContain('tenant_id/client_id/client_secret');
    expect(err.message).not.toContain('wrong-value');
    expect(entra.tokenRequests[0]?.secretOk).toBe(false);
  });

  it('selects DefaultAzureCredential without a service principal (its environment credential reaches the fake)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_CLIENT_SECRET: CLIENT_SECRET,
    });
    try {
      vault.set('airflow-variables-dac', 'default-chain');
      const { logger, lines } = captureLogger();
      const b = backend({ realAuth: true, credentialOptions: credentialOptions(), logger });
      expect(await b.getVariable('dac')).toBe('default-chain');
      expect(lines.some((l) => l.message.endsWith('using DefaultAzureCredential'))).toBe(true);
      expect(entra.tokenRequests).toHaveLength(1);
    } finally {
      for (const k of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('passes managed_identity_client_id and workload_identity_tenant_id to DefaultAzureCredential only together', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_CLIENT_SECRET: CLIENT_SECRET,
    });
    try {
      vault.set('airflow-variables-mi', 'm');
      const both = captureLogger();
      const b = fromAirflowKwargs(
        {
          vault_url: vault.url,
          managed_identity_client_id: 'mi-client',
          workload_identity_tenant_id: TENANT,
        },
        { env: {}, logger: both.logger },
        {
          clientOptions: clientOptions(),
          credentialOptions: credentialOptions(),
          retryOptions: { maxRetries: 0 },
        },
      );
      expect(await b.getVariable('mi')).toBe('m');
      expect(both.lines.find((l) => l.message.includes('managed identity'))?.fields).toEqual({
        managedIdentityClientId: 'mi-client',
        workloadIdentityTenantId: TENANT,
      });
      const one = captureLogger();
      const c = fromAirflowKwargs(
        { vault_url: vault.url, managed_identity_client_id: 'mi-client' },
        { env: {}, logger: one.logger },
        {
          clientOptions: clientOptions(),
          credentialOptions: credentialOptions(),
          retryOptions: { maxRetries: 0 },
        },
      );
      expect(await c.getVariable('mi')).toBe('m');
      expect(
        one.lines.some(
          (l) => l.level === 'warn' && l.message.includes('falling back to DefaultAzureCredential'),
        ),
      ).toBe(true);
      expect(one.lines.some((l) => l.message.includes('managed identity'))).toBe(false);
    } finally {
      for (const k of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

describe('azure-key-vault errors', () => {
  it('warns that a proxy in env is not used, naming no proxy credential, and still reads directly', async () => {
    const { logger, lines } = captureLogger();
    vault.set('airflow-variables-via-proxy', 'direct');
    const b = backend({ logger, env: { HTTPS_PROXY: 'http://u:proxy-pw@127.0.0.1:9/' } });
    expect(await b.getVariable('via_proxy')).toBe('direct');
    const warned = lines.filter((l) => l.level === 'warn' && l.message.includes('not applied'));
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain('proxy-pw');
  });

  it('returns null on 404 SecretNotFound', async () => {
    const { logger, lines } = captureLogger();
    expect(await backend({ logger }).getVariable('absent')).toBeNull();
    expect(vault.requests.at(-1)?.name).toBe('airflow-variables-absent');
    expect(lines.some((l) => l.level === 'debug' && l.message.includes('not found'))).toBe(true);
  });

  it('throws AccessDeniedError on 403 Forbidden', async () => {
    vault.fault('airflow-variables-locked', 'forbidden');
    const err = await rejection(backend().getVariable('locked'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect((err as AccessDeniedError).secretName).toBe('airflow-variables-locked');
    expect(err.message).toContain('403');
  });

  it('throws ThrottledError on 429 when retries are off', async () => {
    vault.fault('airflow-variables-busy', 'throttled');
    expect(await rejection(backend().getVariable('busy'))).toBeInstanceOf(ThrottledError);
  });

  it('retries a throttled call with the configured retryOptions, then surfaces ThrottledError', async () => {
    vault.fault('airflow-variables-hot', 'throttled', 3);
    const b = backend({ retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 10 } });
    expect(await rejection(b.getVariable('hot'))).toBeInstanceOf(ThrottledError);
    expect(vault.requests.filter((r) => r.name === 'airflow-variables-hot' && r.authorized)).toHaveLength(3);
  });

  it('answers after a throttled attempt when a retry succeeds', async () => {
    vault.set('airflow-variables-warm', 'w');
    vault.fault('airflow-variables-warm', 'throttled', 1);
    const b = backend({ retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 10 } });
    expect(await b.getVariable('warm')).toBe('w');
  });

  it('throws BackendUnavailableError on 503', async () => {
    vault.fault('airflow-variables-down', 'unavailable');
    expect(await rejection(backend().getVariable('down'))).toBeInstanceOf(BackendUnavailableError);
  });

  it('throws BackendUnavailableError when nothing listens at vault_url', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r)); // a port nobody listens on now
    const err = await rejection(backend({ vaultUrl: `https://127.0.0.1:${port}` }).getVariable('x'));
    expect(err).toBeInstanceOf(BackendUnavailableError);
  });

  it('rejects with BackendTimeoutError when the vault never answers', { timeout: 5_000 }, async () => {
    vault.fault('airflow-variables-silent', 'hang');
    const err = await rejection(backend({ timeoutMs: 300 }).getVariable('silent'));
    expect(err).toBeInstanceOf(BackendTimeoutError);
    expect((err as BackendTimeoutError).secretName).toBe('airflow-variables-silent');
  });

  it('throws a typed BackendError (not null) for an unparseable response', async () => {
    vault.fault('airflow-variables-garbled', 'malformed');
    const err = await rejection(backend().getVariable('garbled'));
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).reason).toBe('failed');
  });

  it('throws a BackendError for a name the vault refuses (400)', async () => {
    const err = await rejection(backend().getVariable('has.dot'));
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).reason).toBe('failed');
  });

  it('throws MalformedSecretError for a stored connection that is not a URI or JSON, never quoting it', async () => {
    vault.set('airflow-connections-broken', '{"conn_type": "postgres", "password": "hunter2"');
    const err = await rejection(backend().getConnection('broken'));
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect(err.message).not.toContain('hunter2');
  });
});

describe('azure-key-vault configuration', () => {
  it('requires vault_url at construction, naming the setting', () => {
    let err: unknown;
    try {
      fromAirflowKwargs({ connections_prefix: 'c' }, { env: {}, logger: captureLogger().logger });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__BACKEND_KWARGS.vault_url');
    expect(() => fromAirflowKwargs({ vault_url: '' }, { env: {}, logger: captureLogger().logger })).toThrow(
      ConfigurationError,
    );
  });

  it('works end to end from the JSON a user sets in AIRFLOW__SECRETS__BACKEND_KWARGS', async () => {
    const env = {
      AIRFLOW__SECRETS__BACKEND: 'airflow.providers.microsoft.azure.secrets.key_vault.AzureKeyVaultBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
        connections_prefix: 'airflow-connections',
        variables_prefix: 'airflow-variables',
        config_prefix: null,
        vault_url: vault.url,
        tenant_id: TENANT,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    };
    vault.set('airflow-connections-my-postgres', 'postgres://user:pw@db.internal:5432/app');
    vault.set('airflow-variables-feature-flag', 'on');
    const kwargs = JSON.parse(env.AIRFLOW__SECRETS__BACKEND_KWARGS) as Record<string, unknown>;
    const b = fromAirflowKwargs(
      kwargs,
      { env, logger: captureLogger().logger },
      {
        clientOptions: clientOptions(),
        credentialOptions: credentialOptions(),
        retryOptions: { maxRetries: 0 },
      },
    );
    expect(await b.getVariable('feature_flag')).toBe('on');
    const conn = await b.getConnection('my_postgres');
    expect(conn?.host).toBe('db.internal');
    expect(b.locate('config', 'x')).toEqual({ skip: 'config_prefix is null' });
    expect(entra.tokenRequests.map((r) => r.secretOk)).toEqual([true]);
  });

  it('names the kwarg of a wrong type', () => {
    const ctx = { env: {}, logger: captureLogger().logger };
    for (const [kw, key] of [
      [{ vault_url: 5 }, 'vault_url'],
      [{ vault_url: 'https://v', sep: ['-'] }, 'sep'],
      [{ vault_url: 'https://v', connections_prefix: 1 }, 'connections_prefix'],
      [{ vault_url: 'https://v', client_secret: {} }, 'client_secret'],
    ] as [Record<string, unknown>, string][]) {
      let err: unknown;
      try {
        fromAirflowKwargs(kw, ctx);
      } catch (e) {
        err = e;
      }
      expect(err, key).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
    }
  });

  it.each([
    ['proxies', { https: 'http://u:proxy-pw@proxy:3128' }, /proxy is not supported/],
    ['connection_timeout', 5, /no connect timeout/],
    ['logging_enable', true, /AZURE_LOG_LEVEL/],
    ['headers', { a: 'b' }, /headers/],
    ['retry_mode', 'fixed', /exponential/],
    ['api_version', '6.0', /versions the JavaScript client speaks/],
    ['no_such_option', 1, /not a SecretClient option/],
  ])(
    'refuses the SecretClient kwarg %s (Airflow passes it on), naming it, never its value',
    (key, value, why) => {
      let err: unknown;
      try {
        fromAirflowKwargs(
          { vault_url: 'https://v', [key]: value },
          { env: {}, logger: captureLogger().logger },
        );
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
      expect(String(err)).toMatch(why);
      expect(String(err)).not.toContain('proxy-pw');
    },
  );

  it('passes api_version, verify_challenge_resource, retry_total and connection_verify on to the client', async () => {
    vault.set('airflow-variables-passed', 'p');
    const { logger, lines } = captureLogger();
    const b = fromAirflowKwargs(
      {
        vault_url: vault.url,
        api_version: '7.4',
        verify_challenge_resource: false,
        retry_total: 0,
        retry_backoff_factor: 0.01,
        connection_verify: false,
        user_agent: 'etl-team',
      },
      { env: {}, logger },
      { credential: staticCredential },
    );
    vault.fault('airflow-variables-flaky', 'unavailable', 1);
    expect(await b.getVariable('passed')).toBe('p');
    // No CA and no challenge setting given but the kwargs': the self-signed certificate is accepted
    // through connection_verify false, the 127.0.0.1 challenge through verify_challenge_resource false.
    expect(
      vault.requests.filter((r) => r.name === 'airflow-variables-passed').map((r) => r.apiVersion),
    ).toContain('7.4');
    // retry_total 0: one 503 is surfaced, not retried.
    await expect(b.getVariable('flaky')).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(vault.requests.filter((r) => r.name === 'airflow-variables-flaky')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('loads no SDK when the module is imported and a backend is built (only at the first lookup)', async () => {
    const { before, after } = await packagesAroundMark(
      azure.dir,
      `
      import { fromAirflowKwargs } from './src/backends/azure-key-vault/index.ts';
      fromAirflowKwargs({ vault_url: 'https://v.vault.azure.net/' }, { env: {}, logger: console });
      moduleProbe.mark();
      await import('@azure/keyvault-secrets');
    `,
    );
    expect(before.filter((p) => /^(@azure|@google-cloud)\/|^google-gax$/.test(p))).toEqual([]);
    expect(after).toContain('@azure/keyvault-secrets'); // the probe does see imports
  });

  it('uses an injected SecretClient as is', async () => {
    const { SecretClient } = await import('@azure/keyvault-secrets');
    const client = new SecretClient(vault.url, staticCredential, {
      ...clientOptions(),
      retryOptions: { maxRetries: 0 },
    });
    vault.set('airflow-variables-some-key', 'from-injected');
    const b = azureKeyVault({ client });
    expect(await b.getVariable('some_key')).toBe('from-injected');
    expect(vault.requests.at(-1)?.name).toBe('airflow-variables-some-key');
  });
});
