/**
 * Lookup latency across TTL windows, in a plain `node` process on the built package: a backend that
 * answers after DELAY ms, IDS ids each looked up every PERIOD ms (one id per ms tick, like a steady
 * service), for WINDOWS TTL windows after a warm-up read of every id. Three resolvers: cache hits
 * only (a TTL longer than the run), the TTL without refresh ahead, and the same TTL with
 * `refreshAhead: 0.8`. A lookup's latency is from the call to its promise's callback. "walked" are
 * the lookups after warm-up that waited on a chain walk (the cache's miss count).
 *
 *   node bench/children/refresh.mjs <dist-dir> [ttl-seconds] [windows]      → JSON on stdout
 */
const [dist, ttlArg, windowsArg] = process.argv.slice(2);
const { createResolver } = await import(`${dist}/index.js`);
const { silentLogger } = await import(`${dist}/index.js`);

const DELAY = 20;
const IDS = 20;
const PERIOD = 20;
const TTL_S = Number(ttlArg ?? 2);
const WINDOWS = Number(windowsArg ?? 3);
const ids = Array.from({ length: IDS }, (_, i) => `flag_${i}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function slowBackend() {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    name: 'slow',
    locate: (_k, id) => ({ name: id }),
    getVariable: (key) => {
      calls++;
      return new Promise((resolve) => setTimeout(() => resolve(`value-of-${key}`), DELAY));
    },
    getConnection: async () => null,
  };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function run(name, cache) {
  const backend = slowBackend();
  const r = createResolver({ backends: [backend], cache, logger: silentLogger });
  await Promise.all(ids.map((id) => r.getVariable(id)));
  const warmMisses = r.stats().cache.misses;
  const warmCalls = backend.calls;
  const lat = [];
  const end = performance.now() + WINDOWS * TTL_S * 1000;
  let tick = 0;
  while (performance.now() < end) {
    const i = tick % PERIOD;
    if (i < IDS) {
      const t0 = performance.now();
      r.getVariable(ids[i]).then(() => lat.push(performance.now() - t0));
    }
    tick++;
    await sleep(1);
  }
  await sleep(DELAY * 5);
  const s = r.stats();
  lat.sort((a, b) => a - b);
  return {
    name,
    lookups: lat.length,
    walked: s.cache.misses - warmMisses,
    backendCalls: backend.calls - warmCalls,
    refreshes: s.cache.refreshes,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    maxMs: lat[lat.length - 1],
  };
}

const rows = [];
rows.push(await run('cache hits only (TTL longer than the run)', { ttl: 3600 }));
rows.push(await run(`ttl ${TTL_S} s, no refresh ahead`, { ttl: TTL_S }));
rows.push(await run(`ttl ${TTL_S} s, refreshAhead 0.8`, { ttl: TTL_S, refreshAhead: 0.8 }));
console.log(
  JSON.stringify({ delayMs: DELAY, ids: IDS, periodMs: PERIOD, ttlS: TTL_S, windows: WINDOWS, rows }),
);
