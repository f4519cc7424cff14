/**
 * The source file of each `airflow-secrets/backends/<name>` subpath, read from package.json's
 * exports map (`./dist/x.js` → `src/x.ts`), so tests follow the package layout instead of
 * hard-coding file paths.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Adapter short name → file URL of its source module. */
export function adapterEntries(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { default: string }>;
  };
  const out: Record<string, string> = {};
  for (const [sub, target] of Object.entries(pkg.exports)) {
    const m = /^\.\/backends\/(.+)$/.exec(sub);
    if (!m || typeof target === 'string') continue;
    const file = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
    out[m[1]!] = pathToFileURL(path.join(ROOT, file)).href;
  }
  return out;
}
