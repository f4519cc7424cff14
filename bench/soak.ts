/**
 * Soak test: many lookups at high concurrency through a chain of three in-memory backends that fail
 * now and then (throttling, unavailability, access denial, malformed secrets, slow timeouts, hangs)
 * and answer with jittered latency. Checks that every lookup is answered (with the right value) or
 * rejected with a typed error, that none is lost, and that RSS stays bounded. No sockets at all.
 *
 *   npm run soak                                     # 100,000 lookups, concurrency 256, 1% errors
 *   npm run soak -- --lookups 20000 --concurrency 64 --error-rate 0.05
 *
 * `runSoak` is also run, smaller, by test/robustness/soak.test.ts.
 */
import { pathToFileURL } from 'node:url';
import { memory } from '../src/backends/memory.js';
import type { Connection } from '../src/connection.js';
import {
  AccessDeniedError,
  BackendUnavailableError,
  isAirflowSecretsError,
  isBackendError,
  MalformedSecretError,
  ThrottledError,
} from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { createResolver, type Resolver } from '../src/resolver/index.js';
import { type FaultyBackend, seededRandom, withFaults } from '../src/testing/index.js';

export interface SoakOptions {
  /** Total lookups. Default 100,000. */
  lookups?: number;
  /** Lookups in flight at once. Default 256. */
  concurrency?: number;
  /** Share of backend calls that fail, 0..1. Default 0.01. */
  errorRate?: number;
  /** Latency added to each backend call, uniform in [min, max] ms. Default [0, 2]. */
  latencyMs?: [number, number];
  /** Distinct connection ids and variable keys (each). Default 3,000. */
  ids?: number;
  /** PRNG seed. Default 42. */
  seed?: number;
  /** The resolver's per-backend deadline, which ends hung calls. Default 50 ms. */
  backendTimeoutMs?: number;
  /** Give up, and count what is still pending as lost, after this long. Default 600,000 ms. */
  deadlineMs?: number;
}

export interface SoakReport {
  lookups: number;
  concurrency: number;
  errorRate: number;
  /** Lookups that settled (answered or rejected). */
  settled: number;
  /** Still pending at the deadline. Must be 0. */
  lost: number;
  /** Found, with the right value. */
  found: number;
  /** Answered "not found": a missing id, or (policy 'continue') the backend holding the id failed. */
  notFound: number;
  /** Of `notFound`, ids that exist: their backend failed and policy 'continue' walked on (Airflow's behaviour). */
  notFoundAfterFailure: number;
  /** Rejected with one of our typed errors (policy 'throw'). */
  typedErrors: number;
  byReason: Record<string, number>;
  /** Found, but with a wrong value. Must be 0. */
  wrong: number;
  /** Rejected with something that is not one of our typed errors. Must be 0. */
  untyped: number;
  /** Faults injected into backend calls. */
  injected: number;
  durationMs: number;
  lookupsPerSecond: number;
  rssMb: { start: number; max: number; end: number };
  heapUsedMaxMb: number;
}

const MB = 1 << 20;
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

/**
 * The three backends; id `i` lives in backend `i % 3`. Of the injected faults, 80% fail at once
 * (throttled / unavailable / access denied / malformed, drawn per call), 15% are slow timeouts
 * (5 ms, then BackendTimeoutError) and 5% hang until the resolver's deadline.
 */
