// `npm run build` (or `node scripts/build.mjs <outDir>`, as the packed-package tests and the
// benchmarks do): compile src/ to dist/ with tsc, then merge the package root's static import
// graph into the root's own file, dist/index.js.
//
// Why: Node 20's ES module loader pays 0.4–1 ms per file (resolve, stat, read, compile, link),
// and the root's static graph is about twenty small modules (the Connection model, errors, masker, logger,
// Python helpers and the resolver). Merged, importing the root reads one file instead of one per
// module (docs/performance.md, "Cold import time"). The other modules import what they share with
// the root from dist/index.js; what is not part of the public API is exported from it under
// rollup's one- or two-letter names (not declared in index.d.ts: not API, and may change in any
// release). A separate shared file (index.js re-exporting a core.js) cost about 0.7 ms more.
//
// Every other module keeps its own file at the path tsc gave it, so the exports map, the lazy
// `import()`s of adapters and SDKs (literal specifiers, which bundlers follow) and the modules that
// find files relative to `import.meta.url` are unchanged. The .d.ts files are tsc's, untouched.
// Nothing is minified or tree-shaken: index.js is the same code, concatenated in evaluation order.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.argv[2] ?? 'dist');

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

/** Every .js file under `dir`. */
function jsFiles(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return jsFiles(p);
    return p.endsWith('.js') ? [p] : [];
  });
}

// The root's static graph, read from tsc's output: `import … from './x.js'` and `export … from`.
const STATIC = /^(?:import|export)\s[^;]*?from\s*['"](\.[^'"]+)['"]|^import\s*['"](\.[^'"]+)['"]/gm;
const entry = path.join(dist, 'index.js');
const core = new Set();
const visit = (file) => {
  if (core.has(file)) return;
  core.add(file);
  const text = readFileSync(file, 'utf8');
  if (file !== entry && text.includes('import.meta')) {
    throw new Error(`${path.relative(root, file)} uses import.meta: it cannot move into dist/index.js`);
  }
  for (const m of text.matchAll(STATIC)) visit(path.resolve(path.dirname(file), m[1] ?? m[2]));
};
visit(entry);
core.delete(entry);

// Every module outside the core stays an entry of its own, so it keeps its file and its path.
const input = Object.fromEntries(
  jsFiles(dist)
    .filter((f) => !core.has(f))
    .map((f) => [path.relative(dist, f).replace(/\.js$/, ''), f]),
);
const bundle = await rollup({
  input,
  treeshake: false,
  // The root's chunk may export more than index.ts does: the bindings the other modules share with it.
  preserveEntrySignatures: 'allow-extension',
  external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
  onwarn: (w) => {
    throw new Error(`rollup: ${w.message}`);
  },
});
const out = mkdtempSync(`${dist}-js-`);
const { output } = await bundle.write({
  dir: out,
  format: 'es',
  entryFileNames: '[name].js',
  chunkFileNames: '[name].js',
  manualChunks: (id) => (core.has(id) || id === entry ? 'index' : undefined),
});
await bundle.close();
const chunks = output.filter((o) => o.type === 'chunk' && !o.isEntry).map((o) => o.fileName);
if (chunks.length > 0)
  throw new Error(`expected no shared chunk (the root's is index.js); got ${chunks.join(', ')}`);
const rootChunk = output.find((o) => o.type === 'chunk' && o.fileName === 'index.js');
const merged = rootChunk?.type === 'chunk' ? Object.keys(rootChunk.modules).length : 0;
if (merged !== core.size + 1)
  throw new Error(`expected index.js to hold ${core.size + 1} modules; it holds ${merged}`);

// Swap the JavaScript: tsc's .js files out, rollup's in; the .d.ts files stay.
for (const f of jsFiles(dist)) rmSync(f);
for (const f of jsFiles(out)) {
  const to = path.join(dist, path.relative(out, f));
  renameSync(f, to);
}
rmSync(out, { recursive: true, force: true });
console.log(
  `${path.relative(root, dist)}: the root and the ${core.size} modules of its static graph merged into index.js`,
);
