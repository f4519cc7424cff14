/**
 * Issue 15 item 6, proven in fresh processes under the module probe (test/helpers/module-probe.ts):
 * the package root loads no `node:crypto`, `node:child_process`, YAML parser, configuration code
 * or OpenTelemetry before they are used; the local-filesystem module loads the YAML parser only
 * when a YAML file is read. The time it costs is measured by `bench/imports.ts`, not here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { modulesLoadedBy, writeModuleProbe } from '../helpers/module-probe.js';
import { loadTypeScriptApi, type TsApi } from '../helpers/ts-api.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const src = (p: string) => JSON.stringify(pathToFileURL(path.join(ROOT, 'src', p)).href);
const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-secrets-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const probe = writeModuleProbe(dir);

/**
 * Runs `body` in a fresh process; `mark()` in it cuts the log. Builtins asked for through
 * `process.getBuiltinModule` are logged as `builtin:<id>` lines in the same segments.
 */
let counter = 0;
async function segments(body: string): Promise<string[][]> {
  const script = path.join(dir, `child-${counter++}.mjs`);
  writeFileSync(
    script,
    `const get = process.getBuiltinModule;
     const { appendFileSync } = get('node:fs');
     process.getBuiltinModule = (id) => { appendFileSync(process.env.MODULE_PROBE_LOG, 'builtin:' + id + '\\n'); return get(id); };
     const mark = () => globalThis.moduleProbe.mark();
     ${body}
     console.log('child-done');`,
  );
  const run = await modulesLoadedBy(probe, {
    cwd: ROOT,
    preload: ['--import', 'tsx'],
    args: [script],
    env: { PATH: process.env.PATH ?? '', HOME: dir, AIRFLOW_HOME: dir },
  });
  expect(run.stdout).toContain('child-done');
  return run.segments;
}

const has = (mods: string[], needle: string) => mods.some((m) => m.replaceAll('\\', '/').includes(needle));

describe('what the package root loads', () => {
  it('loads no node:crypto, node:child_process, YAML parser, configuration code or OpenTelemetry', async () => {
    const [atImport, afterUse, afterWatch] = await segments(`
      const m = await import(${src('index.ts')});
      const { memory } = await import(${src('backends/memory.ts')});
      mark();
      const r = m.createResolver({ backends: [memory({ variables: { k: 'v' } })], cache: true });
      await r.getVariable('k');
      await r.getConnection('c');
      m.cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'true' });
      mark();
      r.watch('variable', 'k', () => {}); // the cached value is its baseline: hashed now
    `);
    expect(has(atImport!, '/src/resolver/index.ts')).toBe(true); // the probe sees our sources
    for (const mods of [atImport!, afterUse!]) {
      for (const heavy of [
        'node:crypto',
        'builtin:node:crypto',
        'node:child_process',
        'builtin:node:child_process',
        '/node_modules/yaml/',
        '/src/python-yaml.ts',
        '/src/config/settings.ts',
        '/src/config/command.ts',
        '/src/config/airflow-cfg.ts',
        '/src/resolver/otel.ts',
        '@opentelemetry',
        'node:util',
        'node:fs',
      ]) {
        expect(has(mods, heavy), heavy).toBe(false);
      }
    }
    expect(has(afterWatch!, 'builtin:node:crypto')).toBe(true); // watch loads it, on first use
  });

  it('loads the configuration code when a resolver is first built from the environment', async () => {
    const [atImport, afterBuild] = await segments(`
      const m = await import(${src('index.ts')});
      mark();
      const r = await m.resolverFromEnv({ AIRFLOW_HOME: ${JSON.stringify(dir)} }, { readAirflowCfg: false });
      await r.close();
    `);
    expect(has(atImport!, '/src/config/settings.ts')).toBe(false);
    expect(has(afterBuild!, '/src/config/settings.ts')).toBe(true);
    expect(has(afterBuild!, 'node:child_process')).toBe(false); // only a _CMD setting needs it
  });

  it('loads @opentelemetry/api only when telemetry is asked for', async () => {
    const [off, on] = await segments(`
      const { createResolver, silentLogger } = await import(${src('index.ts')});
      const { memory } = await import(${src('backends/memory.ts')});
      const b = memory({ variables: { k: 'v' } });
      await createResolver({ backends: [b] }).getVariable('k');
      mark();
      await createResolver({ backends: [b], telemetry: true, logger: silentLogger }).getVariable('k');
    `);
    expect(has(off!, '@opentelemetry')).toBe(false);
    expect(has(off!, '/src/resolver/otel.ts')).toBe(false);
    expect(has(on!, '/node_modules/@opentelemetry/api/')).toBe(true);
    expect(has(on!, '/src/resolver/otel.ts')).toBe(true);
  });
});

