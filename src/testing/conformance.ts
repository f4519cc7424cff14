/**
 * The backend conformance suite: the behaviour every `SecretsBackend` must show, runnable under any
 * test runner that has `describe`/`it` (vitest, jest, `node:test`). Our own adapters run it; users
 * run it against their custom backends.
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { runBackendConformance } from 'airflow-secrets/testing';
 * runBackendConformance({ describe, it }, { name: 'my-backend', create: async (seed) => myBackend(seed) });
 * ```
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import type { SecretsBackend } from '../backend.js';

/** The secrets the suite asks `create` to store: ids mapped to the stored text, as a real deployment stores it. */
export interface ConformanceSeed {
  /** conn id → stored value (a connection URI, or JSON text). */
  connections: Record<string, string>;
  /** variable key → stored value. */
  variables: Record<string, string>;
}

export interface ConformanceOptions {
  /** Shown in the suite's title. */
  name: string;
  /** Build a backend whose store holds exactly `seed` (e.g. load it into a fake server). */
  create(seed: ConformanceSeed): Promise<SecretsBackend> | SecretsBackend;
  /** Map the suite's ids onto ids the backend accepts (e.g. Vault without a mount point needs `mount/id`). */
  mapId?: ((id: string) => string) | undefined;
  /** Whether the backend can store an empty variable value (SSM cannot). Default true. */
  emptyVariables?: boolean | undefined;
}

export interface ConformanceRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void> | void): unknown;
}

export const CONFORMANCE_PASSWORD = 'pa$$ w0rd/@:+';

/** The seed used by the suite (exported so fakes can be checked against it). */
export function conformanceSeed(mapId: (id: string) => string = (id) => id): ConformanceSeed {
  return {
    connections: {
      [mapId('conformance_uri')]:
        'postgres://app%20user:pa%24%24%20w0rd%2F%40%3A%2B@db.example.com:5432/app%2Fdb?sslmode=require&application_name=svc',
      [mapId('conformance_json')]: JSON.stringify({
        conn_type: 'mysql',
        host: 'mysql.example.com',
        login: 'root',
        password: CONFORMANCE_PASSWORD,
        port: 3306,
        schema: 'shop',
        extra: { charset: 'utf8mb4' },
      }),
    },
    variables: {
      [mapId('conformance_var')]: 'hello world',
      [mapId('conformance_json_var')]: '{"a": [1, 2, 3]}',
      [mapId('conformance_empty_var')]: '',
    },
  };
}

/** Runs `fn` against a fresh backend built from the seed, and closes it afterwards. */
type WithBackend = (fn: (b: SecretsBackend) => Promise<void>) => Promise<void>;

export function runBackendConformance(runner: ConformanceRunner, options: ConformanceOptions): void {
  const id = options.mapId ?? ((x: string) => x);
  const emptyOk = options.emptyVariables ?? true;
  const seed = conformanceSeed(id);
  if (!emptyOk) delete seed.variables[id('conformance_empty_var')];

  const withBackend: WithBackend = async (fn) => {
    const backend = await options.create(seed);
    try {
      await fn(backend);
    } finally {
      await backend.close?.();
    }
  };

  runner.describe(`${options.name} conformance`, () => {
    connectionCases(runner, withBackend, id);
    variableCases(runner, withBackend, id, emptyOk);
    contractCases(runner, withBackend, id);
    runner.it('close() can be called twice', async () => {
      const b = await options.create(seed);
      await b.close?.();
      await b.close?.();
      assert.equal(typeof b.name, 'string');
    });
  });
}

