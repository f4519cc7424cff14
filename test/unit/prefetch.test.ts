import { describe, expect, it } from 'vitest';
import type { SecretKind, SecretsBackend } from '../../src/backend.js';
import { Connection } from '../../src/connection.js';
import {
  AccessDeniedError,
  ConfigurationError,
  MalformedSecretError,
  MissingDependencyError,
  ThrottledError,
} from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';

function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
}

interface Store {
  variables?: Record<string, string>;
  connections?: Record<string, string>;
}

/**
 * A backend that records single lookups and batch reads separately, tracks how many single lookups
 * run at once, and can fail its batch read or its single reads.
 */
function recording(name: string, store: Store = {}, opts: { batch?: boolean } = {}) {
  const singles: Array<[SecretKind, string]> = [];
  const batches: Array<[SecretKind, string[]]> = [];
  let running = 0;
  let maxRunning = 0;
  const fault: {
    batch?: (() => unknown) | undefined;
    single?: ((id: string) => unknown) | undefined;
    omit?: string[];
  } = {};
  const value = (kind: SecretKind, id: string): Connection | string | null => {
    if (kind === 'connection') {
      const uri = store.connections?.[id];
      return uri === undefined ? null : Connection.fromUri(uri, id);
    }
    return store.variables?.[id] ?? null;
  };
  const single = async (kind: SecretKind, id: string) => {
    singles.push([kind, id]);
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 1));
    running--;
    const err = fault.single?.(id);
    if (err) throw err;
    return value(kind, id);
  };
  const backend: SecretsBackend = {
    name,
    locate: (_k, id) => ({ name: `${name}/${id}` }),
    getVariable: (k) => single('variable', k) as Promise<string | null>,
    getConnection: (id) => single('connection', id) as Promise<Connection | null>,
  };
  if (opts.batch) {
    backend.getMany = async (kind, ids) => {
      batches.push([kind, [...ids]]);
      await new Promise((r) => setTimeout(r, 1));
      if (fault.batch) throw fault.batch();
      const m = new Map<string, Connection | string | null>();
      for (const id of ids) if (!fault.omit?.includes(id)) m.set(id, value(kind, id));
      return m;
    };
  }
  return { backend, singles, batches, fault, maxRunning: () => maxRunning };
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('resolver.prefetch', () => {
  it('asks a backend with getMany once for every id, then answers lookups from the cache', async () => {
    const vars = Object.fromEntries(ids('v', 45).map((id) => [id, `value-${id}`]));
    const cloud = recording('cloud', { variables: vars }, { batch: true });
    const r = createResolver({ backends: [cloud.backend], cache: true });
    await r.prefetch({ variables: ids('v', 45) });
    expect(cloud.batches).toEqual([['variable', ids('v', 45)]]);
    for (const id of ids('v', 45)) expect(await r.getVariable(id)).toBe(`value-${id}`);
    expect(cloud.singles).toEqual([]);
  });

  it('walks the chain per backend: each backend is asked only for the ids still missing', async () => {
    const first = recording(
      'first',
      { variables: { a: '1' }, connections: { db1: 'mysql://one' } },
      { batch: true },
    );
    const env = recording('env', { variables: { b: '2' }, connections: { db2: 'mysql://two' } });
    const last = recording('last', { variables: { c: '3' } }, { batch: true });
    const r = createResolver({ backends: [first.backend, env.backend, last.backend], cache: true });
    await r.prefetch({ variables: ['a', 'b', 'c', 'nowhere'], connections: ['db1', 'db2'] });
    expect(first.batches).toEqual(
      expect.arrayContaining([
        ['variable', ['a', 'b', 'c', 'nowhere']],
        ['connection', ['db1', 'db2']],
      ]),
    );
    expect(env.singles.sort()).toEqual(
      [
        ['connection', 'db2'],
        ['variable', 'b'],
        ['variable', 'c'],
        ['variable', 'nowhere'],
      ].sort(),
    );
    expect(last.batches).toEqual([['variable', ['c', 'nowhere']]]);
    expect(await Promise.all(['a', 'b', 'c', 'nowhere'].map((k) => r.getVariable(k)))).toEqual([
      '1',
      '2',
      '3',
      null,
    ]);
    expect((await r.getConnection('db1'))?.host).toBe('one');
    expect((await r.getConnection('db2'))?.host).toBe('two');
    expect(first.singles.length + env.singles.length + last.singles.length).toBe(4); // no lookup after prefetch
    const x = await r.explain('variable', 'c');
    expect(x).toMatchObject({ cache: 'hit', source: 'last' });
  });

  it('bounds the single lookups it runs at once on a backend without getMany', async () => {
    const env = recording('env');
    const r = createResolver({ backends: [env.backend], cache: true, prefetchConcurrency: 4 });
    await r.prefetch({ variables: ids('k', 40) });
    expect(env.singles).toHaveLength(40);
    expect(env.maxRunning()).toBeLessThanOrEqual(4);
    expect(env.maxRunning()).toBeGreaterThan(1);
  });

  it('remembers the ids no backend has (negative cache)', async () => {
    const cloud = recording('cloud', {}, { batch: true });
    const r = createResolver({ backends: [cloud.backend], cache: true });
    await r.prefetch({ connections: ['gone'], variables: ['gone'] });
    expect(await r.getConnection('gone')).toBeNull();
    expect(await r.getVariable('gone')).toBeNull();
    expect(cloud.singles).toEqual([]);
  });

  it('skips ids that are already cached, duplicated, or cannot exist', async () => {
    const cloud = recording('cloud', { variables: { a: '1', b: '2' } }, { batch: true });
    const r = createResolver({ backends: [cloud.backend], cache: true });
    await r.getVariable('a');
    await r.prefetch({ variables: ['a', 'b', 'b', '', 'x'.repeat(251)] });
    expect(cloud.batches).toEqual([['variable', ['b']]]);
    await r.prefetch({ variables: ['a', 'b'] });
    expect(cloud.batches).toHaveLength(1);
  });

  it('does nothing without a cache (there is nowhere to keep the answers), but still checks its input', async () => {
    const cloud = recording('cloud', { variables: { a: '1' } }, { batch: true });
    const r = createResolver({ backends: [cloud.backend] });
    await r.prefetch({ variables: ['a'], connections: ['b'] });
    expect(cloud.batches).toEqual([]);
    expect(cloud.singles).toEqual([]);
    await expect(r.prefetch({ variables: 'a' as never })).rejects.toBeInstanceOf(TypeError);
    await expect(r.prefetch({ variables: [1 as never] })).rejects.toBeInstanceOf(TypeError);
    await expect(r.prefetch(null as never)).rejects.toBeInstanceOf(TypeError);
  });

  it('lets lookups that start during a prefetch share it instead of walking again', async () => {
    const cloud = recording('cloud', { variables: { a: '1' } }, { batch: true });
    const env = recording('env', { variables: { b: '2' } });
    const r = createResolver({ backends: [cloud.backend, env.backend], cache: true });
    const warming = r.prefetch({ variables: ['a', 'b', 'c'] });
    const looked = await Promise.all([r.getVariable('a'), r.getVariable('b'), r.getVariable('c')]);
    await warming;
    expect(looked).toEqual(['1', '2', null]);
    expect(cloud.singles).toEqual([]);
    expect(cloud.batches).toHaveLength(1);
    expect(env.singles).toHaveLength(2);
  });

  it('on a failed batch (throttled), asks the next backend and caches no miss for those ids', async () => {
    const cloud = recording('cloud', { variables: { a: '1' } }, { batch: true });
    const env = recording('env', { variables: { b: '2' } });
    const logger = capture();
    cloud.fault.batch = () => new ThrottledError('cloud', 'cloud: throttled');
    const r = createResolver({ backends: [cloud.backend, env.backend], cache: true, logger });
    await r.prefetch({ variables: ['a', 'b'] });
    expect(cloud.singles).toEqual([]); // a throttled batch is not retried id by id
    expect(logger.warnings.some((w) => w.includes('prefetch') && w.includes('ThrottledError'))).toBe(true);
    expect(await r.getVariable('b')).toBe('2'); // found by env during the prefetch: cached
    cloud.fault.batch = undefined;
    expect(await r.getVariable('a')).toBe('1'); // its miss was not cached: the lookup walks
    expect(cloud.singles).toEqual([['variable', 'a']]);
  });

  it('on a batch that holds a malformed value, asks that backend for each id alone', async () => {
    const cloud = recording('cloud', { variables: { a: '1', bad: 'x' } }, { batch: true });
    cloud.fault.batch = () => new MalformedSecretError('cloud', "cloud: the secret 'bad' is not valid JSON");
    cloud.fault.single = (id) => (id === 'bad' ? new MalformedSecretError('cloud', 'bad') : undefined);
    const r = createResolver({ backends: [cloud.backend], cache: true, logger: capture() });
    await r.prefetch({ variables: ['a', 'bad'] });
    expect(cloud.singles.sort()).toEqual([
      ['variable', 'a'],
      ['variable', 'bad'],
    ]);
    expect(await r.getVariable('a')).toBe('1');
    expect(cloud.singles).toHaveLength(2);
  });

  it('asks alone for an id that a batch read left out of its answer', async () => {
    const cloud = recording('cloud', { variables: { a: '1', b: '2' } }, { batch: true });
    cloud.fault.omit = ['b'];
    const r = createResolver({ backends: [cloud.backend], cache: true });
    await r.prefetch({ variables: ['a', 'b'] });
    expect(cloud.singles).toEqual([['variable', 'b']]);
    expect(await r.getVariable('b')).toBe('2');
  });

  it('does not cache a miss for an id whose single lookup failed', async () => {
    const env = recording('env', { variables: { a: '1' } });
    env.fault.single = (id) => (id === 'a' ? new AccessDeniedError('env', 'env: denied') : undefined);
    const r = createResolver({ backends: [env.backend], cache: true, logger: capture() });
    await r.prefetch({ variables: ['a'] });
    env.fault.single = undefined;
    expect(await r.getVariable('a')).toBe('1');
    expect(env.singles).toHaveLength(2);
  });

  it("rejects with the typed error under onBackendError 'throw', and lookups waiting on it see it too", async () => {
    const cloud = recording('cloud', { variables: { a: '1' } }, { batch: true });
    cloud.fault.batch = () => new AccessDeniedError('cloud', 'cloud: denied');
    const r = createResolver({ backends: [cloud.backend], cache: true, onBackendError: 'throw' });
    const warming = r.prefetch({ variables: ['a'] });
    const waiting = r.getVariable('a');
    await expect(warming).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(waiting).rejects.toBeInstanceOf(AccessDeniedError);
    cloud.fault.batch = undefined;
    expect(await r.getVariable('a')).toBe('1');
  });

  it('always propagates a configuration error (e.g. a missing SDK) and clears what it was warming', async () => {
    const cloud = recording('cloud', { variables: { a: '1' } }, { batch: true });
    cloud.fault.batch = () =>
      new MissingDependencyError('@aws-sdk/client-secrets-manager', 'aws-secrets-manager');
    const r = createResolver({ backends: [cloud.backend], cache: true });
    const warming = r.prefetch({ variables: ['a'] });
    const waiting = r.getVariable('a');
    await expect(warming).rejects.toBeInstanceOf(ConfigurationError);
    await expect(waiting).rejects.toBeInstanceOf(MissingDependencyError);
    cloud.fault.batch = undefined;
    expect(await r.getVariable('a')).toBe('1');
  });

  it('registers prefetched secrets with the masker like any lookup', async () => {
    const { redact } = await import('../../src/masker.js');
    const secret = 'prefetched-s3cr3t-value';
    const cloud = recording('cloud', { connections: { db: `postgres://u:${secret}@h/s` } }, { batch: true });
    const r = createResolver({ backends: [cloud.backend], cache: true });
    await r.prefetch({ connections: ['db'] });
    expect(redact(`password is ${secret}`)).not.toContain(secret);
  });
});
