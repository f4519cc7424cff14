/**
 * The two AWS adapters' listing and writing against moto (`moto_server`), a second opinion next
 * to our own wire fake: the write suite, the pieces of the API where moto and our fake could
 * disagree (name filters, paths, pages, overwrite, deletion windows, KMS key and tags as the
 * service keeps them), and the round trip from a Fernet-encrypted metastore through
 * `resolverFromEnv`. Skipped outside CI when moto_server is absent; under `CI=true` they run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import { awsSsm } from '../../src/backends/aws-ssm/index.js';
import { metastore } from '../../src/backends/metastore.js';
import { resolverFromEnv } from '../../src/config/index.js';
import { Connection } from '../../src/connection.js';
import { SecretExistsError } from '../../src/errors.js';
import { connectionDifferences } from '../../src/inventory/compare.js';
import { migrate } from '../../src/inventory/migrate.js';
import { silentLogger } from '../../src/logger.js';
import { zeroDelayRetry } from '../fakes/aws-fake.js';
import { type MotoServer, motoBinary, startMoto } from '../helpers/moto-server.js';
import { runWriteSuite, SPECIAL } from '../helpers/write-suite.js';

const CI = process.env.CI === 'true';
const present = motoBinary() !== null;
if (!present && !CI)
  console.warn('moto: skipping the moto tests (no moto_server on PATH; pip install "moto[server]")');

let moto: MotoServer | null = null;
beforeAll(async () => {
  if (present || CI) moto = await startMoto();
  if (!moto && CI) throw new Error('CI=true: moto_server is required (pip install "moto[server]")');
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async (ctx) => {
  if (!moto) {
    ctx.skip();
    return;
  }
  await moto.reset();
});

const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const options = () => ({
  endpoint: moto!.url,
  region: 'us-east-1',
  credentials: CREDS,
  clientConfig: { retryStrategy: zeroDelayRetry(1) },
  logger: silentLogger,
});
const sm = (o: Parameters<typeof awsSecretsManager>[0] = {}) => awsSecretsManager({ ...options(), ...o });
const ssm = (o: Parameters<typeof awsSsm>[0] = {}) => awsSsm({ ...options(), ...o });
const raw = {
  sm: () => new SecretsManagerClient({ endpoint: moto!.url, region: 'us-east-1', credentials: CREDS }),
  ssm: () => new SSMClient({ endpoint: moto!.url, region: 'us-east-1', credentials: CREDS }),
};
const need = (ctx: TestContext) => {
  if (!moto) ctx.skip();
};

runWriteSuite({ name: 'aws-secrets-manager (moto)', create: () => sm(), jsonKeepsDescription: false });
runWriteSuite({ name: 'aws-ssm (moto)', create: () => ssm() });

describe('aws-secrets-manager against moto', () => {
  it('keeps the KMS key and tags given on creation', async (ctx) => {
    need(ctx);
    await sm().put!('variable', 'k', 'v', { kmsKeyId: 'alias/airflow', tags: { team: 'data' } });
    const client = raw.sm();
    const d = await client.send(new DescribeSecretCommand({ SecretId: 'airflow/variables/k' }));
    client.destroy();
    expect(d.KmsKeyId).toBe('alias/airflow');
    expect(d.Tags).toEqual([{ Key: 'team', Value: 'data' }]);
  });

  it('lists only names under the prefix (the name filter is a prefix match), across pages', async (ctx) => {
    need(ctx);
    const b = sm();
    for (let i = 0; i < 105; i++) await b.put!('connection', `c${String(i).padStart(3, '0')}`, 'x://h');
    await b.put!('variable', 'elsewhere', 'v');
    await sm({ connectionsPrefix: 'airflow/connectionsX' }).put!('connection', 'y', 'x://h');
    const r = await b.list!('connection');
    expect(r.truncated).toBe(false);
    expect(r.entries.map((e) => e.id).sort()).toEqual(
      Array.from({ length: 105 }, (_, i) => `c${String(i).padStart(3, '0')}`),
    );
    expect((await b.list!('connection', { limit: 10 })).truncated).toBe(true);
  });

  it('a deleted secret (in its recovery window) is not read or listed, and cannot be created again', async (ctx) => {
    need(ctx);
    const b = sm();
    await b.put!('variable', 'gone', 'v');
    expect(await b.delete!('variable', 'gone')).toBe(true);
    expect(await b.getVariable('gone')).toBeNull();
    expect((await b.list!('variable')).entries).toEqual([]);
    expect(await b.delete!('variable', 'gone')).toBe(false);
    // moto answers CreateSecret with ResourceExistsException here, where AWS answers
    // InvalidRequestException (our fake follows AWS); either way nothing is written silently.
    await expect(b.put!('variable', 'gone', 'again')).rejects.toBeInstanceOf(SecretExistsError);
  });
});

describe('aws-ssm against moto', () => {
  it('writes a SecureString that only a decrypting read shows', async (ctx) => {
    need(ctx);
    await ssm().put!('connection', 'db', 'postgres://u:p@h/x');
    const client = raw.ssm();
    const enc = await client.send(new GetParameterCommand({ Name: '/airflow/connections/db' }));
    client.destroy();
    expect(enc.Parameter?.Type).toBe('SecureString');
    expect(enc.Parameter?.Value).not.toBe('postgres://u:p@h/x');
    expect((await ssm().getConnection('db'))!.password).toBe('p');
  });

  it('overwrites only when asked (tags kept from creation), lists recursively and by pages', async (ctx) => {
    need(ctx);
    const b = ssm();
    await b.put!('variable', 'k', 'old', { tags: { team: 'data' } });
    await expect(b.put!('variable', 'k', 'new')).rejects.toBeInstanceOf(SecretExistsError);
    expect((await b.put!('variable', 'k', 'new', { overwrite: true, tags: { team: 'data' } })).action).toBe(
      'updated',
    );
    expect(await b.getVariable('k')).toBe('new');
    for (let i = 0; i < 23; i++) await b.put!('variable', `team/v${String(i).padStart(2, '0')}`, 'x');
    const r = await b.list!('variable');
    expect(r.entries.map((e) => e.id)).toEqual(expect.arrayContaining(['k', 'team/v00', 'team/v22']));
    expect(r.entries).toHaveLength(24);
  });
});

describe('round trip through moto', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'af-moto-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const FERNET = 'xlfzLv07p9xX3lirhFbdUGp27Kvnm1tN37MJS_t-leM=';

  for (const [name, classPath, backend] of [
    [
      'Secrets Manager',
      'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
      'aws-secrets-manager',
    ],
    [
      'SSM',
      'airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend',
      'aws-ssm',
    ],
  ] as const) {
    it(`${name}: migrated from an encrypted metastore, resolved through resolverFromEnv`, async (ctx) => {
      need(ctx);
      const src = metastore({
        url: `sqlite:///${path.join(dir, `${backend}.db`)}`,
        fernetKey: FERNET,
        logger: silentLogger,
      });
      const original = new Connection({ id: 'special', type: 'postgres', ...SPECIAL, port: 5432 });
      await src.setConnection(original);
      await src.setVariable('v', '@ : / ? # % + ü\nline');
      const kwargs = {
        endpoint_url: moto!.url,
        region_name: 'us-east-1',
        aws_access_key_id: CREDS.accessKeyId,
        aws_secret_access_key: CREDS.secretAccessKey,
      };
      const env = {
        AIRFLOW__SECRETS__BACKEND: classPath,
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify(kwargs),
        AIRFLOW_HOME: mkdtempSync(path.join(dir, 'home-')),
      };
      const target = backend === 'aws-ssm' ? ssm() : sm();
      const first = await migrate({ from: src, to: target });
      expect(first.exitCode).toBe(0);
      expect((await migrate({ from: src, to: target })).report.written).toBe(0);
      await target.close?.();
      const r = await resolverFromEnv(env, { logger: silentLogger, onBackendError: 'throw' });
      try {
        expect((await r.explain('connection', 'special')).source).toBe(backend);
        expect(connectionDifferences(original, (await r.getConnection('special'))!)).toEqual([]);
        expect(await r.getVariable('v')).toBe('@ : / ? # % + ü\nline');
      } finally {
        await r.close();
        await src.close();
      }
    });
  }
});
