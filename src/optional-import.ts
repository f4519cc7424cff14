/**
 * Loading an optional peer dependency (a cloud SDK, a database driver) on first use.
 *
 * Every caller passes a thunk with a **literal** `import('pkg')`, so bundlers (esbuild, webpack,
 * rollup) see the specifier and bundle the SDK when the app uses it; a package that is not
 * installed becomes a `MissingDependencyError` with an install hint.
 */
import { MissingDependencyError } from './errors.js';

/** Each optional package is imported once per process; later calls reuse the module. */
const imported = new Map<string, Promise<unknown>>();

/**
 * Import `pkg` through `load` (which must be `() => import('<pkg>')` with the literal name) the
 * first time it is needed. A failed import is not remembered: installing the package later works
 * without a restart.
 */
export function importOptional<T>(pkg: string, usedBy: string, load: () => Promise<unknown>): Promise<T> {
  let loading = imported.get(pkg);
  if (!loading) {
    loading = loadWithHint(pkg, usedBy, load);
    imported.set(pkg, loading);
    loading.catch(() => imported.delete(pkg));
  }
  return loading as Promise<T>;
}

async function loadWithHint(pkg: string, usedBy: string, load: () => Promise<unknown>): Promise<unknown> {
  try {
    return await load();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingDependencyError(pkg, usedBy, { cause: e });
    }
    throw e;
  }
}
