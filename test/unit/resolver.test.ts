import { describe, expect, expectTypeOf, it } from 'vitest';
import type { SecretKind, SecretsBackend } from '../../src/backend.js';
import { memory } from '../../src/backends/memory.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  ConfigurationError,
  ConnectionNotFoundError,
  MalformedSecretError,
  ThrottledError,
  VariableNotFoundError,
} from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { createResolver, MAX_ID_LENGTH, type Resolver } from '../../src/resolver/index.js';

const SECRET = 's3cr3t-value-never-logged';

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string, f?: Record<string, unknown>) => void lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  return { lines, debug: push, warn: push, error: push };
}

/** A backend that counts calls and can be told to fail. */
function spy(
  name: string,
  values: Record<string, string> = {},
  fail?: () => unknown,
): SecretsBackend & { calls: Array<[SecretKind, string]> } {
  const calls: Array<[SecretKind, string]> = [];
  const read = async (kind: SecretKind, id: string) => {
    calls.push([kind, id]);
    if (fail) throw fail();
    return values[id] ?? null;
  };
  return {
    name,
    calls,
    locate: (_k, id) => ({ name: `${name}/${id}` }),
    getVariable: (k) => read('variable', k),
    async getConnection(id) {
      await read('connection', id);
      return null;
    },
  };
}

describe('createResolver: the chain walk', () => {
  it('returns the first non-null answer and asks no later backend', async () => {
    const a = spy('a', { k: 'from-a' });
    const b = spy('b', { k: 'from-b' });
    const r = createResolver({ backends: [a, b] });
    expect(await r.getVariable('k')).toBe('from-a');
    expect(b.calls).toEqual([]);
  });

  it('counts an empty string as found, as Airflow does', async () => {
    const r = createResolver({ backends: [spy('a', { k: '' }), spy('b', { k: 'later' })] });
    expect(await r.getVariable('k')).toBe('');
  });

  it('falls through to the next backend when one has nothing', async () => {
    const a = spy('a');
    const r = createResolver({ backends: [a, spy('b', { k: 'from-b' })] });
    expect(await r.getVariable('k')).toBe('from-b');
    expect(a.calls).toEqual([['variable', 'k']]);
  });

  it('returns null when no backend has the key', async () => {
    const r = createResolver({ backends: [spy('a'), spy('b')] });
    expect(await r.getVariable('nope')).toBeNull();
  });

  it('finds connections through the same walk', async () => {
    const r = createResolver({
      backends: [
        memory({ name: 'm1' }),
        memory({ name: 'm2', connections: { db: 'postgres://u:p@h:5432/s' } }),
      ],
    });
    const c = await r.getConnection('db');
    expect(c?.host).toBe('h');
    expect(c?.id).toBe('db');
  });

  it('hands out a frozen connection: a caller cannot change what the next one gets', async () => {
    const r = createResolver({
      backends: [memory({ connections: { db: 'postgres://u:p@h:5432/s' } })],
      cache: true,
    });
    const first = await r.getConnection('db');
    // Issue 15: frozen instead of copied; clone() gives a mutable copy.
    expect(() => {
      first!.host = 'mutated';
    }).toThrow(TypeError);
    const copy = first!.clone();
    copy.host = 'mutated';
    expect(copy.host).toBe('mutated');
    expect((await r.getConnection('db'))?.host).toBe('h');
    // A hit hands out the entry's one settled promise: frozen too, so nobody can patch it.
    const p = r.getConnection('db');
    expect(r.getConnection('db')).toBe(p);
    expect(Object.isFrozen(p)).toBe(true);
    expect(() => {
      Object.defineProperty(p, 'then', { value: () => {} });
    }).toThrow(TypeError);
    expect(await p).toBe(first);
  });

  it('rejects (never throws synchronously) a non-string id, cached or not', async () => {
    const r = createResolver({ backends: [memory()], cache: true });
    const p = r.getConnection(5 as never);
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toThrow(TypeError);
    await expect(r.getVariable(null as never)).rejects.toThrow(TypeError);
  });
});

