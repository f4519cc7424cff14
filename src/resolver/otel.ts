/**
 * OpenTelemetry for the resolver, through `@opentelemetry/api` (an optional peer dependency), on
 * only when `createResolver({ telemetry })` asks for it: nothing here is loaded or run otherwise.
 *
 * Metrics (instrument names in the semantic-conventions style; durations in seconds):
 * - `airflow_secrets.backend.call.duration` (histogram, `s`): one record per backend call, with
 *   `airflow_secrets.backend.name`, `airflow_secrets.secret.kind` and, on failure, `error.type`
 *   (the classified reason);
 * - `airflow_secrets.cache.lookups` (observable counter, `{lookup}`) by `airflow_secrets.cache.result`
 *   (`hit`, `miss`, `stale`); `airflow_secrets.cache.refreshes` and
 *   `airflow_secrets.cache.refresh.failures` (observable counters, `{refresh}`);
 *   `airflow_secrets.cache.entries` (observable up-down counter, `{entry}`) by
 *   `airflow_secrets.cache.entry.type` (`answer`, `miss`);
 * - `airflow_secrets.lookup.active` (observable up-down counter, `{lookup}`): lookups in flight.
 * The observable ones read `resolver.stats()` when the SDK collects, so a cache hit costs nothing more.
 *
 * Traces: a span `lookup {kind}` per chain walk (cache hits make none), with `airflow_secrets.secret.kind`,
 * `airflow_secrets.secret.id`, `airflow_secrets.lookup.refresh`, and at the end
 * `airflow_secrets.lookup.found` and `airflow_secrets.lookup.source`; under it a client span
 * `get {backend}` per backend call with the secret name asked for, its status and `error.type`.
 * Ids and secret names are attributes; values never are.
 *
 * The types below describe the few parts of the API used, so the declarations of this package never
 * need `@opentelemetry/api` installed.
 */
import type { SecretKind, SecretsBackend } from '../backend.js';
import { callErrorReason, type ResolverStats } from './stats.js';

type Attributes = Record<string, string | number | boolean>;

export interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}
export interface OtelTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes }, context?: unknown): OtelSpan;
}
export interface OtelObservableResult {
  observe(value: number, attributes?: Attributes): void;
}
export interface OtelObservable {
  addCallback(callback: (result: OtelObservableResult) => void): void;
}
export interface OtelMeter {
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): { record(value: number, attributes?: Attributes): void };
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): OtelObservable;
  createObservableUpDownCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): OtelObservable;
}
/** The parts of `@opentelemetry/api` the resolver uses. */
export interface OpenTelemetryApi {
  metrics: { getMeter(name: string, version?: string): OtelMeter };
  trace: {
    getTracer(name: string, version?: string): OtelTracer;
    setSpan(context: unknown, span: OtelSpan): unknown;
  };
  context: { active(): unknown };
}

export interface TelemetryOptions {
  /** The `@opentelemetry/api` module (e.g. `import * as api from '@opentelemetry/api'`). Default: imported when the resolver is created. */
  api?: OpenTelemetryApi | undefined;
  /** Where the meter comes from. Default: the API's global meter provider. */
  meterProvider?: { getMeter(name: string, version?: string): OtelMeter } | undefined;
  /** Where the tracer comes from. Default: the API's global tracer provider. */
  tracerProvider?: { getTracer(name: string, version?: string): OtelTracer } | undefined;
}

const SCOPE_NAME = 'airflow-secrets';
const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;
const BUCKETS_S = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The resolver's instruments once the API is there. */
export class Telemetry {
  readonly #api: OpenTelemetryApi;
  readonly #tracer: OtelTracer;
  readonly #duration: { record(value: number, attributes?: Attributes): void };

