/**
 * Ids that leave the configured path (issue 11 item 12). By default (Airflow parity) the read goes
 * where the id takes it, and `explain` names the path actually requested; with `confineIds` (on in
 * the CLI) Vault, SSM and Google Cloud refuse such ids without asking the server, and say why.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsSsm } from '../../src/backends/aws-ssm/index.js';
import { cleanPath, staysBelow } from '../../src/backends/confine.js';
import { gcpSecretManager } from '../../src/backends/gcp-secret-manager/index.js';
import { fromAirflowKwargs, hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { main } from '../../src/cli/main.js';
import { silentLogger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';

let fake: VaultFake;
beforeAll(async () => {
  fake = await startVaultFake();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const vault = (confineIds?: boolean) =>
  hashicorpVault({
    url: fake.url,
    token: fake.rootToken,
    logger: silentLogger,
    ...(confineIds === undefined ? {} : { confineIds }),
  });

describe('cleanPath / staysBelow', () => {
  it('resolve dot segments and empty segments as a server does', () => {
    expect(cleanPath('secret/data/connections/../../../sys/mounts')).toBe('sys/mounts');
    expect(cleanPath('/a//b/./c/')).toBe('a/b/c');
    expect(cleanPath('../../x')).toBe('x');
    expect(staysBelow('secret/data/connections/a/b', 'secret/data/connections')).toBe(true);
    expect(staysBelow('secret/data/connections/../variables/x', 'secret/data/connections')).toBe(false);
    expect(staysBelow('secret/data/connections', 'secret/data/connections')).toBe(false);
  });
});

describe('hashicorp-vault, by default (as Airflow): the read goes where the id leads, explain says where', () => {
  it('`../../../sys/mounts` reads /v1/sys/mounts and explain names that path', async () => {
    const b = vault();
    expect(b.locate('connection', '../../../sys/mounts')).toEqual({ name: '/v1/sys/mounts' });
    const r = createResolver({ backends: [b], logger: silentLogger });
    const x = await r.explain('connection', '../../../sys/mounts');
    expect(x.steps[0]!.secretName).toBe('/v1/sys/mounts');
    expect(fake.reads()).toContain('sys/mounts');
    await r.close();
  });

  it('ordinary ids keep the usual name', () => {
    expect(vault().locate('connection', 'orders_db')).toEqual({ name: 'secret/connections/orders_db' });
    expect(vault().locate('variable', 'team/flag')).toEqual({ name: 'secret/variables/team/flag' });
  });
});

describe('hashicorp-vault with confineIds: such ids are refused before any request', () => {
  it.each(['../../../sys/mounts', '../variables/api_key', 'a/../../x', '/lead', 'a//b', './a', 'a/'])(
    '%s is skipped, saying why',
    async (id) => {
      const b = vault(true);
      const where = b.locate('connection', id);
      expect(where).toHaveProperty('skip');
      expect((where as { skip: string }).skip).toMatch(
        /would leave 'secret\/connections'.*refused by confineIds/,
      );
      expect(await b.getConnection(id)).toBeNull();
      expect(fake.requests).toEqual([]);
    },
  );

  it('ids below the path are read as usual', async () => {
    fake.put('secret', 'connections/team/db', { conn_uri: 'postgres://h/db' });
    const b = vault(true);
    expect((await b.getConnection('team/db'))?.host).toBe('h');
  });

  it('fromAirflowKwargs takes it from the context', () => {
    const b = fromAirflowKwargs(
      { url: fake.url, token: 'x' },
      { env: {}, logger: silentLogger, confineIds: true },
    );
    expect(b.locate('variable', '../x')).toHaveProperty('skip');
    const open = fromAirflowKwargs({ url: fake.url, token: 'x' }, { env: {}, logger: silentLogger });
    expect(open.locate('variable', '../x')).toEqual({ name: '/v1/secret/data/x' });
  });
});

describe('the CLI confines ids', () => {
  it('explain and get refuse `../../../sys/mounts` without a request to Vault', async () => {
    const out: string[] = [];
    const env = {
      AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ url: fake.url, token: fake.rootToken }),
      AIRFLOW_HOME: '/nonexistent-airflow-home',
    };
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), env };
    await main(['explain', 'connection', '../../../sys/mounts'], io);
    await main(['connections', 'get', '../../../sys/mounts'], io);
    expect(out.join('\n')).toContain('refused by confineIds');
    expect(fake.requests).toEqual([]);
  });
});

describe('aws-ssm and gcp-secret-manager', () => {
  const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' };
  it('SSM: names are sent as written by default; with confineIds, a name leaving the prefix is refused', () => {
    const open = awsSsm({ region: 'us-east-1', credentials: creds });
    expect(open.locate('connection', '../../x')).toEqual({ name: '/airflow/connections/../../x' });
    const confined = awsSsm({ region: 'us-east-1', credentials: creds, confineIds: true });
    expect(confined.locate('connection', '../../x')).toHaveProperty('skip');
    expect(confined.locate('connection', '/x')).toHaveProperty('skip');
    expect(confined.locate('connection', 'team/db')).toEqual({ name: '/airflow/connections/team/db' });
  });

  it('Google Cloud: with confineIds, an id holding / is refused (a secret id cannot hold one)', () => {
    const open = gcpSecretManager({ projectId: 'p' });
    expect(open.locate('connection', 'a/../../q')).toEqual({ name: 'airflow-connections-a/../../q' });
    const confined = gcpSecretManager({ projectId: 'p', confineIds: true });
    expect(confined.locate('connection', 'a/../../q')).toHaveProperty('skip');
    expect(confined.locate('connection', 'orders_db')).toEqual({ name: 'airflow-connections-orders_db' });
  });
});