describe('createResolver: errors', () => {
  it('logs a failing backend by name and reason, then asks the next one', async () => {
    const log = capture();
    const r = createResolver({
      backends: [spy('boom', {}, () => new ThrottledError('boom', 'rate exceeded')), spy('b', { k: 'v' })],
      logger: log,
    });
    expect(await r.getVariable('k')).toBe('v');
    expect(log.lines.join('\n')).toMatch(/boom.*ThrottledError.*throttled/);
  });

  it("rejects with the backend's typed error under onBackendError: 'throw'", async () => {
    const r = createResolver({
      backends: [spy('denied', {}, () => new AccessDeniedError('denied', 'no access')), spy('b', { k: 'v' })],
      onBackendError: 'throw',
    });
    await expect(r.getVariable('k')).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('wraps a foreign error as a BackendError without its message (which may quote a value)', async () => {
    const r = createResolver({
      backends: [spy('custom', {}, () => new Error(`leaked ${SECRET}`))],
      onBackendError: 'throw',
    });
    const err = await r.getVariable('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).reason).toBe('failed');
    expect(String((err as Error).message)).not.toContain(SECRET);
    expect(String(((err as Error).cause as Error).message)).not.toContain(SECRET);
  });

  it('never logs the message of a foreign error', async () => {
    const log = capture();
    const r = createResolver({ backends: [spy('custom', {}, () => new Error(SECRET))], logger: log });
    expect(await r.getVariable('k')).toBeNull();
    expect(log.lines.length).toBe(1);
    expect(log.lines.join('\n')).not.toContain(SECRET);
  });

  it('lets a configuration error propagate even under the continue policy', async () => {
    const r = createResolver({
      backends: [
        spy('misconfigured', {}, () => new ConfigurationError('x', 'bad setting x')),
        spy('b', { k: 'v' }),
      ],
    });
    await expect(r.getVariable('k')).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('bounds a hanging backend with backendTimeoutMs and moves on', async () => {
    const hang: SecretsBackend = {
      name: 'hang',
      locate: (_k, id) => ({ name: id }),
      getVariable: () => new Promise(() => {}),
      getConnection: () => new Promise(() => {}),
    };
    const log = capture();
    const r = createResolver({ backends: [hang, spy('b', { k: 'v' })], backendTimeoutMs: 50, logger: log });
    expect(await r.getVariable('k')).toBe('v');
    expect(log.lines.join('\n')).toContain('BackendTimeoutError');
    const strict = createResolver({ backends: [hang], backendTimeoutMs: 50, onBackendError: 'throw' });
    await expect(strict.getVariable('k')).rejects.toBeInstanceOf(BackendTimeoutError);
  });

  it('rejects bad options with a ConfigurationError naming the option', () => {
    expect(() => createResolver({ backends: [], onBackendError: 'ignore' as 'throw' })).toThrow(
      /onBackendError/,
    );
    expect(() => createResolver({ backends: [], backendTimeoutMs: -1 })).toThrow(/backendTimeoutMs/);
    expect(() => createResolver({} as { backends: [] })).toThrow(ConfigurationError);
  });

  it('rejects a non-string id with a TypeError instead of asking the backends', async () => {
    const a = spy('a');
    const r = createResolver({ backends: [a] });
    await expect(r.getVariable(undefined as unknown as string)).rejects.toBeInstanceOf(TypeError);
    expect(a.calls).toEqual([]);
  });

  it(`answers null without asking anyone for ids longer than ${MAX_ID_LENGTH} characters or empty`, async () => {
    const a = spy('a');
    const r = createResolver({ backends: [a] });
    expect(await r.getVariable('x'.repeat(MAX_ID_LENGTH + 1))).toBeNull();
    expect(await r.getVariable('')).toBeNull();
    expect(a.calls).toEqual([]);
  });
});

describe('variables: Airflow semantics', () => {
  const r = createResolver({
    backends: [memory({ variables: { json: '{"a": [1, 2]}', text: 'plain', bad: '{oops' } })],
  });

  it('returns the default as given, not JSON-decoded, when the key is missing', async () => {
    expect(await r.getVariable('missing', { default: '{"x": 1}', deserializeJson: true })).toBe('{"x": 1}');
    expect(await r.getVariable('missing', { default: null })).toBeNull();
  });

  it('JSON-decodes the value on request, as Python json.loads does', async () => {
    expect(await r.getVariable('json', { deserializeJson: true })).toEqual({ a: [1, 2] });
    const py = createResolver({
      backends: [memory({ variables: { v: '{"x": NaN, "y": -Infinity, "__proto__": {"p": 1}}' } })],
    });
    const v = (await py.getVariable('v', { deserializeJson: true })) as Record<string, unknown>;
    expect(v.x).toBeNaN();
    expect(v.y).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toContain('__proto__');
    expect(await r.getVariable('text')).toBe('plain');
  });

  it('reports invalid JSON as a MalformedSecretError that does not quote the value', async () => {
    const err = await r.getVariable('bad', { deserializeJson: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect((err as Error).message).toContain('bad');
    expect((err as Error).message).not.toContain('{oops');
  });

  it('throws VariableNotFoundError / ConnectionNotFoundError from the OrThrow variants', async () => {
    await expect(r.getVariableOrThrow('missing')).rejects.toMatchObject({
      name: 'VariableNotFoundError',
      key: 'missing',
    });
    await expect(r.getConnectionOrThrow('nope')).rejects.toBeInstanceOf(ConnectionNotFoundError);
    await expect(r.getConnectionOrThrow('nope')).rejects.toMatchObject({ connId: 'nope' });
    expect(await r.getVariableOrThrow('text')).toBe('plain');
    await expect(r.getVariableOrThrow('missing')).rejects.toBeInstanceOf(VariableNotFoundError);
  });

  it('has the types of the Airflow TypeScript SDK', () => {
    // getVariableOrThrow is overloaded now (issue 15: `{ deserializeJson: true }`), so its plain
    // form's type is asserted on a call rather than on `.returns` (a union over the overloads).
    expectTypeOf(r.getVariableOrThrow('text')).resolves.toEqualTypeOf<string>();
    expectTypeOf(r.getVariable('k')).resolves.toEqualTypeOf<string | null>();
    expectTypeOf(r.getVariable('k', { default: 'x' })).resolves.toEqualTypeOf<string>();
    expectTypeOf(r.getVariable<{ a: number }>('k', { deserializeJson: true })).resolves.toEqualTypeOf<{
      a: number;
    } | null>();
  });
});

describe('explain', () => {
  it('names the secret each backend was asked for, with outcomes and no values', async () => {
    const r = createResolver({
      backends: [
        spy('broken', {}, () => new ThrottledError('broken', 'slow down')),
        { ...spy('skipper'), locate: () => ({ skip: 'variables_prefix is null' }) },
        spy('env', { k: SECRET }),
        spy('never'),
      ],
      logger: capture(),
    });
    const x = await r.explain('variable', 'k');
    expect(x.found).toBe(true);
    expect(x.source).toBe('env');
    expect(x.cache).toBe('off');
    expect(x.steps.map((s) => [s.backend, s.secretName, s.outcome])).toEqual([
      ['broken', 'broken/k', 'error'],
      ['skipper', null, 'skipped'],
      ['env', 'env/k', 'found'],
    ]);
    expect(x.steps[0]?.reason).toBe('throttled');
    expect(x.steps[1]?.detail).toBe('variables_prefix is null');
    expect(JSON.stringify(x)).not.toContain(SECRET);
  });

  it('reports a cache hit without walking the chain again', async () => {
    const a = spy('a', { k: 'v' });
    const r = createResolver({ backends: [a], cache: true });
    await r.getVariable('k');
    const x = await r.explain('variable', 'k');
    expect(x).toMatchObject({ cache: 'hit', found: true, source: 'a', steps: [] });
    expect(a.calls.length).toBe(1);
    const fresh = await r.explain('variable', 'k', { fresh: true });
    expect(fresh.cache).toBe('miss');
    expect(a.calls.length).toBe(2);
  });

  it("carries each backend's origin in its steps, and none for a backend without one", async () => {
    const r = createResolver({
      backends: [
        {
          ...spy('broken', {}, () => new ThrottledError('broken', 'slow down')),
          origin: 'AIRFLOW__SECRETS__BACKEND',
        },
        { ...spy('skipper'), origin: 'default chain', locate: () => ({ skip: 'variables_prefix is null' }) },
        { ...spy('env', { k: 'v' }), origin: 'default chain' },
        spy('plain', { other: 'x' }),
      ],
      logger: capture(),
    });
    const x = await r.explain('variable', 'k');
    expect(x.steps.map((s) => [s.backend, s.outcome, s.origin])).toEqual([
      ['broken', 'error', 'AIRFLOW__SECRETS__BACKEND'],
      ['skipper', 'skipped', 'default chain'],
      ['env', 'found', 'default chain'],
    ]);
    const other = await r.explain('variable', 'other');
    expect(other.steps.at(-1)).toMatchObject({ backend: 'plain', outcome: 'found' });
    expect('origin' in (other.steps.at(-1) ?? {})).toBe(false);
    const refused = await r.explain('variable', '');
    expect(refused.steps.map((s) => s.origin)).toEqual([
      'AIRFLOW__SECRETS__BACKEND',
      'default chain',
      'default chain',
      undefined,
    ]);
  });
});

describe('lifecycle', () => {
  it('close() closes every backend even when one fails to', async () => {
    const closed: string[] = [];
    const mk = (name: string, fail = false): SecretsBackend => ({
      ...spy(name),
      async close() {
        closed.push(name);
        if (fail) throw new Error('socket');
      },
    });
    const r: Resolver = createResolver({ backends: [mk('a', true), mk('b')], logger: capture() });
    await r.close();
    expect(closed.sort()).toEqual(['a', 'b']);
  });
});
