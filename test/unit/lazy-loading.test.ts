/**
 * Lazy loading, proven in fresh processes: a child `node --import tsx` runs a script against the
 * sources under the module probe (test/helpers/module-probe.ts), which logs every module URL resolved
 * (ESM) and the CommonJS module cache. The test then checks which packages were loaded.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { adapterEntries } from '../helpers/adapter-entries.js';
import { modulesLoadedBy, writeModuleProbe } from '../helpers/module-probe.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const src = (p: string) => pathToFileURL(path.join(ROOT, 'src', p)).href;

/** Package directories that must never load unless their backend is used. */
const HEAVY = {
  'aws-secrets-manager': ['@aws-sdk/client-secrets-manager'],
  'aws-ssm': ['@aws-sdk/client-ssm'],
  'aws-any': ['@aws-sdk/', '@smithy/'],
  google: ['@google-cloud/', 'google-gax', '@grpc/', 'protobufjs'],
  azure: ['@azure/'],
  vault: ['node-vault'],
  sqlite: ['better-sqlite3'],
  postgres: ['/node_modules/pg/', '/node_modules/pg-'],
  mysql: ['/node_modules/mysql2/'],
} as const;
type Heavy = keyof typeof HEAVY;
const ALL_HEAVY = Object.keys(HEAVY) as Heavy[];

const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-secrets-lazy-'));
const probe = writeModuleProbe(dir);

let counter = 0;
/** Run `body` (an ES module body; `src(p)` URLs are inlined) in a fresh process; return every module it loaded. */
async function loadedBy(body: string, env: Record<string, string> = {}): Promise<string[]> {
  const script = path.join(dir, `child-${counter++}.mjs`);
  writeFileSync(script, body);
  const { modules, stdout } = await modulesLoadedBy(probe, {
    cwd: ROOT,
    preload: ['--import', 'tsx'],
    args: [script],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      AIRFLOW_HOME: dir,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NO_PROXY: '127.0.0.1,localhost',
      ...env,
    },
  });
  expect(stdout).toContain('child-done');
  return modules;
}

function loadedGroups(modules: string[]): Heavy[] {
  const norm = modules.map((m) => m.replaceAll('\\', '/'));
  return ALL_HEAVY.filter((g) => HEAVY[g].some((needle) => norm.some((m) => m.includes(needle))));
}

let fake: AwsFake;
beforeAll(async () => {
  fake = await startAwsFake();
  fake.secrets.set('airflow/variables/greeting', 'hello');
  fake.parameters.set('/airflow/variables/greeting', { value: 'hello' });
});
afterAll(() => fake.close());

describe('lazy loading', () => {
  it('importing the package root loads no cloud SDK and no database driver', async () => {
    const modules = await loadedBy(`
      const m = await import(${JSON.stringify(src('index.ts'))});
      if (typeof m.createResolver !== 'function') throw new Error('no createResolver');
      console.log('child-done');
    `);
    // The check can see what it looks for: our own sources were logged.
    expect(modules.some((m) => m.endsWith('/src/resolver/index.ts'))).toBe(true);
    expect(loadedGroups(modules)).toEqual([]);
  });

  it('importing every adapter module, and building each backend, loads no SDK yet', async () => {
    const modules = await loadedBy(`
      const names = ['aws-secrets-manager', 'aws-ssm', 'gcp-secret-manager', 'azure-key-vault', 'hashicorp-vault',
        'metastore', 'local-filesystem', 'environment', 'memory'];
      const entries = ${JSON.stringify(adapterEntries())};
      for (const n of names) await import(entries[n]);
      const aws = await import(${JSON.stringify(src('backends/aws-secrets-manager/index.ts'))});
      const ssm = await import(${JSON.stringify(src('backends/aws-ssm/index.ts'))});
      const gcp = await import(${JSON.stringify(src('backends/gcp-secret-manager/index.ts'))});
      const opts = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
      const backends = [aws.awsSecretsManager(opts), ssm.awsSsm(opts), gcp.gcpSecretManager({ projectId: 'p' })];
      for (const b of backends) b.locate('variable', 'k');
      console.log('child-done');
    `);
    expect(modules.some((m) => m.endsWith('/src/backends/gcp-secret-manager/index.ts'))).toBe(true);
    expect(loadedGroups(modules)).toEqual([]);
  });

  it('a process that uses Secrets Manager loads that SDK alone', async () => {
    const modules = await loadedBy(`
      const { createResolver } = await import(${JSON.stringify(src('index.ts'))});
      const { awsSecretsManager } = await import(${JSON.stringify(src('backends/aws-secrets-manager/index.ts'))});
      const { environmentVariables } = await import(${JSON.stringify(src('backends/environment.ts'))});
      const sm = awsSecretsManager({ region: 'us-east-1', endpoint: ${JSON.stringify(fake.url)},
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' } });
      const r = createResolver({ backends: [sm, environmentVariables({ env: {} })] });
      if ((await r.getVariable('greeting')) !== 'hello') throw new Error('wrong answer');
      await r.close();
      console.log('child-done');
    `);
    const groups = loadedGroups(modules);
    expect(groups).toContain('aws-secrets-manager');
    expect(groups.filter((g) => g !== 'aws-secrets-manager' && g !== 'aws-any')).toEqual([]);
  });

  it('a process configured through AIRFLOW__SECRETS__BACKEND for SSM loads the SSM SDK alone', async () => {
    const modules = await loadedBy(
      `
      const { resolverFromEnv } = await import(${JSON.stringify(src('index.ts'))});
      const r = await resolverFromEnv();
      if ((await r.getVariable('greeting')) !== 'hello') throw new Error('wrong answer');
      await r.close();
      console.log('child-done');
    `,
      {
        AIRFLOW__SECRETS__BACKEND:
          'airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend',
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
          endpoint_url: fake.url,
          region_name: 'us-east-1',
          aws_access_key_id: 'AKIDTEST',
          aws_secret_access_key: 'x',
        }),
      },
    );
    const groups = loadedGroups(modules);
    expect(groups).toContain('aws-ssm');
    expect(groups.filter((g) => g !== 'aws-ssm' && g !== 'aws-any')).toEqual([]);
  });
});
