/**
 * Lookup latency across TTL windows, in a plain `node` process on the built package: a backend that
 * answers after DELAY ms, IDS ids each looked up every PERIOD ms (one lookup per 1 ms tick, like a
 * steady service), for WINDOWS TTL windows after a warm-up of WARM_S seconds. Three resolvers: cache
 * hits only (a TTL longer than the run), the TTL without refresh ahead, and the same TTL with
 * `refreshAhead: 0.8`.
 *
 * The hit-only and refresh-ahead resolvers are measured side by side, ROUNDS times: in each tick
 * both look up the same id, in a random order, each awaited before the next, so a pair shares the
 * same moment of machine load (the samples of all rounds are pooled). The resolver without refresh
 * ahead runs on its own (its callers wait 20 ms, which would hold up the tick). A lookup's latency
 * is from the call to the code after its `await`. "walked" are the lookups after warm-up that
 * waited on a chain walk (the cache's miss count).
 *
 *   node bench/children/refresh.mjs <dist-dir> [ttl-seconds] [windows] [rounds]     → JSON on stdout
 */
const [dist, ttlArg, windowsArg, roundsArg] = process.argv.slice(2);
const { createResolver, silentLogger } = await import(`${dist}/index.js`);

const DELAY = 20;
const IDS = 20;
const PERIOD = 20;
const TTL_S = Number(ttlArg ?? 2);
const WINDOWS = Number(windowsArg ?? 3);
const ROUNDS = Number(roundsArg ?? 3);
/** Warm-up: every id read, then one TTL window of the same ticks (JIT, the first refreshes), unmeasured. */
const WARM_S = TTL_S;
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

/** One resolver under test, with its latencies and the counts taken after warm-up. */
function subject(name, cache) {
  const backend = slowBackend();
  const r = createResolver({ backends: [backend], cache, logger: silentLogger });
  return { name, backend, r, lat: [], walked: 0, backendCalls: 0, refreshes: 0, base: null };
}

/** Read every id, then run the ticks unmeasured for WARM_S; then note the counters. */
async function warm(subjects) {
  for (const s of subjects) await Promise.all(ids.map((id) => s.r.getVariable(id)));
  await ticks(subjects, WARM_S * 1000, false);
  for (const s of subjects) {
    const st = s.r.stats();
    s.base = { misses: st.cache.misses, calls: s.backend.calls, refreshes: st.cache.refreshes };
  }
}

/** One lookup per 1 ms tick for `ms`: each subject (in a random order) looks up the tick's id. */
async function ticks(subjects, ms, measure) {
  const end = performance.now() + ms;
  let tick = 0;
  while (performance.now() < end) {
    const i = tick % PERIOD;
    if (i < IDS) {
      const first = Math.random() < 0.5 ? 0 : subjects.length - 1;
      for (let k = 0; k < subjects.length; k++) {
        const s = subjects[(first + k) % subjects.length];
        const t0 = performance.now();
        if (subjects.length === 1) {
          // Alone (the resolver without refresh ahead): not awaited, so a 20 ms wait holds up no tick.
          s.r.getVariable(ids[i]).then(() => measure && s.lat.push(performance.now() - t0));
        } else {
          await s.r.getVariable(ids[i]);
          if (measure) s.lat.push(performance.now() - t0);
        }
      }
    }
    tick++;
    await sleep(1);
  }
}

async function settleCounts(subjects) {
  await sleep(DELAY * 5);
  for (const s of subjects) {
    const st = s.r.stats();
    s.walked += st.cache.misses - s.base.misses;
    s.backendCalls += s.backend.calls - s.base.calls;
    s.refreshes += st.cache.refreshes - s.base.refreshes;
    await s.r.close();
  }
}

function row(s, extra = {}) {
  const lat = [...s.lat].sort((a, b) => a - b);
  return {
    name: s.name,
    lookups: lat.length,
    walked: s.walked,
    backendCalls: s.backendCalls,
    refreshes: s.refreshes,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    maxMs: lat[lat.length - 1],
    ...extra,
  };
}

const hitsName = 'cache hits only (TTL longer than the run)';
const aheadName = `ttl ${TTL_S} s, refreshAhead 0.8`;
const hits = { name: hitsName, lat: [], walked: 0, backendCalls: 0, refreshes: 0 };
const ahead = { name: aheadName, lat: [], walked: 0, backendCalls: 0, refreshes: 0 };
const roundRatios = [];
for (let round = 0; round < ROUNDS; round++) {
  const pair = [subject(hitsName, { ttl: 3600 }), subject(aheadName, { ttl: TTL_S, refreshAhead: 0.8 })];
  await warm(pair);
  await ticks(pair, WINDOWS * TTL_S * 1000, true);
  await settleCounts(pair);
  for (const [into, s] of [
    [hits, pair[0]],
    [ahead, pair[1]],
  ]) {
    into.lat.push(...s.lat);
    into.walked += s.walked;
    into.backendCalls += s.backendCalls;
    into.refreshes += s.refreshes;
  }
  const p99 = (s) =>
    quantile(
      [...s.lat].sort((a, b) => a - b),
      0.99,
    );
  roundRatios.push(p99(pair[1]) / p99(pair[0]));
}

const plain = subject(`ttl ${TTL_S} s, no refresh ahead`, { ttl: TTL_S });
await warm([plain]);
await ticks([plain], WINDOWS * TTL_S * 1000, true);
await settleCounts([plain]);

console.log(
  JSON.stringify({
    delayMs: DELAY,
    ids: IDS,
    periodMs: PERIOD,
    ttlS: TTL_S,
    windows: WINDOWS,
    rounds: ROUNDS,
    roundP99Ratios: roundRatios,
    rows: [row(hits), row(plain), row(ahead)],
  }),
);
