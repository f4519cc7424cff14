/**
 * AWS Secrets Manager adapter: the real @aws-sdk/client-secrets-manager (and STS through
 * @aws-sdk/credential-providers) against the wire-level fake in test/fakes/aws-fake.ts.
 */
import { inspect } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../src/backend.js';
import {
  type AwsSecretsManagerOptions,
  awsSecretsManager,
  fromAirflowKwargs,
} from '../../src/backends/aws-secrets-manager/index.js';
import { backendFromClassPath, resolverFromEnv } from '../../src/config/index.js';
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
import { type AwsFake, MALFORMED_MARKER, startAwsFake } from '../fakes/aws-fake.js';
import { makeTestCerts } from '../fakes/vault-fake.js';
import { rejection } from '../helpers/assertions.js';
import { AWS_TEST_CREDS, awsFakeOptions } from '../helpers/aws-fixture.js';

const CREDS = AWS_TEST_CREDS;
const SM_GET = 'secretsmanager.GetSecretValue';
const PASSWORD = 'sup3r-s3cret-pw';

let fake: AwsFake;
beforeAll(async () => {
  fake = await startAwsFake();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug: (message, fields) => lines.push({ level: 'debug', message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => lines.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

const make = (o: AwsSecretsManagerOptions = {}) =>
  awsSecretsManager({
    ...awsFakeOptions(fake),
    logger: recordingLogger().logger,
    ...o,
  });

const context = (env: Record<string, string | undefined> = {}): AdapterContext => ({
  env,
  logger: recordingLogger().logger,
});

runBackendConformance(
  { describe, it },
  {
    name: 'aws-secrets-manager',
    create(seed) {
      fake.reset();
      for (const [id, v] of Object.entries(seed.connections))
        fake.secrets.set(`airflow/connections/${id}`, v);
      for (const [id, v] of Object.entries(seed.variables)) fake.secrets.set(`airflow/variables/${id}`, v);
      return make();
    },
  },
);

describe('aws-secrets-manager naming', () => {
  it('names secrets with the default prefixes and "/"', () => {
    const b = make();
    expect(b.locate('connection', 'my_db')).toEqual({ name: 'airflow/connections/my_db' });
    expect(b.locate('variable', 'key')).toEqual({ name: 'airflow/variables/key' });
    expect(b.locate('config', 'sql_alchemy_conn')).toEqual({ name: 'airflow/config/sql_alchemy_conn' });
  });

  it('strips trailing separators from a custom prefix and uses a custom sep', () => {
    expect(make({ connectionsPrefix: 'team/conns//' }).locate('connection', 'db')).toEqual({
      name: 'team/conns/db',
    });
    expect(make({ variablesPrefix: 'vars--', sep: '--' }).locate('variable', 'k')).toEqual({
      name: 'vars--k',
    });
  });

  it('uses the bare id when the prefix is empty, and asks for exactly that secret', async () => {
    fake.secrets.set('bare_var', 'v');
    const b = make({ variablesPrefix: '' });
    expect(b.locate('variable', 'bare_var')).toEqual({ name: 'bare_var' });
    expect(await b.getVariable('bare_var')).toBe('v');
    expect(fake.requestsFor(SM_GET).map((r) => r.body.SecretId)).toEqual(['bare_var']);
  });

  it('a null prefix disables that kind: null without any request', async () => {
    fake.secrets.set('airflow/variables/k', 'v');
    const b = make({ connectionsPrefix: null, variablesPrefix: null, configPrefix: null });
    expect(b.locate('connection', 'db')).toEqual({ skip: 'connections_prefix is null' });
    expect(await b.getConnection('db')).toBeNull();
    expect(await b.getVariable('k')).toBeNull();
    expect(await b.getConfig?.('k')).toBeNull();
    expect(fake.requests).toEqual([]);
  });

  it('lookup patterns: re.match semantics, case-insensitive, non-matching ids never sent', async () => {
    fake.secrets.set('airflow/variables/test_var', 'yes');
    fake.secrets.set('airflow/variables/other', 'no');
    const b = make({ variablesLookupPattern: 'T.*' });
    expect(b.locate('variable', 'other')).toEqual({ skip: 'id does not match variables_lookup_pattern' });
    expect(await b.getVariable('other')).toBeNull();
    expect(await b.getVariable('test_var')).toBe('yes');
    expect(make({ variablesLookupPattern: 'var' }).locate('variable', 'test_var')).toHaveProperty('skip');
    expect(fake.requestsFor(SM_GET).map((r) => r.body.SecretId)).toEqual(['airflow/variables/test_var']);
  });

  it('the factory makes no request and loads nothing until the first lookup', () => {
    make({ roleArn: 'arn:aws:iam::123456789012:role/r', stsEndpoint: fake.url });
    expect(fake.requests).toEqual([]);
  });
});

describe('aws-secrets-manager values', () => {
  it('standardises JSON secrets through Airflow aliases; the first alias in the secret wins', async () => {
    fake.secrets.set(
      'airflow/connections/aliased',
      JSON.stringify({
        description: 'dropped',
        engine: 'postgres',
        username: 'first',
        user: 'second',
        pass: PASSWORD,
        remote_host: 'db.internal',
        port: '5433',
        database: 'analytics',
        extra: { sslmode: 'require' },
        unknown_key: 'dropped too',
      }),
    );
    const c = await make().getConnection('aliased');
    expect(c).not.toBeNull();
    expect(c!.type).toBe('postgres');
    expect(c!.login).toBe('first');
    expect(c!.password).toBe(PASSWORD);
    expect(c!.host).toBe('db.internal');
    expect(c!.port).toBe(5433);
    expect(c!.schema).toBe('analytics');
    expect(c!.extraDejson).toEqual({ sslmode: 'require' });
    expect(c!.description).toBeNull();
  });

  it('reads the JSON as Python does: big ints, floats like 1.0, NaN, key order and duplicate keys survive', async () => {
    // Airflow: json.loads → standardise → json.dumps → from_json. JSON.parse/JSON.stringify would
    // round 12345678901234567890, print 1.0 as 1, reject NaN and move the "1" key first.
    fake.secrets.set(
      'airflow/connections/pyjson',
      '{"conn_type": "postgres", "login": "a", "login": "b", "host": "h", ' +
        '"extra": {"big": 12345678901234567890, "ratio": 1.0, "b": "x", "1": "y", "t": NaN}}',
    );
    const c = await make().getConnection('pyjson');
    expect(c?.login).toBe('b');
    expect(c?.extra).toBe('{"big": 12345678901234567890, "ratio": 1.0, "b": "x", "1": "y", "t": NaN}');
  });

  it('extra_conn_words adds aliases ("user" counts as login)', async () => {
    fake.secrets.set(
      'airflow/connections/custom_words',
      JSON.stringify({ conn_type: 'mysql', usr: 'bob', secret: PASSWORD, hostname: 'h' }),
    );
    const c = await make({
      extraConnWords: { user: ['usr'], password: ['secret'], host: ['hostname'] },
    }).getConnection('custom_words');
    expect([c?.login, c?.password, c?.host]).toEqual(['bob', PASSWORD, 'h']);
  });

  it('a URI secret is parsed as a URI', async () => {
    fake.secrets.set('airflow/connections/uri', 'mysql://u:p@h:3306/s');
    const c = await make().getConnection('uri');
    expect([c?.type, c?.host, c?.port]).toEqual(['mysql', 'h', 3306]);
  });

  it('a secret that is not valid JSON is a MalformedSecretError that does not quote it', async () => {
    fake.secrets.set('airflow/connections/broken', `{"password": "${PASSWORD}", oops`);
    const log = recordingLogger();
    const err = await make({ logger: log.logger })
      .getConnection('broken')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect((err as MalformedSecretError).secretName).toBe('airflow/connections/broken');
    for (const text of [String(err), inspect(err, { depth: 5 }), JSON.stringify(err), log.text()]) {
      expect(text).not.toContain(PASSWORD);
    }
  });

  it('a binary secret has no SecretString and counts as not found', async () => {
    fake.secrets.set('airflow/variables/bin', new Uint8Array([1, 2, 3]));
    expect(await make().getVariable('bin')).toBeNull();
  });
});

describe('aws-secrets-manager errors', () => {
  it.each([
    [400, 'ResourceNotFoundException'],
    [400, 'InvalidParameterException'],
    [400, 'InvalidRequestException'],
    [400, 'DecryptionFailure'],
    [500, 'InternalServiceError'],
  ])('HTTP %i %s is "not found" (as Airflow does), logged at debug', async (status, type) => {
    fake.secrets.set('airflow/variables/k', 'v');
    fake.fail({ kind: 'error', status, type });
    const log = recordingLogger();
    expect(await make({ logger: log.logger }).getVariable('k')).toBeNull();
    expect(log.lines.some((l) => l.level === 'debug' && l.message.includes(type))).toBe(true);
  });

  it('access denied is an AccessDeniedError naming the secret, not retried', async () => {
    fake.fail({ kind: 'access-denied' });
    const err = await make()
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect((err as AccessDeniedError).backend).toBe('aws-secrets-manager');
    expect((err as AccessDeniedError).secretName).toBe('airflow/variables/k');
    expect(fake.requestsFor(SM_GET)).toHaveLength(1);
  });

  it('throttling is retried by the SDK, then surfaced as ThrottledError', async () => {
    fake.fail({ kind: 'throttling' });
    const err = await make()
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    const attempts = fake.requestsFor(SM_GET);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.invocationId)).size).toBe(1);
    expect(attempts.map((a) => a.attempt?.split(';')[0])).toEqual(['attempt=1', 'attempt=2', 'attempt=3']);
  });

  it('throttling that clears within the retries returns the value', async () => {
    fake.secrets.set('airflow/variables/k', 'v');
    fake.fail({ kind: 'throttling' }, { times: 2 });
    expect(await make().getVariable('k')).toBe('v');
    expect(fake.requestsFor(SM_GET)).toHaveLength(3);
  });

  it('max attempts from config_kwargs.retries bounds the retries', async () => {
    fake.fail({ kind: 'throttling' });
    const b = make({ maxAttempts: 1, clientConfig: {} });
    await expect(b.getVariable('k')).rejects.toBeInstanceOf(ThrottledError);
    expect(fake.requestsFor(SM_GET)).toHaveLength(1);
  });

  it('a 503 is BackendUnavailableError after retries', async () => {
    fake.fail({ kind: 'error', status: 503, type: 'ServiceUnavailable' });
    await expect(make().getVariable('k')).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(fake.requestsFor(SM_GET)).toHaveLength(3);
  });

  it('a server that never answers is a BackendTimeoutError within timeoutMs', async () => {
    fake.fail({ kind: 'hang' });
    const err = await make({ timeoutMs: 150 })
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendTimeoutError);
    expect((err as BackendTimeoutError).secretName).toBe('airflow/variables/k');
  });

  it('a refused connection is BackendUnavailableError', async () => {
    const dead = await startAwsFake();
    const url = dead.url;
    await dead.close();
    await expect(make({ endpoint: url }).getVariable('k')).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('a malformed response body fails without quoting the body', async () => {
    fake.fail({ kind: 'malformed' });
    const log = recordingLogger();
    const err = await make({ logger: log.logger })
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).reason).toBe('failed');
    expect((err as BackendError).backend).toBe('aws-secrets-manager');
    for (const text of [String(err), inspect(err, { depth: 8 }), JSON.stringify(err), log.text()]) {
      expect(text).not.toContain(MALFORMED_MARKER);
    }
  });
});

