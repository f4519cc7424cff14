/**
 * What `npm pack` ships (built and packed once by global setup, test/helpers/packed.ts), checked as
 * a user meets it: the licence, the docs the README links to, no source maps pointing at files
 * that are not there, declarations that need no optional SDK, options types that take `undefined`
 * under `exactOptionalPropertyTypes`, and peer ranges that admit no version known to break.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { optionalFieldsWithoutUndefined } from '../helpers/dts.js';
import { scanSpecifiers } from '../helpers/import-graph.js';
import { modulesLoadedBy, writeModuleProbe } from '../helpers/module-probe.js';
import { installConsumer, type PackedPackage, ROOT } from '../helpers/packed.js';
import { loadTypeScriptApi } from '../helpers/ts-api.js';

const provided = inject('packedPackage');
const packed = (): PackedPackage => {
  if ('error' in provided) throw new Error(provided.error);
  return provided;
};
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The installed package's files (the tarball installed into a consumer project). */
let installed: string;
let consumerDir: string;
let shipped: Set<string>;
const read = (f: string) => readFileSync(path.join(installed, f), 'utf8');
beforeAll(() => {
  const c = installConsumer(packed());
  consumerDir = c.dir;
  installed = path.join(c.dir, 'node_modules/airflow-secrets');
  shipped = new Set(packed().files.map((f) => f.path));
  return () => c.remove();
});

/**
 * The declarations a TypeScript user's compiler can load: those the exports map names, and every
 * file they import, transitively (a module no subpath reaches, like an adapter's internal
 * write.ts, is never loaded by a user's tsc).
 */
