/**
 * Run an ES module body in a fresh `node --import tsx` process on the sources, with a minimal
 * environment. `src(p)` gives the JSON-quoted URL of a source file to import in the body.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-secrets-child-'));
process.on('exit', () => {
  try {
    (process.getBuiltinModule('node:fs') as typeof import('node:fs')).rmSync(dir, {
      recursive: true,
      force: true,
    });
  } catch {
    // best effort
  }
});

export const src = (p: string): string => JSON.stringify(pathToFileURL(path.join(ROOT, 'src', p)).href);

let counter = 0;
export async function runChild(
  body: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = path.join(dir, `child-${counter++}.mjs`);
  writeFileSync(script, body);
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: dir, AIRFLOW_HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}
