/**
 * Prefetch: warm the cache for many ids of one kind with one chain walk for all of them. Each backend
 * is asked once with its batch API (`getMany`) where it has one, else with bounded parallel single
 * lookups, for the ids still missing after the backends before it. The ids are claimed in the lookup
 * layer's in-flight map, so a `getVariable` for one of them waits for the prefetch instead of walking
 * the chain again, and each answer is settled by the lookup layer's rules (mask, cache, stale).
 */
import type { SecretKind, SecretsBackend } from '../backend.js';
import type { BackendError } from '../errors.js';
import { cacheKey } from './cache.js';
import { Scope } from './deadline.js';
import { type Failure, reasonText } from './failures.js';
import { checkId, type Flight, type LookupLayer, type Settled, validId } from './lookup.js';
import type { Resolver } from './types.js';
import { type Answer, type Chain, NOTHING, type WalkResult } from './walk.js';

export { PREFETCH_CONCURRENCY } from './lookup.js';

/** One id being prefetched: its flight in the lookup layer, settled through `resolve`. */
interface Job {
  id: string;
  flight: Flight & { resolve(s: Settled | Promise<Settled>): void };
  failures?: Failure[];
  done?: boolean;
}

/** Run `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** One prefetch of one kind: claims its ids, walks the chain once for all of them, settles each. */
class KindPrefetch {
  readonly #jobs = new Map<string, Job>();
  readonly #scope: Scope;
  #firstError: unknown;

  constructor(
    readonly chain: Chain,
    readonly layer: LookupLayer,
    readonly concurrency: number,
    readonly kind: SecretKind,
  ) {
    this.#scope = new Scope(false, kind);
  }

  /** Claim the ids that are valid, not cached and not already in flight. */
  #claim(ids: readonly string[]): void {
    const { kind, layer } = this;
    for (const id of ids) {
      if (!validId(id) || this.#jobs.has(id)) continue;
      if (layer.inflight.has(cacheKey(kind, id)) || layer.cache?.get(kind, id)) continue;
      this.#jobs.set(id, { id, flight: layer.claim(kind, id, this.#scope) });
    }
  }

  /** Settle a job by the lookup layer's rules: a walk result, or the error the walk stopped with. */
  #finish(job: Job, r: WalkResult | undefined, error?: unknown): void {
    if (job.done) return;
    job.done = true;
    try {
      job.flight.resolve(this.layer.finish(job.flight, r, error));
    } catch (e) {
      job.flight.resolve(Promise.reject(e));
    }
  }

  #fail(job: Job, b: SecretsBackend, err: BackendError): void {
    if (this.chain.policy === 'throw') {
      this.#firstError ??= err;
      this.#finish(job, undefined, err);
      return;
    }
    (job.failures ??= []).push(this.chain.failure(b, this.kind, job.id, err));
  }

  /** Ask `b.getMany` for every remaining id; returns the jobs still to ask one by one. */
  async #askBatch(b: SecretsBackend, remaining: Job[], answers: Map<string, Answer>): Promise<Job[]> {
    const { chain, kind } = this;
    const asked = remaining.map((j) => j.id);
    try {
      const got = await chain.deadline(
        b,
        `${asked.length} ${kind} ids`,
        (o) => b.getMany!(kind, asked, o),
        this.#scope,
      );
      const singles: Job[] = [];
      for (const j of remaining) {
        if (got.has(j.id)) answers.set(j.id, got.get(j.id) ?? null);
        else singles.push(j); // not answered: ask it alone
      }
      return singles;
    } catch (e) {
      const err = chain.classify(b, e);
      if (this.#scope.cancelled) throw err; // the resolver was closed: stop here
      // A bad value poisons the whole batch: ask each id alone to find which one. Any other
      // failure (throttling, access, network) holds for every id; asking again would only add calls.
      if (err.reason === 'malformed') return remaining;
      const next =
        chain.policy === 'continue' && chain.hasNext(b, kind) ? ' Checking subsequent secrets backend.' : '';
      chain.logger.warn(
        `Unable to prefetch ${asked.length} ${kind}(s) from secrets backend (${b.name}): ${err.name} [${err.reason}]: ${reasonText(err)}${next}`,
        { backend: b.name, kind, reason: err.reason },
      );
      for (const j of remaining) this.#fail(j, b, err);
      return [];
    }
  }

  async #askOne(b: SecretsBackend, j: Job, answers: Map<string, Answer>): Promise<void> {
    const { chain, kind } = this;
    try {
      answers.set(j.id, await chain.ask(b, kind, j.id, this.#scope));
    } catch (e) {
      const err = chain.classify(b, e);
      if (this.#scope.cancelled) throw err; // the resolver was closed: stop here
      if (chain.policy !== 'throw') chain.warnFailure(b, kind, j.id, err);
      this.#fail(j, b, err);
    }
  }

  /** Settle the jobs `b` answered; returns the ones for the next backend. */
  #settleFound(b: SecretsBackend, remaining: Job[], answers: Map<string, Answer>): Job[] {
    const next: Job[] = [];
    for (const j of remaining) {
      if (j.done) continue;
      const value = answers.get(j.id);
      if (value !== null && value !== undefined) {
        const r: WalkResult = j.failures
          ? { value, source: b.name, failures: j.failures }
          : { value, source: b.name };
        this.#finish(j, r);
      } else next.push(j);
    }
    return next;
  }

  async #walk(): Promise<void> {
    const { kind } = this;
    let remaining = [...this.#jobs.values()];
    for (const b of this.chain.backends) {
      if (remaining.length === 0) break;
      if (kind === 'config' && !b.getConfig) continue;
      if (this.#scope.cancelled) throw this.#scope.cancelled;
      const answers = new Map<string, Answer>();
      const singles = b.getMany ? await this.#askBatch(b, remaining, answers) : remaining;
      await pool(singles, this.concurrency, (j) => this.#askOne(b, j, answers));
      remaining = this.#settleFound(b, remaining, answers);
    }
    for (const j of remaining) {
      const r: WalkResult = j.failures ? { value: null, source: null, failures: j.failures } : NOTHING;
      this.#finish(j, r);
    }
  }

  async run(ids: readonly string[]): Promise<void> {
    this.#claim(ids);
    if (this.#jobs.size === 0) return;
    this.layer.registry.scopes.add(this.#scope);
    try {
      await this.#walk();
    } catch (e) {
      // A configuration error, or the resolver was closed: every claimed id fails with it.
      for (const j of this.#jobs.values()) this.#finish(j, undefined, e);
      throw e;
    } finally {
      this.layer.registry.scopes.delete(this.#scope);
    }
    if (this.#firstError !== undefined) throw this.#firstError;
  }
}

function idList(what: string, v: unknown): readonly string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TypeError(`prefetch: ${what} must be an array of strings`);
  for (const id of v) checkId(`prefetch: each of ${what}`, id);
  return v as string[];
}

/** The resolver's `prefetch` method over this chain and lookup layer. */
export function createPrefetch(chain: Chain, layer: LookupLayer, concurrency: number): Resolver['prefetch'] {
  return async (ids) => {
    if (typeof ids !== 'object' || ids === null) {
      throw new TypeError('prefetch needs { connections?: string[], variables?: string[] }');
    }
    const connections = idList('connections', ids.connections);
    const variables = idList('variables', ids.variables);
    if (!layer.cache) return;
    const results = await Promise.allSettled([
      new KindPrefetch(chain, layer, concurrency, 'connection').run(connections),
      new KindPrefetch(chain, layer, concurrency, 'variable').run(variables),
    ]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };
}