function connectionCases(
  runner: ConformanceRunner,
  withBackend: WithBackend,
  id: (x: string) => string,
): void {
  runner.it('returns a connection stored as a URI, percent-decoded field by field', () =>
    withBackend(async (b) => {
      const c = await b.getConnection(id('conformance_uri'));
      assert.ok(c, 'connection stored as a URI was not found');
      assert.equal(c.type, 'postgres');
      assert.equal(c.host, 'db.example.com');
      assert.equal(c.login, 'app user');
      assert.equal(c.password, CONFORMANCE_PASSWORD);
      assert.equal(c.port, 5432);
      assert.equal(c.schema, 'app/db');
      assert.deepEqual(c.extraDejson, { sslmode: 'require', application_name: 'svc' });
    }),
  );

  runner.it('returns a connection stored as JSON', () =>
    withBackend(async (b) => {
      const c = await b.getConnection(id('conformance_json'));
      assert.ok(c, 'connection stored as JSON was not found');
      assert.equal(c.type, 'mysql');
      assert.equal(c.host, 'mysql.example.com');
      assert.equal(c.login, 'root');
      assert.equal(c.password, CONFORMANCE_PASSWORD);
      assert.equal(c.port, 3306);
      assert.equal(c.schema, 'shop');
      assert.deepEqual(c.extraDejson, { charset: 'utf8mb4' });
    }),
  );

  runner.it('never shows the password in JSON.stringify, String() or util.inspect', () =>
    withBackend(async (b) => {
      const c = await b.getConnection(id('conformance_json'));
      assert.ok(c);
      for (const text of [JSON.stringify(c), String(c), `${c}`, inspect(c, { depth: 5 })]) {
        assert.ok(!text.includes(CONFORMANCE_PASSWORD), 'password leaked');
      }
    }),
  );

  runner.it('returns null for a connection id it does not have', () =>
    withBackend(async (b) => {
      assert.equal(await b.getConnection(id('conformance_missing')), null);
    }),
  );
}

function variableCases(
  runner: ConformanceRunner,
  withBackend: WithBackend,
  id: (x: string) => string,
  emptyOk: boolean,
): void {
  runner.it('returns a variable value as the stored string', () =>
    withBackend(async (b) => {
      assert.equal(await b.getVariable(id('conformance_var')), 'hello world');
      assert.equal(await b.getVariable(id('conformance_json_var')), '{"a": [1, 2, 3]}');
    }),
  );

  if (emptyOk) {
    runner.it('returns an empty variable as "" (found), not null', () =>
      withBackend(async (b) => {
        assert.equal(await b.getVariable(id('conformance_empty_var')), '');
      }),
    );
  }

  runner.it('returns null for a variable key it does not have', () =>
    withBackend(async (b) => {
      assert.equal(await b.getVariable(id('conformance_missing')), null);
    }),
  );
}

/** What holds for any backend whatever it stores: concurrency and `locate`. */
function contractCases(runner: ConformanceRunner, withBackend: WithBackend, id: (x: string) => string): void {
  runner.it('answers concurrent lookups consistently', () =>
    withBackend(async (b) => {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          i % 2 ? b.getVariable(id('conformance_var')) : b.getConnection(id('conformance_uri')),
        ),
      );
      results.forEach((r, i) => {
        if (i % 2) assert.equal(r, 'hello world');
        else assert.equal((r as { host: string }).host, 'db.example.com');
      });
    }),
  );

  runner.it('locate() names a secret for each kind without doing I/O', () =>
    withBackend(async (b) => {
      lookupShape(
        b.locate('connection', id('conformance_uri')),
        `locate('connection', '${id('conformance_uri')}')`,
      );
      const where = `locate('variable', '${id('conformance_var')}')`;
      const v = lookupShape(b.locate('variable', id('conformance_var')), where);
      assert.ok('name' in v, `${where} returned { skip }: variables should be located by name`);
    }),
  );
}

/** A `Lookup` is `{ name: string }` or `{ skip: string }`; anything else fails naming the call and what came back. */
function lookupShape(l: unknown, where: string): { name: string } | { skip: string } {
  const o = l as Record<string, unknown> | null;
  const ok =
    typeof o === 'object' &&
    o !== null &&
    !Array.isArray(o) &&
    (typeof o.name === 'string') !== (typeof o.skip === 'string');
  assert.ok(ok, `${where} must return { name: string } or { skip: string }, got ${shapeOf(l)}`);
  return o as { name: string } | { skip: string };
}

/** What a value looks like, without its content (a locate could be handed anything). */
function shapeOf(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v !== 'object') return `a ${typeof v}`;
  const keys = Object.keys(v as object).map((k) => `${k}: ${typeof (v as Record<string, unknown>)[k]}`);
  return keys.length ? `{ ${keys.join(', ')} }` : '{}';
}
