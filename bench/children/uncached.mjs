/**
 * Uncached lookup latency, in a plain `node` process on the built package: one lookup through the
 * resolver (cache off) and the Secrets Manager adapter, against the same raw SDK `GetSecretValue`
 * call on the same client, interleaved in random order so both see the same conditions. The
 * overhead is the median of the paired differences (ours − raw, taken back to back), over the
 * median raw latency. Also measured: the raw call given an abort signal (what a deadline costs
 * inside the SDK), the adapter alone (no resolver), and a lookup of a key with a sensitive name
 * (whose value the resolver registers with the secrets masker, as Airflow does), and the resolver
 * with telemetry on (`@opentelemetry/api`, no SDK registered; then with the in-memory SDKs).
 * A connection lookup (URI parsed, password registered with the masker, frozen) is paired with the
 * raw call for the same secret. With BENCH_HIDE_OTEL=1 (under `--import ./hide-otel.mjs`, so
 * OpenTelemetry is not installed as far as the process can tell) the telemetry cases are left out.
 *
 *   node bench/children/uncached.mjs <dist-dir> <fake-url> <rounds>      → JSON on stdout
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const [dist, url, roundsArg] = process.argv.slice(2);
const { createResolver, Connection } = await import(`${dist}/index.js`);
const { awsSecretsManager } = await import(`${dist}/backends/aws-secrets-manager/index.js`);
const { silentLogger } = await import(`${dist}/index.js`);
const hidden = process.env.BENCH_HIDE_OTEL === '1';
if (
  hidden &&
  (await import('@opentelemetry/api').then(
    () => true,
    () => false,
  ))
) {
  throw new Error('uncached bench: @opentelemetry/api should not be importable here');
}
const otel = hidden ? null : await import('@opentelemetry/api');
const { MeterProvider, MetricReader } = hidden ? {} : await import('@opentelemetry/sdk-metrics');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = hidden
  ? {}
  : await import('@opentelemetry/sdk-trace-base');

const ROUNDS = Number(roundsArg ?? 3000);
const NAME = 'airflow/variables/feature_flags';
const CONN_NAME = 'airflow/connections/warehouse';
const client = new SecretsManagerClient({
  endpoint: url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
});
const adapter = awsSecretsManager({ client, logger: silentLogger });
const resolver = createResolver({ backends: [adapter], logger: silentLogger });
const telemetryApiOnly = hidden
  ? null
  : createResolver({ backends: [adapter], logger: silentLogger, telemetry: { api: otel } });
const spans = hidden ? null : new InMemorySpanExporter();
const telemetrySdk = hidden
  ? null
  : createResolver({
      backends: [adapter],
      logger: silentLogger,
      telemetry: {
        api: otel,
        meterProvider: new MeterProvider({
          readers: [
            new (class extends MetricReader {
              async onForceFlush() {}
              async onShutdown() {}
            })(),
          ],
        }),
        tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
      },
    });

const cases = {
  raw: () => client.send(new GetSecretValueCommand({ SecretId: NAME })),
  rawWithAbortSignal: () => {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 10_000);
    return client
      .send(new GetSecretValueCommand({ SecretId: NAME }), { abortSignal: ac.signal })
      .finally(() => clearTimeout(t));
  },
  adapter: () => adapter.getVariable('feature_flags'),
  resolver: () => resolver.getVariable('feature_flags'),
  // A key whose name is sensitive: the value is registered with the secrets masker on every lookup.
  resolverSensitiveKey: () => resolver.getVariable('api_key'),
  rawConnection: () => client.send(new GetSecretValueCommand({ SecretId: CONN_NAME })),
  // The raw call and the parse a hand-written lookup would do: the floor under a Connection answer.
  rawConnectionParsed: () =>
    client
      .send(new GetSecretValueCommand({ SecretId: CONN_NAME }))
      .then((r) => Connection.fromUri(r.SecretString, 'warehouse')),
  adapterConnection: () => adapter.getConnection('warehouse'),
  resolverConnection: () => resolver.getConnection('warehouse'),
  ...(hidden
    ? {}
    : {
        resolverTelemetryApiOnly: () => telemetryApiOnly.getVariable('feature_flags'),
        resolverTelemetrySdk: () => {
          spans.reset();
          return telemetrySdk.getVariable('feature_flags');
        },
      }),
};
const names = Object.keys(cases);
const samples = Object.fromEntries(names.map((n) => [n, []]));
for (let i = 0; i < 300; i++) for (const n of names) await cases[n]();
if ((await cases.resolver()) !== (await cases.raw()).SecretString)
  throw new Error('uncached bench: answers differ');
if ((await cases.resolverConnection())?.host !== 'warehouse')
  throw new Error('uncached bench: no connection');

for (let i = 0; i < ROUNDS; i++) {
  const order = [...names].sort(() => Math.random() - 0.5);
  for (const n of order) {
    const t0 = performance.now();
    await cases[n]();
    samples[n].push(performance.now() - t0);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// Each case is paired with the raw call for the same secret.
const baseOf = (n) => (n.includes('Connection') ? 'rawConnection' : 'raw');
const rows = names.map((n) => {
  const base = baseOf(n);
  const paired = samples[n].map((v, i) => v - samples[base][i]);
  const deltaMs = median(paired);
  const rawMedian = median(samples[base]);
  return {
    name: n,
    medianMs: median(samples[n]),
    p90Ms: [...samples[n]].sort((a, b) => a - b)[Math.floor(samples[n].length * 0.9)],
    pairedDeltaUs: deltaMs * 1000,
    ratio: 1 + deltaMs / rawMedian,
  };
});
client.destroy();
console.log(JSON.stringify({ rounds: ROUNDS, rows }));