describe('aws-secrets-manager missing session settings', () => {
  // The SDK's default chain reads process.env and ~/.aws: point it at nothing for these tests.
  const cleared = [
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
  ];
  beforeEach(() => {
    const saved = Object.fromEntries(cleared.map((k) => [k, process.env[k]]));
    for (const k of cleared) delete process.env[k];
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
    return () => {
      for (const k of cleared) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    };
  });

  it('no region anywhere is a ConfigurationError on region_name at the first lookup', async () => {
    const b = awsSecretsManager({ endpoint: fake.url, credentials: CREDS, logger: recordingLogger().logger });
    const err = await b.getVariable('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__BACKEND_KWARGS.region_name');
  });

  it('no credentials anywhere is a BackendError that says how to provide them', async () => {
    const b = fromAirflowKwargs({ endpoint_url: fake.url, region_name: 'us-east-1' }, context());
    const err = await b.getVariable('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(String(err)).toMatch(/no AWS credentials found/);
    expect(fake.requests).toEqual([]);
  });
});

describe('aws-secrets-manager clients and batches', () => {
  it('uses an injected client and leaves it open on close()', async () => {
    fake.secrets.set('airflow/variables/k', 'v');
    const client = new SecretsManagerClient({ endpoint: fake.url, region: 'us-east-1', credentials: CREDS });
    const b = awsSecretsManager({ client });
    expect(await b.getVariable('k')).toBe('v');
    await b.close?.();
    expect(await b.getVariable('k')).toBe('v');
    client.destroy();
  });

  it('getMany reads up to 20 secrets per BatchGetSecretValue call', async () => {
    for (let i = 0; i < 25; i++) fake.secrets.set(`airflow/variables/v${i}`, `value ${i}`);
    const ids = [...Array.from({ length: 25 }, (_, i) => `v${i}`), 'missing'];
    const got = await make().getMany!('variable', ids);
    expect(got.get('v0')).toBe('value 0');
    expect(got.get('v24')).toBe('value 24');
    expect(got.get('missing')).toBeNull();
    expect(got.size).toBe(26);
    expect(fake.requestsFor('secretsmanager.BatchGetSecretValue')).toHaveLength(2);
    expect(fake.requestsFor(SM_GET)).toHaveLength(0);
  });

  it('getMany standardises JSON connections and skips ids outside the lookup pattern', async () => {
    fake.secrets.set(
      'airflow/connections/db_a',
      JSON.stringify({ engine: 'postgres', user: 'u', host: 'h' }),
    );
    fake.secrets.set('airflow/connections/other', 'mysql://h');
    const got = await make({ connectionsLookupPattern: 'db_' }).getMany!('connection', ['db_a', 'other']);
    const a = got.get('db_a') as { type: string; login: string };
    expect([a.type, a.login]).toEqual(['postgres', 'u']);
    expect(got.get('other')).toBeNull();
    expect(fake.requestsFor('secretsmanager.BatchGetSecretValue')[0]?.body.SecretIdList).toEqual([
      'airflow/connections/db_a',
    ]);
  });

  it('getMany surfaces a per-secret access denial (batch Errors) as AccessDeniedError', async () => {
    fake.secrets.set('airflow/variables/a', 'x');
    fake.deniedSecrets.add('airflow/variables/a');
    await expect(make().getMany!('variable', ['a'])).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('getMany falls back to GetSecretValue one by one when BatchGetSecretValue itself is denied', async () => {
    fake.secrets.set('airflow/variables/a', 'x');
    fake.secrets.set('airflow/variables/b', 'y');
    fake.fail({ kind: 'access-denied' }, { target: 'secretsmanager.BatchGetSecretValue' });
    const b = make();
    expect(Object.fromEntries(await b.getMany!('variable', ['a', 'b', 'c']))).toEqual({
      a: 'x',
      b: 'y',
      c: null,
    });
    expect(Object.fromEntries(await b.getMany!('variable', ['a']))).toEqual({ a: 'x' });
    expect(fake.requestsFor('secretsmanager.BatchGetSecretValue')).toHaveLength(1);
    expect(fake.requestsFor(SM_GET).map((r) => r.body.SecretId)).toEqual([
      'airflow/variables/a',
      'airflow/variables/b',
      'airflow/variables/c',
      'airflow/variables/a',
    ]);
  });
});

describe('aws-secrets-manager configuration from Airflow kwargs', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/airflow-secrets';

  it('the Astro guide kwargs work: role_arn is assumed through STS once, then used to sign', async () => {
    fake.secrets.set('airflow/connections/astro_db', 'postgres://u:p@h:5432/db');
    fake.secrets.set('airflow/variables/astro_var', 'from astro');
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIDFROMENV',
      AWS_SECRET_ACCESS_KEY: 'env-secret',
      AWS_ENDPOINT_URL_STS: fake.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      AIRFLOW__SECRETS__BACKEND: 'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
        connections_prefix: 'airflow/connections',
        variables_prefix: 'airflow/variables',
        role_arn: ROLE,
        region_name: 'us-east-1',
      }),
    };
    const b = await backendFromClassPath(
      env.AIRFLOW__SECRETS__BACKEND,
      JSON.parse(env.AIRFLOW__SECRETS__BACKEND_KWARGS),
      context(env),
    );
    expect((await b.getConnection('astro_db'))?.host).toBe('h');
    expect(await b.getVariable('astro_var')).toBe('from astro');
    const sts = fake.requestsFor('AssumeRole');
    expect(sts).toHaveLength(1);
    expect(sts[0]?.body.RoleArn).toBe(ROLE);
    expect(sts[0]?.body.RoleSessionName).toBe('Airflow_SecretsManagerBackend__connection');
    expect(sts[0]?.accessKeyId).toBe('AKIDFROMENV');
    const reads = fake.requestsFor(SM_GET);
    expect(reads.map((r) => r.accessKeyId)).toEqual(['ASIAFAKEASSUMED', 'ASIAFAKEASSUMED']);
    expect(reads[0]?.sessionToken).toBe(fake.assumedCredentials.sessionToken);
    await b.close?.();
  });

  it('a resolver built only from the Astro environment reads through Secrets Manager first', async () => {
    fake.secrets.set(
      'airflow/connections/astro_db',
      JSON.stringify({ engine: 'postgres', user: 'u', host: 'sm-host' }),
    );
    fake.secrets.set('airflow/variables/astro_var', 'from secrets manager');
    const r = await resolverFromEnv(
      {
        AIRFLOW_HOME: '/nonexistent/airflow-home',
        AWS_ACCESS_KEY_ID: 'AKIDFROMENV',
        AWS_SECRET_ACCESS_KEY: 'env-secret',
        AWS_ENDPOINT_URL: fake.url,
        AIRFLOW_VAR_ASTRO_VAR: 'from the environment (asked second)',
        AIRFLOW__SECRETS__BACKEND:
          'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
        AIRFLOW__SECRETS__BACKEND_KWARGS: `{"connections_prefix": "airflow/connections", "variables_prefix": "airflow/variables", "role_arn": "${ROLE}", "region_name": "us-east-1"}`,
      },
      { logger: recordingLogger().logger, readAirflowCfg: false },
    );
    try {
      const c = await r.getConnection('astro_db');
      expect([c?.type, c?.login, c?.host]).toEqual(['postgres', 'u', 'sm-host']);
      expect(await r.getVariable('astro_var')).toBe('from secrets manager');
    } finally {
      await r.close();
    }
    expect(fake.requestsFor('AssumeRole')).toHaveLength(1);
  });

  it('endpoint_url and service_config.sts.endpoint_url kwargs point the clients; explicit keys sign', async () => {
    fake.secrets.set('airflow/variables/k', 'v');
    const b = fromAirflowKwargs(
      {
        endpoint_url: fake.url,
        region_name: 'eu-west-1',
        aws_access_key_id: 'AKIDKWARGS',
        aws_secret_access_key: 'kw-secret',
        role_arn: ROLE,
        assume_role_kwargs: { ExternalId: 'ext-1', DurationSeconds: 900 },
        service_config: { sts: { endpoint_url: fake.url } },
      },
      context({ AWS_ACCESS_KEY_ID: 'AKIDIGNORED', AWS_SECRET_ACCESS_KEY: 'x' }),
    );
    expect(await b.getVariable('k')).toBe('v');
    const sts = fake.requestsFor('AssumeRole')[0];
    expect(sts?.accessKeyId).toBe('AKIDKWARGS');
    expect(sts?.body.ExternalId).toBe('ext-1');
    expect(sts?.body.DurationSeconds).toBe('900');
  });

  it('without role_arn, explicit keys sign the Secrets Manager call directly', async () => {
    fake.secrets.set('airflow/variables/k', 'v');
    const b = fromAirflowKwargs(
      {
        endpoint_url: fake.url,
        region_name: 'us-east-1',
        aws_access_key_id: 'AKIDDIRECT',
        aws_secret_access_key: 's',
      },
      context(),
    );
    expect(await b.getVariable('k')).toBe('v');
    expect(fake.requests.map((r) => [r.target, r.accessKeyId])).toEqual([[SM_GET, 'AKIDDIRECT']]);
  });

  it.each([
    [{ max_attempts: 2, mode: 'standard' }, 3],
    [{ max_attempts: 0 }, 1],
    [{ total_max_attempts: 2 }, 2],
    [{ total_max_attempts: 4, max_attempts: 1 }, 4],
  ])(
    'config_kwargs.retries %j gives %i attempts, as botocore (max_attempts counts retries only)',
    async (retries, n) => {
      fake.fail({ kind: 'error', status: 503, type: 'ServiceUnavailable' });
      const b = fromAirflowKwargs(
        {
          endpoint_url: fake.url,
          region_name: 'us-east-1',
          aws_access_key_id: 'A',
          aws_secret_access_key: 'B',
          config_kwargs: { retries },
        },
        context(),
      );
      await expect(b.getVariable('k')).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(fake.requestsFor(SM_GET)).toHaveLength(n);
    },
  );

  it('the provider docs\' sample kwargs (profile_name "default", full_url_mode false) are accepted without warnings', () => {
    const log = recordingLogger();
    fromAirflowKwargs(
      JSON.parse(
        '{"connections_prefix": "airflow/connections", "variables_prefix": "airflow/variables", "profile_name": "default", "full_url_mode": false}',
      ),
      { env: {}, logger: log.logger },
    );
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('a kwarg neither Airflow nor this library reads is warned about, by name only; use_ssl with endpoint_url has no effect (as botocore)', async () => {
    fake.secrets.set('airflow/variables/k', 'v');
    const log = recordingLogger();
    const b = fromAirflowKwargs(
      {
        endpoint_url: fake.url,
        region_name: 'us-east-1',
        aws_access_key_id: 'A',
        aws_secret_access_key: 'B',
        use_ssl: false,
        are_secret_values_urlencoded: false,
        not_a_kwarg: 'x',
        config_kwargs: { read_timeout: 120, retries: {} },
      },
      { env: {}, logger: log.logger },
    );
    const warned = log.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain("'not_a_kwarg'");
    expect(await b.getVariable('k')).toBe('v');
  });

  it.each([
    [
      { config_kwargs: { proxies: { https: 'http://user:pw@proxy:3128' } } },
      'config_kwargs.proxies',
      /proxy/,
    ],
    [{ config_kwargs: { client_cert: '/x.pem' } }, 'config_kwargs.client_cert', /mutual TLS/],
    [{ config_kwargs: { no_such_setting: 1 } }, 'config_kwargs.no_such_setting', /not a botocore Config/],
    [{ config_kwargs: { signature_version: 'v2' } }, 'config_kwargs.signature_version', /v4/],
    [{ use_ssl: false, endpoint_url: undefined }, 'use_ssl', /plain HTTP/],
    [{ are_secret_values_urlencoded: true }, 'are_secret_values_urlencoded', /URL-decoding/],
  ] as const)(
    '%j (which boto3 would use) is refused, naming the kwarg, never its value',
    (extra, key, why) => {
      const kw = { endpoint_url: fake.url, region_name: 'us-east-1', ...extra };
      let err: unknown;
      try {
        fromAirflowKwargs(JSON.parse(JSON.stringify(kw)), { env: {}, logger: recordingLogger().logger });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
      expect(String(err)).toMatch(why);
      expect(String(err)).not.toContain('user:pw');
    },
  );

  it('a denied AssumeRole surfaces as AccessDeniedError', async () => {
    fake.fail({ kind: 'access-denied' }, { target: 'AssumeRole' });
    const b = fromAirflowKwargs(
      { endpoint_url: fake.url, region_name: 'us-east-1', role_arn: ROLE },
      context({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', AWS_ENDPOINT_URL_STS: fake.url }),
    );
    await expect(b.getVariable('k')).rejects.toBeInstanceOf(AccessDeniedError);
    expect(fake.requestsFor(SM_GET)).toHaveLength(0);
  });

  it('prefixes, sep, null and patterns come from the kwargs', () => {
    const b = fromAirflowKwargs(
      {
        connections_prefix: null,
        variables_prefix: 'vars',
        sep: ':',
        config_lookup_pattern: '^core',
        region_name: 'us-east-1',
      },
      context(),
    );
    expect(b.locate('connection', 'x')).toEqual({ skip: 'connections_prefix is null' });
    expect(b.locate('variable', 'x')).toEqual({ name: 'vars:x' });
    expect(b.locate('config', 'webserver')).toEqual({ skip: 'id does not match config_lookup_pattern' });
  });

  // Issue 12: a bad pattern no longer fails construction; it fails the lookups of its kind (as Airflow).
  it('a bad connections_lookup_pattern is a ConfigurationError naming it, at the first connection lookup', async () => {
    const b = fromAirflowKwargs(
      { connections_lookup_pattern: '([unclosed', region_name: 'us-east-1' },
      context(),
    );
    const err = await rejection(b.getConnection('x'));
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(
      'AIRFLOW__SECRETS__BACKEND_KWARGS.connections_lookup_pattern',
    );
  });

  it.each([
    [{ sep: 3 }, 'sep'],
    [{ connections_prefix: ['a'] }, 'connections_prefix'],
    [{ extra_conn_words: { colour: ['c'] } }, 'extra_conn_words'],
    [{ region_name: 5 }, 'region_name'],
    [{ role_arn: 'arn', assume_role_method: 'assume_role_with_saml' }, 'assume_role_method'],
  ])('bad kwargs %j are a ConfigurationError naming %s', (kwargs, key) => {
    let err: unknown;
    try {
      fromAirflowKwargs(kwargs as Record<string, unknown>, context());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
  });
});

describe('aws-secrets-manager over TLS', () => {
  const certs = makeTestCerts();
  let tls: AwsFake;
  beforeAll(async () => {
    tls = await startAwsFake({ tls: { key: certs.serverKey, cert: certs.serverCert } });
    tls.secrets.set('airflow/variables/k', 'over tls');
  });
  afterAll(async () => {
    await tls.close();
    certs.cleanup();
  });
  const kwargs = (extra: Record<string, unknown>) => ({
    endpoint_url: tls.url,
    region_name: 'us-east-1',
    aws_access_key_id: 'A',
    aws_secret_access_key: 'B',
    config_kwargs: { retries: { max_attempts: 1 } },
    ...extra,
  });

  it('verify = CA bundle path trusts the endpoint', async () => {
    expect(await fromAirflowKwargs(kwargs({ verify: certs.caFile }), context()).getVariable('k')).toBe(
      'over tls',
    );
  });

  it('verify = false skips verification', async () => {
    expect(await fromAirflowKwargs(kwargs({ verify: false }), context()).getVariable('k')).toBe('over tls');
  });

  it('by default an unknown CA fails with a TLS error that suggests verify', async () => {
    const err = await fromAirflowKwargs(kwargs({}), context())
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(String(err)).toMatch(/TLS failed.*verify/);
  });
});
