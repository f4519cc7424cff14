/**
 * The resolver's safety deadline around one backend call: if the backend has not settled within
 * `backendTimeoutMs`, the call fails with a `BackendTimeoutError` naming the backend and what was
 * asked. It is a timer and a promise, nothing more: backends bound their own remote calls and get no
 * signal from here, and the timer is `unref()`'d so it never keeps a process alive on its own.
 */
import type { SecretsBackend } from '../backend.js';
import { BackendTimeoutError } from '../errors.js';

/** Runs `call` against backend `b` under the deadline; `what` names the request (an id, "3 variable ids"). */
export type Deadline = <T>(b: SecretsBackend, what: string, call: () => Promise<T>) => Promise<T>;

/** A deadline of `ms` milliseconds for every call. A call that throws synchronously becomes a rejection. */
export function createDeadline(ms: number): Deadline {
  return <T>(b: SecretsBackend, what: string, call: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new BackendTimeoutError(b.name, `${b.name}: no answer for '${what}' within ${ms} ms`, {
            secretName: what,
          }),
        );
      }, ms);
      timer.unref?.();
      const done = (v: T) => {
        clearTimeout(timer);
        resolve(v);
      };
      const fail = (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      };
      try {
        call().then(done, fail);
      } catch (e) {
        fail(e);
      }
    });
}
