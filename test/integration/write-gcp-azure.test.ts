/**
 * Listing and writing for Google Cloud Secret Manager (the real gRPC client against the fake in
 * test/fakes/gcp-fake.ts) and Azure Key Vault (the real SecretClient against the HTTPS fake in
 * test/fakes/azure-fake.ts): pages, the reverse name rules, replication and labels, tags, refusals.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { type AzureKeyVaultOptions, azureKeyVault } from '../../src/backends/azure-key-vault/index.js';
import {
  type GcpSecretManagerOptions,
  gcpSecretManager,
} from '../../src/backends/gcp-secret-manager/index.js';
import { AccessDeniedError, BackendError, ConfigurationError, SecretExistsError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { type GcpFake, startGcpFake } from '../fakes/gcp-fake.js';
import { type AzureFixture, startAzureFixture, staticTokenCredential } from '../helpers/azure-fixture.js';
import { runWriteSuite } from '../helpers/write-suite.js';

const require = createRequire(import.meta.url);
const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
  grpc: { credentials: { createInsecure(): unknown } };
};

let gcp: GcpFake;
let azure: AzureFixture;
const open: SecretsBackend[] = [];
beforeAll(async () => {
  gcp = await startGcpFake({ project: 'fake-project' });
  azure = await startAzureFixture({
    tenantId: 'tenant-1',
    clientId: 'app',
    clientSecret: 's',
    staticToken: 'tok',
  });
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((b) => b.close?.()));
  await gcp.close();
  await azure.close();
});
beforeEach(() => {
  for (const id of [...gcp.resources.keys()]) gcp.delete(id);
  gcp.calls.length = 0;
  azure.vault.secrets.clear();
  azure.vault.deleted.clear();
  azure.vault.tags.clear();
  azure.vault.listRequests.length = 0;
});

const google = (o: GcpSecretManagerOptions = {}) => {
  const b = gcpSecretManager({
    projectId: 'fake-project',
    clientOptions: {
      apiEndpoint: '127.0.0.1',
      port: gcp.port,
      sslCreds: gax.grpc.credentials.createInsecure(),
      universeDomain: 'googleapis.com',
    },
    maxRetries: 0,
    timeoutMs: 5_000,
    logger: silentLogger,
    ...o,
  });
  open.push(b);
  return b;
};
const keyVault = (o: Partial<AzureKeyVaultOptions> = {}) =>
  azureKeyVault({
    vaultUrl: azure.vault.url,
    credential: staticTokenCredential('tok'),
    clientOptions: azure.clientOptions(),
    retryOptions: { maxRetries: 0 },
    timeoutMs: 5_000,
    logger: silentLogger,
    ...o,
  });

runWriteSuite({ name: 'gcp-secret-manager (fake)', create: () => google() });
// Ids with `_` too: `put` tags the secret with its id, so the listing maps the name back to it.
runWriteSuite({ name: 'azure-key-vault (fake)', create: () => keyVault() });

describe('gcp-secret-manager writes', () => {
  it('creates the secret with automatic replication, then adds the version', async () => {
    const r = await google().put!('connection', 'my_db', 'postgres://h/x');
    expect(r).toEqual({ secretName: 'airflow-connections-my_db', action: 'created' });
    expect(gcp.calls.map((c) => c.method)).toEqual(['CreateSecret', 'AddSecretVersion']);
    expect(gcp.calls[0]!.request).toMatchObject({
      parent: 'projects/fake-project',
      secretId: 'airflow-connections-my_db',
      secret: { replication: { automatic: {} } },
    });
    expect(gcp.calls[1]!.request.parent).toBe('projects/fake-project/secrets/airflow-connections-my_db');
    expect(gcp.value('airflow-connections-my_db')).toBe('postgres://h/x');
    expect(gcp.resources.get('airflow-connections-my_db')!.replication).toBe('automatic');
  });

  it('replicates in the given locations and sets labels from tags', async () => {
    await google().put!('variable', 'v', 'x', {
      replicaLocations: ['europe-west1', 'us-east1'],
      tags: { team: 'data' },
    });
    expect(gcp.resources.get('airflow-variables-v')).toEqual({
      labels: { team: 'data' },
      replication: ['europe-west1', 'us-east1'],
    });
  });

  it('adds a version to an existing secret only with overwrite; completes one left without a version', async () => {
    gcp.set('airflow-variables-v', 'old');
    await expect(google().put!('variable', 'v', 'new')).rejects.toBeInstanceOf(SecretExistsError);
    expect((await google().put!('variable', 'v', 'new', { overwrite: true })).action).toBe('updated');
    expect(gcp.value('airflow-variables-v')).toBe('new');
    gcp.resources.set('airflow-variables-half', { labels: {}, replication: 'automatic' }); // an earlier run stopped here
    expect((await google().put!('variable', 'half', 'value')).action).toBe('created');
    expect(await google().getVariable('half')).toBe('value');
  });

  it('lists with the name filter, page by page, keeping only names with the prefix', async () => {
    for (let i = 0; i < 30; i++) gcp.set(`airflow-connections-c${String(i).padStart(2, '0')}`, 'x://h');
    gcp.set('other-airflow-connections-x', 'x://h');
    const r = await google().list!('connection');
    expect(r.entries).toHaveLength(30);
    expect(r.entries[0]).toEqual({ id: 'c00', secretName: 'airflow-connections-c00' });
    const lists = gcp.calls.filter((c) => c.method === 'ListSecrets');
    expect(lists.length).toBeGreaterThan(0);
    expect(lists[0]!.request).toMatchObject({
      parent: 'projects/fake-project',
      filter: 'name:airflow-connections-',
    });
    const few = await google().list!('connection', { limit: 5 });
    expect(few.entries).toHaveLength(5);
    expect(few.truncated).toBe(true);
  });

  it('refuses ids the service does not allow, and names the permission a denied write lacks', async () => {
    expect(google().locateWrite!('connection', 'a.b')).toEqual({
      skip: 'secret ids allow only A-Z a-z 0-9 - _ (1 to 255)',
    });
    await expect(google().put!('connection', 'a.b', 'x://h')).rejects.toBeInstanceOf(ConfigurationError);
    gcp.fault('airflow-variables-k', 'permission-denied');
    const err = await google().put!('variable', 'k', 'hidden-value').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(String(err)).toMatch(/secretmanager\.secrets\.create/);
    expect(String(err)).not.toContain('hidden-value');
  });

  it('deletes the secret', async () => {
    gcp.set('airflow-variables-v', 'x');
    expect(await google().delete!('variable', 'v')).toBe(true);
    expect(gcp.resources.has('airflow-variables-v')).toBe(false);
    expect(await google().delete!('variable', 'v')).toBe(false);
  });
});

describe('azure-key-vault writes', () => {
  it('writes with setSecret at the sep-rule name, with tags', async () => {
    const r = await keyVault().put!('connection', 'my_db', 'postgres://h/x', { tags: { team: 'data' } });
    expect(r).toEqual({ secretName: 'airflow-connections-my-db', action: 'created' });
    expect(azure.vault.secrets.get('airflow-connections-my-db')).toBe('postgres://h/x');
    expect(azure.vault.tags.get('airflow-connections-my-db')).toEqual({ team: 'data', airflow_id: 'my_db' });
    await expect(keyVault().put!('connection', 'my_db', 'x://y')).rejects.toBeInstanceOf(SecretExistsError);
    expect((await keyVault().put!('connection', 'my_db', 'x://y', { overwrite: true })).action).toBe(
      'updated',
    );
  });

  it('refuses names Key Vault does not allow, and the ids its reader skips (team-shaped in multi-team mode)', async () => {
    const b = keyVault();
    expect(b.locateWrite!('connection', 'a.b')).toEqual({
      skip: 'Key Vault names allow only 0-9 a-z A-Z - (1 to 127)',
    });
    expect(b.locateWrite!('connection', 'my_db')).toEqual({ name: 'airflow-connections-my-db' });
    await expect(b.put!('connection', 'a.b', 'x://h')).rejects.toBeInstanceOf(ConfigurationError);
    expect(b.locateWrite!('connection', 'team__db')).toEqual({ name: 'airflow-connections-team--db' });
    const multi = keyVault({ multiTeam: true });
    expect(multi.locateWrite!('connection', 'team__db')).toHaveProperty('skip');
    await expect(multi.put!('connection', 'team__db', 'x://h')).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('lists page by page; a name with sep in its id part is ambiguous and listed with no id', async () => {
    for (let i = 0; i < 30; i++) azure.vault.set(`airflow-variables-v${String(i).padStart(2, '0')}`, 'x');
    azure.vault.set('airflow-variables-my-var', 'x');
    azure.vault.set('airflow-connections-db', 'x://h');
    const r = await keyVault().list!('variable');
    expect(r.entries).toHaveLength(31);
    expect(r.entries.find((e) => e.secretName === 'airflow-variables-v00')).toEqual({
      id: 'v00',
      secretName: 'airflow-variables-v00',
    });
    expect(r.entries.find((e) => e.secretName === 'airflow-variables-my-var')).toEqual({
      id: null,
      secretName: 'airflow-variables-my-var',
      note: "ambiguous: each '-' may stand for '-' or '_' in the id (e.g. 'my-var' or 'my_var')",
    });
    expect(azure.vault.listRequests.length).toBeGreaterThan(1);
    expect(azure.vault.listRequests[0]!.maxresults).toBe(25);
  });

  it('tags what it writes with the id, so an ambiguous name lists as that id (a migration lists what it wrote)', async () => {
    const b = keyVault();
    await b.put!('connection', 'my_db', 'postgres://h/x');
    await b.put!('connection', 'other-db', 'postgres://h/y');
    azure.vault.set('airflow-connections-hand-made', 'x://h');
    const { entries } = await b.list!('connection');
    expect(entries).toEqual(
      expect.arrayContaining([
        { id: 'my_db', secretName: 'airflow-connections-my-db' },
        { id: 'other-db', secretName: 'airflow-connections-other-db' },
        expect.objectContaining({ id: null, secretName: 'airflow-connections-hand-made' }),
      ]),
    );
    // A tag that names an id whose lookup reads another name is not believed.
    azure.vault.set('airflow-connections-x-y', 'x://h');
    azure.vault.tags.set('airflow-connections-x-y', { airflow_id: 'elsewhere' });
    const again = await b.list!('connection');
    expect(again.entries.find((e) => e.secretName === 'airflow-connections-x-y')?.id).toBeNull();
  });

  it('refuses an ambiguous id whose name holds another id, or that cannot be tagged', async () => {
    const b = keyVault();
    await b.put!('connection', 'my_db', 'postgres://h/x');
    const clash = await b.put!('connection', 'my-db', 'x://y', { overwrite: true }).catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(ConfigurationError);
    expect(String(clash)).toMatch(/already holds the id 'my_db'/);
    expect(azure.vault.secrets.get('airflow-connections-my-db')).toBe('postgres://h/x');
    // The same id again is an ordinary overwrite.
    expect((await b.put!('connection', 'my_db', 'x://z', { overwrite: true })).action).toBe('updated');

    const full = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`t${i}`, 'v']));
    await expect(b.put!('variable', 'a_b', 'v', { tags: full })).rejects.toThrow(
      /no room for the tag airflow_id/,
    );
    await expect(b.put!('variable', 'a_b', 'v', { tags: { airflow_id: 'zz' } })).rejects.toThrow(
      /the tag airflow_id is given another value/,
    );
    expect(azure.vault.secrets.has('airflow-variables-a-b')).toBe(false);
    // An id whose name maps back to it alone needs no tag.
    await b.put!('variable', 'ab', 'v', { tags: full });
    expect(azure.vault.tags.get('airflow-variables-ab')).toEqual(full);
  });

  it('deletes (the vault keeps it recoverable: writing it again is a 409 that says so)', async () => {
    azure.vault.set('airflow-variables-v', 'x');
    expect(await keyVault().delete!('variable', 'v')).toBe(true);
    expect(azure.vault.deleted.has('airflow-variables-v')).toBe(true);
    expect(await keyVault().delete!('variable', 'v')).toBe(false);
    const err = await keyVault().put!('variable', 'v', 'again').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(String(err)).toMatch(
      /conflict \(409\) writing secret 'airflow-variables-v'.*recover or purge it first/,
    );
  });

  it('names the role a denied write lacks', async () => {
    azure.vault.fault('airflow-variables-k', 'forbidden', 2);
    const err = await keyVault().put!('variable', 'k', 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(String(err)).toMatch(/reading secret 'airflow-variables-k'.*Key Vault Secrets User/);
  });
});
