/**
 * `withDeadline` cancels, it does not only race (issue 11 item 2): the `CallCancel` handed to the
 * call fires at the deadline, when the lookup's signal aborts, and when `close()` cancels calls in
 * flight; the call then rejects at once, and no timer is left. With a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type CallCancel,
  InFlightCalls,
  SIGNAL_SUBSCRIBE_AFTER_MS,
  withDeadline,
} from '../../src/backends/base.js';
import { BackendTimeoutError, BackendUnavailableError } from '../../src/errors.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A call that never settles by itself, recording its cancellation (as a transport would). */
function hanging() {
  const seen: { cancel?: CallCancel; cancelled: number; sdk: number } = { cancelled: 0, sdk: 0 };
  const fn = (cancel: CallCancel) => {
    seen.cancel = cancel;
    cancel.onCancel(() => void seen.cancelled++);
    cancel.onabort = () => void seen.sdk++; // what the AWS SDK's handler sets
    return new Promise<never>(() => {});
  };
  return { seen, fn };
}

describe('withDeadline', () => {
  it('at the deadline: the call is cancelled (listeners and the SDK handler) and rejects', async () => {
    const { seen, fn } = hanging();
    const p = withDeadline('b', 'name', 1_000, fn).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(999);
    expect(seen.cancelled).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await p).toBeInstanceOf(BackendTimeoutError);
    expect(seen).toMatchObject({ cancelled: 1, sdk: 1 });
    expect(seen.cancel?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an already aborted signal: rejects without calling', async () => {
    const ac = new AbortController();
    ac.abort();
    const fn = vi.fn(() => Promise.resolve(1));
    expect(await withDeadline('b', 'n', 1_000, fn, ac.signal).catch((e: unknown) => e)).toBeInstanceOf(
      BackendTimeoutError,
    );
    expect(fn).not.toHaveBeenCalled();
  });

  it('a signal aborting mid-call cancels it (seen at the latest when the call has run a few ms)', async () => {
    const { seen, fn } = hanging();
    const ac = new AbortController();
    const p = withDeadline('b', 'n', 60_000, fn, ac.signal).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1);
    ac.abort();
    await vi.advanceTimersByTimeAsync(SIGNAL_SUBSCRIBE_AFTER_MS);
    expect(await p).toBeInstanceOf(BackendTimeoutError);
    expect(seen.cancelled).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a signal aborting later cancels it at once', async () => {
    const { seen, fn } = hanging();
    const ac = new AbortController();
    const p = withDeadline('b', 'n', 60_000, fn, ac.signal).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen.cancelled).toBe(0);
    ac.abort();
    expect(await p).toBeInstanceOf(BackendTimeoutError);
    expect(seen.cancelled).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("close(): InFlightCalls.cancelAll cancels and rejects at once with 'closed'", async () => {
    const { seen, fn } = hanging();
    const inFlight = new InFlightCalls();
    const p = withDeadline('b', 'n', 60_000, (c) => inFlight.track(c, fn(c))).catch((e: unknown) => e);
    inFlight.cancelAll();
    const err = await p;
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/the backend was closed/);
    expect(seen.cancelled).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a call that settles clears its timer and is not cancelled', async () => {
    let cancel: CallCancel | undefined;
    const v = await withDeadline(
      'b',
      'n',
      1_000,
      async (c) => {
        cancel = c;
        return 42;
      },
      new AbortController().signal,
    );
    expect(v).toBe(42);
    expect(cancel?.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reads the signal of the resolver's options (an accessor, made on first read) only when a call outlives the first few ms", async () => {
    let reads = 0;
    const controller = new AbortController();
    class LazyOptions {
      get signal(): AbortSignal {
        reads++;
        return controller.signal;
      }
    }
    // A call that settles at once never makes the signal.
    await expect(withDeadline('b', 'name', 1_000, async () => 'v', new LazyOptions())).resolves.toBe('v');
    expect(reads).toBe(0);
    // One that runs on is subscribed after SIGNAL_SUBSCRIBE_AFTER_MS, and an abort then cancels it.
    const { seen, fn } = hanging();
    const p = withDeadline('b', 'name', 1_000, fn, new LazyOptions()).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(SIGNAL_SUBSCRIBE_AFTER_MS);
    expect(reads).toBe(1);
    controller.abort(new BackendTimeoutError('b', 'b: the lookup gave up'));
    expect(await p).toBeInstanceOf(BackendTimeoutError);
    expect(seen.cancelled).toBe(1);
    // Plain options holding a signal are looked at at once: an aborted one rejects without calling.
    let called = 0;
    const aborted = withDeadline('b', 'name', 1_000, async () => called++, { signal: controller.signal });
    await expect(aborted).rejects.toBeInstanceOf(BackendTimeoutError);
    expect(called).toBe(0);
  });
});
