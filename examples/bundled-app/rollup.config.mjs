/**
 * `rollup -c`: the same bundle with rollup (dist/handler.rollup.mjs). node-resolve with the `node`
 * condition finds the SDK's own ESM build; commonjs and json convert the few CommonJS and JSON
 * files among its dependencies; Node's built-ins and EXTERNAL stay imports.
 */
import { builtinModules } from 'node:module';
import commonjs from '@rollup/plugin-commonjs';
import json from '@rollup/plugin-json';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { EXTERNAL } from './externals.mjs';

const external = (id) =>
  id.startsWith('node:') ||
  builtinModules.includes(id) ||
  EXTERNAL.some((e) => id === e || id.startsWith(`${e}/`));

export default {
  input: 'handler.mjs',
  external,
  plugins: [nodeResolve({ exportConditions: ['node'], preferBuiltins: true }), commonjs(), json()],
  output: { file: 'dist/handler.rollup.mjs', format: 'es', inlineDynamicImports: true },
};
