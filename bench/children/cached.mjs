/**
 * Cached lookup throughput, in a plain `node` process on the built package (no TypeScript loader):
 * this library's resolver (cache on) against Powertools' cached `SecretsProvider.get`, both warmed
 * first, both over the same Secrets Manager client pointed at the fake. Each tinybench iteration
 * runs BATCH awaited lookups, so the timer's own cost does not blur the per-lookup rate. A second
 * resolver has telemetry on (`@opentelemetry/api` with no SDK registered), to show what a hit costs
 * with it. With BENCH_HIDE_OTEL=1 (run under `--import ./hide-otel.mjs`) OpenTelemetry is not
 * installed as far as the process can tell, and the telemetry case is left out.
 *
 *   node bench/children/cached.mjs <dist-dir> <fake-url>      → JSON on stdout
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Bench } from 'tinybench';

const [dist, url] = process.argv.slice(2);
const { createResolver } = await import(`${dist}/index.js`);
const { awsSecretsManager } = await import(`${dist}/backends/aws-secrets-manager/index.js`);
const { silentLogger } = await import(`${dist}/index.js`);
const hidden = process.env.BENCH_HIDE_OTEL === '1';
const otel = hidden ? null : await import('@opentelemetry/api');
if (
  hidden &&
  (await import('@opentelemetry/api').then(
    () => true,
    () => false,
  ))
) {
  throw new Error('cached bench: @opentelemetry/api should not be importable here');
}

const BATCH = 1000;
const client = new SecretsManagerClient({
  endpoint: url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
});
const resolver = createResolver({
  backends: [awsSecretsManager({ client, logger: silentLogger })],
  cache: true,
  logger: silentLogger,
});
const withTelemetry = hidden
  ? null
  : createResolver({
      backends: [awsSecretsManager({ client, logger: silentLogger })],
      cache: true,
      logger: silentLogger,
      telemetry: { api: otel },
    });
const powertools = new SecretsProvider({ awsSdkV3Client: client });
const NAME = 'airflow/variables/api_key';

// Warm every cache (one remote call each) and check the answers agree.
const ours = await resolver.getVariable('api_key');
const theirs = await powertools.get(NAME);
if (ours !== theirs || typeof ours !== 'string') throw new Error('cached bench: answers differ');
const conn = await resolver.getConnection('warehouse');
if (conn !== (await resolver.getConnection('warehouse')) || !Object.isFrozen(conn)) {
  throw new Error('cached bench: a cached connection should be one frozen object');
}
await withTelemetry?.getVariable('api_key');

const bench = new Bench({ time: 1500, warmupTime: 300 });
const batch = (fn) => async () => {
  for (let i = 0; i < BATCH; i++) await fn();
};
bench
  .add(
    'airflow-secrets getVariable (cache hit)',
    batch(() => resolver.getVariable('api_key')),
  )
  .add(
    'airflow-secrets getConnection (cache hit, frozen)',
    batch(() => resolver.getConnection('warehouse')),
  );
if (withTelemetry) {
  bench.add(
    'airflow-secrets getVariable (cache hit), telemetry on',
    batch(() => withTelemetry.getVariable('api_key')),
  );
}
bench
  .add(
    'Powertools get() default options (= getSecret)',
    batch(() => powertools.get(NAME)),
  )
  .add(
    'Powertools get() with maxAge given',
    batch(() => powertools.get(NAME, { maxAge: 900 })),
  );
await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result;
  if (!('latency' in r)) throw new Error(`cached bench: ${t.name} did not complete (${r.state})`);
  return {
    name: t.name,
    opsPerSec: (BATCH * 1000) / r.latency.p50,
    meanOpsPerSec: (BATCH * 1000) / r.latency.mean,
    rme: r.latency.rme,
    samples: r.latency.samplesCount,
  };
});
client.destroy();
console.log(JSON.stringify({ rows }));
