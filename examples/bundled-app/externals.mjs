/**
 * What to leave out of a bundle of airflow-secrets (docs/installing.md, "Bundling"):
 * - every optional peer (SDK or driver) that is not installed: the library names each one in a
 *   literal `import()`, so a bundler bundles the installed ones (the SDK you use, and the ones it
 *   depends on: the AWS SDK needs `@smithy/signature-v4`, also a peer of ours) and stops at one that
 *   is missing. A package left out is imported only if the environment configures its backend,
 *   and then fails with a MissingDependencyError that names it. The peers are read from the
 *   package's own package.json, so a peer added in a later version is covered;
 * - `better-sqlite3` always: it is a native addon (a `.node` file) and cannot be bundled; install it
 *   beside the bundle if the app reads a SQLite metadata database.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { peerDependencies } = require('airflow-secrets/package.json');

function installed(pkg) {
  try {
    import.meta.resolve(pkg);
    return true;
  } catch {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  }
}

export const EXTERNAL = [
  ...Object.keys(peerDependencies).filter((p) => p !== 'better-sqlite3' && !installed(p)),
  'better-sqlite3',
];
