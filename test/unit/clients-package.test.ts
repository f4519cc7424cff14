/**
 * `airflow-secrets/clients` as a package face: its own subpath (the root never loads it), no
 * client library or SDK loaded by importing it or by building options (only AssumeRole loads
 * `@aws-sdk/credential-providers`, on first use), and declarations that import nothing but our
 * own files and Node built-ins (no optional peer or devDependency needed to type-check).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { modulesLoadedBy, packagesIn, writeModuleProbe } from '../helpers/module-probe.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const src = (p: string) => pathToFileURL(path.join(ROOT, 'src', p)).href;
const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-secrets-clients-pkg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const probe = writeModuleProbe(dir);

async function loaded(body: string): Promise<string[]> {
  const script = path.join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, `${body}\nconsole.log('child-done');\n`);
  const run = await modulesLoadedBy(probe, {
    cwd: ROOT,
    preload: ['--import', 'tsx'],
    args: [script],
    env: { PATH: process.env.PATH ?? '', HOME: dir, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  expect(run.stdout).toContain('child-done');
  return run.modules;
}

describe('airflow-secrets/clients', () => {
  it('is exported as ./clients with types first', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(pkg.exports['./clients']).toEqual({
      types: './dist/clients/index.d.ts',
      default: './dist/clients/index.js',
    });
  });

  it('loads no client library or SDK when imported and used (except AssumeRole, on first call)', async () => {
    const modules = await loaded(`
      const c = await import(${JSON.stringify(src('clients/index.ts'))});
      const { Connection } = await import(${JSON.stringify(src('connection.ts'))});
      const quiet = { logger: { debug() {}, warn() {}, error() {} } };
      c.pgConfig(new Connection({ type: 'postgres', host: 'h' }), quiet);
      c.mysqlConfig(new Connection({ type: 'mysql', host: 'h' }), quiet);
      c.redisOptions(new Connection({ type: 'redis', host: 'h' }), quiet);
      c.mongoUri(new Connection({ type: 'mongo', host: 'h' }), quiet);
      c.httpOptions(new Connection({ type: 'http', host: 'h' }), quiet);
      c.googleCredentials(new Connection({ type: 'google_cloud_platform', extra: { project: 'p' } }), quiet);
      const aws = c.awsConfig(new Connection({ type: 'aws', login: 'A', password: 'S', extra: { role_arn: 'arn:aws:iam::1:role/r' } }), quiet);
      if (typeof aws.credentials !== 'function') throw new Error('no provider');
    `);
    const loader = new Set(['tsx', 'esbuild']);
    expect(packagesIn(modules).filter((p) => !loader.has(p))).toEqual([]);
  });

  it('is not loaded by the package root', async () => {
    const modules = await loaded(`await import(${JSON.stringify(src('index.ts'))});`);
    expect(modules.filter((m) => m.includes('/src/clients/'))).toEqual([]);
  });

  it('emits declarations that import only our own files and node: built-ins', () => {
    const out = path.join(dir, 'dts');
    const tsconfig = path.join(dir, 'tsconfig.dts.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: path.join(ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          emitDeclarationOnly: true,
          declaration: true,
          sourceMap: false,
          rootDir: path.join(ROOT, 'src'),
          outDir: out,
          typeRoots: [path.join(ROOT, 'node_modules/@types')],
        },
        include: [],
        files: [path.join(ROOT, 'src/clients/index.ts')],
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.d.ts')));
        else expect(spec, `${path.relative(out, file)} imports ${spec}`).toMatch(/^node:/);
      }
    };
    visit(path.join(out, 'clients/index.d.ts'));
    expect(seen.size).toBeGreaterThan(8);
    expect(readdirSync(path.join(out, 'clients')).filter((f) => f.endsWith('.d.ts')).length).toBe(9);
  });
});
