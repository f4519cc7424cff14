/**
 * The resolver's deadline around one backend call, and its cancellation. Each call gets its own
 * `options.signal` (created only if the backend reads it), aborted when the call passes
 * `backendTimeoutMs` or the resolver is closed; the call then settles at once with a
 * `BackendTimeoutError` (or, on close, a `BackendUnavailableError`), whatever the backend does.
 *
 * While a lookup waits on a call, the deadline's timer keeps the process alive (so a backend that
 * never settles and holds no socket cannot let Node exit with the lookup pending). A background
 * refresh nobody waits for does not hold the process; it does from the moment a lookup joins it.
 */
import type { BackendCallOptions, SecretKind, SecretsBackend } from '../backend.js';
import { BackendTimeoutError, BackendUnavailableError } from '../errors.js';

/**
 * The calls and walks of one lookup (a walk, a refresh, a prefetch): whether anyone waits for it,
 * the call under way, and the reason it was cancelled (set by `close()`).
 */
export class Scope {
  background: boolean;
  /** What is looked up (for metrics and traces). */
  readonly kind: SecretKind | undefined;
  /** Set when the resolver is closed: the walk stops and rejects with it. */
  cancelled: Error | undefined = undefined;
  /** The most recent call started under this scope (the one a background walk is waiting on). */
  current: PendingCall | undefined = undefined;
  /** The walk's trace span, when telemetry is on. */
  span: unknown = undefined;
  constructor(background = false, kind?: SecretKind) {
    this.background = background;
    this.kind = kind;
  }

  /** Someone now waits for this work: its timers keep the process alive from now on. */
  hold(): void {
    if (!this.background) return;
    this.background = false;
    this.current?.timer?.ref();
  }
}

/**
 * What a backend call is handed: `signal`, a getter on the prototype (an object literal with a
 * getter costs microseconds to create), made on first read.
 */
class CallOptions implements BackendCallOptions {
  readonly #call: PendingCall;
  constructor(call: PendingCall) {
    this.#call = call;
  }
  get signal(): AbortSignal {
    return this.#call.signal();
  }
}

/** One backend call under the deadline: its timer, its signal (lazily), how to settle it early. */
export class PendingCall {
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #reason: Error | undefined = undefined;
  readonly options: BackendCallOptions;
  constructor(
    readonly backend: SecretsBackend,
    readonly what: string,
    readonly fail: (e: Error) => void,
  ) {
    this.options = new CallOptions(this);
  }

  signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Abort the signal and settle the call with `reason`. */
  abort(reason: Error): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.fail(reason);
  }
}

/**
 * `performance.now`, looked up once: the `performance` global is a lazy getter in Node 20, and
 * reading it twice per backend call costs more than the rest of the deadline (not read at import,
 * which would load perf_hooks with the package root).
 */
let perfNow: (() => number) | undefined;
const clock = (): number => (perfNow ??= performance.now.bind(performance))();

/** Runs `call` against backend `b` under the deadline; `what` names the request (an id, "3 variable ids"). */
export type Deadline = <T>(
  b: SecretsBackend,
  what: string,
  call: (options: BackendCallOptions) => Promise<T>,
  scope?: Scope,
) => Promise<T>;

/** Told of each call: when it starts (returns a token, e.g. a span) and when it ends, with its duration and error. */
export interface CallObserver {
  start(b: SecretsBackend, what: string, scope: Scope | undefined): unknown;
  end(b: SecretsBackend, ms: number, error: unknown, token: unknown, scope: Scope | undefined): void;
}

/** Every call in progress, so `close()` can cancel them. */
export class CallRegistry {
  readonly calls = new Set<PendingCall>();
  readonly scopes = new Set<Scope>();
  /** Called by `close()` before it cancels the calls: drop work not started yet, stop timers. */
  readonly onCancel = new Set<() => void>();

  /** Cancel everything in progress: each call settles with a `BackendUnavailableError` naming it. */
  cancelAll(): void {
    for (const hook of [...this.onCancel]) hook();
    for (const s of this.scopes) {
      s.cancelled ??= new BackendUnavailableError(
        'resolver',
        'The lookup was cancelled: the resolver was closed',
      );
    }
    for (const c of [...this.calls]) {
      c.abort(
        new BackendUnavailableError(
          c.backend.name,
          `${c.backend.name}: the lookup of '${c.what}' was cancelled: the resolver was closed`,
          { secretName: c.what },
        ),
      );
    }
  }
}

/**
 * A deadline of `ms` milliseconds for every call. A call that throws synchronously becomes a
 * rejection. `now` times each call for the observer (`performance.now`; tests pass a fake clock).
 */
export function createDeadline(
  ms: number,
  registry: CallRegistry = new CallRegistry(),
  observe?: CallObserver,
  now: () => number = clock,
): Deadline {
  return <T>(
    b: SecretsBackend,
    what: string,
    call: (options: BackendCallOptions) => Promise<T>,
    scope?: Scope,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const token = observe?.start(b, what, scope);
      const t0 = observe ? now() : 0;
      let settled = false;
      const finish = (error: unknown): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(pending.timer);
        registry.calls.delete(pending);
        if (scope?.current === pending) scope.current = undefined;
        observe?.end(b, now() - t0, error, token, scope);
        return true;
      };
      const pending = new PendingCall(b, what, (e) => {
        if (finish(e)) reject(e);
      });
      pending.timer = setTimeout(() => {
        pending.abort(
          new BackendTimeoutError(b.name, `${b.name}: no answer for '${what}' within ${ms} ms`, {
            secretName: what,
          }),
        );
      }, ms);
      if (scope) {
        if (scope.background) pending.timer.unref?.();
        scope.current = pending;
      }
      registry.calls.add(pending);
      try {
        call(pending.options).then(
          (v) => {
            if (finish(undefined)) resolve(v);
          },
          (e: unknown) => {
            if (finish(e)) reject(e);
          },
        );
      } catch (e) {
        if (finish(e)) reject(e);
      }
    });
}
