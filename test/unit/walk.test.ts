/**
 * The chain walk (src/resolver/walk.ts) and the deadline (src/resolver/deadline.ts) on their own:
 * the failures a walk lists, the error policy, and the deadline's typed timeout.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { memory } from '../../src/backends/memory.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  ConfigurationError,
  ThrottledError,
} from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { createDeadline } from '../../src/resolver/deadline.js';
import { createResolver } from '../../src/resolver/index.js';
import { createChain, type ErrorPolicy } from '../../src/resolver/walk.js';

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  return { lines, debug: push, warn: push, error: push };
}

function backend(name: string, answer: () => Promise<string | null>, extra: Partial<SecretsBackend> = {}) {
  const b: SecretsBackend = {
    name,
    locate: (_k, id) => ({ name: `${name}/${id}` }),
    getVariable: () => answer(),
    getConnection: async () => null,
    ...extra,
  };
  return b;
}

const chainOf = (backends: SecretsBackend[], policy: ErrorPolicy = 'continue', logger = capture()) =>
  createChain({ backends, policy, logger, deadline: createDeadline(1000) });

describe('the chain walk', () => {
  it('lists each failed backend with its typed error and the secret name it was asked for', async () => {
    const denied = new AccessDeniedError('vault', 'vault: permission denied');
    const logger = capture();
    const chain = chainOf(
      [
        backend('vault', () => Promise.reject(denied)),
        backend('plain', () => Promise.reject(new Error('socket hang up'))),
        backend('env', async () => 'v'),
      ],
      'continue',
      logger,
    );
    const r = await chain.walk('variable', 'k');
    expect(r.value).toBe('v');
    expect(r.source).toBe('env');
    expect(r.failures?.map((f) => [f.backend, f.secretName, f.error.reason])).toEqual([
      ['vault', 'vault/k', 'access-denied'],
      ['plain', 'plain/k', 'failed'],
    ]);
    expect(r.failures?.[0]?.error).toBe(denied);
    expect(r.failures?.[1]?.error).toBeInstanceOf(BackendError);
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[0]).toContain('(vault): AccessDeniedError [access-denied]');
  });

  it('has no failures list when no backend failed, found or not', async () => {
    const chain = chainOf([backend('a', async () => null), backend('b', async () => 'v')]);
    expect(await chain.walk('variable', 'k')).toEqual({ value: 'v', source: 'b' });
    const miss = await chainOf([backend('a', async () => null)]).walk('variable', 'k');
    expect(miss).toEqual({ value: null, source: null });
    expect('failures' in miss).toBe(false);
  });

  it('lists the failures on a miss too, in chain order', async () => {
    const chain = chainOf([
      backend('a', () => Promise.reject(new ThrottledError('a', 'a: slow down'))),
      backend('b', async () => null),
      backend('c', () => Promise.reject(new ThrottledError('c', 'c: slow down'))),
    ]);
    const r = await chain.walk('variable', 'k');
    expect(r.value).toBeNull();
    expect(r.failures?.map((f) => f.backend)).toEqual(['a', 'c']);
  });

  it("names the error's secret when the backend's locate throws", async () => {
    const err = new ThrottledError('odd', 'odd: slow down', { secretName: 'odd-name' });
    const b = backend('odd', () => Promise.reject(err), {
      locate: () => {
        throw new Error('locate broke');
      },
    });
    const r = await chainOf([b]).walk('variable', 'k');
    expect(r.failures).toEqual([{ backend: 'odd', error: err, secretName: 'odd-name' }]);
  });

  it("under 'throw' rejects with the typed error and asks no later backend", async () => {
    const later = vi.fn(async () => 'v');
    const chain = chainOf(
      [backend('a', () => Promise.reject(new Error('boom'))), backend('b', later)],
      'throw',
    );
    const e = await chain.walk('variable', 'k').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BackendError);
    expect((e as BackendError).backend).toBe('a');
    expect(later).not.toHaveBeenCalled();
  });

  it("lets a configuration error through under 'continue'", async () => {
    const bad = new ConfigurationError('backend_kwargs.url', 'url is not a URL');
    const chain = chainOf([backend('a', () => Promise.reject(bad)), backend('b', async () => 'v')]);
    await expect(chain.walk('variable', 'k')).rejects.toBe(bad);
  });
});

describe('the warning for a failed backend (issue 13 item 6)', () => {
  const failing = (name: string) =>
    backend(name, () => Promise.reject(new ThrottledError(name, `${name}: throttled`)), {
      getMany: () => Promise.reject(new ThrottledError(name, `${name}: throttled`)),
    });

  it('says "Checking subsequent secrets backend" only when another backend follows', async () => {
    const logger = capture();
    await chainOf([failing('first'), failing('last')], 'continue', logger).walk('variable', 'k');
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[0]).toContain('(first)');
    expect(logger.lines[0]).toMatch(/Checking subsequent secrets backend\.$/);
    expect(logger.lines[1]).toContain('(last)');
    expect(logger.lines[1]).not.toContain('Checking subsequent');
  });

  it('counts only backends that hold config secrets as subsequent for config lookups', async () => {
    const logger = capture();
    const withConfig = failing('first');
    withConfig.getConfig = () => Promise.reject(new ThrottledError('first', 'first: throttled'));
    await chainOf([withConfig, backend('no-config', async () => null)], 'continue', logger).walk(
      'config',
      'k',
    );
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).not.toContain('Checking subsequent');
  });

  it("never says it during prefetch under onBackendError: 'throw' (the prefetch stops)", async () => {
    const logger = capture();
    const r = createResolver({
      backends: [failing('batch'), memory({ name: 'next', variables: { a: '1' } })],
      cache: true,
      onBackendError: 'throw',
      logger,
    });
    await expect(r.prefetch({ variables: ['a', 'b'] })).rejects.toBeInstanceOf(ThrottledError);
    expect(logger.lines.join('\n')).not.toContain('Checking subsequent');
  });

  it('says it during prefetch under continue when a backend follows, and not after the last', async () => {
    const logger = capture();
    const r = createResolver({ backends: [failing('batch'), failing('final')], cache: true, logger });
    await r.prefetch({ variables: ['a', 'b'] });
    const lines = logger.lines.filter((l) => l.startsWith('Unable to prefetch'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('Checking subsequent secrets backend');
    expect(lines[1]).not.toContain('Checking subsequent');
  });
});

describe('the deadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails a call not settled in time with a BackendTimeoutError naming backend and id', async () => {
    vi.useFakeTimers();
    const deadline = createDeadline(500);
    const b = backend('slow', () => new Promise(() => {}));
    const p = deadline(b, 'k', () => new Promise<string>(() => {}));
    const seen = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(499);
    await vi.advanceTimersByTimeAsync(1);
    const e = await seen;
    expect(e).toBeInstanceOf(BackendTimeoutError);
    expect((e as BackendTimeoutError).message).toBe("slow: no answer for 'k' within 500 ms");
    expect((e as BackendTimeoutError).secretName).toBe('k');
  });

  it('turns a call that throws synchronously into a rejection', async () => {
    const deadline = createDeadline(500);
    const b = backend('sync', async () => null);
    const p = deadline(b, 'k', () => {
      throw new Error('sync throw');
    });
    await expect(p).rejects.toThrow('sync throw');
  });
});
