/**
 * A module-load probe for fresh Node processes: a `--import`ed register module installs a resolve
 * hook that appends every resolved module URL (ESM) to a log file, and appends the CommonJS module
 * cache at exit. The child may call `globalThis.moduleProbe.mark()` to cut the log in two (what
 * loaded before the mark, what loaded after). Used by the lazy-loading tests and bench/imports.ts.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The environment variable through which the child learns where its log file is. */
const LOG_ENV = 'MODULE_PROBE_LOG';
/** The line `moduleProbe.mark()` writes into the log. */
const MARK = '--- module-probe mark ---';

export interface ModuleProbe {
  /** Node arguments that install the probe: `['--import', <register module URL>]`. */
  nodeArgs: string[];
  /** Creates an empty log file; returns it and the environment entry that points the probe at it. */
  newLog(): { file: string; env: Record<string, string> };
  /** Reads a log written by a child. */
  read(file: string): ModuleLog;
}

export interface ModuleLog {
  /** Every module loaded: resolved ESM URLs in order, and CommonJS cache paths. */
  modules: string[];
  /** `modules` cut at each `moduleProbe.mark()`; CommonJS modules count in the part they loaded in. */
  segments: string[][];
}

/** Writes the probe's hook and register modules into `dir` (created if missing). */
export function writeModuleProbe(dir: string): ModuleProbe {
  mkdirSync(dir, { recursive: true });
  const hooks = path.join(dir, 'module-probe-hooks.mjs');
  const register = path.join(dir, 'module-probe-register.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.${LOG_ENV}, r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(
    register,
    `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const cache = createRequire(import.meta.url)('node:module')._cache;
const logged = new Set();
function logRequired() {
  const fresh = Object.keys(cache).filter((k) => !logged.has(k));
  for (const k of fresh) logged.add(k);
  if (fresh.length > 0) appendFileSync(process.env.${LOG_ENV}, fresh.join('\\n') + '\\n');
}
globalThis.moduleProbe = {
  mark() {
    logRequired();
    appendFileSync(process.env.${LOG_ENV}, ${JSON.stringify(MARK)} + '\\n');
  },
};
process.on('exit', logRequired);
`,
  );
  let counter = 0;
  return {
    nodeArgs: ['--import', pathToFileURL(register).href],
    newLog() {
      const file = path.join(dir, `module-probe-${counter++}.log`);
      writeFileSync(file, '');
      return { file, env: { [LOG_ENV]: file } };
    },
    read(file) {
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      const segments: string[][] = [[]];
      for (const line of lines) {
        if (line === MARK) segments.push([]);
        else segments.at(-1)!.push(line);
      }
      return { modules: segments.flat(), segments };
    },
  };
}

export interface ProbedRun {
  /** Working directory of the child. */
  cwd: string;
  /** Node arguments before the probe's `--import` (e.g. `['--import', 'tsx']`). */
  preload?: string[];
  /** Node arguments after it: a script path, or `['--input-type=module', '-e', source]`. */
  args: string[];
  /** The child's environment (default: this process's); the probe's log entry is added. */
  env?: NodeJS.ProcessEnv;
}

/** Runs a fresh Node process under the probe; throws if it exits non-zero. */
export async function modulesLoadedBy(
  probe: ModuleProbe,
  run: ProbedRun,
): Promise<ModuleLog & { stdout: string; stderr: string }> {
  const log = probe.newLog();
  const child = spawn(process.execPath, [...(run.preload ?? []), ...probe.nodeArgs, ...run.args], {
    cwd: run.cwd,
    env: { ...(run.env ?? process.env), ...log.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`child exited ${code}: ${stderr.slice(0, 2000)}\n${stdout.slice(0, 2000)}`);
  return { ...probe.read(log.file), stdout, stderr };
}

/** The packages (under node_modules, `@scope/name` or `name`) the modules belong to, sorted. */
export function packagesIn(modules: string[]): string[] {
  const pkgs = new Set<string>();
  for (const line of modules) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(line.replaceAll('\\', '/'));
    if (m) pkgs.add(m[1]!);
  }
  return [...pkgs].sort();
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Runs `source` (an ES module given to `node --import tsx -e`, from the repository root) under a
 * probe written in `dir`; returns the packages loaded before its `moduleProbe.mark()` and after.
 */
export async function packagesAroundMark(
  dir: string,
  source: string,
): Promise<{ before: string[]; after: string[] }> {
  const { segments } = await modulesLoadedBy(writeModuleProbe(dir), {
    cwd: ROOT,
    preload: ['--import', 'tsx'],
    args: ['--input-type=module', '-e', source],
  });
  if (segments.length !== 2)
    throw new Error(`expected one moduleProbe.mark() call, saw ${segments.length - 1}`);
  return { before: packagesIn(segments[0]!), after: packagesIn(segments[1]!) };
}
