/**
 * AWS SSM Parameter Store adapter: the real @aws-sdk/client-ssm against the wire-level fake in
 * test/fakes/aws-fake.ts.
 */
import { inspect } from 'node:util';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../src/backend.js';
import { type AwsSsmOptions, awsSsm, fromAirflowKwargs } from '../../src/backends/aws-ssm/index.js';
import { backendFromClassPath } from '../../src/config/index.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  MalformedSecretError,
  ThrottledError,
} from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { runBackendConformance } from '../../src/testing/conformance.js';
import { type AwsFake, MALFORMED_MARKER, startAwsFake } from '../fakes/aws-fake.js';
import { AWS_TEST_CREDS, awsFakeOptions } from '../helpers/aws-fixture.js';

const CREDS = AWS_TEST_CREDS;
const GET = 'AmazonSSM.GetParameter';

let fake: AwsFake;
beforeAll(async () => {
  fake = await startAwsFake();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const make = (o: AwsSsmOptions = {}) =>
  awsSsm({
    ...awsFakeOptions(fake),
    logger: silentLogger,
    ...o,
  });

const context = (env: Record<string, string | undefined> = {}): AdapterContext => ({
  env,
  logger: silentLogger,
});

runBackendConformance(
  { describe, it },
  {
    name: 'aws-ssm',
    emptyVariables: false,
    create(seed) {
      fake.reset();
      for (const [id, v] of Object.entries(seed.connections)) {
        fake.parameters.set(`/airflow/connections/${id}`, { value: v });
      }
      for (const [id, v] of Object.entries(seed.variables))
        fake.parameters.set(`/airflow/variables/${id}`, { value: v });
      return make();
    },
  },
);

describe('aws-ssm naming', () => {
  it('names parameters with the default prefixes', () => {
    const b = make();
    expect(b.locate('connection', 'my_db')).toEqual({ name: '/airflow/connections/my_db' });
    expect(b.locate('variable', 'key')).toEqual({ name: '/airflow/variables/key' });
    expect(b.locate('config', 'opt')).toEqual({ name: '/airflow/config/opt' });
  });

  it('adds the leading "/" and strips trailing ones from a custom prefix', () => {
    expect(make({ connectionsPrefix: 'airflow/connections/' }).locate('connection', 'test_mysql')).toEqual({
      name: '/airflow/connections/test_mysql',
    });
  });

  it('an empty prefix gives "/<id>"', async () => {
    fake.parameters.set('/flat', { value: 'v' });
    const b = make({ variablesPrefix: '' });
    expect(b.locate('variable', 'flat')).toEqual({ name: '/flat' });
    expect(await b.getVariable('flat')).toBe('v');
  });

  it('asks with WithDecryption: true for the exact name', async () => {
    fake.parameters.set('/airflow/variables/k', { value: 'decrypted', type: 'SecureString' });
    expect(await make().getVariable('k')).toBe('decrypted');
    expect(fake.requestsFor(GET).map((r) => r.body)).toEqual([
      { Name: '/airflow/variables/k', WithDecryption: true },
    ]);
  });

  it('a null prefix disables that kind: null without any request', async () => {
    const b = make({ connectionsPrefix: null, variablesPrefix: null, configPrefix: null });
    expect(b.locate('variable', 'k')).toEqual({ skip: 'variables_prefix is null' });
    expect(await b.getConnection('c')).toBeNull();
    expect(await b.getVariable('k')).toBeNull();
    expect(await b.getConfig?.('k')).toBeNull();
    expect(fake.requests).toEqual([]);
  });

  it('lookup patterns keep non-matching ids off the wire', async () => {
    fake.parameters.set('/airflow/connections/aws_default', { value: 'aws://' });
    const b = make({ connectionsLookupPattern: '^(?!aws_default$).*$' });
    expect(await b.getConnection('aws_default')).toBeNull();
    expect(b.locate('connection', 'aws_default')).toEqual({
      skip: 'id does not match connections_lookup_pattern',
    });
    expect(fake.requests).toEqual([]);
  });
});

describe('aws-ssm values and errors', () => {
  it('returns JSON connections verbatim to the JSON parser', async () => {
    fake.parameters.set('/airflow/connections/j', {
      value: JSON.stringify({ conn_type: 'postgres', login: 'u', host: 'h', port: 5432 }),
    });
    const c = await make().getConnection('j');
    expect([c?.type, c?.login, c?.host, c?.port]).toEqual(['postgres', 'u', 'h', 5432]);
  });

  it('has no Secrets Manager aliases: a "user" key is rejected like Airflow\'s from_json does', async () => {
    fake.parameters.set('/airflow/connections/aliased', {
      value: JSON.stringify({ conn_type: 'postgres', user: 'u' }),
    });
    await expect(make().getConnection('aliased')).rejects.toBeInstanceOf(MalformedSecretError);
  });

  it('only ParameterNotFound is "not found"', async () => {
    expect(await make().getVariable('absent')).toBeNull();
    fake.fail({ kind: 'error', status: 400, type: 'InvalidKeyId' });
    await expect(make().getVariable('k')).rejects.toBeInstanceOf(BackendError);
  });

  it('access denied is AccessDeniedError naming the parameter', async () => {
    fake.fail({ kind: 'access-denied' });
    const err = await make()
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect((err as AccessDeniedError).secretName).toBe('/airflow/variables/k');
  });

  it('throttling is retried, then surfaced as ThrottledError', async () => {
    fake.fail({ kind: 'throttling' });
    await expect(make().getVariable('k')).rejects.toBeInstanceOf(ThrottledError);
    expect(fake.requestsFor(GET)).toHaveLength(3);
  });

  it('5xx is BackendUnavailableError', async () => {
    fake.fail({ kind: 'server-error', status: 500 });
    await expect(make().getVariable('k')).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('a hung server is BackendTimeoutError', async () => {
    fake.fail({ kind: 'hang' });
    await expect(make({ timeoutMs: 150 }).getVariable('k')).rejects.toBeInstanceOf(BackendTimeoutError);
  });

  it('a malformed body fails without quoting it', async () => {
    fake.fail({ kind: 'malformed' });
    const err = await make()
      .getVariable('k')
      .catch((e: unknown) => e);
    expect((err as BackendError).reason).toBe('failed');
    expect(inspect(err, { depth: 8 }) + String(err)).not.toContain(MALFORMED_MARKER);
  });

  it('a stored connection that is neither URI nor JSON object is MalformedSecretError', async () => {
    fake.parameters.set('/airflow/connections/bad', { value: '{"conn_type": "x", "password": "p4ss' });
    const err = await make()
      .getConnection('bad')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect(String(err)).not.toContain('p4ss');
  });

  it('getMany uses GetParameters, 10 names a call; unknown names are null', async () => {
    for (let i = 0; i < 12; i++) fake.parameters.set(`/airflow/variables/v${i}`, { value: `x${i}` });
    const ids = [...Array.from({ length: 12 }, (_, i) => `v${i}`), 'nope'];
    const got = await make().getMany!('variable', ids);
    expect(got.get('v11')).toBe('x11');
    expect(got.get('nope')).toBeNull();
    expect(got.size).toBe(13);
    const calls = fake.requestsFor('AmazonSSM.GetParameters');
    expect(calls.map((c) => (c.body.Names as string[]).length)).toEqual([10, 3]);
    expect(calls.every((c) => c.body.WithDecryption === true)).toBe(true);
  });

  it('getMany falls back to GetParameter one by one when GetParameters is denied', async () => {
    fake.parameters.set('/airflow/variables/a', { value: 'x' });
    fake.fail({ kind: 'access-denied' }, { target: 'AmazonSSM.GetParameters' });
    const got = await make().getMany!('variable', ['a', 'b']);
    expect(Object.fromEntries(got)).toEqual({ a: 'x', b: null });
    expect(fake.requestsFor(GET).map((r) => r.body.Name)).toEqual([
      '/airflow/variables/a',
      '/airflow/variables/b',
    ]);
  });

  it('uses an injected client', async () => {
    fake.parameters.set('/airflow/variables/k', { value: 'v' });
    const client = new SSMClient({ endpoint: fake.url, region: 'us-east-1', credentials: CREDS });
    expect(await awsSsm({ client }).getVariable('k')).toBe('v');
    client.destroy();
  });
});

describe('aws-ssm configuration from Airflow kwargs', () => {
  it('reads the class path and kwargs as Airflow does, with env credentials and endpoint', async () => {
    fake.parameters.set('/team/conns/db', { value: 'postgres://u:p@h/db' });
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIDENV',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_DEFAULT_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL_SSM: fake.url,
    };
    const b = await backendFromClassPath(
      'airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend',
      JSON.parse('{"connections_prefix": "team/conns", "variables_prefix": null}'),
      context(env),
    );
    expect((await b.getConnection('db'))?.host).toBe('h');
    expect(await b.getVariable('x')).toBeNull();
    expect(fake.requests.map((r) => [r.target, r.accessKeyId, r.body.Name])).toEqual([
      [GET, 'AKIDENV', '/team/conns/db'],
    ]);
    await b.close?.();
  });

  it('role_arn assumes the role through STS with the SSM session name', async () => {
    fake.parameters.set('/airflow/variables/k', { value: 'v' });
    const b = fromAirflowKwargs(
      { role_arn: 'arn:aws:iam::1:role/r', region_name: 'us-east-1', endpoint_url: fake.url },
      context({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', AWS_ENDPOINT_URL_STS: fake.url }),
    );
    expect(await b.getVariable('k')).toBe('v');
    expect(fake.requestsFor('AssumeRole')[0]?.body.RoleSessionName).toBe(
      'Airflow_SystemsManagerParameterStoreBackend__connection',
    );
    expect(fake.requestsFor(GET)[0]?.accessKeyId).toBe(fake.assumedCredentials.accessKeyId);
  });

  it('config_kwargs.retries.max_attempts counts retries, as in botocore (2 → 3 attempts)', async () => {
    fake.fail({ kind: 'error', status: 503, type: 'ServiceUnavailable' });
    const b = fromAirflowKwargs(
      {
        endpoint_url: fake.url,
        region_name: 'us-east-1',
        aws_access_key_id: 'A',
        aws_secret_access_key: 'B',
        config_kwargs: { retries: { max_attempts: 2 } },
      },
      context(),
    );
    await expect(b.getVariable('k')).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(fake.requestsFor(GET)).toHaveLength(3);
  });

  it("a kwarg Airflow's backend does not read (sep) is warned about, by name; use_ssl false without endpoint_url is refused", () => {
    const warned: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warned.push(m) };
    fromAirflowKwargs({ sep: '-', use_ssl: true, region_name: 'us-east-1' }, { env: {}, logger });
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain("'sep'");
    expect(() =>
      fromAirflowKwargs({ use_ssl: false, region_name: 'us-east-1' }, { env: {}, logger }),
    ).toThrow(/use_ssl false is not supported without endpoint_url/);
  });

  // Issue 12: the pattern compiles at the first lookup of its kind (as Airflow), not at construction.
  it('a bad lookup pattern is a ConfigurationError naming the kwarg, at the first lookup of its kind', () => {
    const b = fromAirflowKwargs({ variables_lookup_pattern: '(' }, context());
    expect(() => b.locate('variable', 'x')).toThrow(ConfigurationError);
    try {
      b.locate('variable', 'x');
    } catch (e) {
      expect((e as ConfigurationError).setting).toBe(
        'AIRFLOW__SECRETS__BACKEND_KWARGS.variables_lookup_pattern',
      );
    }
    expect('name' in b.locate('connection', 'x')).toBe(true);
  });
});
