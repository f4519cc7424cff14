/**
 * Listing and writing for the Vault adapter: the real node-vault client against the wire fake
 * (test/fakes/vault-fake.ts), KV v1 and v2: the `LIST` verb on the wire (as hvac sends it),
 * recursion into folders, the shapes written (`conn_uri`, the field form, `value`), check-and-set
 * on KV v2, deletes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HashicorpVaultOptions, hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { Connection } from '../../src/connection.js';
import { AccessDeniedError, ConfigurationError, SecretExistsError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';
import { runWriteSuite } from '../helpers/write-suite.js';

let fake: VaultFake;
beforeAll(async () => {
  fake = await startVaultFake();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.mount('kv1', 1);
});

const make = (o: HashicorpVaultOptions = {}) =>
  hashicorpVault({ url: fake.url, token: fake.rootToken, logger: silentLogger, ...o });

runWriteSuite({
  name: 'hashicorp-vault KV v2 (fake)',
  create: () => {
    fake.reset();
    return make();
  },
});
runWriteSuite({
  name: 'hashicorp-vault KV v1 (fake)',
  create: () => {
    fake.reset();
    fake.mount('kv1', 1);
    return make({ mountPoint: 'kv1', kvEngineVersion: 1 });
  },
});

describe('hashicorp-vault listing', () => {
  it('sends LIST on <mount>/metadata/<path> and walks every folder', async () => {
    fake.put('secret', 'connections/a', { conn_uri: 'x://h' });
    fake.put('secret', 'connections/team/b', { conn_uri: 'x://h' });
    fake.put('secret', 'connections/team/deep/c', { conn_uri: 'x://h' });
    fake.put('secret', 'variables/v', { value: '1' });
    const r = await make().list!('connection');
    expect(r).toEqual({
      entries: [
        { id: 'a', secretName: 'secret/connections/a' },
        { id: 'team/b', secretName: 'secret/connections/team/b' },
        { id: 'team/deep/c', secretName: 'secret/connections/team/deep/c' },
      ],
      truncated: false,
    });
    const lists = fake.requests.filter((q) => q.method === 'LIST').map((q) => q.path);
    expect(lists).toEqual([
      'secret/metadata/connections/',
      'secret/metadata/connections/team/',
      'secret/metadata/connections/team/deep/',
    ]);
  });

  it('lists KV v1 at <mount>/<path>; an empty or missing path lists nothing', async () => {
    fake.put('kv1', 'vars/x', { value: '1' });
    const b = make({ mountPoint: 'kv1', kvEngineVersion: 1, variablesPath: 'vars' });
    expect((await b.list!('variable')).entries).toEqual([{ id: 'x', secretName: 'kv1/vars/x' }]);
    expect(fake.requests.filter((q) => q.method === 'LIST').map((q) => q.path)).toEqual(['kv1/vars/']);
    expect((await b.list!('connection')).entries).toEqual([]);
  });

  it('lists a soft-deleted KV v2 secret (its metadata is there), as Vault does', async () => {
    fake.put('secret', 'variables/gone', { value: '1' }, { deleted: true });
    expect((await make().list!('variable')).entries.map((e) => e.id)).toEqual(['gone']);
    expect(await make().getVariable('gone')).toBeNull();
  });

  it('needs a mount point to list, and says so', async () => {
    const err = await make({ mountPoint: null }).list!('connection').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__BACKEND_KWARGS.mount_point');
  });

  it('maps a denied LIST to AccessDeniedError saying it was listing', async () => {
    fake.denied.add('secret/metadata/connections/');
    const err = await make().list!('connection').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(String(err)).toMatch(/permission denied \(HTTP 403\) listing 'secret\/connections\/'/);
  });
});

describe('hashicorp-vault writes', () => {
  it('writes { conn_uri } by default and the field form with format json, as the provider reads them', async () => {
    const c = new Connection({
      id: 'db',
      type: 'postgres',
      host: 'h',
      login: 'u',
      password: 'p',
      port: 5,
      extra: { a: 1 },
    });
    await make().put!('connection', 'db', c);
    expect(fake.get('secret', 'connections/db')).toEqual({ conn_uri: c.getUri() });
    await make().put!('connection', 'db2', c, { format: 'json' });
    expect(fake.get('secret', 'connections/db2')).toEqual({
      conn_type: 'postgres',
      host: 'h',
      login: 'u',
      password: 'p',
      port: 5,
      extra: '{"a": 1}',
    });
    await make().put!('variable', 'v', 'text');
    expect(fake.get('secret', 'variables/v')).toEqual({ value: 'text' });
    const writes = fake.requests.filter((q) => q.method === 'POST' && q.path.startsWith('secret/data/'));
    expect(writes[0]!.body).toEqual({ data: { conn_uri: c.getUri() }, options: { cas: 0 } });
  });

  it('creates with check-and-set 0 on KV v2: an existing secret is a SecretExistsError unless overwrite', async () => {
    fake.put('secret', 'variables/v', { value: 'old' });
    await expect(make().put!('variable', 'v', 'new')).rejects.toBeInstanceOf(SecretExistsError);
    expect(fake.get('secret', 'variables/v')).toEqual({ value: 'old' });
    const r = await make().put!('variable', 'v', 'new', { overwrite: true });
    expect(r).toEqual({ secretName: 'secret/variables/v', action: 'updated' });
    const last = fake.requests.filter((q) => q.method === 'POST').at(-1)!;
    expect(last.body).toEqual({ data: { value: 'new' } });
  });

  it('deletes a KV v2 secret with its metadata (every version)', async () => {
    fake.put('secret', 'variables/v', { value: '1' });
    expect(await make().delete!('variable', 'v')).toBe(true);
    expect(fake.requests.filter((q) => q.method === 'DELETE').map((q) => q.path)).toEqual([
      'secret/metadata/variables/v',
    ]);
    expect((await make().list!('variable')).entries).toEqual([]);
  });

  it('refuses a path with an empty segment', async () => {
    expect(make().locateWrite!('variable', 'a//b')).toEqual({
      skip: 'a Vault path has no empty segment or trailing /',
    });
    await expect(make().put!('variable', 'a/', 'x')).rejects.toBeInstanceOf(ConfigurationError);
  });
});
