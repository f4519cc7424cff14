/**
 * Cold import cost: each case is a fresh `node --input-type=module -e` process that imports the
 * built package (or an SDK) and reports the time the imports took and its RSS; the parent also
 * times spawn-to-exit. One warm-up run per case is discarded, then the median of RUNS is kept, and
 * the median of the differences to the bare-node baseline of the same round (the baseline and the
 * package root run first, back to back, in every round).
 * A separate run of the root import, under the module probe (test/helpers/module-probe.ts), lists
 * every package it loaded.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { modulesLoadedBy, packagesIn, writeModuleProbe } from '../test/helpers/module-probe.js';

export interface ImportRow {
  name: string;
  group: 'baseline' | 'floor' | 'root' | 'adapter' | 'first use' | 'eager';
  wallMs: number;
  /**
   * Median over the rounds of (this case's wall time − the baseline's in the same round): slow
   * drifts of machine load cancel. The root case runs right after the baseline in each round.
   */
  pairedDeltaMs: number;
  /** The fastest run of this case minus the fastest run of the baseline (each at its least disturbed). */
  minDeltaMs: number;
  importMs: number;
  rssMiB: number;
}

export interface ImportCase {
  name: string;
  group: ImportRow['group'];
  specifiers: string[];
}

export function importCases(dist: string): ImportCase[] {
  const d = (p: string) => pathToFileURL(path.join(dist, p)).href;
  // Each adapter's module as the package's exports map names it (`./dist/<file>.js`).
  const exportsMap = (
    JSON.parse(readFileSync(path.join(dist, '../../package.json'), 'utf8')) as {
      exports: Record<string, { default: string }>;
    }
  ).exports;
  const adapterModule = (a: string) => d(exportsMap[`./backends/${a}`]!.default.replace(/^\.\/dist\//, ''));
  const adapters: Array<[string, string[]]> = [
    ['aws-secrets-manager', ['@aws-sdk/client-secrets-manager']],
    ['aws-ssm', ['@aws-sdk/client-ssm']],
    ['gcp-secret-manager', ['@google-cloud/secret-manager']],
    ['azure-key-vault', ['@azure/keyvault-secrets', '@azure/identity']],
    ['hashicorp-vault', ['node-vault']],
    ['metastore', ['better-sqlite3']],
    ['local-filesystem', []],
    ['environment', []],
  ];
  // The fixed cost of importing any one file (the loader's first resolve, read and compile): the
  // floor under every other row.
  const empty = path.join(dist, '..', 'empty-module.mjs');
  writeFileSync(empty, 'export {};\n');
  const cases: ImportCase[] = [
    { name: 'bare node (baseline)', group: 'baseline', specifiers: [] },
    {
      name: 'an empty ES module (the floor of any import)',
      group: 'floor',
      specifiers: [pathToFileURL(empty).href],
    },
    { name: 'package root', group: 'root', specifiers: [d('index.js')] },
  ];
  for (const [a] of adapters) {
    cases.push({
      name: `root + ${a} module`,
      group: 'adapter',
      specifiers: [d('index.js'), adapterModule(a)],
    });
  }
  for (const [a, sdks] of adapters) {
    if (sdks.length === 0) continue;
    cases.push({
      name: `root + ${a} + its SDK (first use)`,
      group: 'first use',
      specifiers: [d('index.js'), adapterModule(a), ...sdks],
    });
  }
  cases.push({
    name: 'root + every SDK and driver, eagerly',
    group: 'eager',
    specifiers: [
      d('index.js'),
      ...adapters.flatMap(([, s]) => s),
      '@aws-sdk/credential-providers',
      'pg',
      'mysql2/promise',
    ],
  });
  return cases;
}

function childSource(specifiers: string[]): string {
  return [
    'const t0 = performance.now();',
    ...specifiers.map((s) => `await import(${JSON.stringify(s)});`),
    'const ms = performance.now() - t0;',
    'const m = process.memoryUsage();',
    'console.log(JSON.stringify({ ms, rss: m.rss }));',
  ].join('\n');
}

async function runOnce(
  cwd: string,
  source: string,
): Promise<{ wallMs: number; importMs: number; rss: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallMs = performance.now() - t0;
  if (code !== 0) throw new Error(`import child failed (${code}): ${err.slice(0, 500)}`);
  const r = JSON.parse(out.trim().split('\n').pop()!) as { ms: number; rss: number };
  return { wallMs, importMs: r.ms, rss: r.rss };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function measureImports(cwd: string, dist: string, runs: number): Promise<ImportRow[]> {
  const cases = importCases(dist);
  const samples = new Map<string, Array<{ wallMs: number; importMs: number; rss: number }>>();
  for (const c of cases) {
    await runOnce(cwd, childSource(c.specifiers)); // warm-up (file cache), discarded
    samples.set(c.name, []);
  }
  // Rounds over all cases, so slow drift in machine load spreads over every case alike.
  for (let i = 0; i < runs; i++) {
    for (const c of cases) samples.get(c.name)!.push(await runOnce(cwd, childSource(c.specifiers)));
  }
  const base = samples.get(cases[0]!.name)!;
  return cases.map((c) => {
    const s = samples.get(c.name)!;
    const deltas = s.map((x, i) => x.wallMs - base[i]!.wallMs);
    return {
      name: c.name,
      group: c.group,
      wallMs: median(s.map((x) => x.wallMs)),
      pairedDeltaMs: median(deltas),
      minDeltaMs: Math.min(...s.map((x) => x.wallMs)) - Math.min(...base.map((x) => x.wallMs)),
      importMs: median(s.map((x) => x.importMs)),
      rssMiB: median(s.map((x) => x.rss)) / 2 ** 20,
    };
  });
}

/** Every package (under node_modules) that importing `specifier` loads, ESM and CommonJS alike. */
export async function packagesLoadedBy(cwd: string, workDir: string, specifier: string): Promise<string[]> {
  const { modules } = await modulesLoadedBy(writeModuleProbe(workDir), {
    cwd,
    args: ['--input-type=module', '-e', childSource([specifier])],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return packagesIn(modules);
}

/**
 * The Node built-in modules (`process.moduleLoadList` entries) that importing `specifier` loads
 * beyond what importing an empty module loads: e.g. `NativeModule crypto` when it pulls in
 * `node:crypto`. Run in a plain `node` process (a TypeScript loader would load its own).
 */
export async function builtinsLoadedBy(
  cwd: string,
  emptyModule: string,
  specifier: string,
): Promise<string[]> {
  const source = [
    `await import(${JSON.stringify(emptyModule)});`,
    'const before = new Set(process.moduleLoadList);',
    `await import(${JSON.stringify(specifier)});`,
    'console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))));',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`builtins child failed (${code}): ${err.slice(0, 500)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as string[];
}
