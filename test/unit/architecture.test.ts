/**
 * The shape of `src/`, checked on every run: no import cycles anywhere, and the layer rules below.
 * Imports are read from the sources (static, `import type`, `export … from`, literal `import('…')`)
 * by test/helpers/import-graph.ts; the checks are also run on planted graphs, so they can fail.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildImportGraph,
  findCycles,
  type ImportGraph,
  type LayerRule,
  ruleViolations,
  scanSpecifiers,
  sourceFiles,
} from '../helpers/import-graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * One adapter's files: `src/backends/<name>.ts` or `src/backends/<name>/…` (the capture is the
 * adapter). The modules the adapters share are not adapters: add a new shared module here.
 */
const ADAPTER =
  /^src\/backends\/(?!(?:base|airflow-kwargs|confine|naming|list-write)\.ts$|aws\/|google\/)([^/]+?)(?:\.ts$|\/)/;
/** The modules the adapters share (the same list as in {@link ADAPTER}). */
const SHARED = /^src\/backends\/(?:(?:base|airflow-kwargs|confine|naming|list-write)\.ts$|aws\/|google\/)/;
/** Every adapter, as {@link ADAPTER} sees the files (a new one is added here on purpose). */
const ADAPTERS = [
  'aws-secrets-manager',
  'aws-ssm',
  'azure-key-vault',
  'environment',
  'gcp-secret-manager',
  'hashicorp-vault',
  'local-filesystem',
  'memory',
  'metastore',
];
/** The Python-compatibility leaves. */
const PYTHON_LEAF = /^src\/(?:(?:pyurl|pyjson|python-yaml)\.ts$|pyre\/)/;

/** The layer rules. Add a row for a new layer; each row is checked on every import of `src/`. */
const LAYER_RULES: readonly LayerRule[] = [
  {
    rule: 'an adapter never imports another adapter',
    from: ADAPTER,
    forbidden: ADAPTER,
    sameGroupAllowed: true,
  },
  {
    rule: 'a module the adapters share never imports an adapter',
    from: SHARED,
    forbidden: ADAPTER,
  },
  {
    rule: 'src/backends never imports the resolver, the configuration, the CLI or the testing kit',
    from: /^src\/backends\//,
    forbidden: /^src\/(?:resolver|config|cli|testing)\//,
  },
  {
    rule: 'a Python-compatibility leaf imports nothing of ours except the other leaves',
    from: PYTHON_LEAF,
    forbidden: /^src\//,
    allowed: PYTHON_LEAF,
  },
  {
    rule: 'src/inventory knows only the backend contract: no adapter, configuration, CLI or testing kit',
    from: /^src\/inventory\//,
    forbidden: /^src\/(?:backends|config|cli|testing|resolver)\//,
  },
  {
    rule: 'the metastore imports no backend',
    from: /^src\/metastore\//,
    forbidden: /^src\/backends\//,
  },
];

const files = sourceFiles(ROOT, 'src');
const { graph, unresolved } = buildImportGraph(ROOT, files);
const edge = (from: RegExp, to: string) =>
  [...graph].some(([f, edges]) => from.test(f) && edges.some((e) => e.to === to));

