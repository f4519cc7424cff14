/**
 * examples/bundled-app, bundled as a user would: the packed airflow-secrets and the AWS SDK
 * installed in a consumer project, `node build.mjs` (esbuild) and `rollup -c` run there, and each
 * bundle copied alone into an empty folder (no node_modules) and run against the AWS fake on
 * 127.0.0.1. The connection exists only in the fake, so an answer proves the bundled SDK worked.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AwsFake, startAwsFake } from '../../test/fakes/aws-fake.js';
import { type Consumer, installConsumer, type PackedPackage } from '../../test/helpers/packed.js';

const HERE = import.meta.dirname;
const provided = inject('packedPackage');
const packed = (): PackedPackage => {
  if ('error' in provided) throw new Error(provided.error);
  return provided;
};

let fake: AwsFake;
let project: Consumer;
const empty = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-bundle-run-'));
beforeAll(async () => {
  fake = await startAwsFake();
  fake.secrets.set('airflow/connections/orders_db', 'postgres://app:pw-bundled@orders.internal:5432/orders');
  project = installConsumer(packed(), {
    // The SDK, and @smithy/signature-v4 where npm would hoist it (a dependency of the AWS SDK and
    // an optional peer of ours): linked, the SDK's other dependencies resolve from its real path.
    link: [
      '@aws-sdk/client-secrets-manager',
      '@smithy/signature-v4',
      'esbuild',
      'rollup',
      '@rollup/plugin-node-resolve',
      '@rollup/plugin-commonjs',
      '@rollup/plugin-json',
    ],
  });
  for (const f of ['handler.mjs', 'externals.mjs', 'build.mjs', 'rollup.config.mjs']) {
    copyFileSync(path.join(HERE, f), path.join(project.dir, f));
  }
});
afterAll(async () => {
  project?.remove();
  rmSync(empty, { recursive: true, force: true });
  await fake?.close();
});

/** Run `file` (a bundle) from the empty folder, the AWS backend configured by the environment. */
async function runAlone(file: string) {
  const target = path.join(empty, path.basename(file));
  copyFileSync(file, target);
  const script = `const m = await import(${JSON.stringify(target)}); console.log(JSON.stringify(await (m.handler ?? m.default.handler)({ connId: 'orders_db' })));`;
  fake.requests.length = 0;
  const r = await project.runAsync(process.execPath, ['--input-type=module', '-e', script], {
    AIRFLOW_HOME: empty,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AIRFLOW__SECRETS__BACKEND: 'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
    AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
      endpoint_url: fake.url,
      region_name: 'us-east-1',
      aws_access_key_id: 'AKIDTEST',
      aws_secret_access_key: 'test-secret',
    }),
  });
  return r;
}

const EXPECTED = { id: 'orders_db', type: 'postgres', host: 'orders.internal', port: 5432, login: 'app' };

describe('examples/bundled-app', () => {
  it('externals.mjs: the optional peers that are not installed, and better-sqlite3', () => {
    const r = project.run(process.execPath, [
      '--input-type=module',
      '-e',
      "console.log(JSON.stringify((await import('./externals.mjs')).EXTERNAL))",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const external: string[] = JSON.parse(r.stdout);
    expect(external).toContain('better-sqlite3');
    expect(external).toContain('@aws-sdk/client-ssm');
    expect(external).toContain('node-vault');
    expect(external).not.toContain('@aws-sdk/client-secrets-manager');
    expect(external).not.toContain('@smithy/signature-v4');
  });

  it('esbuild (build.mjs): one ESM file with the SDK inside, runs with no node_modules, reads from AWS', async () => {
    const b = project.run(process.execPath, ['build.mjs']);
    expect(b.status, b.stderr).toBe(0);
    const bundle = path.join(project.dir, 'dist/handler.mjs');
    expect(readFileSync(bundle, 'utf8')).toContain('GetSecretValue');
    const r = await runAlone(bundle);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED);
    expect(r.stderr).toBe('');
    expect(fake.requests.map((q) => q.target)).toContain('secretsmanager.GetSecretValue');
    expect(existsSync(path.join(empty, 'node_modules'))).toBe(false);
  });

  it('rollup (rollup.config.mjs): the same handler, bundled and run alone', async () => {
    const b = project.run(path.join(project.dir, 'node_modules/.bin/rollup'), ['-c', '--silent']);
    expect(b.status, b.stderr).toBe(0);
    const r = await runAlone(path.join(project.dir, 'dist/handler.rollup.mjs'));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED);
    expect(r.stderr).toBe('');
  });

  it('without the createRequire banner the esbuild bundle cannot reach AWS (why build.mjs has it)', async () => {
    const script = `
      import { build } from 'esbuild';
      import { EXTERNAL } from './externals.mjs';
      await build({ entryPoints: ['handler.mjs'], bundle: true, platform: 'node', format: 'esm',
        outfile: 'dist/no-banner.mjs', external: EXTERNAL, logLevel: 'silent' });`;
    const b = project.run(process.execPath, ['--input-type=module', '-e', script]);
    expect(b.status, b.stderr).toBe(0);
    const r = await runAlone(path.join(project.dir, 'dist/no-banner.mjs'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('aws-secrets-manager');
    expect(fake.requests).toEqual([]);
  });
});