  constructor(api: OpenTelemetryApi, options: TelemetryOptions, stats: () => ResolverStats) {
    this.#api = api;
    const meter = (options.meterProvider ?? api.metrics).getMeter(SCOPE_NAME);
    this.#tracer = (options.tracerProvider ?? api.trace).getTracer(SCOPE_NAME);
    this.#duration = meter.createHistogram('airflow_secrets.backend.call.duration', {
      description: 'Duration of one backend call (a read or a batch read)',
      unit: 's',
      advice: { explicitBucketBoundaries: BUCKETS_S },
    });
    observe(meter, stats);
  }

  /** A span for one chain walk, under the caller's active span. */
  startLookup(kind: SecretKind, id: string, refresh: boolean): OtelSpan {
    return this.#tracer.startSpan(
      `lookup ${kind}`,
      {
        kind: SPAN_KIND_INTERNAL,
        attributes: {
          'airflow_secrets.secret.kind': kind,
          'airflow_secrets.secret.id': id,
          'airflow_secrets.lookup.refresh': refresh,
        },
      },
      this.#api.context.active(),
    );
  }

  endLookup(span: OtelSpan, found: boolean, source: string | null, error: unknown): void {
    span.setAttribute('airflow_secrets.lookup.found', found);
    if (source !== null) span.setAttribute('airflow_secrets.lookup.source', source);
    if (error !== undefined) {
      const reason = callErrorReason(error);
      span.setAttribute('error.type', reason);
      span.setStatus({ code: STATUS_ERROR, message: reason });
    }
    span.end();
  }

  /** A client span for one backend call, under the walk's span when there is one. */
  startCall(
    b: SecretsBackend,
    kind: SecretKind | undefined,
    what: string,
    parent: OtelSpan | undefined,
  ): OtelSpan {
    const attributes: Attributes = {
      'airflow_secrets.backend.name': b.name,
      'airflow_secrets.secret.name': what,
    };
    if (kind !== undefined) attributes['airflow_secrets.secret.kind'] = kind;
    const ctx = this.#api.context.active();
    return this.#tracer.startSpan(
      `get ${b.name}`,
      { kind: SPAN_KIND_CLIENT, attributes },
      parent ? this.#api.trace.setSpan(ctx, parent) : ctx,
    );
  }

  endCall(
    span: OtelSpan | undefined,
    b: SecretsBackend,
    kind: SecretKind | undefined,
    ms: number,
    error: unknown,
  ): void {
    const attributes: Attributes = { 'airflow_secrets.backend.name': b.name };
    if (kind !== undefined) attributes['airflow_secrets.secret.kind'] = kind;
    if (error !== undefined) {
      const reason = callErrorReason(error);
      attributes['error.type'] = reason;
      if (span) {
        span.setAttribute('error.type', reason);
        span.setStatus({ code: STATUS_ERROR, message: reason });
      }
    }
    this.#duration.record(ms / 1000, attributes);
    span?.end();
  }
}

/** The observable instruments, read from `stats()` at each collection. */
function observe(meter: OtelMeter, stats: () => ResolverStats): void {
  const lookups = meter.createObservableCounter('airflow_secrets.cache.lookups', {
    description: 'Lookups by cache result',
    unit: '{lookup}',
  });
  lookups.addCallback((r) => {
    const c = stats().cache;
    r.observe(c.hits, { 'airflow_secrets.cache.result': 'hit' });
    r.observe(c.misses, { 'airflow_secrets.cache.result': 'miss' });
    r.observe(c.staleAnswers, { 'airflow_secrets.cache.result': 'stale' });
  });
  const refreshes = meter.createObservableCounter('airflow_secrets.cache.refreshes', {
    description: 'Refreshes started (ahead of expiry, refresh(), forceFetch)',
    unit: '{refresh}',
  });
  refreshes.addCallback((r) => r.observe(stats().cache.refreshes));
  const failures = meter.createObservableCounter('airflow_secrets.cache.refresh.failures', {
    description: 'Refreshes that failed (the cached value was kept)',
    unit: '{refresh}',
  });
  failures.addCallback((r) => r.observe(stats().cache.refreshFailures));
  const entries = meter.createObservableUpDownCounter('airflow_secrets.cache.entries', {
    description: 'Entries in the cache',
    unit: '{entry}',
  });
  entries.addCallback((r) => {
    const c = stats().cache;
    r.observe(c.size - c.negativeEntries, { 'airflow_secrets.cache.entry.type': 'answer' });
    r.observe(c.negativeEntries, { 'airflow_secrets.cache.entry.type': 'miss' });
  });
  const active = meter.createObservableUpDownCounter('airflow_secrets.lookup.active', {
    description: 'Lookups in flight',
    unit: '{lookup}',
  });
  active.addCallback((r) => r.observe(stats().inFlight));
}
