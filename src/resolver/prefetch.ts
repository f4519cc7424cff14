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
import { checkId, type LookupLayer, validId } from './lookup.js';
import type { Resolver } from './types.js';
import { type Answer, type Answered, type Chain, type Failure, NOTHING, type WalkResult } from './walk.js';

/** Default for `prefetchConcurrency`. */
export const PREFETCH_CONCURRENCY = 16;

/** One id being prefetched: the promise in the in-flight map is settled through `resolve`/`reject`. */
interface Job {
  id: string;
  key: string;
  resolve: (a: Answered) => void;
  reject: (e: unknown) => void;
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
  #firstError: unknown;

  constructor(
    readonly chain: Chain,
    readonly layer: LookupLayer,
    readonly concurrency: number,
    readonly kind: SecretKind,
  ) {}

  /** Claim the ids that are valid, not cached and not already in flight. */
  #claim(ids: readonly string[]): void {
    const { kind, layer } = this;
    for (const id of ids) {
      if (!validId(id) || this.#jobs.has(id)) continue;
      const key = cacheKey(kind, id);
      if (layer.inflight.has(key) || layer.cache?.get(kind, id)) continue;
      const job = { id, key } as Job;
      const p = new Promise<Answered>((resolve, reject) => {
        job.resolve = resolve;
        job.reject = reject;
      });
      p.catch(() => {}); // a rejection nobody waits for is not unhandled
      layer.inflight.set(key, p);
      this.#jobs.set(id, job);
    }
  }

  #finish(job: Job, outcome: () => Answered): void {
    if (job.done) return;
    job.done = true;
    if (this.layer.inflight.has(job.key)) this.layer.inflight.delete(job.key);
    try {
      job.resolve(outcome());
    } catch (e) {
      job.reject(e);
    }
  }

  #fail(job: Job, b: SecretsBackend, err: BackendError): void {
    if (this.chain.policy === 'throw') {
      this.#firstError ??= err;
      this.#finish(job, () => this.layer.settleError(this.kind, job.id, err));
      return;
    }
    (job.failures ??= []).push(this.chain.failure(b, this.kind, job.id, err));
  }

  /** Ask `b.getMany` for every remaining id; returns the jobs still to ask one by one. */
  async #askBatch(b: SecretsBackend, remaining: Job[], answers: Map<string, Answer>): Promise<Job[]> {
    const { chain, kind } = this;
    const asked = remaining.map((j) => j.id);
    try {
      const got = await chain.deadline(b, `${asked.length} ${kind} ids`, () => b.getMany!(kind, asked));
      const singles: Job[] = [];
      for (const j of remaining) {
        if (got.has(j.id)) answers.set(j.id, got.get(j.id) ?? null);
        else singles.push(j); // not answered: ask it alone
      }
      return singles;
    } catch (e) {
      const err = chain.classify(b, e);
      // A bad value poisons the whole batch: ask each id alone to find which one. Any other
      // failure (throttling, access, network) holds for every id; asking again would only add calls.
      if (err.reason === 'malformed') return remaining;
      chain.logger.warn(
        `Unable to prefetch ${asked.length} ${kind}(s) from secrets backend (${b.name}): ${err.name} [${err.reason}]. Checking subsequent secrets backend.`,
        { backend: b.name, kind, reason: err.reason },
      );
      for (const j of remaining) this.#fail(j, b, err);
      return [];
    }
  }

  async #askOne(b: SecretsBackend, j: Job, answers: Map<string, Answer>): Promise<void> {
    const { chain, kind } = this;
    try {
      answers.set(j.id, await chain.ask(b, kind, j.id));
    } catch (e) {
      const err = chain.classify(b, e);
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
        this.#finish(j, () => this.layer.settle(this.kind, j.id, r));
      } else next.push(j);
    }
    return next;
  }

  async #walk(): Promise<void> {
    const { kind, layer } = this;
    let remaining = [...this.#jobs.values()];
    for (const b of this.chain.backends) {
      if (remaining.length === 0) break;
      if (kind === 'config' && !b.getConfig) continue;
      const answers = new Map<string, Answer>();
      const singles = b.getMany ? await this.#askBatch(b, remaining, answers) : remaining;
      await pool(singles, this.concurrency, (j) => this.#askOne(b, j, answers));
      remaining = this.#settleFound(b, remaining, answers);
    }
    for (const j of remaining) {
      const r: WalkResult = j.failures ? { value: null, source: null, failures: j.failures } : NOTHING;
      this.#finish(j, () => layer.settle(kind, j.id, r));
    }
  }

  async run(ids: readonly string[]): Promise<void> {
    this.#claim(ids);
    if (this.#jobs.size === 0) return;
    try {
      await this.#walk();
    } catch (e) {
      // A configuration error: every claimed id fails with it.
      for (const j of this.#jobs.values())
        this.#finish(j, () => {
          throw e;
        });
      throw e;
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
