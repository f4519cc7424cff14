/**
 * Listing and writing for the two AWS adapters: the real SDK clients against the wire fake
 * (test/fakes/aws-fake.ts): ListSecrets / CreateSecret / PutSecretValue / DeleteSecret and
 * GetParametersByPath / PutParameter / DeleteParameter, with what each request carried.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import { awsSsm } from '../../src/backends/aws-ssm/index.js';
import { AccessDeniedError, BackendError, ConfigurationError, SecretExistsError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { awsFakeOptions } from '../helpers/aws-fixture.js';
import { runWriteSuite } from '../helpers/write-suite.js';

let fake: AwsFake;
beforeAll(async () => {
  fake = await startAwsFake();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const sm = (o: Parameters<typeof awsSecretsManager>[0] = {}) =>
  awsSecretsManager({ ...awsFakeOptions(fake, { attempts: 1 }), logger: silentLogger, ...o });
const ssm = (o: Parameters<typeof awsSsm>[0] = {}) =>
  awsSsm({ ...awsFakeOptions(fake, { attempts: 1 }), logger: silentLogger, ...o });

runWriteSuite({ name: 'aws-secrets-manager (fake)', create: () => sm(), jsonKeepsDescription: false });
runWriteSuite({ name: 'aws-ssm (fake)', create: () => ssm() });

describe('aws-secrets-manager writes', () => {
  it('creates a plaintext SecretString at <prefix><sep><id>, with KmsKeyId and tags', async () => {
    const r = await sm({ sep: '-' }).put!('connection', 'db', 'postgres://h/x', {
      kmsKeyId: 'alias/airflow',
      tags: { team: 'data' },
    });
    expect(r).toEqual({ secretName: 'airflow/connections-db', action: 'created' });
    const [call] = fake.requestsFor('secretsmanager.CreateSecret');
    expect(call!.body).toMatchObject({
      Name: 'airflow/connections-db',
      SecretString: 'postgres://h/x',
      KmsKeyId: 'alias/airflow',
      Tags: [{ Key: 'team', Value: 'data' }],
    });
    expect(call!.body.SecretBinary).toBeUndefined();
    expect(fake.secretMeta.get('airflow/connections-db')).toEqual({
      kmsKeyId: 'alias/airflow',
      tags: { team: 'data' },
    });
  });

  it('overwrites with PutSecretValue after CreateSecret says it exists', async () => {
    fake.secrets.set('airflow/variables/k', 'old');
    const r = await sm().put!('variable', 'k', 'new', { overwrite: true });
    expect(r.action).toBe('updated');
    expect(fake.requestsFor('secretsmanager.PutSecretValue')[0]!.body).toMatchObject({
      SecretId: 'airflow/variables/k',
      SecretString: 'new',
    });
    expect(fake.secrets.get('airflow/variables/k')).toBe('new');
  });

  it('lists with the name filter and pages, keeping only names under the prefix', async () => {
    for (let i = 0; i < 120; i++)
      fake.secrets.set(`airflow/connections/c${String(i).padStart(3, '0')}`, 'x://h');
    fake.secrets.set('airflow/connectionsX', 'x://h');
    fake.secrets.set('other/thing', 'x://h');
    const r = await sm().list!('connection');
    expect(r.entries).toHaveLength(120);
    expect(r.entries[0]).toEqual({ id: 'c000', secretName: 'airflow/connections/c000' });
    const calls = fake.requestsFor('secretsmanager.ListSecrets');
    expect(calls.map((c) => c.body.Filters)).toEqual([
      [{ Key: 'name', Values: ['airflow/connections/'] }],
      [{ Key: 'name', Values: ['airflow/connections/'] }],
    ]);
    expect(calls[1]!.body.NextToken).toBe('100');
  });

  it('lists an id the lookup pattern excludes, or that maps elsewhere, with no id and why', async () => {
    fake.secrets.set('airflow/connections/aws_default', 'aws://');
    fake.secrets.set('airflow/connections/db', 'x://h');
    const r = await sm({ connectionsLookupPattern: '^(?!aws_default$)' }).list!('connection');
    expect(r.entries).toEqual([
      {
        id: null,
        secretName: 'airflow/connections/aws_default',
        note: "a lookup of 'aws_default' is skipped (id does not match connections_lookup_pattern)",
      },
      { id: 'db', secretName: 'airflow/connections/db' },
    ]);
    const all = await sm({ connectionsPrefix: '' }).list!('connection');
    expect(all.entries.map((e) => e.id).sort()).toEqual([
      'airflow/connections/aws_default',
      'airflow/connections/db',
    ]);
    expect(fake.requestsFor('secretsmanager.ListSecrets').at(-1)!.body.Filters).toBeUndefined();
    expect((await sm({ connectionsPrefix: null }).list!('connection')).entries).toEqual([]);
  });

  it('refuses names Secrets Manager does not allow, before any request', async () => {
    const b = sm();
    expect(b.locateWrite!('connection', 'my db')).toEqual({
      skip: 'Secrets Manager names allow only A-Z a-z 0-9 / _ + = . @ - (1 to 512)',
    });
    await expect(b.put!('connection', 'my db', 'x://h')).rejects.toBeInstanceOf(ConfigurationError);
    await expect(b.put!('connection', 'x', 'x://h', { tier: 'Advanced' })).rejects.toThrow(
      /'tier' is not supported/,
    );
    expect(fake.requests).toEqual([]);
  });

  it('says why a create is refused for a secret in its recovery window, and deletes with the window', async () => {
    fake.secrets.set('airflow/variables/gone', 'v');
    expect(await sm().delete!('variable', 'gone')).toBe(true);
    expect(fake.requestsFor('secretsmanager.DeleteSecret')[0]!.body).toEqual({
      SecretId: 'airflow/variables/gone',
    });
    expect(await sm().getVariable('gone')).toBeNull();
    const err = await sm().put!('variable', 'gone', 'again').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(String(err)).toMatch(/scheduled for deletion: restore it/);
    expect(String(err)).not.toContain('again');
    expect(await sm().delete!('variable', 'never')).toBe(false);
  });

  it('maps a denied write to AccessDeniedError saying it was writing', async () => {
    fake.fail({ kind: 'access-denied' }, { target: 'secretsmanager.CreateSecret' });
    const err = await sm().put!('variable', 'k', 'hidden-value').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(String(err)).toMatch(/access denied writing 'airflow\/variables\/k'/);
    expect(String(err)).not.toContain('hidden-value');
  });
});

describe('multi-team listing and writing (Airflow 3.2, on only with multiTeam)', () => {
  it("lists a team's scoped names and the global ones under the id; writes go where a lookup reads first", async () => {
    fake.secrets.set('airflow/connections/team_a--db', 'x://team');
    fake.secrets.set('airflow/connections/db', 'x://global');
    fake.secrets.set('airflow/connections/team_b--db', 'x://other');
    const b = sm({ team: 'team_a', multiTeam: true });
    expect((await b.list!('connection')).entries).toEqual([
      { id: 'db', secretName: 'airflow/connections/team_a--db' },
      { id: 'db', secretName: 'airflow/connections/db' },
      {
        id: null,
        secretName: 'airflow/connections/team_b--db',
        note: "a lookup of 'team_b--db' is skipped (the id contains '--' (ambiguous in multi-team mode))",
      },
    ]);
    expect((await b.put!('variable', 'v', 'x')).secretName).toBe('airflow/variables/team_a--v');
    const p = ssm({ team: 'team_a', multiTeam: true });
    fake.parameters.set('/airflow/variables/team_a--k', { value: '1' });
    expect((await p.list!('variable')).entries).toEqual([
      { id: 'k', secretName: '/airflow/variables/team_a--k' },
    ]);
  });
});

describe('aws-ssm writes', () => {
  it('writes a SecureString, no Overwrite, with KeyId, tier and tags', async () => {
    const r = await ssm().put!('connection', 'db', 'postgres://h/x', {
      kmsKeyId: 'alias/ssm',
      tier: 'Advanced',
      tags: { team: 'data' },
    });
    expect(r).toEqual({ secretName: '/airflow/connections/db', action: 'created' });
    expect(fake.requestsFor('AmazonSSM.PutParameter')[0]!.body).toEqual({
      Name: '/airflow/connections/db',
      Value: 'postgres://h/x',
      Type: 'SecureString',
      KeyId: 'alias/ssm',
      Tier: 'Advanced',
      Tags: [{ Key: 'team', Value: 'data' }],
    });
    expect(fake.parameters.get('/airflow/connections/db')).toMatchObject({
      type: 'SecureString',
      keyId: 'alias/ssm',
      tier: 'Advanced',
    });
  });

  it('overwrites only when asked, and then without tags (the service refuses them together)', async () => {
    fake.parameters.set('/airflow/variables/k', { value: 'old' });
    await expect(ssm().put!('variable', 'k', 'new')).rejects.toBeInstanceOf(SecretExistsError);
    const r = await ssm().put!('variable', 'k', 'new', { overwrite: true, tags: { a: 'b' } });
    expect(r.action).toBe('updated');
    const calls = fake.requestsFor('AmazonSSM.PutParameter');
    expect(calls.at(-1)!.body).toMatchObject({ Overwrite: true, Value: 'new' });
    expect(calls.at(-1)!.body.Tags).toBeUndefined();
    expect(fake.parameters.get('/airflow/variables/k')!.value).toBe('new');
  });

  it('writes a String parameter when asked; a KMS key needs SecureString', async () => {
    await ssm().put!('variable', 'plain', 'v', { parameterType: 'String' });
    expect(fake.parameters.get('/airflow/variables/plain')!.type).toBe('String');
    await expect(
      ssm().put!('variable', 'p2', 'v', { parameterType: 'String', kmsKeyId: 'k' }),
    ).rejects.toThrow(/SecureString parameters only/);
  });

  it('lists recursively by path without decrypting; a prefix without / is found under /<prefix>', async () => {
    fake.parameters.set('/airflow/connections/a', { value: 'x://h' });
    fake.parameters.set('/airflow/connections/team/b', { value: 'x://h' });
    fake.parameters.set('/airflow/connectionsX/c', { value: 'x://h' });
    const r = await ssm({ connectionsPrefix: 'airflow/connections/' }).list!('connection');
    expect(r.entries).toEqual([
      { id: 'a', secretName: '/airflow/connections/a' },
      { id: 'team/b', secretName: '/airflow/connections/team/b' },
    ]);
    expect(fake.requestsFor('AmazonSSM.GetParametersByPath')[0]!.body).toEqual({
      Path: '/airflow/connections',
      Recursive: true,
      WithDecryption: false,
      MaxResults: 10,
    });
  });

  it('follows NextToken pages and stops at the limit', async () => {
    for (let i = 0; i < 25; i++)
      fake.parameters.set(`/airflow/variables/v${String(i).padStart(2, '0')}`, { value: 'x' });
    const all = await ssm().list!('variable');
    expect(all.entries).toHaveLength(25);
    expect(fake.requestsFor('AmazonSSM.GetParametersByPath')).toHaveLength(3);
    const some = await ssm().list!('variable', { limit: 12 });
    expect(some).toMatchObject({ truncated: true });
    expect(some.entries).toHaveLength(12);
  });

  it('refuses names SSM does not allow, and deletes with DeleteParameter', async () => {
    expect(ssm().locateWrite!('variable', 'a b')).toHaveProperty('skip');
    fake.parameters.set('/airflow/variables/x', { value: '1' });
    expect(await ssm().delete!('variable', 'x')).toBe(true);
    expect(await ssm().delete!('variable', 'x')).toBe(false);
  });
});
