/**
 * Issue 11 items 2 (the resolver's side) and 5: every backend call gets `options.signal`, aborted
 * at the lookup's deadline and on `close()`; the lookup then settles at once. While a lookup is
 * pending its deadline keeps the process alive, so a backend that never settles (and holds no
 * socket) ends in a `BackendTimeoutError`, not in a silent exit 0. A background refresh nobody
 * waits for does not hold the process.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { memory } from '../../src/backends/memory.js';
import { BackendTimeoutError, BackendUnavailableError, VariableNotFoundError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { runChild, src } from '../helpers/child.js';
import { gated, settle } from '../helpers/gated.js';

/** A backend whose reads never settle and which records the signals it was handed. */
function hanging(name = 'hang') {
  const signals: AbortSignal[] = [];
  const backend: SecretsBackend & { getMany: NonNullable<SecretsBackend['getMany']> } = {
    name,
    locate: (_k, id) => ({ name: id }),
    getVariable: (_k, o) => {
      if (o?.signal) signals.push(o.signal);
      return new Promise(() => {});
    },
    getConnection: (_k, o) => {
      if (o?.signal) signals.push(o.signal);
      return new Promise(() => {});
    },
    getMany: (_kind, _ids, o) => {
      if (o?.signal) signals.push(o.signal);
      return new Promise(() => {});
    },
  };
  return { backend, signals };
}

describe('options.signal', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is handed to every read and aborts at the deadline, with the timeout error as its reason', async () => {
    vi.useFakeTimers();
    const h = hanging();
    const r = createResolver({ backends: [h.backend], backendTimeoutMs: 500, onBackendError: 'throw' });
    const seen = r.getVariable('k').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.signals).toHaveLength(1);
    expect(h.signals[0]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(499);
    expect(h.signals[0]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.signals[0]!.aborted).toBe(true);
    const e = await seen;
    expect(e).toBeInstanceOf(BackendTimeoutError);
    expect(h.signals[0]!.reason).toBe(e);
    expect((e as Error).message).toBe("hang: no answer for 'k' within 500 ms");
  });

  it('gives each backend call its own signal: a timeout at one backend does not abort the next', async () => {
    vi.useFakeTimers();
    const h = hanging();
    const next = gated('next', { variables: { k: 'v' } });
    const r = createResolver({
      backends: [h.backend, next.backend],
      backendTimeoutMs: 500,
      logger: silentLogger,
    });
    const answer = r.getVariable('k');
    await vi.advanceTimersByTimeAsync(500);
    expect(h.signals[0]!.aborted).toBe(true);
    expect(next.calls).toHaveLength(1);
    expect(next.calls[0]!.signal?.aborted).toBe(false);
    vi.useRealTimers();
    await next.release();
    expect(await answer).toBe('v');
  });

  it('is handed to getMany during prefetch', async () => {
    const h = hanging();
    const r = createResolver({ backends: [h.backend], cache: true, logger: silentLogger });
    const warming = r.prefetch({ variables: ['a', 'b'] }).catch((e: unknown) => e);
    await settle();
    expect(h.signals).toHaveLength(1);
    await r.close();
    expect(h.signals[0]!.aborted).toBe(true);
    expect(await warming).toBeInstanceOf(BackendUnavailableError);
  });

  it('aborts on close(): the lookups in flight reject with an error naming the backend and the id', async () => {
    const h = hanging('vault');
    const r = createResolver({
      backends: [h.backend, memory({ variables: { k: 'v' } })],
      logger: silentLogger,
    });
    const lookups = [r.getVariable('k'), r.getConnection('db')].map((p) => p.catch((e: unknown) => e));
    await settle();
    expect(h.signals).toHaveLength(2);
    await r.close();
    expect(h.signals.every((s) => s.aborted)).toBe(true);
    const [v, c] = await Promise.all(lookups);
    // Closed means closed: the walk does not go on to the next backend.
    expect(v).toBeInstanceOf(BackendUnavailableError);
    expect((v as Error).message).toBe("vault: the lookup of 'k' was cancelled: the resolver was closed");
    expect((c as Error).message).toContain("'db'");
  });

  it('close() is not hidden behind a stale value: the lookup in flight rejects', async () => {
    let t = 0;
    let first = true;
    const h = hanging('vault');
    const b: SecretsBackend = {
      ...h.backend,
      getVariable: (k, o) => {
        if (first) {
          first = false;
          return Promise.resolve('old');
        }
        return h.backend.getVariable(k, o);
      },
    };
    const r = createResolver({
      backends: [b],
      cache: { ttl: 10, staleIfError: 600, jitter: 0, now: () => t },
      logger: silentLogger,
    });
    expect(await r.getVariable('k')).toBe('old');
    t = 20_000; // expired, within the stale window
    const pending = r.getVariable('k').catch((e: unknown) => e);
    await settle();
    await r.close();
    expect(await pending).toBeInstanceOf(BackendUnavailableError);
  });

  it('a backend that never reads the signal gets none created for it', async () => {
    let seen: object | undefined;
    const b: SecretsBackend = {
      name: 'plain',
      locate: (_k, id) => ({ name: id }),
      getVariable: async (_k, o) => {
        seen = o;
        return 'v';
      },
      getConnection: async () => null,
    };
    const r = createResolver({ backends: [b] });
    expect(await r.getVariable('k')).toBe('v');
    // The options object is there; its signal is made only when read (then it is a real AbortSignal).
    expect(seen).toBeDefined();
    expect((seen as { signal: AbortSignal }).signal).toBeInstanceOf(AbortSignal);
  });
});

