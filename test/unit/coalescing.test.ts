import { describe, expect, it } from 'vitest';
import type { SecretKind, SecretsBackend } from '../../src/backend.js';
import { Connection } from '../../src/connection.js';
import { AccessDeniedError, ConfigurationError, ThrottledError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';

const quiet: Logger = { debug() {}, warn() {}, error() {} };

/**
 * A backend whose answers wait until the test releases them, so lookups really overlap. Every call
 * is recorded; `release` settles all pending calls with the current values (or the failure).
 */
function gated(
  name: string,
  values: { variables?: Record<string, string>; connections?: Record<string, string> } = {},
) {
  const calls: Array<[SecretKind, string]> = [];
  const waiting: Array<() => void> = [];
  let failure: (() => unknown) | null = null;
  const wait = <T>(kind: SecretKind, id: string, answer: () => T): Promise<T> => {
    calls.push([kind, id]);
    return new Promise<T>((resolve, reject) => {
      waiting.push(() => {
        if (failure) reject(failure());
        else resolve(answer());
      });
    });
  };
  const backend: SecretsBackend = {
    name,
    locate: (_k, id) => ({ name: id }),
    getVariable: (key) => wait('variable', key, () => values.variables?.[key] ?? null),
    getConnection: (id) =>
      wait('connection', id, () => {
        const uri = values.connections?.[id];
        return uri === undefined ? null : Connection.fromUri(uri, id);
      }),
  };
  return {
    backend,
    calls,
    pending: () => waiting.length,
    failWith(f: (() => unknown) | null) {
      failure = f;
    },
    /** Settle every call made so far, then let the resolver move on. */
    async release() {
      for (const w of waiting.splice(0)) w();
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** Release the backends in order until every lookup has settled. */
async function drain<T>(all: Promise<T>, ...backends: Array<ReturnType<typeof gated>>): Promise<T> {
  let done = false;
  const watched = all.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 50 && !done; i++) {
    for (const b of backends) await b.release();
  }
  return all;
}

describe('request coalescing', () => {
  for (const cache of [false, true]) {
    it(`makes exactly one call per backend for 100 simultaneous lookups of one id (cache ${cache ? 'on' : 'off'})`, async () => {
      const a = gated('a');
      const b = gated('b', { variables: { k: 'from-b' } });
      const r = createResolver({ backends: [a.backend, b.backend], cache });
      const lookups = Array.from({ length: 100 }, () => r.getVariable('k'));
      const results = await drain(Promise.all(lookups), a, b);
      expect(results).toEqual(Array(100).fill('from-b'));
      expect(a.calls).toEqual([['variable', 'k']]);
      expect(b.calls).toEqual([['variable', 'k']]);
    });
  }

  it('shares one walk between getVariable, getVariableOrThrow and getVariable with options', async () => {
    const a = gated('a', { variables: { k: '{"n": 2}' } });
    const r = createResolver({ backends: [a.backend] });
    const all = Promise.all([
      r.getVariable('k'),
      r.getVariableOrThrow('k'),
      r.getVariable('k', { deserializeJson: true }),
      r.getVariable('k', { default: 'd' }),
    ]);
    expect(await drain(all, a)).toEqual(['{"n": 2}', '{"n": 2}', { n: 2 }, '{"n": 2}']);
    expect(a.calls).toHaveLength(1);
  });

  it('gives every simultaneous caller of one connection the same frozen answer from one call', async () => {
    const a = gated('a', { connections: { db: 'postgres://u:p@h:5432/s' } });
    const r = createResolver({ backends: [a.backend] });
    const [c1, c2] = (await drain(
      Promise.all([r.getConnection('db'), r.getConnection('db')]),
      a,
    )) as Connection[];
    expect(a.calls).toHaveLength(1);
    // Issue 15: one frozen Connection shared by every caller (a copy only on clone()).
    expect(c1).toBe(c2);
    expect(() => {
      c1!.host = 'changed';
    }).toThrow(TypeError);
    const mine = c1!.clone();
    mine.host = 'changed';
    expect(c2!.host).toBe('h');
  });

  it('walks again once the shared walk has finished (no cache: nothing is remembered)', async () => {
    const a = gated('a', { variables: { k: 'v' } });
    const r = createResolver({ backends: [a.backend] });
    await drain(Promise.all([r.getVariable('k'), r.getVariable('k')]), a);
    await drain(r.getVariable('k'), a);
    expect(a.calls).toHaveLength(2);
  });

  it('does not merge different ids, or a variable and a connection with the same id', async () => {
    const a = gated('a', { variables: { x: '1', y: '2' }, connections: { x: 'mysql://h' } });
    const r = createResolver({ backends: [a.backend] });
    const all = Promise.all([
      r.getVariable('x'),
      r.getVariable('y'),
      r.getConnection('x'),
      r.getVariable('x'),
    ]);
    const [x, y, cx, x2] = (await drain(all, a)) as [string, string, Connection, string];
    expect([x, y, cx.type, x2]).toEqual(['1', '2', 'mysql', '1']);
    expect(a.calls).toEqual([
      ['variable', 'x'],
      ['variable', 'y'],
      ['connection', 'x'],
    ]);
  });

  it("gives every caller the same typed error when the shared walk fails (onBackendError 'throw'), then forgets it", async () => {
    const a = gated('a', { variables: { k: 'v' } });
    a.failWith(() => new ThrottledError('a', 'a: throttled reading k'));
    const r = createResolver({ backends: [a.backend], onBackendError: 'throw', cache: true });
    const lookups = Array.from({ length: 20 }, () => r.getVariable('k').catch((e: unknown) => e));
    const errors = await drain(Promise.all(lookups), a);
    expect(a.calls).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ThrottledError);
    for (const e of errors) expect(e).toBe(errors[0]);
    a.failWith(null);
    expect(await drain(r.getVariable('k'), a)).toBe('v');
    expect(a.calls).toHaveLength(2);
  });

  it('shares a failed walk under the default policy too: one call per backend, every caller gets null', async () => {
    const a = gated('a');
    const b = gated('b');
    a.failWith(() => new AccessDeniedError('a', 'a: denied'));
    const r = createResolver({ backends: [a.backend, b.backend], cache: true, logger: quiet });
    const results = await drain(Promise.all(Array.from({ length: 10 }, () => r.getVariable('k'))), a, b);
    expect(results).toEqual(Array(10).fill(null));
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);
    // The miss came after an error, so it was not cached and the next lookup walks again.
    a.failWith(null);
    await drain(r.getVariable('k'), a, b);
    expect(a.calls).toHaveLength(2);
  });

  it('propagates a configuration error to every caller and clears the shared walk', async () => {
    const a = gated('a', { variables: { k: 'v' } });
    a.failWith(() => new ConfigurationError('AIRFLOW__SECRETS__BACKEND_KWARGS', 'bad kwargs'));
    const r = createResolver({ backends: [a.backend] });
    const errors = await drain(
      Promise.all([r.getVariable('k').catch((e: unknown) => e), r.getVariable('k').catch((e: unknown) => e)]),
      a,
    );
    expect(errors[0]).toBeInstanceOf(ConfigurationError);
    expect(errors[1]).toBe(errors[0]);
    a.failWith(null);
    expect(await drain(r.getVariable('k'), a)).toBe('v');
  });

  it('turns a plain thrown error into the same typed BackendError for every caller', async () => {
    const a = gated('a');
    a.failWith(() => Object.assign(new Error('socket hang up: s3cr3t'), { code: 'ECONNRESET' }));
    const r = createResolver({ backends: [a.backend], onBackendError: 'throw' });
    const errors = await drain(
      Promise.all([r.getVariable('k').catch((e: unknown) => e), r.getVariable('k').catch((e: unknown) => e)]),
      a,
    );
    expect(errors[0]).toMatchObject({ name: 'BackendError', backend: 'a', reason: 'failed' });
    expect((errors[0] as Error).message).not.toContain('s3cr3t');
    expect(errors[1]).toBe(errors[0]);
  });

  it('a lookup that starts after a cache fill is answered from the cache without joining anything', async () => {
    const a = gated('a', { variables: { k: 'v' } });
    const r = createResolver({ backends: [a.backend], cache: true });
    await drain(r.getVariable('k'), a);
    expect(await r.getVariable('k')).toBe('v');
    expect(a.pending()).toBe(0);
    expect(a.calls).toHaveLength(1);
  });
});
