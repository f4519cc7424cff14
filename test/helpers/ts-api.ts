/**
 * The TypeScript 5 compiler API, for tests that parse our sources (the `typescript` package of
 * this repo is the native TypeScript 7 compiler, which has no JS API). It is the devDependency
 * alias `"typescript-api": "npm:typescript@^5.9"`; until that is installed, the copy that
 * `@arethetypeswrong/core` ships is used. Neither: a clear error, so the test fails (never skips).
 */
import { createRequire } from 'node:module';
import path from 'node:path';

export type TsApi = typeof import('typescript-api');

const require = createRequire(import.meta.url);

function tryLoad(specifier: string): TsApi | null {
  try {
    const ts = require(specifier) as TsApi;
    return typeof ts.createSourceFile === 'function' && ts.version.startsWith('5.') ? ts : null;
  } catch {
    return null;
  }
}

function nestedCopy(): string | null {
  try {
    const core = path.dirname(require.resolve('@arethetypeswrong/core/package.json'));
    return path.join(core, 'node_modules', 'typescript');
  } catch {
    return null;
  }
}

let cached: TsApi | undefined;

/** The TypeScript 5 API, or an `Error` naming what to install. */
export function loadTypeScriptApi(): TsApi {
  if (cached) return cached;
  const nested = nestedCopy();
  const ts = tryLoad('typescript-api') ?? (nested ? tryLoad(nested) : null);
  if (!ts) {
    throw new Error(
      'The TypeScript 5 compiler API is not installed: add the devDependency ' +
        '"typescript-api": "npm:typescript@^5.9" (npm install).',
    );
  }
  cached = ts;
  return ts;
}
