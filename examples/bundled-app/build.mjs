/**
 * `node build.mjs`: bundle handler.mjs with esbuild into dist/handler.mjs (ESM, Node 20).
 *
 * The banner gives the ESM bundle a `require`: the AWS SDK resolves to its CommonJS build under
 * `platform: 'node'`, and CommonJS code inside an ESM bundle needs `require` for Node's built-ins
 * (without it, every SDK call fails with "Dynamic require of "node:https" is not supported").
 * `format: 'cjs'` (dist/handler.cjs) needs no banner.
 */
import { build } from 'esbuild';
import { EXTERNAL } from './externals.mjs';

const outdir = process.argv[2] ?? 'dist';
await build({
  entryPoints: ['handler.mjs'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile: `${outdir}/handler.mjs`,
  external: EXTERNAL,
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
