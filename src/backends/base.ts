/**
 * The backend shape most adapters share, and the bound on one remote call. A provider that stores
 * each secret as one string at a name (Vault, Secrets Manager, SSM, Google Cloud, Azure, the
 * environment) describes itself as a {@link RawSecretSource} (`locate` + `fetch`) and
 * {@link rawBackend} turns it into a `SecretsBackend`, deserialising connections the one way
 * Airflow does. {@link withDeadline} bounds a remote call; {@link NETWORK_ERROR_CODES} says which
 * socket errors mean "could not reach the service".
 */
import type { Lookup, SecretKind, SecretsBackend } from '../backend.js';
import { type Connection, deserializeConnection } from '../connection.js';
import {
  BackendTimeoutError,
  BackendUnavailableError,
  isAirflowSecretsError,
  MalformedSecretError,
  safeCause,
} from '../errors.js';
import { pyJsonLoads } from '../pyjson.js';

export { networkReason } from '../reasons.js';

/** A source that stores each secret as one string at a name (most cloud providers). */
export interface RawSecretSource {
  readonly name: string;
  /** Pure: which secret name a lookup asks for, or why it is skipped. */
  locate(kind: SecretKind, id: string): Lookup;
  /**
   * Read the raw text stored at `secretName`; `null` when absent. Failures throw typed errors.
   * `options.signal` is the lookup's: stop the remote work when it aborts (see {@link withDeadline}).
   */
  fetch(secretName: string, kind: SecretKind, id: string, options?: ReadOptions): Promise<string | null>;
  /**
   * Every name a lookup tries, in order, when there is more than one (Airflow 3.2's team-scoped
   * name before the team-agnostic one); the first is `locate`'s. Absent: just `locate`'s name.
   */
  candidates?(kind: SecretKind, id: string): readonly string[];
  getMany?: SecretsBackend['getMany'];
  close?(): Promise<void>;
}

/** Turns a raw-string source into a backend: locate → fetch → (connections) deserialize. */
export function rawBackend(src: RawSecretSource): SecretsBackend {
  /** The value and the name it was found at (`null`: not found at any name tried). */
  const find = async (
    kind: SecretKind,
    id: string,
    options?: ReadOptions,
  ): Promise<{ value: string; at: string } | null> => {
    const where = src.locate(kind, id);
    if (!('name' in where)) return null;
    for (const at of src.candidates ? src.candidates(kind, id) : [where.name]) {
      const value = await src.fetch(at, kind, id, options);
      if (value !== null) return { value, at };
    }
    return null;
  };
  const read = async (kind: SecretKind, id: string, options?: ReadOptions) =>
    (await find(kind, id, options))?.value ?? null;
  const backend: SecretsBackend = {
    name: src.name,
    locate: (kind, id) => src.locate(kind, id),
    async getConnection(connId, options) {
      const found = await find('connection', connId, options);
      // Airflow: `if value:` — only an empty value is "not found"; blank text fails to deserialize.
      if (found === null || found.value === '') return null;
      return parseConnection(src.name, connId, found.value, found.at);
    },
    getVariable: (key, options) => read('variable', key, options),
    getConfig: (key, options) => read('config', key, options),
  };
  if (src.getMany) backend.getMany = src.getMany.bind(src);
  if (src.close) backend.close = src.close.bind(src);
  return backend;
}

/** Deserialize a stored connection value; a bad value becomes a `MalformedSecretError` (no value quoted). */
export function parseConnection(
  backend: string,
  connId: string,
  raw: string,
  secretName?: string,
): Connection {
  const at = secretName ? ` at '${secretName}'` : '';
  if (isBlank(raw)) {
    // Airflow's `deserialize_connection` strips the value and then indexes it: an IndexError.
    throw new MalformedSecretError(
      backend,
      `The value stored for connection '${connId}'${at} is blank (only whitespace)`,
      { secretName },
    );
  }
  try {
    requireTypeOrUri(raw);
    return deserializeConnection(connId, raw);
  } catch (e) {
    const why = isAirflowSecretsError(e) || e instanceof ConnectionShapeError ? `: ${e.message}` : '';
    throw new MalformedSecretError(
      backend,
      `The value stored for connection '${connId}'${at} is not a valid connection URI or JSON${why}`,
      { cause: safeCause(e), secretName },
    );
  }
}