const NEVER = `{
  name: 'never', locate: (_k, id) => ({ name: id }),
  getVariable: () => new Promise(() => {}), getConnection: () => new Promise(() => {}),
}`;

/** A backend whose `list` never settles and which records the signals it was handed. */
function hangingList(name = 'hang') {
  const signals: AbortSignal[] = [];
  let called!: () => void;
  /** Settles when `list` is first called (the inventory code is imported on the first list). */
  const started = new Promise<void>((resolve) => {
    called = resolve;
  });
  const backend: SecretsBackend = {
    ...hanging(name).backend,
    list: (_kind, o) => {
      if (o?.signal) signals.push(o.signal);
      called();
      return new Promise(() => {});
    },
  };
  return { backend, signals, started };
}

describe('resolver.list under the deadline (issue 11 item 5)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a backend whose list never settles is reported failed (timeout) at the deadline; the others are listed', async () => {
    vi.useFakeTimers();
    const h = hangingList();
    const r = createResolver({
      backends: [h.backend, memory({ variables: { a: '1' } })],
      backendTimeoutMs: 500,
      logger: silentLogger,
    });
    let inv: Awaited<ReturnType<typeof r.list>> | undefined;
    const done = r.list('variable').then((v) => {
      inv = v;
    });
    await h.started;
    await vi.advanceTimersByTimeAsync(499);
    expect(inv).toBeUndefined();
    expect(h.signals).toHaveLength(1);
    expect(h.signals[0]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(h.signals[0]!.aborted).toBe(true);
    expect(h.signals[0]!.reason).toBeInstanceOf(BackendTimeoutError);
    expect(inv!.backends).toEqual([
      {
        backend: 'hang',
        status: 'failed',
        count: 0,
        reason: 'timeout',
        message: "hang: no answer for 'the variable list' within 500 ms",
      },
      { backend: 'memory', status: 'listed', count: 1 },
    ]);
    // The id the memory backend holds: served by it, unverified behind the backend that timed out.
    expect(inv!.entries).toEqual([
      { id: 'a', source: 'memory', secretName: 'a', shadowed: [], unverified: ['hang'] },
    ]);
  });

  it('close() settles a pending list at once: the backend is reported failed (unavailable)', async () => {
    const h = hangingList();
    const r = createResolver({ backends: [h.backend], backendTimeoutMs: 3_600_000, logger: silentLogger });
    const pending = r.list('connection');
    await h.started;
    await r.close();
    const inv = await pending;
    expect(inv.backends[0]).toMatchObject({ backend: 'hang', status: 'failed', reason: 'unavailable' });
    expect(h.signals[0]!.aborted).toBe(true);
  });

  it("the caller's signal reaches the backend's list too", async () => {
    const h = hangingList();
    const r = createResolver({ backends: [h.backend], backendTimeoutMs: 3_600_000, logger: silentLogger });
    const ac = new AbortController();
    const pending = r.list('variable', { signal: ac.signal });
    await h.started;
    expect(h.signals[0]!.aborted).toBe(false);
    ac.abort(new Error('stop'));
    expect(h.signals[0]!.aborted).toBe(true);
    await r.close();
    await pending.catch(() => undefined);
  });
});

