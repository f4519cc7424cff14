import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretFileError } from '../../src/backends/local-filesystem/index.js';
import { Connection } from '../../src/connection.js';
import { getConnection, getDefaultResolver, getVariable, setDefaultResolver } from '../../src/default.js';
import {
  AccessDeniedError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  MalformedSecretError,
  ThrottledError,
} from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import {
  fromFixtures,
  memory,
  memoryBackend,
  recordCalls,
  runBackendConformance,
  seededRandom,
  useTestResolver,
  withFaults,
  withTestResolver,
} from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'airflow-secrets-kit-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

describe('memory backend', () => {
  it('is also exported as memoryBackend', () => {
    expect(memoryBackend).toBe(memory);
  });

  it('returns a new Connection each time, so mutating one does not change the next answer', async () => {
    const b = memory({
      connections: { db: new Connection({ id: 'db', type: 'postgres', host: 'h', password: 'pw' }) },
    });
    const first = await b.getConnection('db');
    first!.host = 'changed';
    const second = await b.getConnection('db');
    expect(second!.host).toBe('h');
    expect(second!.password).toBe('pw');
    expect(second).not.toBe(first);
  });

  it('answers batches with getMany, null for missing ids', async () => {
    const b = memory({ variables: { a: '1' }, connections: { c: 'mysql://h' } });
    expect(await b.getMany('variable', ['a', 'b'])).toEqual(
      new Map([
        ['a', '1'],
        ['b', null],
      ]),
    );
    const m = await b.getMany('connection', ['c', 'x']);
    expect((m.get('c') as Connection).host).toBe('h');
    expect(m.get('x')).toBeNull();
  });
});

describe("memory backend: Airflow's field names", () => {
  it('takes conn_type, conn_id and extra_dejson as Airflow writes them (conn_type was dropped before)', async () => {
    const b = memory({
      connections: {
        cache: { conn_type: 'redis', host: 'cache', port: 6379, extra_dejson: { db: 2 } },
        api: { conn_id: 'api', conn_type: 'http', host: 'api.internal' },
      },
    });
    const cache = await b.getConnection('cache');
    expect(cache).toMatchObject({ id: 'cache', type: 'redis', host: 'cache', port: 6379 });
    expect(cache!.extraDejson).toEqual({ db: 2 });
    expect((await b.getConnection('api'))!.type).toBe('http');
    b.setConnection('late', { conn_type: 'mysql', host: 'm' });
    expect((await b.getConnection('late'))!.type).toBe('mysql');
  });

  it.each([
    [{ conn_typ: 'http' }, "connection 'c' has an unknown field 'conn_typ'", 'connections.c.conn_typ'],
    [
      { type: 'http', conn_type: 'http' },
      "connection 'c' gives 'type' twice (as 'conn_type')",
      'connections.c.conn_type',
    ],
    [{ conn_id: 'other', conn_type: 'http' }, "connection 'c' has conn_id 'other'", 'connections.c.conn_id'],
  ])('refuses %j with a ConfigurationError naming the field', (fields, message, setting) => {
    const seed = { connections: { c: fields as never } };
    expect(() => memory(seed)).toThrow(ConfigurationError);
    expect(() => memory(seed)).toThrow(message);
    try {
      memory(seed);
    } catch (e) {
      expect((e as ConfigurationError).setting).toBe(setting);
    }
    expect(() => memory().setConnection('c', fields as never)).toThrow(message);
  });
});

describe('runBackendConformance on a backend whose locate has the wrong shape', () => {
  /** The suite's tests, collected by a runner that records instead of running. */
  const collect = (locate: (kind: string, id: string) => unknown) => {
    const tests = new Map<string, () => Promise<void> | void>();
    runBackendConformance(
      { describe: (_n, fn) => fn(), it: (n, fn) => void tests.set(n, fn) },
      {
        name: 'broken',
        create: (seed) => Object.assign(memory(seed), { locate: locate as never }),
      },
    );
    const test = [...tests].find(([n]) => n.startsWith('locate()'));
    return test![1];
  };

  it.each([
    [() => undefined, 'undefined'],
    [() => 'connection/x', 'a string'],
    [() => ({ name: 42 }), '{ name: number }'],
    [() => ({ name: 'a', skip: 'b' }), '{ name: string, skip: string }'],
  ])('%s: an assertion that names the call and the shape, not a TypeError', async (locate, shape) => {
    const err = await Promise.resolve()
      .then(collect(locate))
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    expect(err).toBeInstanceOf(Error);
    expect(err!.name).toBe('AssertionError');
    expect(err!.message).toBe(
      `locate('connection', 'conformance_uri') must return { name: string } or { skip: string }, got ${shape}`,
    );
  });

  it('a variable located by { skip } fails with its own message', async () => {
    const run = collect((kind) => (kind === 'variable' ? { skip: 'no variables here' } : { name: 'x' }));
    await expect(Promise.resolve().then(run)).rejects.toThrow(
      "locate('variable', 'conformance_var') returned { skip }: variables should be located by name",
    );
  });
});

