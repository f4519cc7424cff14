/**
 * The behaviour every backend with `list` / `put` / `delete` shows, run against each adapter with
 * its real SDK and wire fake (or moto): a value written reads back through the backend's own reader
 * to the same connection (special characters in every field), an existing secret is replaced only
 * with `overwrite`, `list` finds what was written under the name `locate` gives and is bounded,
 * `delete` removes it. No value ever appears in an error.
 */
import { describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { Connection } from '../../src/connection.js';
import { SecretExistsError } from '../../src/errors.js';
import { afterRoundTrip, connectionDifferences } from '../../src/inventory/compare.js';

export interface WriteSuiteOptions {
  name: string;
  /** A backend over an empty store (called once per test). */
  create(): Promise<SecretsBackend> | SecretsBackend;
  /** Connections can be written as JSON (default true). */
  json?: boolean;
  /** The JSON form keeps the description (default true; Secrets Manager drops it). */
  jsonKeepsDescription?: boolean;
  /** Variable values may hold line breaks (default true; a `.env` file cannot). */
  multilineValues?: boolean;
  /** Ids the backend can store (default: as they are). */
  mapId?: (id: string) => string;
}

/** A password and other fields with every character a URI must escape, unicode and a newline in extra. */
export const SPECIAL = {
  login: 'u@s:e/r?#%+ ü',
  password: 'p@ss:w/o?r#d%+ 🔑 ß',
  schema: 'db/na:me?#% ü',
  host: 'db-1.例え.example',
  extra: { note: 'line one\nline two', 'key with space': 'ü@:/?#%+', nested: { list: [1, 'two', null] } },
};

export function specialConnection(id: string): Connection {
  return new Connection({ id, type: 'postgres', ...SPECIAL, port: 5432 });
}

export function runWriteSuite(o: WriteSuiteOptions): void {
  const id = o.mapId ?? ((x: string) => x);
  const withBackend = async (fn: (b: SecretsBackend) => Promise<void>) => {
    const b = await o.create();
    try {
      await fn(b);
    } finally {
      await b.close?.();
    }
  };
  describe(`${o.name}: list, put and delete`, () => {
    it('writes a connection as a URI that its reader parses back to the same fields', () =>
      withBackend(async (b) => {
        const c = specialConnection(id('w_uri'));
        const r = await b.put!('connection', id('w_uri'), c);
        const where = (b.locateWrite ?? b.locate)('connection', id('w_uri'));
        expect(r).toEqual({ secretName: 'name' in where ? where.name : '?', action: 'created' });
        const back = await b.getConnection(id('w_uri'));
        expect(back).not.toBeNull();
        expect(connectionDifferences(c, back!)).toEqual([]);
        expect(connectionDifferences(afterRoundTrip(c, 'uri'), back!, { description: true })).toEqual([]);
      }));

    it('replaces an existing secret only with overwrite; the refusal names the secret, not the value', () =>
      withBackend(async (b) => {
        await b.put!('variable', id('w_var'), 'first value');
        const err = await b.put!('variable', id('w_var'), 'second value').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SecretExistsError);
        expect(String((err as Error).message)).not.toMatch(/first value|second value/);
        expect(await b.getVariable(id('w_var'))).toBe('first value');
        const r = await b.put!('variable', id('w_var'), 'second value', { overwrite: true });
        expect(r.action).toBe('updated');
        expect(await b.getVariable(id('w_var'))).toBe('second value');
      }));

    it('writes variables as they are (spaces, unicode, JSON text, line breaks where the store allows)', () =>
      withBackend(async (b) => {
        const values = [' padded ', 'ünïcødé 🔑', '{"a": [1, 2.0, null]}', '@:/?#%+'];
        if (o.multilineValues !== false) values.push('line one\nline two\r\n');
        for (const [i, v] of values.entries()) await b.put!('variable', id(`w_v${i}`), v);
        for (const [i, v] of values.entries()) expect(await b.getVariable(id(`w_v${i}`))).toBe(v);
      }));

    it('lists what it holds under the names locate gives, bounded by limit', () =>
      withBackend(async (b) => {
        for (const k of ['w_a', 'w_b', 'w_c']) await b.put!('variable', id(k), `value of ${k}`);
        await b.put!('connection', id('w_conn'), 'postgres://h/db');
        const vars = await b.list!('variable');
        expect(vars.truncated).toBe(false);
        const ids = vars.entries.map((e) => e.id);
        expect(ids).toEqual(expect.arrayContaining([id('w_a'), id('w_b'), id('w_c')]));
        expect(ids).not.toContain(id('w_conn'));
        for (const e of vars.entries) {
          const where = b.locate('variable', e.id!);
          expect('name' in where && where.name).toBe(e.secretName);
        }
        const conns = await b.list!('connection');
        expect(conns.entries.map((e) => e.id)).toContain(id('w_conn'));
        const two = await b.list!('variable', { limit: 2 });
        expect(two.entries).toHaveLength(2);
        expect(two.truncated).toBe(true);
        expect(JSON.stringify([vars, conns])).not.toContain('value of');
      }));

    it('deletes what a lookup reads; deleting again answers false', () =>
      withBackend(async (b) => {
        await b.put!('connection', id('w_del'), 'mysql://h');
        expect(await b.delete!('connection', id('w_del'))).toBe(true);
        expect(await b.getConnection(id('w_del'))).toBeNull();
        expect(await b.delete!('connection', id('w_del'))).toBe(false);
        expect((await b.list!('connection')).entries.map((e) => e.id)).not.toContain(id('w_del'));
      }));

    if (o.json !== false) {
      it('writes a connection as JSON when asked, keeping what a URI cannot (an upper-case host)', () =>
        withBackend(async (b) => {
          const c = new Connection({
            id: id('w_json'),
            type: 'http',
            host: 'API.Example.COM',
            description: 'the API',
            login: '',
            password: 'p@ss word',
            port: 443,
            extra: { verify: false, timeout: 30 },
          });
          await b.put!('connection', id('w_json'), c, { format: 'json' });
          const back = await b.getConnection(id('w_json'));
          const keeps = o.jsonKeepsDescription !== false;
          expect(connectionDifferences(c, back!, { description: keeps })).toEqual([]);
        }));
    }
  });
}
