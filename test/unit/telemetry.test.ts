/**
 * Issue 15 item 4: `resolver.stats()`, and OpenTelemetry through the real `@opentelemetry/api` with
 * the in-memory SDKs (`@opentelemetry/sdk-metrics`, `@opentelemetry/sdk-trace-base`, dev
 * dependencies). Ids are attributes; values never appear in a metric or a span.
 */
import * as otel from '@opentelemetry/api';
import { type DataPoint, MeterProvider, MetricReader, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { memory } from '../../src/backends/memory.js';
import { ThrottledError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createResolver, createResolverWith, LATENCY_BUCKETS_MS } from '../../src/resolver/index.js';
import { withFaults } from '../../src/testing/faults.js';
import { drain, gated, settle } from '../helpers/gated.js';

const SECRET = 'telemetry-s3cret-value';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function sdk() {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const metricsNow = async () => {
    const { resourceMetrics } = await reader.collect();
    const byName = new Map<string, Array<DataPoint<unknown>>>();
    for (const scope of resourceMetrics.scopeMetrics as ScopeMetrics[]) {
      for (const m of scope.metrics) byName.set(m.descriptor.name, m.dataPoints as Array<DataPoint<unknown>>);
    }
    return { byName, raw: resourceMetrics };
  };
  return { meterProvider, tracerProvider, spans, metricsNow };
}

describe('resolver.stats()', () => {
  it('counts per backend (calls, errors by reason, latency), the cache, and lookups in flight', async () => {
    const flaky = withFaults(memory({ name: 'flaky', variables: { k: 'v' } }), {
      fault: 'throttled',
      only: (_kind, id) => id === 'bad',
    });
    const a = gated('slow', { variables: { slow: 'x' } });
    const r = createResolver({ backends: [flaky, a.backend], cache: true, logger: silentLogger });
    expect(await r.getVariable('k')).toBe('v');
    expect(await r.getVariable('k')).toBe('v');
    const pending = r.getVariable('slow');
    await settle();
    expect(r.stats().inFlight).toBe(1);
    await drain(pending, a);
    const bad = r.getVariable('bad');
    await drain(bad, a);
    const s = r.stats();
    expect(s.inFlight).toBe(0);
    expect(s.cache).toMatchObject({ enabled: true, hits: 1, misses: 3, staleAnswers: 0, refreshes: 0 });
    expect(s.cache.size).toBe(2); // k and slow (the miss after a failure is not cached)
    const [f, g] = s.backends;
    expect(f).toMatchObject({ name: 'flaky', calls: 3, errors: { throttled: 1 } });
    expect(g).toMatchObject({ name: 'slow', calls: 2, errors: {} });
    expect(f!.latency.boundsMs).toEqual(LATENCY_BUCKETS_MS);
    expect(f!.latency.counts).toHaveLength(LATENCY_BUCKETS_MS.length + 1);
    expect(f!.latency.counts.reduce((x, y) => x + y, 0)).toBe(3);
  });

  it('puts each call in the latency bucket of its duration, on a fake clock (bounds inclusive)', async () => {
    let t = 1000;
    /** How long (ms on the fake clock) a read of each id takes. */
    const took: Record<string, number> = { a: 1, b: 1.5, c: 7, d: 10, e: 10.25, f: 20_000 };
    const b: SecretsBackend = {
      name: 'timed',
      locate: (_k, id) => ({ name: id }),
      getVariable: async (id) => {
        t += took[id]!;
        return 'v';
      },
      getConnection: async () => null,
    };
    const r = createResolverWith({ backends: [b], logger: silentLogger }, { clock: () => t });
    for (const id of Object.keys(took)) await r.getVariable(id);
    const latency = r.stats().backends[0]!.latency;
    const expected = new Array(LATENCY_BUCKETS_MS.length + 1).fill(0);
    expected[0] = 1; // a: 1 ms, in the <= 1 bucket
    expected[1] = 1; // b: 1.5 ms, <= 2
    expected[3] = 2; // c: 7 ms and d: 10 ms, <= 10
    expected[4] = 1; // e: 10.25 ms, <= 25
    expected[LATENCY_BUCKETS_MS.length] = 1; // f: 20 s, past the last bound (10 s)
    expect(latency.counts).toEqual(expected);
    expect(latency.count).toBe(6);
    expect(latency.sumMs).toBe(1 + 1.5 + 7 + 10 + 10.25 + 20_000);
    expect(latency.maxMs).toBe(20_000);
  });

  it('is a snapshot: later lookups do not change one already taken', async () => {
    const r = createResolver({ backends: [memory({ variables: { k: 'v' } })], cache: true });
    const before = r.stats();
    await r.getVariable('k');
    expect(before.cache.misses).toBe(0);
    expect(before.backends[0]!.calls).toBe(0);
    expect(r.stats().cache.misses).toBe(1);
  });
});

describe('OpenTelemetry', () => {
  afterEach(() => {
    otel.metrics.disable();
    otel.trace.disable();
  });

  it('records metrics with semantic-convention names, ids as attributes and no value', async () => {
    const { meterProvider, tracerProvider, metricsNow } = sdk();
    const cloud = withFaults(memory({ name: 'cloud', variables: { api_key: SECRET } }), {
      fault: 'throttled',
      only: (_kind, id) => id === 'down',
    });
    const r = createResolver({
      backends: [cloud, memory({ name: 'env' })],
      cache: true,
      logger: silentLogger,
      telemetry: { api: otel, meterProvider, tracerProvider },
    });
    await r.getVariable('api_key');
    await r.getVariable('api_key');
    await r.getVariable('down');
    const { byName, raw } = await metricsNow();
    expect([...byName.keys()].sort()).toEqual([
      'airflow_secrets.backend.call.duration',
      'airflow_secrets.cache.entries',
      'airflow_secrets.cache.lookups',
      'airflow_secrets.cache.refresh.failures',
      'airflow_secrets.cache.refreshes',
      'airflow_secrets.lookup.active',
    ]);
    const duration = byName.get('airflow_secrets.backend.call.duration')!;
    const attrs = duration.map((p) => p.attributes);
    expect(attrs).toContainEqual({
      'airflow_secrets.backend.name': 'cloud',
      'airflow_secrets.secret.kind': 'variable',
    });
    expect(attrs).toContainEqual({
      'airflow_secrets.backend.name': 'cloud',
      'airflow_secrets.secret.kind': 'variable',
      'error.type': 'throttled',
    });
    const lookups = byName.get('airflow_secrets.cache.lookups')!;
    const count = (result: string) =>
      lookups.find((p) => p.attributes['airflow_secrets.cache.result'] === result)?.value;
    expect([count('hit'), count('miss'), count('stale')]).toEqual([1, 2, 0]);
    expect(JSON.stringify(raw)).not.toContain(SECRET);
  });

  it('traces each chain walk with a client span per backend call; cache hits make none', async () => {
    const { meterProvider, tracerProvider, spans } = sdk();
    const r = createResolver({
      backends: [
        memory({ name: 'first' }),
        memory({ name: 'second', connections: { db: `postgres://u:${SECRET}@h/d` } }),
      ],
      cache: true,
      telemetry: { api: otel, meterProvider, tracerProvider },
    });
    await r.getConnection('db');
    await r.getConnection('db');
    const finished = spans.getFinishedSpans();
    expect(finished.map((s) => s.name).sort()).toEqual(['get first', 'get second', 'lookup connection']);
    const walk = finished.find((s) => s.name === 'lookup connection')!;
    expect(walk.attributes).toMatchObject({
      'airflow_secrets.secret.kind': 'connection',
      'airflow_secrets.secret.id': 'db',
      'airflow_secrets.lookup.found': true,
      'airflow_secrets.lookup.source': 'second',
    });
    for (const call of finished.filter((s) => s.name.startsWith('get '))) {
      expect(call.parentSpanContext?.spanId).toBe(walk.spanContext().spanId);
      expect(call.kind).toBe(otel.SpanKind.CLIENT);
      expect(call.attributes['airflow_secrets.secret.name']).toBe('db');
    }
    expect(JSON.stringify(finished.map((s) => [s.name, s.attributes, s.status]))).not.toContain(SECRET);
  });

  it('marks a failed backend call as an error with error.type, never the message of a value', async () => {
    const { tracerProvider, spans } = sdk();
    const failing = withFaults(memory({ name: 'vault' }), {
      fault: new ThrottledError('vault', 'vault: slow down'),
    });
    const r = createResolver({
      backends: [failing],
      onBackendError: 'throw',
      telemetry: { api: otel, tracerProvider },
    });
    await expect(r.getVariable('k')).rejects.toBeInstanceOf(ThrottledError);
    const call = spans.getFinishedSpans().find((s) => s.name === 'get vault')!;
    expect(call.status.code).toBe(otel.SpanStatusCode.ERROR);
    expect(call.attributes['error.type']).toBe('throttled');
  });

  it('telemetry: true imports the API and uses the global providers', async () => {
    const { meterProvider, tracerProvider, spans } = sdk();
    otel.metrics.setGlobalMeterProvider(meterProvider);
    otel.trace.setGlobalTracerProvider(tracerProvider);
    const r = createResolver({ backends: [memory({ variables: { k: 'v' } })], telemetry: true });
    // The API is imported in the background; walks started before it has loaded are not traced.
    await vi.waitFor(async () => {
      await r.getVariable('k');
      expect(spans.getFinishedSpans().some((s) => s.name === 'lookup variable')).toBe(true);
    });
  });

  it('rejects a telemetry option that is not a boolean or an object', () => {
    expect(() => createResolver({ backends: [], telemetry: 'yes' as never })).toThrow(/telemetry/);
  });
});
