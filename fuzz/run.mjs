/**
 * The fuzz campaign (`npm run fuzz`): builds the library (dist/), makes sure Jazzer.js's libFuzzer
 * addon loads (fuzz/patch-jazzer-glibc.mjs), then runs each target in fuzz/targets/ under Jazzer.js
 * (coverage-guided; the library's dist/ files, plus the `yaml` package for the YAML targets, are
 * instrumented) for a number of executions, one target at a time.
 *
 *   npm run fuzz                              # every target, 1,000,000 executions each
 *   npm run fuzz -- --runs 20000 yaml pyjson  # some targets, fewer executions
 *   npm run fuzz -- --jobs 2                  # two targets at a time
 *
 * Seeds: fuzz/seeds/<target>/ (committed, from fuzz/make-seeds.mjs) and fuzz/regressions/<target>/
 * (the inputs of past findings, each also a regression test). The growing corpus goes to
 * fuzz/.corpus/<target>/ and findings (crash-*, timeout-*, oom-*) to fuzz/findings/<target>/, both
 * git-ignored. The per-target numbers (executions, time, edges and features covered, corpus size,
 * findings) are printed and written to fuzz/.results.json; each target's full output goes to
 * fuzz/.logs/<target>.log.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureJazzerLoads } from './patch-jazzer-glibc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);

/**
 * Target → whether it is synchronous, and the longest input libFuzzer may build (the machine is
 * shared: small inputs keep 1,000,000 executions within reach, and the hostile seeds, up to 200 KB,
 * still run whole).
 */
const TARGETS = {
  'connection-uri': { sync: true, maxLen: 1024 },
  pyjson: { sync: true, maxLen: 4096 },
  yaml: { sync: true, maxLen: 1024 },
  'secret-files': { sync: true, maxLen: 1024 },
  'env-file': { sync: true, maxLen: 1024 },
  'airflow-cfg': { sync: true, maxLen: 1024 },
  'backend-kwargs': { sync: false, maxLen: 512 },
  'sqlalchemy-url': { sync: true, maxLen: 512 },
  fernet: { sync: true, maxLen: 512 },
  'cli-argv': { sync: false, maxLen: 512 },
};

function parseArgs(argv) {
  let runs = 1_000_000;
  let jobs = 1;
  const only = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--jobs') jobs = Number(argv[++i]);
    else only.push(argv[i]);
  }
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs needs a whole number');
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new Error('--jobs needs a whole number');
  for (const t of only) if (!(t in TARGETS)) throw new Error(`unknown target ${t}`);
  return { runs, jobs, targets: only.length ? only : Object.keys(TARGETS) };
}

function runTarget(name, runs) {
  const spec = TARGETS[name];
  const corpus = join(here, '.corpus', name);
  const findings = join(here, 'findings', name);
  mkdirSync(corpus, { recursive: true });
  mkdirSync(findings, { recursive: true });
  mkdirSync(join(here, '.logs'), { recursive: true });
  const args = [
    join('targets', `${name}.mjs`),
    corpus,
    join(here, 'seeds', name),
    ...(existsSync(join(here, 'regressions', name)) ? [join(here, 'regressions', name)] : []),
    '-i',
    `${join(root, 'dist')}/`,
    '-e',
    `${join(here, 'targets')}/`,
    '--timeout',
    '10000',
    ...(spec.sync ? ['--sync'] : []),
    '--',
    `-runs=${runs}`,
    `-max_len=${spec.maxLen}`,
    '-rss_limit_mb=3072',
    `-artifact_prefix=${findings}/`,
    '-print_final_stats=1',
  ];
  const bin = join(root, 'node_modules', '.bin', 'jazzer');
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(bin, args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(here, '.logs', `${name}.log`));
    let tail = '';
    const keep = (chunk) => {
      log.write(chunk);
      tail = (tail + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => {
      log.end();
      const done = [...tail.matchAll(/#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/g)].pop();
      const last = [...tail.matchAll(/#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/g)].pop();
      const m = done ?? last;
      const found = readdirSync(findings);
      resolve({
        target: name,
        exitCode: code,
        executions: m ? Number(m[1]) : 0,
        seconds: Math.round((Date.now() - started) / 1000),
        edges: m ? Number(m[2]) : 0,
        features: m ? Number(m[3]) : 0,
        corpus: m ? Number(m[4]) : 0,
        findings: found,
        ...(code === 0 ? {} : { output: tail.slice(-4000) }),
      });
    });
  });
}

const { runs, jobs, targets } = parseArgs(process.argv.slice(2));
console.log(`jazzer addon: ${ensureJazzerLoads()}`);
// Plain tsc, not `npm run build` (scripts/build.mjs): the targets import modules one by one
// (dist/connection.js, dist/pyjson.js, …), which the shipped build merges into dist/index.js.
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const results = [];
const queue = [...targets];
async function worker() {
  for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
    const r = await runTarget(t, runs);
    results.push(r);
    console.log(
      `${t}: ${r.executions.toLocaleString('en')} executions in ${r.seconds} s, cov ${r.edges} edges / ${r.features} features, corpus ${r.corpus}, findings ${r.findings.length}${r.exitCode ? ` (exit ${r.exitCode})` : ''}`,
    );
    if (r.output) console.log(r.output);
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
writeFileSync(join(here, '.results.json'), `${JSON.stringify({ runs, results }, null, 2)}\n`);
process.exit(results.some((r) => r.exitCode !== 0 || r.findings.length > 0) ? 1 : 0);