/** Default deadline for one remote call, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The options of one read: `signal` aborts when the lookup settles elsewhere (its deadline, `close()`). */
export interface ReadOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * The cancellation of one remote call. It is a plain `{ aborted, onabort }` object, the shape the
 * AWS SDK's HTTP handler and retry loop accept as `abortSignal` (they assign `onabort`, which costs
 * nothing, where a real `AbortSignal` costs ~29 µs a call inside the SDK), plus listeners of our own
 * (`onCancel`) for the transports that are not the AWS SDK. {@link CallCancel.cancel} runs once.
 */
export class CallCancel {
  aborted = false;
  /** Set by the AWS SDK (one handler at a time); called by {@link cancel}. */
  onabort: ((this: unknown) => void) | null = null;
  #listeners: (() => void)[] | undefined;

  /** Run `fn` when the call is cancelled (at once if it already is); returns the unsubscribe. */
  onCancel(fn: () => void): () => void {
    if (this.aborted) {
      fn();
      return () => undefined;
    }
    const list = (this.#listeners ??= []);
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  cancel(): void {
    if (this.aborted) return;
    this.aborted = true;
    const list = this.#listeners;
    this.#listeners = undefined;
    for (const fn of list ?? []) {
      try {
        fn();
      } catch {
        // a transport's teardown failing must not stop the others
      }
    }
    const sdk = this.onabort;
    this.onabort = null;
    try {
      sdk?.call(this);
    } catch {
      // as above
    }
  }
}

/**
 * The calls a backend has in flight, so its `close()` can cancel them (a socket destroyed under an
 * SDK would otherwise be retried on a new one). `track` adds a call until it settles.
 */
export class InFlightCalls {
  readonly #calls = new Set<CallCancel>();

  track<T>(cancel: CallCancel, p: Promise<T>): Promise<T> {
    const calls = this.#calls;
    calls.add(cancel);
    const drop = () => void calls.delete(cancel);
    p.then(drop, drop);
    return p;
  }

  /** Cancel every call in flight (for `close()`). */
  cancelAll(): void {
    const all = [...this.#calls];
    this.#calls.clear();
    for (const c of all) c.cancel();
  }
}

/**
 * How long a call runs before it subscribes to the lookup's signal. Subscribing to a fresh
 * `AbortSignal` costs microseconds (as much as the rest of the adapter on a loopback read); a call
 * that settles sooner never pays it. An already aborted signal is seen at once, and `close()`
 * cancels calls directly, so only an abort in the first milliseconds of a call waits this long.
 */
export const SIGNAL_SUBSCRIBE_AFTER_MS = 5;

/**
 * Run `fn` under a deadline of `ms`, cancelled for real: when the deadline passes, or `signal` (the
 * lookup's) aborts, the {@link CallCancel} handed to `fn` fires, so the transport stops (sockets
 * destroyed, SDK retries stopped), and the call rejects with a `BackendTimeoutError`. One timer
 * runs at a time (first until {@link SIGNAL_SUBSCRIBE_AFTER_MS}, when a signal is given, then to
 * the deadline) and is cleared as soon as the call settles; while it runs it keeps the process
 * alive (a pending lookup must not let Node exit). A call cancelled from outside (by
 * {@link InFlightCalls.cancelAll} in `close()`) rejects at once too.
 */
export function withDeadline<T>(
  backend: string,
  secretName: string,
  ms: number,
  fn: (cancel: CallCancel) => Promise<T>,
  source?: SignalSource,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = new CallCancel();
    // A resolver's options make their signal on first read (an AbortController, ~3 µs): read it
    // only when subscribing. A signal, or plain options holding one, is looked at now.
    const lazy = source !== undefined && isLazy(source);
    let signal = source === undefined || lazy ? undefined : signalIn(source);
    if (signal?.aborted) {
      reject(cancelled(backend, secretName, signal));
      return;
    }
    let settled = false;
    let subscribed = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      if (subscribed) signal?.removeEventListener('abort', onAbort);
    };
    const stop = (err: Error) => {
      if (settled) return;
      settle();
      cancel.cancel();
      reject(err);
    };
    const onAbort = () => stop(cancelled(backend, secretName, signal));
    const onDeadline = () => stop(timedOut(backend, secretName, ms));
    const early = (signal !== undefined || lazy) && ms > SIGNAL_SUBSCRIBE_AFTER_MS;
    let timer = setTimeout(
      early
        ? () => {
            signal ??= signalIn(source!);
            timer = setTimeout(onDeadline, ms - SIGNAL_SUBSCRIBE_AFTER_MS);
            if (!signal) return;
            subscribed = true;
            if (signal.aborted) return onAbort();
            signal.addEventListener('abort', onAbort);
          }
        : onDeadline,
      early ? SIGNAL_SUBSCRIBE_AFTER_MS : ms,
    );
    if (lazy && !early) signal = signalIn(source!);
    if (signal && !early) {
      subscribed = true;
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort);
    }
    // Cancelled from outside (the backend's close()): settle now, whatever the transport does.
    cancel.onCancel(() => stop(closed(backend, secretName)));
    let p: Promise<T>;
    try {
      p = fn(cancel);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (v) => {
        if (settled) return;
        settle();
        resolve(v);
      },
      (e) => {
        if (settled) return;
        settle();
        reject(e);
      },
    );
  });
}

