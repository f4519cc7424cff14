/**
 * A fleet on a fake clock, in a plain `node` process on the built package: RESOLVERS resolvers (one
 * per service instance, all started at t = 0) share one fake backend; each reads each of IDS ids
 * once per simulated second for MINUTES minutes, with a TTL of TTL_S seconds. Counted: the fake's
 * calls per simulated minute and the most in any one simulated second, for TTLs without jitter,
 * with the default jitter (±10%), and with jitter and refresh ahead.
 *
 *   node bench/children/fleet.mjs <dist-dir> [resolvers]      → JSON on stdout
 */
const [dist, resolversArg] = process.argv.slice(2);
const { createResolver } = await import(`${dist}/index.js`);
const { silentLogger } = await import(`${dist}/index.js`);

const RESOLVERS = Number(resolversArg ?? 1000);
const IDS = 50;
const TTL_S = 60;
const MINUTES = 10;
const ids = Array.from({ length: IDS }, (_, i) => `conn_${i}`);

async function simulate(name, cacheOptions) {
  let t = 0;
  const perSecond = new Array(MINUTES * 60).fill(0);
  const fake = {
    name: 'fake',
    locate: (_k, id) => ({ name: id }),
    getVariable: async () => {
      perSecond[Math.floor(t / 1000)]++;
      return 'value';
    },
    getConnection: async () => null,
  };
  const now = () => t;
  const fleet = Array.from({ length: RESOLVERS }, () =>
    createResolver({ backends: [fake], cache: { ...cacheOptions, now }, logger: silentLogger }),
  );
  for (let s = 0; s < MINUTES * 60; s++) {
    t = s * 1000;
    for (const r of fleet) for (const id of ids) r.getVariable(id);
    await new Promise((res) => setImmediate(res));
  }
  const perMinute = [];
  for (let m = 0; m < MINUTES; m++)
    perMinute.push(perSecond.slice(m * 60, m * 60 + 60).reduce((a, b) => a + b, 0));
  // The first minute holds the cold start (every instance reads every id once): reported apart.
  const steady = perSecond.slice(60);
  return {
    name,
    coldStartCalls: perSecond[0],
    perMinute,
    maxPerSecond: Math.max(...perSecond),
    maxPerSecondAfterStart: Math.max(...steady),
    totalCalls: perSecond.reduce((a, b) => a + b, 0),
  };
}

const rows = [];
rows.push(await simulate('no jitter', { ttl: TTL_S, jitter: 0 }));
rows.push(await simulate('jitter ±10% (default)', { ttl: TTL_S }));
rows.push(await simulate('jitter ±10% + refreshAhead 0.8', { ttl: TTL_S, refreshAhead: 0.8 }));
console.log(JSON.stringify({ resolvers: RESOLVERS, ids: IDS, ttlS: TTL_S, minutes: MINUTES, rows }));