describe('the local-filesystem module', () => {
  it('loads the YAML parser only when a YAML file is read', async () => {
    const env = path.join(dir, 'variables.env');
    const yaml = path.join(dir, 'variables.yaml');
    writeFileSync(env, 'A=1\n', { mode: 0o600 });
    writeFileSync(yaml, 'A: 2\n', { mode: 0o600 });
    const [atImport, afterEnv, afterYaml] = await segments(`
      const { localFilesystem } = await import(${src('backends/local-filesystem/index.ts')});
      mark();
      if ((await localFilesystem({ variablesFilePath: ${JSON.stringify(env)} }).getVariable('A')) !== '1') throw new Error('env');
      mark();
      if ((await localFilesystem({ variablesFilePath: ${JSON.stringify(yaml)} }).getVariable('A')) !== '2') throw new Error('yaml');
    `);
    for (const mods of [atImport!, afterEnv!]) {
      expect(has(mods, '/node_modules/yaml/')).toBe(false);
      expect(has(mods, '/src/python-yaml.ts')).toBe(false);
    }
    expect(has(afterYaml!, '/node_modules/yaml/')).toBe(true);
  });

  it('still parses YAML text synchronously (loadVariables) before any YAML file was read', async () => {
    const [, after] = await segments(`
      const { loadVariables } = await import(${src('backends/local-filesystem/index.ts')});
      mark();
      const got = loadVariables('a: [1, 2]\\n', 'yaml', 'inline.yaml');
      if (got.get('a') !== '[1,2]') throw new Error('got ' + got.get('a'));
    `);
    expect(has(after!, '/node_modules/yaml/')).toBe(true);
  });
});

describe("what compiling the root's modules costs", () => {
  /** The files of the root's static value graph (what the build merges into dist/index.js). */
  function rootGraph(ts: TsApi): Map<string, import('typescript-api').SourceFile> {
    const files = new Map<string, import('typescript-api').SourceFile>();
    const visit = (file: string) => {
      if (files.has(file)) return;
      const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      files.set(file, sf);
      for (const st of sf.statements) {
        const spec =
          (ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly) ||
          (ts.isExportDeclaration(st) && !st.isTypeOnly)
            ? st.moduleSpecifier
            : undefined;
        if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) {
          visit(path.resolve(path.dirname(file), spec.text.replace(/\.js$/, '.ts')));
        }
      }
    };
    visit(path.join(ROOT, 'src/index.ts'));
    return files;
  }

  it('has no regular-expression literal with a Unicode property escape (V8 checks those while compiling)', () => {
    const ts = loadTypeScriptApi();
    const graph = rootGraph(ts);
    expect(graph.size).toBeGreaterThan(10);
    expect([...graph.keys()].some((f) => f.endsWith('src/masker.ts'))).toBe(true);
    const found: string[] = [];
    for (const [file, sf] of graph) {
      const visit = (n: import('typescript-api').Node) => {
        if (n.kind === ts.SyntaxKind.RegularExpressionLiteral && /\\[pP]\{/.test(n.getText())) {
          const { line } = sf.getLineAndCharacterOfPosition(n.getStart());
          found.push(`${path.relative(ROOT, file)}:${line + 1} ${n.getText().slice(0, 60)}`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(found).toEqual([]);
  });

  it('the check finds such a literal where there is one', () => {
    const ts = loadTypeScriptApi();
    const sf = ts.createSourceFile(
      'x.ts',
      'const a = /[\\p{L}]/u; const b = /x/;',
      ts.ScriptTarget.Latest,
      true,
    );
    const hits: string[] = [];
    const visit = (n: import('typescript-api').Node) => {
      if (n.kind === ts.SyntaxKind.RegularExpressionLiteral && /\\[pP]\{/.test(n.getText()))
        hits.push(n.getText());
      ts.forEachChild(n, visit);
    };
    visit(sf);
    expect(hits).toEqual(['/[\\p{L}]/u']);
  });
});
