/**
 * Issue 15 items 2 and 3: `watch`, `refresh`, `withFreshConnection`, and the per-call options
 * (`maxAge`, `forceFetch`, a typed `getVariableOrThrow(key, { deserializeJson: true })`).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { memory } from '../../src/backends/memory.js';
import type { Connection } from '../../src/connection.js';
import { AccessDeniedError, ConnectionNotFoundError, ThrottledError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { isLikelyAuthError, withFreshConnection } from '../../src/resolver/rotation.js';
import { runChild, src } from '../helpers/child.js';

const SECRET = 'rotated-s3cret-one';
const NEXT = 'rotated-s3cret-two';

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
}

describe('watch', () => {
  it('calls the listener with the new value when a refresh reads a different one, not when it is the same', async () => {
    const m = memory({ connections: { db: `postgres://app:${SECRET}@h:5432/d` } });
    const r = createResolver({ backends: [m], cache: true });
    await r.getConnection('db');
    const seen: Array<Connection | null> = [];
    const stop = r.watch('connection', 'db', (c) => void seen.push(c));
    await r.refresh('connection', 'db');
    expect(seen).toHaveLength(0); // same value
    m.setConnection('db', `postgres://app:${NEXT}@h:5432/d`);
    await r.refresh('connection', 'db');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.password).toBe(NEXT);
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(await r.getConnection('db')).toBe(seen[0]); // the cache holds what the listener got
    stop();
    stop(); // idempotent
    m.setConnection('db', 'postgres://app:third@h:5432/d');
    await r.refresh('connection', 'db');
    expect(seen).toHaveLength(1);
  });

  it('sees changes through lookups and refresh ahead, and a deletion as null', async () => {
    const c = clock();
    const m = memory({ variables: { flag: 'on' } });
    const r = createResolver({ backends: [m], cache: { ttl: 10, refreshAhead: 0.5, jitter: 0, now: c.now } });
    const seen: Array<string | null> = [];
    r.watch('variable', 'flag', (v) => void seen.push(v));
    expect(await r.getVariable('flag')).toBe('on'); // the first read sets the baseline
    m.setVariable('flag', 'off');
    c.advance(6_000);
    await r.getVariable('flag'); // starts a refresh ahead
    await new Promise((res) => setImmediate(res));
    expect(seen).toEqual(['off']);
    m.delete('variable', 'flag');
    c.advance(11_000); // expired: the next lookup walks
    expect(await r.getVariable('flag')).toBeNull();
    expect(seen).toEqual(['off', null]);
  });

  it('works without a cache: every lookup is compared with the last one', async () => {
    const m = memory({ variables: { k: 'a' } });
    const r = createResolver({ backends: [m] });
    const seen: Array<string | null> = [];
    r.watch('variable', 'k', (v) => void seen.push(v));
    await r.getVariable('k');
    await r.getVariable('k');
    m.setVariable('k', 'b');
    await r.getVariable('k');
    expect(seen).toEqual(['b']);
  });

  it('keeps no second plaintext copy: what it remembers is a keyed hash (heap snapshot)', async () => {
    // A fresh process, no cache, a value built at run time (so it is in no source text) and not
    // registered with the masker (a key without a sensitive name): after the lookup only the
    // watcher could still hold it.
    const { code, stdout, stderr } = await runChild(`
      const { getHeapSnapshot } = await import('node:v8');
      const { createResolver } = await import(${src('index.ts')});
      const parts = ['only', 'in', 'memory', String(process.pid), 'x'.repeat(8)];
      const r = createResolver({ backends: [{
        name: 'gen', locate: (_k, id) => ({ name: id }), getConnection: async () => null,
        getVariable: async () => parts.join('-'),
      }] });
      let seen = 0;
      r.watch('variable', 'flag', () => { seen++; });
      // In a function of its own, so no frame of this module keeps the answer.
      const once = async () => (await r.getVariable('flag')).length;
      if ((await once()) < 10) throw new Error('no value');
      const needle = parts.join('-');
      parts.splice(0, parts.length, 'changed', 'now');
      let text = '';
      for await (const chunk of getHeapSnapshot()) text += chunk;
      // Count the string objects holding the value: \`needle\` itself is one; a second copy makes two.
      const snap = JSON.parse(text);
      const f = snap.snapshot.meta.node_fields;
      const types = snap.snapshot.meta.node_types[0];
      const at = snap.strings.indexOf(needle);
      let matches = 0;
      for (let i = 0; i < snap.nodes.length; i += f.length) {
        const type = types[snap.nodes[i + f.indexOf('type')]];
        if (snap.nodes[i + f.indexOf('name')] === at && /string/.test(type)) matches++;
      }
      await r.getVariable('flag');
      console.log(JSON.stringify({ matches, seen }));
    `);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ matches: 1, seen: 1 });
  });

  it('logs a listener that throws or rejects (name only) and goes on', async () => {
    const logger = capture();
    const m = memory({ variables: { k: 'a' } });
    const r = createResolver({ backends: [m], logger });
    const calls: string[] = [];
    r.watch('variable', 'k', () => {
      throw new Error(`boom ${SECRET}`);
    });
    r.watch('variable', 'k', async () => {
      throw new TypeError('late');
    });
    r.watch('variable', 'k', (v) => void calls.push(String(v)));
    await r.getVariable('k');
    m.setVariable('k', 'b');
    await r.getVariable('k');
    await new Promise((res) => setImmediate(res));
    expect(calls).toEqual(['b']);
    expect(logger.warnings.filter((w) => w.includes("watch listener for variable 'k'"))).toHaveLength(2);
    expect(logger.warnings.join('\n')).not.toContain(SECRET);
  });

  it('refuses an unknown kind, or a listener that is not a function', async () => {
    const r = createResolver({ backends: [] });
    expect(() => r.watch('nope' as never, 'k', () => {})).toThrow(TypeError);
    expect(() => r.watch('variable', 'k', 'x' as never)).toThrow(TypeError);
  });
});

describe('refresh', () => {
  it('re-reads now, even within the TTL, and caches the answer', async () => {
    const m = memory({ variables: { k: 'old' } });
    const r = createResolver({ backends: [m], cache: true });
    expect(await r.getVariable('k')).toBe('old');
    m.setVariable('k', 'new');
    expect(await r.getVariable('k')).toBe('old');
    await r.refresh('variable', 'k');
    expect(await r.getVariable('k')).toBe('new');
  });

  it('rejects with the typed error when the read fails, keeping the fresh cached value', async () => {
    const logger = capture();
    let fail = false;
    const r = createResolver({
      backends: [
        {
          name: 'vault',
          locate: (_k, id) => ({ name: id }),
          getVariable: async () => {
            if (fail) throw new ThrottledError('vault', 'vault: throttled');
            return 'cached-value';
          },
          getConnection: async () => null,
        },
      ],
      cache: true,
      logger,
    });
    await r.getVariable('k');
    fail = true;
    await expect(r.refresh('variable', 'k')).rejects.toBeInstanceOf(ThrottledError);
    expect(await r.getVariable('k')).toBe('cached-value');
    expect(logger.warnings.join('\n')).toContain('The cached value is kept until it expires');
  });
});

describe('withFreshConnection', () => {
  const authError = () => Object.assign(new Error('password authentication failed'), { code: '28P01' });

  it('refreshes once and retries when fn fails with an authentication error', async () => {
    const m = memory({ connections: { db: `postgres://app:${SECRET}@h/d` } });
    const r = createResolver({ backends: [m], cache: true });
    await r.getConnection('db');
    m.setConnection('db', `postgres://app:${NEXT}@h/d`); // rotated at the source; the cache is stale
    const passwords: Array<string | null> = [];
    const out = await withFreshConnection(r, 'db', async (c) => {
      passwords.push(c.password);
      if (c.password !== NEXT) throw authError();
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(passwords).toEqual([SECRET, NEXT]);
    expect((await r.getConnection('db'))?.password).toBe(NEXT);
  });

  it('does not retry other errors, and retries only once', async () => {
    const m = memory({ connections: { db: 'postgres://app:pw@h/d' } });
    const r = createResolver({ backends: [m] });
    let runs = 0;
    await expect(
      withFreshConnection(r, 'db', () => {
        runs++;
        throw new Error('syntax error');
      }),
    ).rejects.toThrow('syntax error');
    expect(runs).toBe(1);
    runs = 0;
    await expect(
      withFreshConnection(
        r,
        'db',
        () => {
          runs++;
          throw new Error('denied');
        },
        { isAuthError: () => true },
      ),
    ).rejects.toThrow('denied');
    expect(runs).toBe(2);
  });

  it('fails with ConnectionNotFoundError when no source has the id', async () => {
    const r = createResolver({ backends: [memory()] });
    await expect(withFreshConnection(r, 'nope', () => 1)).rejects.toBeInstanceOf(ConnectionNotFoundError);
  });

  it('recognises the usual authentication errors by default', () => {
    expect(isLikelyAuthError(authError())).toBe(true);
    expect(isLikelyAuthError({ code: 'ER_ACCESS_DENIED_ERROR' })).toBe(true);
    expect(isLikelyAuthError({ errno: 1045 })).toBe(true);
    expect(isLikelyAuthError({ statusCode: 401 })).toBe(true);
    expect(isLikelyAuthError(new Error('WRONGPASS invalid username-password pair'))).toBe(true);
    expect(isLikelyAuthError(new Error('ECONNREFUSED'))).toBe(false);
    expect(isLikelyAuthError(null)).toBe(false);
  });
});

describe('per-call options: maxAge and forceFetch', () => {
  const setup = () => {
    const c = clock();
    const m = memory({
      variables: { k: 'v1', json: '{"a": 1}' },
      connections: { db: 'postgres://u:one@h/d' },
    });
    let calls = 0;
    const counted = {
      ...m,
      getVariable: (k: string) => {
        calls++;
        return m.getVariable(k);
      },
      getConnection: (k: string) => {
        calls++;
        return m.getConnection(k);
      },
    };
    const r = createResolver({ backends: [counted], cache: { ttl: 900, jitter: 0, now: c.now } });
    return { c, m, r, calls: () => calls };
  };

  it('maxAge accepts a cached answer younger than it, and reads again past it', async () => {
    const { c, m, r, calls } = setup();
    await r.getVariable('k');
    m.setVariable('k', 'v2');
    c.advance(30_000);
    expect(await r.getVariable('k', { maxAge: 60 })).toBe('v1');
    expect(await r.getVariable('k', { maxAge: 30 })).toBe('v2'); // 30 s old: too old
    expect(calls()).toBe(2);
    expect(await r.getVariable('k')).toBe('v2'); // the new answer was cached
    expect(await r.getVariableOrThrow('k', { maxAge: 0 })).toBe('v2');
    expect(calls()).toBe(3);
  });

  it('forceFetch reads from the source on every form', async () => {
    const { m, r, calls } = setup();
    await r.getConnection('db');
    m.setConnection('db', 'postgres://u:two@h/d');
    expect((await r.getConnection('db'))?.password).toBe('one');
    expect((await r.getConnection('db', { forceFetch: true }))?.password).toBe('two');
    m.setConnection('db', 'postgres://u:three@h/d');
    expect((await r.getConnectionOrThrow('db', { forceFetch: true })).password).toBe('three');
    m.setVariable('k', 'forced');
    expect(await r.getVariable('k', { forceFetch: true, default: 'd' })).toBe('forced');
    expect(await r.getVariableOrThrow('k', { forceFetch: true })).toBe('forced');
    expect(calls()).toBe(5);
  });

  it('getVariableOrThrow(key, { deserializeJson: true }) decodes, and is typed', async () => {
    const { r } = setup();
    const v = await r.getVariableOrThrow<{ a: number }>('json', { deserializeJson: true });
    expect(v).toEqual({ a: 1 });
    expectTypeOf(
      r.getVariableOrThrow<{ a: number }>('json', { deserializeJson: true }),
    ).resolves.toEqualTypeOf<{
      a: number;
    }>();
    expectTypeOf(r.getVariableOrThrow('json', { deserializeJson: true })).resolves.toEqualTypeOf<unknown>();
    expectTypeOf(r.getVariableOrThrow('k', { maxAge: 5 })).resolves.toEqualTypeOf<string>();
    expectTypeOf(r.getVariable('k', { forceFetch: true })).resolves.toEqualTypeOf<string | null>();
    expectTypeOf(r.getConnection('db', { maxAge: 1 })).resolves.toEqualTypeOf<Connection | null>();
    await expect(r.getVariableOrThrow('missing', { deserializeJson: true })).rejects.toMatchObject({
      name: 'VariableNotFoundError',
    });
  });

  it('rejects nonsense per-call options with a clear error', async () => {
    const { r } = setup();
    await expect(r.getVariable('k', { maxAge: -1 })).rejects.toThrow(RangeError);
    await expect(r.getConnection('db', { maxAge: Number.NaN })).rejects.toThrow(/maxAge/);
    await expect(r.getConnection('db', { forceFetch: 'yes' as never })).rejects.toThrow(/forceFetch/);
  });
});

describe('failures on not-found errors (issue 13 item 2c)', () => {
  it('getConnectionOrThrow carries the failures seen and the first as its cause', async () => {
    const denied = new AccessDeniedError('aws-secrets-manager', 'aws-secrets-manager: access denied', {
      secretName: 'airflow/connections/db',
    });
    const r = createResolver({
      backends: [
        {
          name: 'aws-secrets-manager',
          locate: (_k, id) => ({ name: `airflow/connections/${id}` }),
          getVariable: async () => null,
          getConnection: async () => {
            throw denied;
          },
        },
        memory({ name: 'env' }),
      ],
      logger: capture(),
    });
    const e = (await r.getConnectionOrThrow('db').catch((x: unknown) => x)) as ConnectionNotFoundError;
    expect(e).toBeInstanceOf(ConnectionNotFoundError);
    expect(e.failures).toEqual([
      {
        backend: 'aws-secrets-manager',
        reason: 'access-denied',
        message: 'aws-secrets-manager: access denied',
        secretName: 'airflow/connections/db',
      },
    ]);
    expect(e.cause).toBe(denied);
    expect(e.message).toContain('aws-secrets-manager (access-denied)');
    expect(Object.isFrozen(e.failures)).toBe(true);
  });

  it('has empty failures and no cause when every source answered', async () => {
    const r = createResolver({ backends: [memory()] });
    const e = await r.getVariableOrThrow('k').catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'VariableNotFoundError', failures: [] });
    expect((e as Error).cause).toBeUndefined();
    expect((e as Error).message).toBe('Variable k does not exist');
  });
});