function buildChain(o: Required<SoakOptions>): { chain: FaultyBackend[]; layers: FaultyBackend[] } {
  const layers: FaultyBackend[] = [];
  const chain = [0, 1, 2].map((b) => {
    const name = `backend-${b}`;
    const connections: Record<string, string> = {};
    const variables: Record<string, string> = {};
    for (let i = b; i < o.ids; i += 3) {
      connections[`conn_${i}`] =
        `postgres://user${i}:pw%2F${i}@host${i}.example.com:5432/db${i}?sslmode=require`;
      variables[`var_${i}`] = `value-${i}`;
    }
    const pick = seededRandom(o.seed + 100 + b);
    const instant = (_kind: unknown, id: string): Error => {
      const r = pick();
      const msg = `${name}: injected fault for '${id}'`;
      if (r < 0.25) return new ThrottledError(name, msg, { secretName: id });
      if (r < 0.5) return new BackendUnavailableError(name, msg, { secretName: id });
      if (r < 0.75) return new AccessDeniedError(name, msg, { secretName: id });
      return new MalformedSecretError(name, msg, { secretName: id });
    };
    const base = memory({ name, connections, variables });
    const fast = withFaults(base, { fault: instant, rate: o.errorRate * 0.8, seed: o.seed + b });
    const slow = withFaults(fast, {
      fault: 'timeout',
      timeoutMs: 5,
      rate: o.errorRate * 0.15,
      seed: o.seed + 10 + b,
    });
    const hang = withFaults(slow, {
      fault: 'hang',
      rate: o.errorRate * 0.05,
      latencyMs: o.latencyMs,
      seed: o.seed + 20 + b,
    });
    layers.push(fast, slow, hang);
    return hang;
  });
  return { chain, layers };
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const o: Required<SoakOptions> = {
    lookups: 100_000,
    concurrency: 256,
    errorRate: 0.01,
    latencyMs: [0, 2],
    ids: 3_000,
    seed: 42,
    backendTimeoutMs: 50,
    deadlineMs: 600_000,
    ...options,
  };
  const { chain, layers } = buildChain(o);
  const resolvers: Resolver[] = (['continue', 'throw'] as const).map((policy) =>
    createResolver({
      backends: chain,
      onBackendError: policy,
      backendTimeoutMs: o.backendTimeoutMs,
      logger: silentLogger,
    }),
  );
  const random = seededRandom(o.seed);
  const report: SoakReport = {
    lookups: o.lookups,
    concurrency: o.concurrency,
    errorRate: o.errorRate,
    settled: 0,
    lost: 0,
    found: 0,
    notFound: 0,
    notFoundAfterFailure: 0,
    typedErrors: 0,
    byReason: {},
    wrong: 0,
    untyped: 0,
    injected: 0,
    durationMs: 0,
    lookupsPerSecond: 0,
    rssMb: { start: mb(process.memoryUsage().rss), max: 0, end: 0 },
    heapUsedMaxMb: 0,
  };
  let maxRss = process.memoryUsage().rss;
  let maxHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    maxRss = Math.max(maxRss, m.rss);
    maxHeap = Math.max(maxHeap, m.heapUsed);
  }, 50);

  const one = async (): Promise<void> => {
    const resolver = resolvers[random() < 0.5 ? 0 : 1]!;
    const wantConnection = random() < 0.5;
    // 5% of lookups ask for ids nobody has.
    const i = random() < 0.05 ? o.ids + Math.floor(random() * o.ids) : Math.floor(random() * o.ids);
    const missing = () => {
      report.notFound++;
      if (i < o.ids) report.notFoundAfterFailure++;
    };
    try {
      if (wantConnection) {
        const c: Connection | null = await resolver.getConnection(`conn_${i}`);
        if (c === null) missing();
        else if (c.host === `host${i}.example.com` && c.password === `pw/${i}` && c.schema === `db${i}`)
          report.found++;
        else report.wrong++;
      } else {
        const v = await resolver.getVariable(`var_${i}`);
        if (v === null) missing();
        else if (v === `value-${i}`) report.found++;
        else report.wrong++;
      }
    } catch (e) {
      if (isBackendError(e)) {
        report.typedErrors++;
        report.byReason[e.reason] = (report.byReason[e.reason] ?? 0) + 1;
      } else if (isAirflowSecretsError(e)) report.typedErrors++;
      else report.untyped++;
    }
    report.settled++;
  };

  let next = 0;
  const worker = async () => {
    while (next < o.lookups) {
      next++;
      await one();
    }
  };
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, o.deadlineMs);
  });
  await Promise.race([Promise.all(Array.from({ length: o.concurrency }, worker)), deadline]);
  clearTimeout(timer);
  clearInterval(sampler);
  report.durationMs = Math.round(performance.now() - t0);
  report.lost = o.lookups - report.settled;
  report.lookupsPerSecond = Math.round(report.settled / (report.durationMs / 1000));
  report.injected = layers.reduce((n, b) => n + b.injected, 0);
  const end = process.memoryUsage();
  report.rssMb.max = mb(Math.max(maxRss, end.rss));
  report.rssMb.end = mb(end.rss);
  report.heapUsedMaxMb = mb(Math.max(maxHeap, end.heapUsed));
  await Promise.all(resolvers.map((r) => r.close()));
  return report;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  const opts: SoakOptions = {};
  const lookups = num('lookups');
  const concurrency = num('concurrency');
  const errorRate = num('error-rate');
  const seed = num('seed');
  if (lookups !== undefined) opts.lookups = lookups;
  if (concurrency !== undefined) opts.concurrency = concurrency;
  if (errorRate !== undefined) opts.errorRate = errorRate;
  if (seed !== undefined) opts.seed = seed;
  const r = await runSoak(opts);
  const rows: Array<[string, string | number]> = [
    ['node', process.version],
    ['lookups', r.lookups],
    ['concurrency', r.concurrency],
    ['error rate per backend call', r.errorRate],
    ['faults injected', r.injected],
    ['settled', r.settled],
    ['lost', r.lost],
    ['found (right value)', r.found],
    ['not found', `${r.notFound} (of which ${r.notFoundAfterFailure} after a backend failure)`],
    ['typed errors', `${r.typedErrors} ${JSON.stringify(r.byReason)}`],
    ['wrong values', r.wrong],
    ['untyped errors', r.untyped],
    ['duration (ms)', r.durationMs],
    ['lookups per second', r.lookupsPerSecond],
    ['RSS MB (start / max / end)', `${r.rssMb.start} / ${r.rssMb.max} / ${r.rssMb.end}`],
    ['heap used max (MB)', r.heapUsedMaxMb],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(30)} ${v}`);
  const ok = r.lost === 0 && r.wrong === 0 && r.untyped === 0 && r.settled === r.lookups;
  console.log(ok ? 'OK: every lookup answered correctly or rejected with a typed error' : 'FAILED');
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