/** What {@link withDeadline} is told to watch: a signal, or the read options that hold one. */
export type SignalSource = AbortSignal | { readonly signal?: AbortSignal | undefined };

function signalIn(source: SignalSource): AbortSignal | undefined {
  return source instanceof AbortSignal ? source : source.signal;
}

/** Options whose `signal` is an accessor (the resolver's, made on first read), not a plain field. */
function isLazy(source: SignalSource): boolean {
  return !(source instanceof AbortSignal) && !Object.hasOwn(source, 'signal');
}

/** The error of a call that did not answer within its deadline. */
function timedOut(backend: string, secretName: string, ms: number): BackendTimeoutError {
  return new BackendTimeoutError(backend, `${backend}: no answer for '${secretName}' within ${ms} ms`, {
    secretName,
  });
}

/** The error of a call cancelled by the backend's `close()`. */
function closed(backend: string, secretName: string): BackendUnavailableError {
  return new BackendUnavailableError(
    backend,
    `${backend}: '${secretName}' was not read: the backend was closed`,
    {
      secretName,
    },
  );
}

/** The error a call rejects with when the lookup's own signal aborted it (its reason, when ours). */
function cancelled(backend: string, secretName: string, signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (isAirflowSecretsError(reason)) return reason;
  return new BackendTimeoutError(backend, `${backend}: the lookup of '${secretName}' was cancelled`, {
    secretName,
  });
}

/** Node socket error codes meaning the service could not be reached (→ `BackendUnavailableError`). */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Newest Airflow (the shared `BaseSecretsBackend._deserialize_connection_value`): a JSON value must
 * carry a non-blank string `conn_type` or `uri`; older versions accepted any JSON object.
 */
function requireTypeOrUri(raw: string): void {
  const text = raw.replace(PY_EDGE_SPACE, '');
  if (!text.startsWith('{')) return;
  let v: unknown;
  try {
    v = pyJsonLoads(text);
  } catch {
    return; // deserializeConnection reports the parse error in its own words
  }
  if (!(v instanceof Map)) return;
  const ok = (x: unknown) => typeof x === 'string' && !isBlank(x) && x !== '';
  if (!ok(v.get('conn_type')) && !ok(v.get('uri'))) {
    throw new ConnectionShapeError("Connection secret JSON must include a non-empty 'conn_type' or 'uri'.");
  }
}

class ConnectionShapeError extends Error {}

const PY_EDGE_SPACE =
  /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Only whitespace as Python's `str.strip()` sees it (a non-empty value that strips to nothing). */
const PY_BLANK = /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;
export function isBlank(raw: string): boolean {
  return PY_BLANK.test(raw);
}
