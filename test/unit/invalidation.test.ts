/**
 * Issue 11 item 4: once `invalidate` or `clearCache` returns, no caller gets an answer read before
 * it. A walk in flight must not write its answer back, callers arriving after must not join it,
 * and the callers already waiting on it get an answer read after the invalidation. Covers plain
 * lookups, prefetch, `explain`, `forceFetch`, and the metastore's write-then-invalidate path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import type { MetastoreBackend } from '../../src/backends/metastore.js';
import { resolverFromEnv } from '../../src/config/index.js';
import { silentLogger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { drain, gated, settle } from '../helpers/gated.js';

describe('invalidate and clearCache win over lookups in flight', () => {
  for (const how of ['invalidate', 'clearCache'] as const) {
    it(`${how}: the walk under way caches nothing and its callers get the value read after`, async () => {
      const a = gated('a', { variables: { k: 'old' } });
      const r = createResolver({ backends: [a.backend], cache: true });
      const before = r.getVariable('k');
      await settle();
      expect(a.calls).toHaveLength(1); // the walk is waiting on the backend
      a.values.variables.k = 'new';
      if (how === 'invalidate') r.invalidate('variable', 'k');
      else r.clearCache();
      const after = r.getVariable('k'); // arrives after: must not join the old walk
      await settle();
      expect(a.calls).toHaveLength(2);
      await drain(Promise.all([before, after]), a);
      expect(await before).toBe('new');
      expect(await after).toBe('new');
      expect(await r.getVariable('k')).toBe('new'); // and the cache holds what was read after
      expect(a.calls).toHaveLength(2);
    });
  }

  it('the old walk settling last does not overwrite the newer answer in the cache', async () => {
    const a = gated('a', { variables: { k: 'old' } });
    const r = createResolver({ backends: [a.backend], cache: true });
    const before = r.getVariable('k');
    await settle();
    a.values.variables.k = 'new';
    r.invalidate('variable', 'k');
    const after = r.getVariable('k');
    await settle();
    // Release only the second call first, then the first (the old walk settles last).
    const [first, second] = a.calls;
    expect(first?.settled).toBe(false);
    await drain(after, a);
    expect(second?.settled).toBe(true);
    expect(await after).toBe('new');
    await drain(before, a);
    expect(await before).toBe('new');
    expect(await r.getVariable('k')).toBe('new');
  });

  it('does the same without a cache: later callers never join a walk started before invalidate', async () => {
    const a = gated('a', { variables: { k: 'old' } });
    const r = createResolver({ backends: [a.backend] });
    const before = r.getVariable('k');
    await settle();
    a.values.variables.k = 'new';
    r.invalidate('variable', 'k');
    const after = r.getVariable('k');
    await drain(Promise.all([before, after]), a);
    expect([await before, await after]).toEqual(['new', 'new']);
  });

  it('covers prefetch: ids claimed by a prefetch in flight are not cached from it after invalidate', async () => {
    const a = gated('a', { variables: { x: 'old-x', y: 'old-y' } });
    const r = createResolver({ backends: [a.backend], cache: true });
    const warming = r.prefetch({ variables: ['x', 'y'] });
    await settle();
    expect(a.calls.map((c) => c.id)).toEqual(['x', 'y']);
    a.values.variables.x = 'new-x';
    r.invalidate('variable', 'x');
    const x = r.getVariable('x'); // a new walk, not the prefetch's
    const y = r.getVariable('y'); // joins the prefetch (not invalidated)
    await drain(Promise.all([warming, x, y]), a);
    expect(await x).toBe('new-x');
    expect(await y).toBe('old-y');
    const calls = a.calls.length;
    expect(await r.getVariable('x')).toBe('new-x');
    expect(await r.getVariable('y')).toBe('old-y');
    expect(a.calls).toHaveLength(calls); // both cached, x from the walk after the invalidate
  });

  it('covers explain({ fresh: true }): a traced walk under way when the cache is cleared caches nothing', async () => {
    const a = gated('a', { variables: { k: 'old' } });
    const r = createResolver({ backends: [a.backend], cache: true });
    const x = r.explain('variable', 'k', { fresh: true });
    await settle();
    a.values.variables.k = 'new';
    r.clearCache();
    await drain(x, a);
    const next = r.getVariable('k');
    await drain(next, a);
    expect(await next).toBe('new');
  });

  it('forceFetch supersedes a walk in flight: its callers get the forced read', async () => {
    const a = gated('a', { variables: { k: 'old' } });
    const r = createResolver({ backends: [a.backend], cache: true });
    const before = r.getVariable('k');
    await settle();
    a.values.variables.k = 'new';
    const forced = r.getVariable('k', { forceFetch: true });
    await drain(Promise.all([before, forced]), a);
    expect([await before, await forced]).toEqual(['new', 'new']);
    expect(await r.getVariable('k')).toBe('new');
  });
});

describe("the metastore's write-then-invalidate path", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-inval-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a write through the metastore wins over a lookup that read the old value before it', async () => {
    const env = {
      AIRFLOW_HOME: dir,
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${path.join(dir, 'airflow.db')}`,
      AIRFLOW__SECRETS__USE_CACHE: 'true',
    };
    const r = await resolverFromEnv(env, { logger: silentLogger, readAirflowCfg: false });
    const store = r.backends.find((b) => b.name === 'metastore') as MetastoreBackend & SecretsBackend;
    await store.setVariable('k', 'old');
    // Hold the walk after the metastore has read, so it settles after the write below.
    let release!: () => void;
    const gate = new Promise<void>((res) => {
      release = res;
    });
    const read = store.getVariable.bind(store);
    let reads = 0;
    store.getVariable = async (key, o) => {
      const v = await read(key, o);
      if (reads++ === 0) await gate;
      return v;
    };
    const before = r.getVariable('k');
    for (let i = 0; i < 20 && reads === 0; i++) await settle();
    expect(reads).toBe(1); // the old value has been read
    await store.setVariable('k', 'new'); // commits, then onWrite → resolver.invalidate
    release();
    expect(await before).toBe('new');
    expect(await r.getVariable('k')).toBe('new');
    await r.close();
  });
});