runBackendConformance({ describe, it }, { name: 'memory', create: (seed) => memory(seed) });

describe('fromFixtures', () => {
  it('seeds from fixture text in each Airflow format', async () => {
    const env = fromFixtures({ connections: 'db=postgres://u:p@h:5432/app\n', variables: 'flag=on\n' });
    expect((await env.getConnection('db'))?.port).toBe(5432);
    expect(await env.getVariable('flag')).toBe('on');
    const json = fromFixtures({ variables: '{"flag": "off", "limits": {"max": 3}}' });
    expect(await json.getVariable('flag')).toBe('off');
    expect(JSON.parse((await json.getVariable('limits'))!)).toEqual({ max: 3 });
    const yaml = fromFixtures({
      connections: 'db:\n  conn_type: mysql\n  host: m\n  port: 3306\n',
      format: 'yaml',
    });
    expect((await yaml.getConnection('db'))?.type).toBe('mysql');
  });

  it('reads fixture files by path, choosing the format by extension', async () => {
    const path = join(dir, 'connections.yml');
    writeFileSync(path, 'orders_db: postgres://app@db/orders\n');
    const b = fromFixtures({ connections: path, configs: '{"sql_alchemy_conn": "sqlite://"}' });
    expect((await b.getConnection('orders_db'))?.schema).toBe('orders');
    expect(await b.getConfig('sql_alchemy_conn')).toBe('sqlite://');
    expect(b.name).toBe('fixtures');
  });

  it('rejects bad fixtures at once with the local-filesystem errors', () => {
    expect(() => fromFixtures({ variables: 'A=1\nA=2\n' })).toThrow(SecretFileError);
    expect(() => fromFixtures({ variables: 'A=1\nA=2\n' })).toThrow(
      `The "<variables fixture>" file contains multiple values for keys: ['A']`,
    );
    expect(() => fromFixtures({ connections: '{"c": {"nope": 1}}' })).toThrow(
      'The object have 1 illegal key.',
    );
  });
});

describe('recordCalls', () => {
  it('records which ids were asked of which backend, with outcomes, and counts them', async () => {
    const a = recordCalls(memory({ name: 'a', variables: { x: '1' } }));
    const b = recordCalls(memory({ name: 'b', variables: { y: '2' } }));
    const r = createResolver({ backends: [a, b], logger: silentLogger });
    expect(await r.getVariable('y')).toBe('2');
    expect(await r.getVariable('x')).toBe('1');
    expect(a.calls.map((c) => [c.backend, c.method, c.id, c.outcome])).toEqual([
      ['a', 'getVariable', 'y', 'not-found'],
      ['a', 'getVariable', 'x', 'found'],
    ]);
    expect(b.count('variable', 'y')).toBe(1);
    expect(b.count('variable', 'x')).toBe(0);
    a.reset();
    expect(a.calls).toEqual([]);
  });

  it('shows that the resolver cache stops repeated lookups from reaching the backend', async () => {
    const a = recordCalls(memory({ connections: { db: 'mysql://h' } }));
    const r = createResolver({ backends: [a], cache: true, logger: silentLogger });
    for (let i = 0; i < 5; i++) await r.getConnection('db');
    expect(a.count('connection', 'db')).toBe(1);
  });

  it('records errors and keeps the same optional methods as the wrapped backend', async () => {
    const inner = withFaults(memory({ name: 'flaky' }), { fault: 'unavailable' });
    const rec = recordCalls(inner);
    await expect(rec.getVariable('k')).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(rec.calls[0]?.outcome).toBe('error');
    expect(typeof rec.getMany).toBe('function');
    const bare = recordCalls({
      name: 'bare',
      locate: () => ({ name: 'x' }),
      getConnection: async () => null,
      getVariable: async () => null,
    });
    expect(bare.getConfig).toBeUndefined();
    expect(bare.getMany).toBeUndefined();
  });
});

