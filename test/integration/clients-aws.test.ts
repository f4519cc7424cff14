/**
 * awsConfig: the real Secrets Manager SDK client, built from the returned configuration, talks to
 * the wire-level AWS fake (test/fakes/aws-fake.ts), which also answers STS AssumeRole. Refresh
 * before expiry is driven by a fake clock (`now`), against the fake's fixed expiry.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsConfig, roleSessionName } from '../../src/clients/index.js';
import { Connection } from '../../src/connection.js';
import { AirflowSecretsError, ConfigurationError } from '../../src/errors.js';
import { type Logger, silentLogger } from '../../src/logger.js';
import { type AwsFake, startAwsFake, zeroDelayRetry } from '../fakes/aws-fake.js';

let fake: AwsFake;
beforeAll(async () => {
  fake = await startAwsFake();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.secrets.set('app/db', 'secret-value');
});

const EXPIRY = Date.parse('2099-01-01T00:00:00Z');
const MIN = 60_000;

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f ?? {})}`) };
}

function client(cfg: ReturnType<typeof awsConfig>) {
  return new SecretsManagerClient({ ...cfg, retryStrategy: zeroDelayRetry(1) });
}

async function readSecret(cfg: ReturnType<typeof awsConfig>): Promise<string | undefined> {
  const c = client(cfg);
  try {
    return (await c.send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString;
  } finally {
    c.destroy();
  }
}

const roleConn = (extra: Record<string, unknown> = {}) =>
  new Connection({
    id: 'orders aws',
    type: 'aws',
    login: 'AKIDLOGIN',
    password: 'login-secret-key',
    extra: {
      region_name: 'eu-west-1',
      endpoint_url: fake.url,
      service_config: { sts: { endpoint_url: fake.url } },
      role_arn: 'arn:aws:iam::123456789012:role/reader',
      assume_role_kwargs: { ExternalId: 'ext-1', DurationSeconds: 900 },
      ...extra,
    },
  });

describe('awsConfig with the key pair', () => {
  it('signs with login/password, in region_name, at endpoint_url', async () => {
    const cfg = awsConfig(
      new Connection({
        type: 'aws',
        login: 'AKIDLOGIN',
        password: 'login-secret-key',
        extra: { region_name: 'eu-west-1', endpoint_url: fake.url },
      }),
    );
    expect(cfg.region).toBe('eu-west-1');
    expect(await readSecret(cfg)).toBe('secret-value');
    const [req] = fake.requestsFor('secretsmanager.GetSecretValue');
    expect(req?.accessKeyId).toBe('AKIDLOGIN');
    expect(req?.sessionToken).toBeUndefined();
  });

  it('falls back to the extras key pair, sends aws_session_token, and prefers service_config endpoints', async () => {
    const cfg = awsConfig(
      new Connection({
        type: 'aws',
        extra: {
          aws_access_key_id: 'AKIDEXTRA',
          aws_secret_access_key: 'extra-secret',
          aws_session_token: 'extra-token',
          region_name: 'us-east-1',
          endpoint_url: 'http://127.0.0.1:9/never',
          service_config: { secretsmanager: { endpoint_url: fake.url } },
        },
      }),
      { service: 'secretsmanager' },
    );
    expect(cfg.endpoint).toBe(fake.url);
    expect(await readSecret(cfg)).toBe('secret-value');
    const [req] = fake.requestsFor('secretsmanager.GetSecretValue');
    expect(req).toMatchObject({ accessKeyId: 'AKIDEXTRA', sessionToken: 'extra-token' });
  });

  it('reads the deprecated session_kwargs pair last, and the hook region argument wins', () => {
    const cfg = awsConfig(
      new Connection({
        type: 'aws',
        extra: {
          region_name: 'eu-west-1',
          session_kwargs: { aws_access_key_id: 'A', aws_secret_access_key: 'S' },
        },
      }),
      { region: 'ap-south-1' },
    );
    expect(cfg.region).toBe('ap-south-1');
    expect(cfg.credentials).toBeTypeOf('function');
  });

  it('leaves credentials to the SDK default chain with no keys, and passes profile_name', () => {
    const cfg = awsConfig(new Connection({ type: 'aws', extra: { profile_name: 'dev' } }));
    expect(cfg.credentials).toBeUndefined();
    expect(cfg.profile).toBe('dev');
    expect(awsConfig(new Connection({})).credentials).toBeUndefined();
  });
});

describe('awsConfig with role_arn (STS AssumeRole)', () => {
  it('assumes the role with the key pair, the kwargs and the slugified session name, then signs with the role', async () => {
    const cfg = awsConfig(roleConn());
    expect(await readSecret(cfg)).toBe('secret-value');
    const [assume] = fake.requestsFor('AssumeRole');
    expect(assume?.accessKeyId).toBe('AKIDLOGIN');
    expect(assume?.body).toMatchObject({
      RoleArn: 'arn:aws:iam::123456789012:role/reader',
      RoleSessionName: 'airflow_orders-aws',
      ExternalId: 'ext-1',
      DurationSeconds: '900',
    });
    const [get] = fake.requestsFor('secretsmanager.GetSecretValue');
    expect(get).toMatchObject({ accessKeyId: 'ASIAFAKEASSUMED', sessionToken: 'assumed-session-token' });
  });

  it('hides the assumed secret key and session token from inspect and JSON, and keeps them usable', async () => {
    const creds = await awsConfig(roleConn()).credentials!();
    const shown = [
      inspect(creds),
      inspect(creds, { showHidden: true, getters: true, depth: null }),
      JSON.stringify(creds),
    ].join('\n');
    for (const s of ['assumed-secret', 'assumed-session-token']) expect(shown).not.toContain(s);
    expect(shown).toContain('ASIAFAKEASSUMED');
    expect({ ...creds }.sessionToken).toBe('assumed-session-token');
  });

  it('lets assume_role_kwargs set RoleSessionName, never RoleArn', async () => {
    const cfg = awsConfig(
      roleConn({ assume_role_kwargs: { RoleSessionName: 'mine', RoleArn: 'arn:aws:iam::1:role/other' } }),
    );
    await cfg.credentials!();
    expect(fake.requestsFor('AssumeRole')[0]?.body).toMatchObject({
      RoleSessionName: 'mine',
      RoleArn: 'arn:aws:iam::123456789012:role/reader',
    });
  });

  it('caches the credentials and refreshes them once fewer than 15 minutes are left', async () => {
    let now = EXPIRY - 60 * MIN;
    const cfg = awsConfig(roleConn(), { now: () => now });
    const a = await cfg.credentials!();
    await cfg.credentials!();
    expect(fake.requestsFor('AssumeRole')).toHaveLength(1);
    expect(a.expiration?.getTime()).toBe(EXPIRY);
    now = EXPIRY - 14 * MIN;
    await Promise.all([cfg.credentials!(), cfg.credentials!(), cfg.credentials!()]);
    expect(fake.requestsFor('AssumeRole')).toHaveLength(2);
  });

  it('keeps the current credentials when a refresh fails with more than 10 minutes left, and fails under 10', async () => {
    let now = EXPIRY - 60 * MIN;
    const log = recorder();
    const cfg = awsConfig(roleConn(), { now: () => now, logger: log });
    const first = await cfg.credentials!();
    fake.fail({ kind: 'access-denied' }, { target: 'AssumeRole' });
    now = EXPIRY - 12 * MIN;
    expect(await cfg.credentials!()).toEqual(first);
    expect(log.warnings.join('\n')).toContain('refreshing the assumed-role credentials failed');
    now = EXPIRY - 5 * MIN;
    const err = await cfg.credentials!().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AirflowSecretsError);
    expect((err as Error).message).toMatch(/AssumeRole for connection 'orders aws' failed \(AccessDenied/);
    const shown = `${(err as Error).message}${inspect(err, { depth: 5 })}${log.warnings.join('')}`;
    for (const s of ['login-secret-key', 'assumed-secret', 'assumed-session-token'])
      expect(shown).not.toContain(s);
    fake.clearFaults();
    expect((await cfg.credentials!()).accessKeyId).toBe('ASIAFAKEASSUMED');
  });

  it('puts the error code STS answers through serverText: a token-like code is not shown', async () => {
    const TOKENISH = 'hvs.CAESIJtokenLikeCode0123456789abcdef';
    let now = EXPIRY - 60 * MIN;
    const log = recorder();
    const cfg = awsConfig(roleConn(), { now: () => now, logger: log });
    await cfg.credentials!();
    fake.fail({ kind: 'error', status: 403, type: TOKENISH, message: 'denied' }, { target: 'AssumeRole' });
    now = EXPIRY - 12 * MIN;
    await cfg.credentials!();
    now = EXPIRY - 5 * MIN;
    const err = await cfg.credentials!().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AirflowSecretsError);
    expect((err as Error).message).toMatch(/AssumeRole for connection 'orders aws' failed \(/);
    const shown = [
      (err as Error).message,
      inspect(err, { depth: 5 }),
      inspect(err, { showHidden: true, depth: 5 }),
      JSON.stringify(err),
      log.warnings.join('\n'),
    ].join('\n');
    expect(log.warnings.join('\n')).toContain('refreshing the assumed-role credentials failed');
    expect(shown).not.toContain('CAESIJ');
    expect(((err as Error).cause as { statusCode?: number }).statusCode).toBe(403);
  });

  it('refuses the assume-role methods it does not implement', () => {
    for (const method of ['assume_role_with_saml', 'assume_role_with_web_identity']) {
      expect(() => awsConfig(roleConn({ assume_role_method: method }))).toThrow(ConfigurationError);
    }
  });
});

describe('awsConfig rules (data)', () => {
  it('maps config_kwargs retries and timeouts, verify, and warns about the rest by name', () => {
    const log = recorder();
    const cfg = awsConfig(
      new Connection({
        type: 'aws',
        login: 'A',
        password: 'secret-key-value',
        extra: {
          verify: false,
          config_kwargs: {
            retries: { max_attempts: 4 },
            connect_timeout: 2,
            read_timeout: 30,
            signature_version: 'v4',
          },
          s3_config_file: '/x',
        },
      }),
      { logger: log },
    );
    expect(cfg.maxAttempts).toBe(5);
    expect(cfg.requestHandler).toMatchObject({ connectionTimeout: 2000, requestTimeout: 30_000 });
    expect(cfg.requestHandler?.httpsAgent?.options.rejectUnauthorized).toBe(false);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('extras not used: s3_config_file, config_kwargs.signature_version');
    expect(log.warnings[0]).not.toContain('secret-key-value');
    expect(
      awsConfig(
        new Connection({ type: 'aws', extra: { config_kwargs: { retries: { total_max_attempts: 2 } } } }),
      ).maxAttempts,
    ).toBe(2);
    expect(inspect(cfg, { depth: 6 })).not.toContain('secret-key-value');
  });

  it("takes conn_type 'aws' (or none, as the wrapper does) and refuses others", () => {
    expect(() => awsConfig(new Connection({ type: 'aws' }))).not.toThrow();
    expect(() => awsConfig(new Connection({ type: 's3' }))).toThrow(/awsConfig takes 'aws'/);
  });

  it('builds the default RoleSessionName as python-slugify does (vectors from the library)', () => {
    const file = path.resolve(import.meta.dirname, '../fixtures/clients/session-name-vectors.json');
    const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: [string, string][] };
    expect(vectors.length).toBeGreaterThan(20);
    for (const [id, want] of vectors) expect(roleSessionName(`Airflow_${id}`), id).toBe(want);
  });
});