describe('a pending lookup keeps the process alive until its deadline', () => {
  it('a list whose backend never settles: the process stays alive and prints after the await', async () => {
    const { code, stdout } = await runChild(`
      const { createResolver, silentLogger } = await import(${src('index.ts')});
      const b = { ...${NEVER}, list: () => new Promise(() => {}) };
      const r = createResolver({ backends: [b], backendTimeoutMs: 300, logger: silentLogger });
      const inv = await r.list('variable');
      console.log('listed', JSON.stringify(inv.backends));
      process.exitCode = 4;
    `);
    expect(stdout).toContain('listed [{"backend":"never","status":"failed","count":0,"reason":"timeout"');
    expect(code).toBe(4);
  });

  it("under 'throw': the process prints the BackendTimeoutError and exits non-zero", async () => {
    const { code, stdout, stderr } = await runChild(`
      const { createResolver } = await import(${src('index.ts')});
      const r = createResolver({ backends: [${NEVER}], backendTimeoutMs: 300, onBackendError: 'throw' });
      const v = await r.getVariable('k');
      console.log('got', v);
    `);
    expect(stdout).not.toContain('got');
    expect(stderr).toContain('BackendTimeoutError');
    expect(stderr).toContain("never: no answer for 'k' within 300 ms");
    expect(code).not.toBe(0);
  });

  it("under 'continue': getVariableOrThrow fails with the timeout as the cause, not a silent exit", async () => {
    const { code, stdout } = await runChild(`
      const { createResolver, silentLogger } = await import(${src('index.ts')});
      const r = createResolver({ backends: [${NEVER}], backendTimeoutMs: 300, logger: silentLogger });
      try {
        await r.getVariableOrThrow('k');
        console.log('found');
      } catch (e) {
        console.log(e.name, e.cause?.name, JSON.stringify(e.failures));
        process.exitCode = 3;
      }
    `);
    expect(stdout).toContain(`${VariableNotFoundError.name} BackendTimeoutError`);
    expect(stdout).toContain('"reason":"timeout"');
    expect(code).toBe(3);
  });

  it('a background refresh that nobody waits for does not keep the process alive', async () => {
    const { code, stdout } = await runChild(`
      const { createResolver, silentLogger } = await import(${src('index.ts')});
      let t = 0;
      let calls = 0;
      const b = {
        name: 'slow-later', locate: (_k, id) => ({ name: id }),
        getVariable: () => (calls++ === 0 ? Promise.resolve('v') : new Promise(() => {})),
        getConnection: async () => null,
      };
      const r = createResolver({
        backends: [b], backendTimeoutMs: 3_600_000, logger: silentLogger,
        cache: { ttl: 100, refreshAhead: 0.5, jitter: 0, now: () => t },
      });
      await r.getVariable('k');
      t = 60_000; // past refreshAhead: this hit starts a refresh (next turn) that never settles
      const hit = await r.getVariable('k');
      await new Promise((done) => setImmediate(done));
      console.log('hit', hit, 'refreshing', r.stats().inFlight);
    `);
    expect(stdout).toContain('hit v refreshing 1');
    expect(code).toBe(0);
  });
});
