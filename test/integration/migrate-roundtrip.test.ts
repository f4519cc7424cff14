/**
 * The round trip, for every backend: connections and variables in a Fernet-encrypted SQLite
 * metadata database (rows Python's `cryptography` encrypted, and rows this library wrote, with
 * special characters in every field) are migrated into the backend, then every id is resolved
 * through the chain `resolverFromEnv` builds with the backend configured as Airflow would
 * (`AIRFLOW__SECRETS__BACKEND` and `…_BACKEND_KWARGS`), answered by that backend, and compared
 * with the original field by field. Both formats where the provider reads JSON; twice, to see the
 * second run write nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { fromAirflowKwargs as azureFromKwargs } from '../../src/backends/azure-key-vault/index.js';
import { fromAirflowKwargs as gcpFromKwargs } from '../../src/backends/gcp-secret-manager/index.js';
import { fromAirflowKwargs as localFromKwargs } from '../../src/backends/local-filesystem/index.js';
import { type MetastoreBackend, metastore } from '../../src/backends/metastore.js';
import { backendFromClassPath, registerBackend, resolverFromEnv } from '../../src/config/index.js';
import { Connection } from '../../src/connection.js';
import { connectionDifferences } from '../../src/inventory/compare.js';
import { migrate } from '../../src/inventory/migrate.js';
import { silentLogger } from '../../src/logger.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { type GcpFake, startGcpFake } from '../fakes/gcp-fake.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';
import { type AzureFixture, startAzureFixture, staticTokenCredential } from '../helpers/azure-fixture.js';
import { SPECIAL } from '../helpers/write-suite.js';

const SM = 'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend';
const SSM = 'airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend';
const VAULT = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
const GCP = 'airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend';
const AZURE = 'airflow.providers.microsoft.azure.secrets.key_vault.AzureKeyVaultBackend';
const LOCAL = 'airflow.secrets.local_filesystem.LocalFilesystemBackend';

const require = createRequire(import.meta.url);
const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
  grpc: { credentials: { createInsecure(): unknown } };
};
const py = JSON.parse(
  readFileSync(new URL('../fixtures/metastore/fernet-python.json', import.meta.url), 'utf8'),
) as {
  fernetKeySetting: string;
  rows: { connection: Record<string, unknown>[]; variable: Record<string, unknown>[] };
  expected: { connection: Record<string, unknown>; variable: Record<string, string> };
};

/** Connections this library writes into the metastore: special characters in every field, empty fields. */
const OURS: Connection[] = [
  new Connection({
    id: 'special_all',
    type: 'postgres',
    ...SPECIAL,
    port: 5432,
    description: 'multi\nline ü',
  }),
  new Connection({ id: 'host_path', type: 'http', host: 'h@st:/?#%+ x.例', login: 'a b', password: '+%2B' }),
  new Connection({ id: 'empty_fields', type: 'http', host: 'h', login: '', schema: '', password: '' }),
  new Connection({
    id: 'type_only',
    type: 'google_cloud_platform',
    extra: { key_path: '/k.json', scope: 'a b' },
  }),
];
const VARIABLES: Record<string, string> = {
  special_var: '@ : / ? # % + space ünï 🔑',
  multiline_var: 'line one\nline two\n',
  json_var: '{"a": [1, 2.0, null], "b": {"c": "ü"}}',
  empty_var: '',
};

