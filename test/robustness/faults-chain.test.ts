/**
 * Faults across the chain: every fault kind at every position of a three-backend chain, under both
 * error policies. The lookup resolves from the next source or rejects with a typed error, exactly as
 * the policy says; it never hangs (the resolver's deadline ends a stuck call) and never leaves an
 * unhandled rejection behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memory } from '../../src/backends/memory.js';
import {
  type BackendErrorReason,
  ConnectionNotFoundError,
  isBackendError,
  VariableNotFoundError,
} from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { type FaultSpec, withFaults } from '../../src/testing/index.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(async () => {
  // Give stray promises (e.g. a hung call abandoned at its deadline) a chance to reject late.
  await new Promise((r) => setTimeout(r, 50));
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

type Fault = NonNullable<FaultSpec['fault']>;

const FAULTS: Array<[string, Fault, BackendErrorReason]> = [
  ['throttled', 'throttled', 'throttled'],
  ['timeout (delay, then BackendTimeoutError)', 'timeout', 'timeout'],
  ['hang (ended by the resolver deadline)', 'hang', 'timeout'],
  ['access-denied', 'access-denied', 'access-denied'],
  ['unavailable', 'unavailable', 'unavailable'],
  ['malformed', 'malformed', 'malformed'],
  ['a plain Error', new Error('socket exploded'), 'failed'],
  ['a non-Error throw', () => 'a string' as unknown as Error, 'failed'],
];
const POSITIONS = [0, 1, 2];
const DEADLINE_MS = 100;

/**
 * Three backends `b0`, `b1`, `b2`; the faulty one is at `position`, and only it and the backends
 * after it hold the id (so every backend up to the fault is asked), each with its own value.
 */
function chain(position: number, fault: Fault) {
  const backends = [0, 1, 2].map((i) => {
    const has = i >= position;
    const b = memory({
      name: `b${i}`,
      variables: has ? { key: `value-from-b${i}` } : {},
      connections: has ? { conn: `postgres://u:p@host-b${i}:5432/db` } : {},
    });
    return i === position ? withFaults(b, { fault, timeoutMs: 10 }) : b;
  });
  return backends;
}

/** Fails the test (instead of hanging it) if `p` has not settled within a generous bound. */
async function settles<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('lookup did not settle: it hung')), 5_000);
  });
  try {
    return { value: await Promise.race([p, guard]) };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('lookup did not settle')) throw error;
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

describe.each(FAULTS)('fault: %s', (_label, fault, reason) => {
  describe.each(POSITIONS)('at position %i of 3', (position) => {
    it("policy 'continue': answers from the next source, or not-found when the faulty backend was the last", async () => {
      const r = createResolver({
        backends: chain(position, fault),
        backendTimeoutMs: DEADLINE_MS,
        logger: silentLogger,
      });
      const v = await settles(r.getVariable('key'));
      const c = await settles(r.getConnection('conn'));
      if (position < 2) {
        expect(v).toEqual({ value: `value-from-b${position + 1}` });
        expect(c.value?.host).toBe(`host-b${position + 1}`);
      } else {
        expect(v).toEqual({ value: null });
        expect(c).toEqual({ value: null });
        expect((await settles(r.getVariableOrThrow('key'))).error).toBeInstanceOf(VariableNotFoundError);
        expect((await settles(r.getConnectionOrThrow('conn'))).error).toBeInstanceOf(ConnectionNotFoundError);
      }
      const explained = await r.explain('variable', 'key');
      expect(explained.steps[position]).toMatchObject({ backend: `b${position}`, outcome: 'error', reason });
    });

    it("policy 'throw': rejects with the typed error of the faulty backend", async () => {
      const r = createResolver({
        backends: chain(position, fault),
        backendTimeoutMs: DEADLINE_MS,
        onBackendError: 'throw',
        logger: silentLogger,
      });
      const lookups: Array<() => Promise<unknown>> = [
        () => r.getVariable('key'),
        () => r.getConnection('conn'),
        () => r.getVariableOrThrow('key'),
      ];
      for (const lookup of lookups) {
        const { error } = await settles(lookup());
        expect(isBackendError(error)).toBe(true);
        expect(error).toMatchObject({ backend: `b${position}`, reason });
      }
    });
  });
});

describe('many concurrent lookups through a failing chain', () => {
  it('settles every one of them, each answered or typed', async () => {
    const backends = [
      withFaults(memory({ name: 'a', variables: { k: 'a' } }), { fault: 'throttled', rate: 0.5, seed: 3 }),
      withFaults(memory({ name: 'b', variables: { k: 'b' } }), { fault: 'hang', rate: 0.3, seed: 4 }),
      memory({ name: 'c', variables: { k: 'c' } }),
    ];
    for (const policy of ['continue', 'throw'] as const) {
      const r = createResolver({
        backends,
        backendTimeoutMs: 30,
        onBackendError: policy,
        logger: silentLogger,
      });
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => r.getVariable(i % 2 ? 'k' : `missing-${i}`)),
      );
      for (const res of results) {
        if (res.status === 'fulfilled') expect([null, 'a', 'b', 'c']).toContain(res.value);
        else expect(isBackendError(res.reason)).toBe(true);
      }
      if (policy === 'continue') expect(results.every((x) => x.status === 'fulfilled')).toBe(true);
    }
  });
});
