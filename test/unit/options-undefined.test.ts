/**
 * Under `exactOptionalPropertyTypes`, callers pass `{ field: maybeUndefined }`: every optional
 * option of every adapter, given explicitly as `undefined`, behaves as if it were left out (same
 * name, same secret names asked for, same skips). The field lists are read from the sources, so a
 * new option is covered without editing this test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecretKind, SecretsBackend } from '../../src/backend.js';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import { awsSsm } from '../../src/backends/aws-ssm/index.js';
import { azureKeyVault } from '../../src/backends/azure-key-vault/index.js';
import { environmentVariables } from '../../src/backends/environment.js';
import { gcpSecretManager } from '../../src/backends/gcp-secret-manager/index.js';
import { hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { localFilesystem } from '../../src/backends/local-filesystem/index.js';
import { memory } from '../../src/backends/memory.js';
import { metastore } from '../../src/backends/metastore.js';
import { optionalFieldNames } from '../helpers/dts.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const sources = Object.fromEntries(
  readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [f, readFileSync(path.join(SRC, f), 'utf8')]),
);
const undefinedFor = (type: string) =>
  Object.fromEntries(optionalFieldNames(sources, type).map((k) => [k, undefined]));

const CASES: [string, (o: Record<string, unknown>) => SecretsBackend, Record<string, unknown>][] = [
  ['AwsSecretsManagerOptions', (o) => awsSecretsManager(o as never), {}],
  ['AwsSsmOptions', (o) => awsSsm(o as never), {}],
  ['AzureKeyVaultOptions', (o) => azureKeyVault(o as never), { vaultUrl: 'https://kv.vault.azure.net/' }],
  ['GcpSecretManagerOptions', (o) => gcpSecretManager(o as never), {}],
  ['HashicorpVaultOptions', (o) => hashicorpVault(o as never), { token: 'test-token' }],
  ['LocalFilesystemOptions', (o) => localFilesystem(o as never), {}],
  ['EnvironmentBackendOptions', (o) => environmentVariables(o as never), {}],
  ['MemoryBackendOptions', (o) => memory(o as never), {}],
  ['MetastoreOptions', (o) => metastore(o as never), { url: 'sqlite:////nonexistent/airflow.db' }],
];

const probe = (b: SecretsBackend) =>
  (['connection', 'variable', 'config'] as SecretKind[]).flatMap((k) =>
    ['orders_db', 'team/x'].map((id) => [k, id, b.locate(k, id)]),
  );

describe('options given as undefined behave as left out', () => {
  it.each(CASES)('%s', async (type, create, required) => {
    const undef = undefinedFor(type);
    expect(Object.keys(undef).length, `${type} has optional fields`).toBeGreaterThan(0);
    const plain = create({ ...required });
    const explicit = create({ ...undef, ...required });
    expect(explicit.name).toBe(plain.name);
    expect(probe(explicit)).toEqual(probe(plain));
    await plain.close?.();
    await explicit.close?.();
  });
});