let dir: string;
let source: MetastoreBackend;
let aws: AwsFake;
let vault: VaultFake;
let gcp: GcpFake;
let azure: AzureFixture;
let originals: Map<string, Connection>;
let originalVariables: Map<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'af-roundtrip-'));
  source = metastore({
    url: `sqlite:///${path.join(dir, 'airflow.db')}`,
    fernetKey: py.fernetKeySetting,
    logger: silentLogger,
  });
  await source.ensureSchema();
  const raw = (await import('better-sqlite3')).default(path.join(dir, 'airflow.db'));
  const insert = (table: string, row: Record<string, unknown>) => {
    const cols = Object.keys(row);
    const values = cols.map((c) => (typeof row[c] === 'boolean' ? (row[c] ? 1 : 0) : row[c]));
    raw
      .prepare(
        `INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      )
      .run(...values);
  };
  for (const row of py.rows.connection)
    if (String(row.conn_id) in py.expected.connection) insert('connection', row);
  for (const row of py.rows.variable) if (String(row.key) in py.expected.variable) insert('variable', row);
  raw.close();
  for (const c of OURS) await source.setConnection(c);
  for (const [k, v] of Object.entries(VARIABLES)) await source.setVariable(k, v);
  const ids = (await source.list!('connection')).entries.map((e) => e.id!);
  originals = new Map(
    await Promise.all(ids.map(async (id) => [id, (await source.getConnection(id))!] as const)),
  );
  const keys = (await source.list!('variable')).entries.map((e) => e.id!);
  originalVariables = new Map(
    await Promise.all(keys.map(async (k) => [k, (await source.getVariable(k))!] as const)),
  );
  aws = await startAwsFake();
  vault = await startVaultFake();
  gcp = await startGcpFake({ project: 'fake-project' });
  azure = await startAzureFixture({ tenantId: 't', clientId: 'c', clientSecret: 's', staticToken: 'tok' });
  // Google and Azure as Airflow configures them, with the transport pointed at the fakes.
  registerBackend(GCP, (kw, ctx) =>
    gcpFromKwargs(kw, ctx, {
      clientOptions: {
        apiEndpoint: '127.0.0.1',
        port: gcp.port,
        sslCreds: gax.grpc.credentials.createInsecure(),
        universeDomain: 'googleapis.com',
      },
      maxRetries: 0,
    }),
  );
  registerBackend(AZURE, (kw, ctx) =>
    azureFromKwargs(kw, ctx, {
      credential: staticTokenCredential('tok'),
      clientOptions: azure.clientOptions(),
      retryOptions: { maxRetries: 0 },
    }),
  );
});
afterAll(async () => {
  await source?.close();
  await Promise.all([aws?.close(), vault?.close(), gcp?.close(), azure?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Target {
  name: string;
  backend: string;
  classPath: string;
  kwargs: () => Record<string, unknown>;
  formats: ('uri' | 'json')[];
  /** The JSON form keeps the description. */
  jsonDescription?: boolean;
  /** Variables the store cannot hold (refused, so left out of the comparison). */
  cannotHold?: (key: string, value: string) => boolean;
  /** Build the migration target (default: the class path's adapter with the same kwargs). */
  target?: (kw: Record<string, unknown>) => SecretsBackend;
  reset?: () => void;
}

const awsKw = () => ({
  endpoint_url: aws.url,
  region_name: 'us-east-1',
  aws_access_key_id: 'AKIDTEST',
  aws_secret_access_key: 'test-secret',
});
/**
 * `connections list` over the chain with the old metadata database still in it: the backend now
 * serves every id, and the metastore's copy is shadowed.
 */
async function listedWithTheOldDatabase(env: Record<string, string>, backend: string): Promise<void> {
  const r = await resolverFromEnv(
    {
      ...env,
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${path.join(dir, 'airflow.db')}`,
      AIRFLOW__CORE__FERNET_KEY: py.fernetKeySetting,
    },
    { logger: silentLogger },
  );
  try {
    const listed = await r.list('connection');
    expect(listed.backends.map((b) => b.status)).toEqual(['listed', 'listed', 'listed']);
    for (const id of originals.keys()) {
      const e = listed.entries.find((x) => x.id === id);
      expect([id, e?.source, e?.shadowed.map((s) => s.backend)]).toEqual([id, backend, ['metastore']]);
    }
  } finally {
    await r.close();
  }
}

let files = 0;
/** New (not yet existing) files for each run: the migration creates them. */
const local = (ext: string) => () => {
  files += 1;
  return {
    connections_file_path: path.join(dir, `${files}-connections.${ext}`),
    variables_file_path: path.join(dir, `${files}-variables.${ext}`),
  };
};

