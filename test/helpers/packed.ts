/**
 * The package as npm ships it, for tests that meet it as a user does: global setup builds `src/`
 * into a staging copy of the package (package.json, README, LICENSE and the `files` list; the
 * checkout's own `dist/` is neither used nor touched), packs it with `npm pack`, and hands the
 * tarball to the tests (`inject('packedPackage')`). `installConsumer` then makes a throwaway
 * consumer project that installs the tarball with `npm install --offline` (its dependency `yaml`,
 * and any SDK a test asks for, linked from this checkout's node_modules: nothing is downloaded).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface PackedFile {
  path: string;
  size: number;
}

/** What global setup hands to the tests. */
export interface PackedPackage {
  /** The `.tgz` made by `npm pack`. */
  tarball: string;
  /** Its packed and unpacked sizes and its files, as `npm pack --json` reports them. */
  size: number;
  unpackedSize: number;
  files: PackedFile[];
  /** The folder holding the tarball and the staging copy; deleted by global teardown. */
  dir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    packedPackage: PackedPackage | { error: string };
  }
}

/** Build and pack the package into a new temp folder. */
export function packPackage(): PackedPackage {
  const dir = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-packed-'));
  const stage = path.join(dir, 'package');
  mkdirSync(stage);
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  for (const f of ['package.json', 'README.md', 'LICENSE', ...pkg.files.filter((f) => f !== 'dist')]) {
    cpSync(path.join(ROOT, f), path.join(stage, f), { recursive: true });
  }
  // The build npm runs (`npm run build`): tsc, then the root's graph merged into dist/index.js.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), path.join(stage, 'dist')], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const out = execFileSync('npm', ['pack', stage, '--pack-destination', dir, '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out) as [
    { filename: string; size: number; unpackedSize: number; files: PackedFile[] },
  ];
  return {
    tarball: path.join(dir, info.filename),
    size: info.size,
    unpackedSize: info.unpackedSize,
    files: info.files,
    dir,
  };
}

export interface Consumer {
  dir: string;
  /** Run a command in the project (stdout, stderr, exit status; never throws). */
  run(cmd: string, args: readonly string[], env?: Record<string, string | undefined>): RunResult;
  /** Run the installed `airflow-secrets` bin. */
  cli(args: readonly string[], env?: Record<string, string | undefined>): RunResult;
  /** The same without blocking this process (for a fake server that this process serves). */
  runAsync(
    cmd: string,
    args: readonly string[],
    env?: Record<string, string | undefined>,
  ): Promise<RunResult>;
  cliAsync(args: readonly string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  remove(): void;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment for child processes: no proxies, no cloud settings of this machine. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
    METADATA_SERVER_DETECTION: 'none',
    NO_PROXY: '127.0.0.1,localhost,::1',
    no_proxy: '127.0.0.1,localhost,::1',
    npm_config_cache: process.env.npm_config_cache,
    ...extra,
  };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * A new project (ESM unless `type` says otherwise) that installs the packed tarball. `link` names
 * packages of this checkout's node_modules to add as dependencies (an SDK, `@types/node`).
 */
export function installConsumer(
  packed: PackedPackage,
  options: { link?: readonly string[]; type?: 'module' | 'commonjs'; files?: Record<string, string> } = {},
): Consumer {
  const dir = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-consumer-'));
  const dependencies: Record<string, string> = {
    'airflow-secrets': `file:${packed.tarball}`,
    yaml: `file:${path.join(ROOT, 'node_modules/yaml')}`,
  };
  for (const p of options.link ?? []) dependencies[p] = `file:${path.join(ROOT, 'node_modules', p)}`;
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      { name: 'consumer', private: true, type: options.type ?? 'module', dependencies },
      null,
      2,
    ),
  );
  for (const [name, text] of Object.entries(options.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const install = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    env: childEnv(),
  });
  if (install.status !== 0) {
    throw new Error(`npm install of the packed tarball failed:\n${install.stdout}\n${install.stderr}`);
  }
  const run = (
    cmd: string,
    args: readonly string[],
    env: Record<string, string | undefined> = {},
  ): RunResult => {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: childEnv(env), timeout: 120_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const runAsync = (cmd: string, args: readonly string[], env: Record<string, string | undefined> = {}) =>
    new Promise<RunResult>((resolve, reject) => {
      const child = spawn(cmd, args, { cwd: dir, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => void (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => void (stderr += d.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  const bin = path.join(dir, 'node_modules/.bin/airflow-secrets');
  return {
    dir,
    run,
    runAsync,
    cli: (args, env) => run(bin, args, env),
    cliAsync: (args, env) => runAsync(bin, args, env),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