describe('architecture of src/', () => {
  it('reads the imports of every source file, and every relative import names a file', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(unresolved).toEqual([]);
    // The reader sees each form on the real sources: literal dynamic imports (the registry's
    // adapters), `import type`, and `export … from`.
    for (const adapter of [
      'hashicorp-vault',
      'aws-secrets-manager',
      'gcp-secret-manager',
      'azure-key-vault',
    ]) {
      expect(edge(/^src\/config\//, `src/backends/${adapter}/index.ts`), adapter).toBe(true);
    }
    expect(edge(/^src\/resolver\//, 'src/backend.ts')).toBe(true);
    expect(edge(/^src\/index\.ts$/, 'src/errors.ts')).toBe(true);
  });

  it('has no import cycle', () => {
    expect(findCycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('keeps every layer rule', () => {
    expect(ruleViolations(graph, LAYER_RULES)).toEqual([]);
  });

  it('knows every adapter: each file under src/backends/ is an adapter or a shared module', () => {
    const groups = new Set(files.flatMap((f) => ADAPTER.exec(f)?.[1] ?? []));
    expect([...groups].sort()).toEqual(ADAPTERS);
    const shared = files.filter((f) => f.startsWith('src/backends/') && !ADAPTER.test(f));
    expect(shared).toEqual([
      'src/backends/airflow-kwargs.ts',
      'src/backends/aws/botocore-config.ts',
      'src/backends/aws/common.ts',
      'src/backends/aws/env.ts',
      'src/backends/aws/role.ts',
      'src/backends/base.ts',
      'src/backends/confine.ts',
      'src/backends/google/auth-log.ts',
      'src/backends/list-write.ts',
      'src/backends/naming.ts',
    ]);
  });
});

describe('the architecture checks can fail', () => {
  const planted = (edges: Record<string, string[]>): ImportGraph =>
    new Map(Object.entries(edges).map(([from, to]) => [from, to.map((t, i) => ({ to: t, line: i + 1 }))]));

  it('reports each planted cycle as a path, and nothing for an acyclic part', () => {
    const g = planted({
      'src/a.ts': ['src/b.ts', 'src/x.ts'],
      'src/b.ts': ['src/c.ts'],
      'src/c.ts': ['src/a.ts'],
      'src/self.ts': ['src/self.ts'],
      'src/x.ts': ['src/y.ts'],
      'src/y.ts': [],
    });
    expect(findCycles(g)).toEqual([
      ['src/a.ts', 'src/b.ts', 'src/c.ts', 'src/a.ts'],
      ['src/self.ts', 'src/self.ts'],
    ]);
  });

  it('reports a planted type-only cycle found by the reader', () => {
    const a = scanSpecifiers(`import type { B } from './b.js';\nexport const a = 1;`);
    const b = scanSpecifiers(`export type B = typeof import('./a.js');`);
    expect(a.map((s) => s.spec)).toEqual(['./b.js']);
    expect(b.map((s) => s.spec)).toEqual(['./a.js']);
    const g = planted({ 'src/a.ts': ['src/b.ts'], 'src/b.ts': ['src/a.ts'] });
    expect(findCycles(g)).toEqual([['src/a.ts', 'src/b.ts', 'src/a.ts']]);
  });

  it('names the rule, the file, the line and the import of each planted violation', () => {
    const g = planted({
      'src/backends/aws-ssm/index.ts': [
        'src/backends/aws/common.ts',
        'src/backends/base.ts',
        'src/backends/hashicorp-vault/client.ts',
        'src/resolver/index.ts',
      ],
      'src/backends/hashicorp-vault/index.ts': ['src/backends/hashicorp-vault/client.ts'],
      'src/backends/memory.ts': ['src/backends/environment.ts'],
      'src/pyjson.ts': ['src/pyurl.ts', 'src/errors.ts'],
      'src/metastore/drivers.ts': ['src/optional-import.ts', 'src/backends/base.ts'],
      'src/backends/naming.ts': ['src/pyre/index.ts', 'src/backends/memory.ts'],
      'src/backends/aws/common.ts': ['src/backends/aws/env.ts', 'src/backends/aws-ssm/index.ts'],
    });
    expect(ruleViolations(g, LAYER_RULES)).toEqual([
      'a Python-compatibility leaf imports nothing of ours except the other leaves: src/pyjson.ts:2 imports src/errors.ts',
      'a module the adapters share never imports an adapter: src/backends/aws/common.ts:2 imports src/backends/aws-ssm/index.ts',
      'a module the adapters share never imports an adapter: src/backends/naming.ts:2 imports src/backends/memory.ts',
      'an adapter never imports another adapter: src/backends/aws-ssm/index.ts:3 imports src/backends/hashicorp-vault/client.ts',
      'an adapter never imports another adapter: src/backends/memory.ts:1 imports src/backends/environment.ts',
      'src/backends never imports the resolver, the configuration, the CLI or the testing kit: src/backends/aws-ssm/index.ts:4 imports src/resolver/index.ts',
      'the metastore imports no backend: src/metastore/drivers.ts:2 imports src/backends/base.ts',
    ]);
  });
});

describe('the import reader', () => {
  it('finds every import form, and none in comments, strings, templates or regex literals', () => {
    const source = [
      `// import a from './comment-line.js'`,
      `/* import('./comment-block.js') */`,
      `const s = "import b from './string.js'";`,
      // A template literal with a nested `${ {k: 1}.k }` (built in two parts, so this is no template).
      "const t = `import('./template.js') $" + "{ {k: 1}.k } import c from './template2.js'`;",
      `const re = /import d from '.\\/regex.js'/;`,
      `const q = a / b; import e from './after-division.js';`,
      `import type { F } from './type.js';`,
      `export * from './star.js';`,
      `export { g as h } from './named.js';`,
      `export type { I } from './type-reexport.js';`,
      `import './side-effect.js';`,
      `const m = await import('./dynamic.js');`,
      `type T = typeof import('./type-query.js');`,
      `import {\n  j,\n  type K,\n} from './multiline.js';`,
      `import.meta.url; x.import('./member.js'); import(name);`,
      `import * as ns from 'node:fs';`,
    ].join('\n');
    expect(scanSpecifiers(source)).toEqual([
      { spec: './after-division.js', line: 6 },
      { spec: './type.js', line: 7 },
      { spec: './star.js', line: 8 },
      { spec: './named.js', line: 9 },
      { spec: './type-reexport.js', line: 10 },
      { spec: './side-effect.js', line: 11 },
      { spec: './dynamic.js', line: 12 },
      { spec: './type-query.js', line: 13 },
      { spec: './multiline.js', line: 14 },
      { spec: 'node:fs', line: 19 },
    ]);
  });
});