const TARGETS: Target[] = [
  {
    name: 'Secrets Manager',
    backend: 'aws-secrets-manager',
    classPath: SM,
    kwargs: awsKw,
    formats: ['uri', 'json'],
    jsonDescription: false,
    reset: () => aws.reset(),
  },
  {
    name: 'SSM Parameter Store',
    backend: 'aws-ssm',
    classPath: SSM,
    kwargs: awsKw,
    formats: ['uri', 'json'],
    cannotHold: (_k, v) => v === '',
    reset: () => aws.reset(),
  },
  {
    name: 'Vault KV v2',
    backend: 'hashicorp-vault',
    classPath: VAULT,
    kwargs: () => ({ url: vault.url, token: vault.rootToken }),
    formats: ['uri', 'json'],
    reset: () => vault.reset(),
  },
  {
    name: 'Vault KV v1',
    backend: 'hashicorp-vault',
    classPath: VAULT,
    kwargs: () => ({ url: vault.url, token: vault.rootToken, mount_point: 'kv1', kv_engine_version: 1 }),
    formats: ['uri', 'json'],
    reset: () => {
      vault.reset();
      vault.mount('kv1', 1);
    },
  },
  {
    name: 'Google Cloud Secret Manager',
    backend: 'gcp-secret-manager',
    classPath: GCP,
    kwargs: () => ({ project_id: 'fake-project' }),
    formats: ['uri', 'json'],
    reset: () => {
      for (const id of [...gcp.resources.keys()]) gcp.delete(id);
    },
  },
  {
    name: 'Azure Key Vault',
    backend: 'azure-key-vault',
    classPath: AZURE,
    kwargs: () => ({ vault_url: azure.vault.url }),
    formats: ['uri', 'json'],
    reset: () => {
      azure.vault.secrets.clear();
      azure.vault.deleted.clear();
    },
  },
  ...(['yaml', 'json', 'env'] as const).map((ext) => ({
    name: `local files (.${ext})`,
    backend: 'local-filesystem',
    classPath: LOCAL,
    kwargs: local(ext),
    formats: ext === 'env' ? (['uri'] as const) : (['uri', 'json'] as const),
    cannotHold: ext === 'env' ? (_k: string, v: string) => v === '' || v.includes('\n') : undefined,
    target: (kw: Record<string, unknown>) =>
      localFromKwargs(kw, { env: {}, logger: silentLogger }, { missingFiles: 'empty' }),
  })),
] as Target[];

describe.each(TARGETS)(
  'migrate from a Fernet-encrypted metastore into $name, read back through the chain',
  (t) => {
    it.each(t.formats)(
      'format %s: every id resolves through the configured chain to the original',
      async (format) => {
        t.reset?.();
        const kwargs = t.kwargs();
        const env = {
          AIRFLOW__SECRETS__BACKEND: t.classPath,
          AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify(kwargs),
          AIRFLOW_HOME: mkdtempSync(path.join(dir, 'home-')), // no metadata database in this chain
        };
        const to = t.target
          ? t.target(kwargs)
          : await backendFromClassPath(t.classPath, kwargs, { env, logger: silentLogger });
        try {
          const first = await migrate({ from: source, to, format });
          const refused = first.report.results.filter((r) => r.outcome === 'refused').map((r) => r.id);
          const unwritable = [...originalVariables].filter(([k, v]) => t.cannotHold?.(k, v)).map(([k]) => k);
          expect(first.plan.filter((e) => e.action !== 'create')).toEqual([]);
          expect(refused.sort()).toEqual(unwritable.sort());
          expect(first.exitCode).toBe(unwritable.length ? 1 : 0);
          const second = await migrate({ from: source, to, format });
          expect(second.plan.filter((e) => !refused.includes(e.id)).map((e) => e.action)).toEqual(
            second.plan.filter((e) => !refused.includes(e.id)).map(() => 'unchanged'),
          );
          expect(second.report.written).toBe(0);
        } finally {
          await to.close?.();
        }
        const r = await resolverFromEnv(env, { logger: silentLogger, onBackendError: 'throw' });
        try {
          for (const [id, original] of originals) {
            const x = await r.explain('connection', id);
            expect([id, x.source]).toEqual([id, t.backend]);
            const got = await r.getConnection(id);
            const keepsDescription = format === 'json' && t.jsonDescription !== false;
            expect([id, connectionDifferences(original, got!, { description: keepsDescription })]).toEqual([
              id,
              [],
            ]);
          }
          for (const [key, value] of originalVariables) {
            if (t.cannotHold?.(key, value)) continue;
            expect([key, await r.getVariable(key), (await r.explain('variable', key)).source]).toEqual([
              key,
              value,
              t.backend,
            ]);
          }
        } finally {
          await r.close();
        }
        await listedWithTheOldDatabase(env, t.backend);
      },
    );
  },
);
