/**
 * Prefetch end to end: the resolver's batch walk through the real AWS SDK clients (Secrets Manager
 * BatchGetSecretValue, SSM GetParameters) against the wire-level fake, then the environment backend.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import { awsSsm } from '../../src/backends/aws-ssm/index.js';
import { environmentVariables } from '../../src/backends/environment.js';
import type { Logger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { type AwsFake, startAwsFake, zeroDelayRetry } from '../fakes/aws-fake.js';

const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const quiet: Logger = { debug() {}, warn() {}, error() {} };

let fake: AwsFake;
beforeAll(async () => {
  fake = await startAwsFake();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const common = () => ({
  endpoint: fake.url,
  region: 'us-east-1',
  credentials: CREDS,
  clientConfig: { retryStrategy: zeroDelayRetry(1) },
  logger: quiet,
});

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
/** Requests other than the batch reads (each would be a lookup's own call). */
const singleCalls = () =>
  fake.requests.filter((r) => r.target.endsWith('GetSecretValue') && !r.target.includes('Batch'));

describe('prefetch through AWS Secrets Manager', () => {
  it('reads 45 variables and 3 connections with BatchGetSecretValue (20 a call), then answers from the cache', async () => {
    for (const id of range('v', 40)) fake.secrets.set(`airflow/variables/${id}`, `value-${id}`);
    fake.secrets.set('airflow/connections/db0', 'postgres://u:p@db0:5432/s');
    fake.secrets.set('airflow/connections/db1', JSON.stringify({ engine: 'mysql', user: 'u', host: 'db1' }));
    const env = { AIRFLOW_VAR_ONLY_ENV: 'from-env', AIRFLOW_CONN_DB2: 'redis://db2' };
    const sm = awsSecretsManager(common());
    const r = createResolver({ backends: [sm, environmentVariables({ env })], cache: true, logger: quiet });
    const variables = [...range('v', 40), 'only_env', ...range('nowhere', 4)];
    await r.prefetch({ variables, connections: ['db0', 'db1', 'db2'] });

    const batches = fake.requestsFor('secretsmanager.BatchGetSecretValue');
    expect(batches).toHaveLength(4); // 45 variables → 3 calls; 3 connections → 1 call
    expect(batches.every((b) => (b.body.SecretIdList as string[]).length <= 20)).toBe(true);
    expect(singleCalls()).toHaveLength(0);

    expect(await r.getVariable('v7')).toBe('value-v7');
    expect(await r.getVariable('only_env')).toBe('from-env');
    expect(await r.getVariable('nowhere2')).toBeNull();
    expect((await r.getConnection('db0'))?.host).toBe('db0');
    expect((await r.getConnection('db1'))?.type).toBe('mysql');
    expect((await r.getConnection('db2'))?.host).toBe('db2');
    expect(fake.requests).toHaveLength(4); // every lookup above came from the cache
    await r.close();
  });

  it('on a throttled batch, falls through to the next backend and leaves those misses uncached', async () => {
    fake.secrets.set('airflow/variables/a', 'in-aws');
    fake.fail({ kind: 'throttling' }, { target: 'secretsmanager.BatchGetSecretValue' });
    const r = createResolver({
      backends: [awsSecretsManager(common()), environmentVariables({ env: { AIRFLOW_VAR_B: 'env-b' } })],
      cache: true,
      logger: quiet,
    });
    await r.prefetch({ variables: ['a', 'b'] });
    expect(await r.getVariable('b')).toBe('env-b');
    expect(singleCalls()).toHaveLength(0);
    fake.clearFaults();
    expect(await r.getVariable('a')).toBe('in-aws'); // walked: its miss was not remembered
    expect(singleCalls()).toHaveLength(1);
    await r.close();
  });
});

describe('prefetch through SSM Parameter Store', () => {
  it('reads 25 variables with GetParameters (10 a call, decrypted), then answers from the cache', async () => {
    for (const id of range('p', 22))
      fake.parameters.set(`/airflow/variables/${id}`, { value: `value-${id}` });
    const r = createResolver({ backends: [awsSsm(common())], cache: true, logger: quiet });
    await r.prefetch({ variables: [...range('p', 22), 'x', 'y', 'z'] });
    const calls = fake.requestsFor('AmazonSSM.GetParameters');
    expect(calls).toHaveLength(3);
    expect(
      calls.every((c) => c.body.WithDecryption === true && (c.body.Names as string[]).length <= 10),
    ).toBe(true);
    expect(await r.getVariable('p21')).toBe('value-p21');
    expect(await r.getVariable('y')).toBeNull();
    expect(fake.requests).toHaveLength(3);
    await r.close();
  });
});
