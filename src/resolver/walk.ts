/**
 * The chain walk: ask each backend in order; the first non-null answer wins. A backend that fails is
 * logged (backend name and error kind, never a value) and the walk goes on, as Airflow does, unless
 * the policy is `'throw'`, which fails the lookup with the backend's typed error. Configuration
 * errors (a misconfigured backend, a missing SDK) always propagate. Every other error becomes a
 * typed `BackendError`, and the walk's result lists the failures it saw. With a trace, the walk
 * also records one `ExplainStep` per backend for `explain`. No cache here: see `./lookup.ts`.
 */
import type { BackendCallOptions, Lookup, SecretKind, SecretsBackend } from '../backend.js';
import type { Connection } from '../connection.js';
import type { BackendError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Deadline, Scope } from './deadline.js';
import { type Failure, failureOf, isConfigError, reasonText, toBackendError } from './failures.js';
import type { ExplainOutcome, ExplainStep } from './types.js';

/** One backend's answer: a `Connection`, a raw string (variables and config), or null (not found). */
export type Answer = Connection | string | null;

/** What callers read from a lookup (a cache entry has this shape too). */
export interface Answered {
  readonly value: Answer;
  /** The backend that answered, or null for a miss. */
  readonly source: string | null;
}

export interface WalkResult extends Answered {
  /** The backends that failed, in chain order; absent when none did (then a miss may be cached). */
  readonly failures?: Failure[];
}

export type ErrorPolicy = 'continue' | 'throw';

/** The answer for "nobody has it, and nobody failed". */
export const NOTHING: Answered = Object.freeze({ value: null, source: null });

/** An `explain` step for a backend that did not ask (it said why, or the id was refused). */
export function skippedStep(b: SecretsBackend, detail: string): ExplainStep {
  const s: ExplainStep = { backend: b.name, secretName: null, outcome: 'skipped', detail, durationMs: 0 };
  if (b.origin !== undefined) s.origin = b.origin;
  return s;
}

function step(
  b: SecretsBackend,
  where: Lookup | undefined,
  outcome: ExplainOutcome,
  t0: number,
): ExplainStep {
  const s: ExplainStep = {
    backend: b.name,
    secretName: where && 'name' in where ? where.name : null,
    outcome,
    durationMs: performance.now() - t0,
  };
  if (b.origin !== undefined) s.origin = b.origin;
  return s;
}

/** The ordered backends and what the lookup layer and prefetch need to ask them. */
export interface Chain {
  readonly backends: readonly SecretsBackend[];
  readonly policy: ErrorPolicy;
  readonly logger: Logger;
  readonly deadline: Deadline;
  /**
   * Walk the chain for one id. With `trace`, one step per backend asked or skipped is pushed onto it.
   * A `scope` that is cancelled (the resolver was closed) stops the walk with that error.
   */
  walk(kind: SecretKind, id: string, trace?: ExplainStep[], scope?: Scope): Promise<WalkResult>;
  /** One backend's answer for one id, under the deadline. */
  ask(b: SecretsBackend, kind: SecretKind, id: string, scope?: Scope): Promise<Answer>;
  /** What a backend threw, typed; a configuration error is rethrown instead. */
  classify(b: SecretsBackend, e: unknown): BackendError;
  /** The record of one failure, for a walk's `failures`. */
  failure(b: SecretsBackend, kind: SecretKind, id: string, err: BackendError): Failure;
  /**
   * Log a failed backend (name and error kind, never a value). "Checking subsequent secrets backend"
   * is said only when the walk goes on (`'continue'`) and a later backend will be asked.
   */
  warnFailure(b: SecretsBackend, kind: SecretKind, id: string, err: BackendError): void;
  /** Whether a backend after `b` is asked for this kind (config: only those with `getConfig`). */
  hasNext(b: SecretsBackend, kind: SecretKind): boolean;
}

export interface ChainOptions {
  backends: readonly SecretsBackend[];
  policy: ErrorPolicy;
  logger: Logger;
  deadline: Deadline;
}

export function createChain({ backends, policy, logger, deadline }: ChainOptions): Chain {
  const ask = (b: SecretsBackend, kind: SecretKind, id: string, scope?: Scope): Promise<Answer> => {
    const call = (o: BackendCallOptions): Promise<Answer> => {
      if (kind === 'connection') return b.getConnection(id, o);
      if (kind === 'variable') return b.getVariable(id, o);
      return b.getConfig ? b.getConfig(id, o) : Promise.resolve(null);
    };
    return deadline(b, id, call, scope);
  };

  const hasNext = (b: SecretsBackend, kind: SecretKind): boolean => {
    for (let i = backends.indexOf(b) + 1; i < backends.length; i++) {
      if (kind !== 'config' || backends[i]!.getConfig) return true;
    }
    return false;
  };

  const classify = (b: SecretsBackend, e: unknown): BackendError => {
    if (isConfigError(e)) throw e;
    return toBackendError(b, e);
  };

  const warnFailure = (b: SecretsBackend, kind: SecretKind, id: string, err: BackendError): void => {
    const next = policy === 'continue' && hasNext(b, kind) ? ' Checking subsequent secrets backend.' : '';
    logger.warn(
      `Unable to retrieve ${kind} '${id}' from secrets backend (${b.name}): ${err.name} [${err.reason}]: ${reasonText(err)}${next}`,
      { backend: b.name, kind, id, reason: err.reason },
    );
  };

  const walk = (kind: SecretKind, id: string, trace?: ExplainStep[], scope?: Scope): Promise<WalkResult> =>
    walkChain(chain, kind, id, trace, scope);

  const chain: Chain = {
    backends,
    policy,
    logger,
    deadline,
    walk,
    ask,
    classify,
    failure: failureOf,
    warnFailure,
    hasNext,
  };
  return chain;
}

/** An `explain` step for a backend that failed. */
function errorStep(b: SecretsBackend, where: Lookup | undefined, err: BackendError, t0: number): ExplainStep {
  const s = step(b, where, 'error', t0);
  s.detail = `${err.name}: ${err.message}`;
  s.reason = err.reason;
  return s;
}

/** The walk itself: each backend in order, the first answer wins (see the top of this file). */
async function walkChain(
  chain: Chain,
  kind: SecretKind,
  id: string,
  trace?: ExplainStep[],
  scope?: Scope,
): Promise<WalkResult> {
  let failures: Failure[] | undefined;
  for (const b of chain.backends) {
    if (kind === 'config' && !b.getConfig) continue;
    if (scope?.cancelled) throw scope.cancelled;
    const t0 = trace ? performance.now() : 0;
    let where: Lookup | undefined;
    if (trace) {
      where = b.locate(kind, id);
      if ('skip' in where) {
        trace.push(skippedStep(b, where.skip));
        continue;
      }
    }
    try {
      const value = await chain.ask(b, kind, id, scope);
      if (value !== null && value !== undefined) {
        trace?.push(step(b, where, 'found', t0));
        return failures ? { value, source: b.name, failures } : { value, source: b.name };
      }
      trace?.push(step(b, where, 'not-found', t0));
    } catch (e) {
      const err = chain.classify(b, e);
      trace?.push(errorStep(b, where, err, t0));
      if (chain.policy === 'throw' || scope?.cancelled) throw err;
      (failures ??= []).push(failureOf(b, kind, id, err, where));
      chain.warnFailure(b, kind, id, err);
    }
  }
  return failures ? { value: null, source: null, failures } : NOTHING;
}
