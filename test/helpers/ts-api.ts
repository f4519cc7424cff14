/**
 * The TypeScript 5 compiler API, for tests that parse our sources (the `typescript` package of
 * this repo is the native TypeScript 7 compiler, which has no JS API): the devDependency alias
 * `"typescript-api": "npm:typescript@^5.9"`. Missing, the test fails with a clear error (never skips).
 */
import { createRequire } from 'node:module';

export type TsApi = typeof import('typescript-api');

let cached: TsApi | undefined;

/** The TypeScript 5 API, or an `Error` naming what to install. */
export function loadTypeScriptApi(): TsApi {
  if (cached) return cached;
  let ts: TsApi;
  try {
    ts = createRequire(import.meta.url)('typescript-api') as TsApi;
  } catch (e) {
    throw new Error(
      'The TypeScript 5 compiler API is not installed: the devDependency "typescript-api" ' +
        '(npm:typescript@^5.9) is missing; run npm ci.',
      { cause: e },
    );
  }
  if (!ts.version.startsWith('5.')) throw new Error(`typescript-api is TypeScript ${ts.version}, not 5.x`);
  cached = ts;
  return ts;
}