function publicDeclarations(): string[] {
  const exportsMap = JSON.parse(read('package.json')).exports as Record<string, { types?: string } | string>;
  const queue = Object.values(exportsMap).flatMap((t) =>
    typeof t === 'object' && t.types ? [t.types.replace(/^\.\//, '')] : [],
  );
  const seen = new Set<string>();
  while (queue.length) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    expect(shipped.has(f), `${f} is shipped`).toBe(true);
    seen.add(f);
    for (const { spec } of scanSpecifiers(read(f))) {
      if (spec.startsWith('.'))
        queue.push(path.posix.join(path.posix.dirname(f), spec.replace(/\.js$/, '.d.ts')));
    }
  }
  return [...seen].sort();
}

describe('the packed package', () => {
  it('ships the Apache-2.0 licence, full text, with the project copyright line', () => {
    expect(shipped.has('LICENSE')).toBe(true);
    const text = read('LICENSE');
    expect(text.split('\n')[0]).toBe('Copyright 2026 The airflow-secrets Authors');
    expect(text).toContain('Apache License\n                           Version 2.0, January 2004');
    for (let section = 1; section <= 9; section++) expect(text).toMatch(new RegExp(`\\n {3}${section}\\. `));
    expect(text).toContain('END OF TERMS AND CONDITIONS');
    expect(text).toContain('APPENDIX: How to apply the Apache License to your work.');
  });

  it('ships every page of docs/, and every relative link in a shipped Markdown file resolves inside it', () => {
    const docs = [...shipped].filter((f) => f.startsWith('docs/') && f.endsWith('.md'));
    expect(docs).toEqual(
      expect.arrayContaining(['docs/configuration.md', 'docs/testing.md', 'docs/clients.md']),
    );
    const broken: string[] = [];
    for (const file of [...shipped].filter((f) => f.endsWith('.md'))) {
      for (const m of read(file).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const to = path.posix.normalize(path.posix.join(path.posix.dirname(file), target)).replace(/\/$/, '');
        if (!shipped.has(to) && ![...shipped].some((f) => f.startsWith(`${to}/`)))
          broken.push(`${file} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('ships no source maps (they pointed at src/, which is not shipped) and no map comments', () => {
    expect([...shipped].filter((f) => f.endsWith('.map'))).toEqual([]);
    const js = [...shipped].filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(40);
    expect(js.filter((f) => read(f).includes('sourceMappingURL'))).toEqual([]);
  });

  it('no public declaration file imports a package a user may not have (only node: built-ins and dependencies)', () => {
    const allowed = new Set(Object.keys(pkg.dependencies));
    const bad: string[] = [];
    const files = publicDeclarations();
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) {
      for (const { spec, line } of scanSpecifiers(read(f))) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!allowed.has(name)) bad.push(`${f}:${line} ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('every optional field of a public options type accepts undefined (exactOptionalPropertyTypes)', () => {
    const dts = Object.fromEntries(publicDeclarations().map((f) => [f, read(f)]));
    const fields = optionalFieldsWithoutUndefined(dts);
    expect(fields.checked).toBeGreaterThan(150);
    expect(fields.missing).toEqual([]);
  });

  it('the better-sqlite3 peer range admits no 13.x (it crashes on Node 20) and admits the tested version', () => {
    const semver = createRequire(import.meta.url)('semver') as {
      satisfies(v: string, range: string): boolean;
      minVersion(range: string): { version: string };
    };
    const range = pkg.peerDependencies['better-sqlite3']!;
    expect(semver.satisfies('13.0.0', range)).toBe(false);
    expect(semver.satisfies('13.5.1', range)).toBe(false);
    const tested = JSON.parse(
      readFileSync(path.join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8'),
    );
    expect(semver.satisfies(tested.version, range)).toBe(true);
  });

  it("importing the root reads one of the package's files (index.js, the root's graph merged by the build)", async () => {
    const probe = writeModuleProbe(consumerDir);
    const ours = (modules: string[]) =>
      modules
        .map((m) => m.replaceAll('\\', '/'))
        .filter((m) => m.includes('/node_modules/airflow-secrets/'))
        .map((m) => m.slice(m.indexOf('/node_modules/airflow-secrets/') + 30));
    const root = await modulesLoadedBy(probe, {
      cwd: consumerDir,
      args: [
        '--input-type=module',
        '-e',
        "const m = await import('airflow-secrets'); console.log(typeof m.createResolver)",
      ],
    });
    expect(root.stdout.trim()).toBe('function');
    expect(new Set(ours(root.modules))).toEqual(new Set(['dist/index.js']));
    // Every subpath still loads, and shares one Connection class and one masker with the root.
    const subpaths = Object.keys(JSON.parse(read('package.json')).exports as Record<string, unknown>)
      .filter((s) => s !== './package.json')
      .map((s) => s.replace(/^\./, 'airflow-secrets'));
    const all = await modulesLoadedBy(probe, {
      cwd: consumerDir,
      args: [
        '--input-type=module',
        '-e',
        `const ms = await Promise.all(${JSON.stringify(subpaths)}.map((s) => import(s)));
         const { Connection } = ms[0];
         const { memory } = await import('airflow-secrets/backends/memory');
         const c = await memory({ connections: { c: 'postgres://u:p@h/db' } }).getConnection('c');
         console.log(ms.length, c instanceof Connection);`,
      ],
    });
    expect(all.stdout.trim()).toBe(`${subpaths.length} true`);
  });

  it("the root's namespace is the declared API plus the build's internal bindings, named so they cannot pass for API", async () => {
    const ts = loadTypeScriptApi();
    const dts = path.join(installed, 'dist/index.d.ts');
    const program = ts.createProgram([dts], { noEmit: true, skipLibCheck: true });
    const checker = program.getTypeChecker();
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(dts)!)!;
    // Runtime exports only (a type or interface has no binding).
    const declared = checker
      .getExportsOfModule(moduleSymbol)
      .filter((sym) => {
        const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
        return (target.flags & ts.SymbolFlags.Value) !== 0;
      })
      .map((sym) => sym.name);
    expect(declared).toContain('createResolver');
    const { stdout } = await modulesLoadedBy(writeModuleProbe(consumerDir), {
      cwd: consumerDir,
      args: [
        '--input-type=module',
        '-e',
        "console.log(JSON.stringify(Object.keys(await import('airflow-secrets'))))",
      ],
    });
    const runtime = JSON.parse(stdout.trim().split('\n').pop()!) as string[];
    for (const name of declared) expect(runtime).toContain(name);
    const extra = runtime.filter((n) => !declared.includes(n));
    expect(extra.length).toBeGreaterThan(0); // the merged build shares bindings through the root
    for (const name of extra) expect(name).toMatch(/^[A-Za-z_$][A-Za-z0-9_$]?$/);
  });
});
