/**
 * Issue 12's small fidelity items: a blank `AIRFLOW_CONN_*` is a malformed secret (Airflow's
 * `deserialize_connection` raises on it); the BatchGetSecretValue fallback on any denial; the
 * warning when `endpoint_url` and `role_arn` are set and STS has no endpoint; `from_json` port 0.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as sm from '../../src/backends/aws-secrets-manager/index.js';
import * as ssm from '../../src/backends/aws-ssm/index.js';
import { environmentVariables } from '../../src/backends/environment.js';
import { memory } from '../../src/backends/memory.js';
import { Connection } from '../../src/connection.js';
import { MalformedSecretError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { rejection } from '../helpers/assertions.js';
import { awsFakeOptions } from '../helpers/aws-fixture.js';

function logs() {
  const lines: { level: string; message: string }[] = [];
  const logger: Logger = {
    debug: (message) => lines.push({ level: 'debug', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
  };
  return { logger, lines };
}

describe('AIRFLOW_CONN_X set to whitespace only', () => {
  for (const blank of [' ', '\t\n', '\u3000 ']) {
    it(`${JSON.stringify(blank)} is a malformed secret, never "not found"`, async () => {
      const env = { AIRFLOW_CONN_X: blank };
      const err = await rejection(environmentVariables({ env }).getConnection('x'));
      expect(err).toBeInstanceOf(MalformedSecretError);
      expect(err.message).toContain("connection 'x'");
      expect(err.message).toContain('AIRFLOW_CONN_X');
    });
  }

  it('an empty value stays "not found" (Airflow: `if value:`)', async () => {
    expect(await environmentVariables({ env: { AIRFLOW_CONN_X: '' } }).getConnection('x')).toBeNull();
  });

  it("is thrown under onBackendError 'throw', logged and skipped under 'continue'", async () => {
    const env = { AIRFLOW_CONN_X: '   ' };
    const strict = createResolver({ backends: [environmentVariables({ env })], onBackendError: 'throw' });
    await expect(strict.getConnection('x')).rejects.toBeInstanceOf(MalformedSecretError);
    const log = logs();
    const lenient = createResolver({
      backends: [environmentVariables({ env }), memory({ connections: { x: 'http://fallback' } })],
      logger: log.logger,
    });
    expect((await lenient.getConnection('x'))?.host).toBe('fallback');
    expect(log.lines.some((l) => l.level === 'warn' && l.message.includes('environment'))).toBe(true);
  });
});

describe('a JSON connection secret needs a non-empty conn_type or uri (newest BaseSecretsBackend)', () => {
  it.each([
    '{"host": "h"}',
    '{"conn_type": " ", "host": "h"}',
    '{"conn_type": null, "uri": ""}',
    ' {"port": 5} ',
  ])('%s is a malformed secret', async (value) => {
    const err = await rejection(environmentVariables({ env: { AIRFLOW_CONN_X: value } }).getConnection('x'));
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect(err.message).toContain("must include a non-empty 'conn_type' or 'uri'");
  });
  it.each([
    ['{"conn_type": "http", "host": "h"}', 'h'],
    ['{"uri": "http://u@h2"}', 'h2'],
  ])('%s is read', async (value, host) => {
    expect((await environmentVariables({ env: { AIRFLOW_CONN_X: value } }).getConnection('x'))?.host).toBe(
      host,
    );
  });
});

describe('from_json port 0 (newest core: 0, older: None)', () => {
  it('keeps port 0', () => {
    expect(Connection.fromJson('{"conn_type": "http", "port": 0}').port).toBe(0);
    expect(Connection.fromJson('{"port": "0"}').port).toBe(0);
    expect(Connection.fromJson('{"port": null}').port).toBeNull();
    expect(Connection.fromJson('{"port": ""}').port).toBeNull();
  });
});

describe('AWS: batch fallback and the STS endpoint warning', () => {
  let fake: AwsFake;
  beforeAll(async () => {
    fake = await startAwsFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it.each([
    [{ kind: 'error', status: 403, type: 'Forbidden' }],
    [{ kind: 'error', status: 400, type: 'AccessDenied' }],
    [{ kind: 'error', status: 403, type: 'UnknownError', message: 'proxy says no' }],
  ] as const)('BatchGetSecretValue denied as %j: reads one by one', async (fault) => {
    fake.secrets.set('airflow/variables/a', 'x');
    fake.fail(fault, { target: 'secretsmanager.BatchGetSecretValue' });
    const b = sm.awsSecretsManager({ ...awsFakeOptions(fake), logger: logs().logger });
    expect(Object.fromEntries(await b.getMany!('variable', ['a', 'b']))).toEqual({ a: 'x', b: null });
    expect(fake.requestsFor('secretsmanager.GetSecretValue')).toHaveLength(2);
  });

  it('a batch failure that is not a denial still fails', async () => {
    fake.fail(
      { kind: 'error', status: 400, type: 'ValidationException' },
      { target: 'secretsmanager.BatchGetSecretValue' },
    );
    const b = sm.awsSecretsManager({ ...awsFakeOptions(fake), logger: logs().logger });
    await expect(b.getMany!('variable', ['a'])).rejects.toThrow();
    expect(fake.requestsFor('secretsmanager.GetSecretValue')).toHaveLength(0);
  });

  const ROLE = 'arn:aws:iam::123456789012:role/airflow';
  for (const [name, build] of [
    ['SecretsManagerBackend', sm.fromAirflowKwargs],
    ['SystemsManagerParameterStoreBackend', ssm.fromAirflowKwargs],
  ] as const) {
    it(`${name}: endpoint_url with role_arn and no STS endpoint warns once that AssumeRole goes to AWS`, () => {
      const log = logs();
      build(
        { endpoint_url: fake.url, region_name: 'us-east-1', role_arn: ROLE },
        { env: {}, logger: log.logger },
      );
      const warned = log.lines.filter((l) => l.level === 'warn');
      expect(warned).toHaveLength(1);
      expect(warned[0]!.message).toContain('real AWS STS');
      expect(warned[0]!.message).not.toContain(fake.url);
    });

    it(`${name}: no warning when STS has an endpoint, or without role_arn`, () => {
      const log = logs();
      const kw = { endpoint_url: fake.url, region_name: 'us-east-1' };
      build({ ...kw, role_arn: ROLE }, { env: { AWS_ENDPOINT_URL_STS: fake.url }, logger: log.logger });
      build(
        { ...kw, role_arn: ROLE, service_config: { sts: { endpoint_url: fake.url } } },
        { env: {}, logger: log.logger },
      );
      build(kw, { env: {}, logger: log.logger });
      expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
    });
  }
});