describe('withFaults', () => {
  it.each([
    ['throttled', ThrottledError],
    ['access-denied', AccessDeniedError],
    ['unavailable', BackendUnavailableError],
    ['malformed', MalformedSecretError],
  ] as const)('fails with the typed error for %s, naming the backend and secret', async (fault, cls) => {
    const b = withFaults(memory({ name: 'vault', variables: { k: 'secret-value' } }), { fault });
    const e = await b.getVariable('k').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(cls);
    expect((e as ThrottledError).backend).toBe('vault');
    expect((e as ThrottledError).secretName).toBe('k');
    expect((e as Error).message).not.toContain('secret-value');
    expect(b.injected).toBe(1);
  });

  it('times out after a real delay with BackendTimeoutError', async () => {
    const b = withFaults(memory(), { fault: 'timeout', timeoutMs: 5 });
    await expect(b.getConnection('c')).rejects.toBeInstanceOf(BackendTimeoutError);
  });

  it('hangs until the resolver deadline ends the lookup', async () => {
    const b = withFaults(memory({ name: 'stuck' }), { fault: 'hang' });
    const r = createResolver({
      backends: [b],
      backendTimeoutMs: 20,
      onBackendError: 'throw',
      logger: silentLogger,
    });
    await expect(r.getVariable('k')).rejects.toBeInstanceOf(BackendTimeoutError);
  });

  it('throws a given error, or one made per call', async () => {
    const boom = new Error('boom');
    await expect(withFaults(memory(), { fault: boom }).getVariable('k')).rejects.toBe(boom);
    const made = withFaults(memory(), { fault: (kind, id) => new Error(`${kind}:${id}`) });
    await expect(made.getConnection('c1')).rejects.toThrow('connection:c1');
  });

  it('fails at the given rate, reproducibly for a seed', async () => {
    const run = async (seed: number) => {
      const b = withFaults(memory({ variables: { k: 'v' } }), { fault: 'throttled', rate: 0.3, seed });
      const out: string[] = [];
      for (let i = 0; i < 200; i++)
        out.push(
          await b.getVariable('k').then(
            () => '.',
            () => 'x',
          ),
        );
      return out.join('');
    };
    const a = await run(7);
    expect(await run(7)).toBe(a);
    expect(await run(8)).not.toBe(a);
    const failures = [...a].filter((c) => c === 'x').length;
    expect(failures).toBeGreaterThan(30);
    expect(failures).toBeLessThan(90);
  });

  it('never fails at rate 0 and passes answers through', async () => {
    const b = withFaults(memory({ variables: { k: 'v' } }), { fault: 'throttled', rate: 0 });
    for (let i = 0; i < 50; i++) expect(await b.getVariable('k')).toBe('v');
    expect(b.injected).toBe(0);
  });

  it('only fails the ids selected by `only`, and can be reconfigured', async () => {
    const b = withFaults(memory({ variables: { a: '1', b: '2' } }), {
      fault: 'unavailable',
      only: (_k, id) => id === 'a',
    });
    await expect(b.getVariable('a')).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await b.getVariable('b')).toBe('2');
    b.configure({ rate: 0 });
    expect(await b.getVariable('a')).toBe('1');
  });

  it('rejects a rate outside 0..1 and a bad latency', () => {
    expect(() => withFaults(memory(), { rate: 1.5 })).toThrow(RangeError);
    expect(() => withFaults(memory(), { latencyMs: [5, 1] })).toThrow(RangeError);
  });

  it('adds latency before answering', async () => {
    const b = withFaults(memory({ variables: { k: 'v' } }), { latencyMs: [1, 3] });
    let settled = false;
    const p = b.getVariable('k').then((v) => {
      settled = true;
      return v;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    expect(await p).toBe('v');
  });

  it('draws the same sequence for the same seed', () => {
    const a = seededRandom(3);
    const b = seededRandom(3);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('useTestResolver', () => {
  const outside = createResolver({ backends: [memory({ name: 'outside', variables: { who: 'outside' } })] });
  beforeEach(() => setDefaultResolver(outside));
  describe('inside a suite that installs a test resolver', () => {
    const t = useTestResolver(() => ({ backends: [memory({ name: 'test', variables: { who: 'test' } })] }), {
      beforeEach,
      afterEach,
    });
    it('makes the top-level functions use the test resolver', async () => {
      expect(await getVariable('who')).toBe('test');
      expect(t.resolver.backends[0]?.name).toBe('test');
    });
    it('builds a fresh resolver for each test', async () => {
      expect(await getDefaultResolver()).toBe(t.resolver);
    });
  });
  it('restores the previous default afterwards', async () => {
    expect(await getVariable('who')).toBe('outside');
  });
});

describe('withTestResolver', () => {
  it('installs a resolver for the scope and restores the previous default, also after a throw', async () => {
    const before = createResolver({ backends: [memory({ variables: { who: 'before' } })] });
    setDefaultResolver(before);
    const seen = await withTestResolver(
      { backends: [fromFixtures({ connections: 'db=mysql://scoped\n' })] },
      async (r) => {
        expect(await getDefaultResolver()).toBe(r);
        return (await getConnection('db'))?.host;
      },
    );
    expect(seen).toBe('scoped');
    expect(await getDefaultResolver()).toBe(before);
    await expect(
      withTestResolver({ backends: [] }, async () => {
        throw new Error('test failed');
      }),
    ).rejects.toThrow('test failed');
    expect(await getDefaultResolver()).toBe(before);
  });

  it('accepts a ready resolver and leaves it open', async () => {
    const closed: string[] = [];
    const b = { ...memory({ variables: { k: 'v' } }), close: async () => void closed.push('x') };
    const r = createResolver({ backends: [b] });
    expect(await withTestResolver(r, () => getVariable('k'))).toBe('v');
    expect(closed).toEqual([]);
    await withTestResolver({ backends: [b] }, () => undefined);
    expect(closed).toEqual(['x']);
  });
});
