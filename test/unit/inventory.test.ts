/**
 * `resolver.list` (who serves each id, where it is shadowed) and `migrate` (plan, write, read back,
 * report, exit codes) over in-process backends; the comparison of connections by field.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { PutOptions, SecretsBackend } from '../../src/backend.js';
import { environmentVariables } from '../../src/backends/environment.js';
import { memory } from '../../src/backends/memory.js';
import { backendFromClassPath } from '../../src/config/registry.js';
import { Connection } from '../../src/connection.js';
import { BackendUnavailableError, ConfigurationError } from '../../src/errors.js';
import { afterRoundTrip, connectionDifferences } from '../../src/inventory/compare.js';
import { migrate } from '../../src/inventory/migrate.js';
import { silentLogger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';

const PW = 'the-s3cret-pw';

describe('resolver.list', () => {
  const chain = () => {
    const first = memory({ name: 'first', connections: { a: 'x://h', shared: 'x://first' } });
    const env = environmentVariables({
      env: { AIRFLOW_CONN_SHARED: 'x://env', AIRFLOW_CONN_ONLY_ENV: 'x://e', AIRFLOW_CONN_Weird: 'x://w' },
    });
    const last = memory({ name: 'last', connections: { shared: 'x://last', z: 'x://z' } });
    return createResolver({ backends: [first, env, last], logger: silentLogger });
  };

  it('says for every id which backend serves it and where it is shadowed, never a value', async () => {
    const inv = await chain().list('connection');
    expect(inv.entries).toEqual([
      { id: 'a', source: 'first', secretName: 'a', shadowed: [], unverified: [] },
      {
        id: 'only_env',
        source: 'environment',
        secretName: 'AIRFLOW_CONN_ONLY_ENV',
        shadowed: [],
        unverified: [],
      },
      {
        id: 'shared',
        source: 'first',
        secretName: 'shared',
        shadowed: [
          { backend: 'environment', secretName: 'AIRFLOW_CONN_SHARED' },
          { backend: 'last', secretName: 'shared' },
        ],
        unverified: [],
      },
      { id: 'z', source: 'last', secretName: 'z', shadowed: [], unverified: [] },
    ]);
    expect(inv.unmapped).toEqual([
      {
        backend: 'environment',
        secretName: 'AIRFLOW_CONN_Weird',
        note: "a lookup of 'weird' asks for 'AIRFLOW_CONN_WEIRD' instead",
      },
    ]);
    expect(inv.backends.map((b) => [b.backend, b.status, b.count])).toEqual([
      ['first', 'listed', 2],
      ['environment', 'listed', 3],
      ['last', 'listed', 2],
    ]);
    expect(JSON.stringify(inv)).not.toMatch(/x:\/\//);
  });

  it('with source: only the ids that backend holds, still saying who serves them', async () => {
    const inv = await chain().list('connection', { source: 'last' });
    expect(inv.entries.map((e) => [e.id, e.source])).toEqual([
      ['shared', 'first'],
      ['z', 'last'],
    ]);
    await expect(chain().list('connection', { source: 'nope' })).rejects.toThrow(
      /No backend named 'nope'.*first, environment, last/,
    );
  });

  it('matches ids by the name each backend would look up (the environment upper-cases)', async () => {
    const r = createResolver({
      backends: [
        memory({ name: 'm', connections: { MY_DB: 'x://h' } }),
        environmentVariables({ env: { AIRFLOW_CONN_MY_DB: 'y://h' } }),
      ],
      logger: silentLogger,
    });
    const inv = await r.list('connection');
    expect(inv.entries.find((e) => e.id === 'MY_DB')!.shadowed).toEqual([
      { backend: 'environment', secretName: 'AIRFLOW_CONN_MY_DB' },
    ]);
    expect(inv.entries.find((e) => e.id === 'my_db')).toEqual({
      id: 'my_db',
      source: 'environment',
      secretName: 'AIRFLOW_CONN_MY_DB',
      shadowed: [],
      unverified: [],
    });
  });

  it('a backend that cannot list, or fails, is reported; ids behind it are marked unverified', async () => {
    const noList: SecretsBackend = {
      name: 'custom',
      locate: (_k, id) => ({ name: id }),
      getConnection: async () => null,
      getVariable: async () => null,
    };
    const failing = memory({ name: 'down' });
    failing.list = async () => {
      throw new BackendUnavailableError('down', 'down: cannot reach the service');
    };
    const r = createResolver({
      backends: [noList, failing, memory({ name: 'm', variables: { k: PW } })],
      logger: silentLogger,
    });
    const inv = await r.list('variable');
    expect(inv.backends).toEqual([
      { backend: 'custom', status: 'unsupported', count: 0 },
      {
        backend: 'down',
        status: 'failed',
        count: 0,
        reason: 'unavailable',
        message: 'down: cannot reach the service',
      },
      { backend: 'm', status: 'listed', count: 1 },
    ]);
    expect(inv.entries).toEqual([
      { id: 'k', source: 'm', secretName: 'k', shadowed: [], unverified: ['custom', 'down'] },
    ]);
    expect(JSON.stringify(inv)).not.toContain(PW);
  });

  it('a misconfigured backend is reported with its ConfigurationError kept, out of the JSON', async () => {
    const misconfigured = memory({ name: 'bad' });
    const err = new ConfigurationError('bad.setting', 'bad: the setting cannot work');
    misconfigured.list = async () => {
      throw err;
    };
    const inv = await createResolver({ backends: [misconfigured], logger: silentLogger }).list('variable');
    const [status] = inv.backends;
    expect(status).toMatchObject({ status: 'failed', reason: 'configuration', message: err.message });
    expect(status?.error).toBe(err);
    expect(JSON.parse(JSON.stringify(inv)).backends[0]).not.toHaveProperty('error');
  });

  it('says when a listing was cut at the limit', async () => {
    const r = createResolver({
      backends: [memory({ variables: { a: '1', b: '2', c: '3' } })],
      logger: silentLogger,
    });
    const inv = await r.list('variable', { limit: 2 });
    expect(inv.backends[0]).toMatchObject({ status: 'truncated', count: 2 });
  });
});

describe('comparing connections', () => {
  it('names the fields that differ; empty and missing are the same; extra compared as JSON', () => {
    const a = new Connection({ id: 'x', type: 'http', host: 'h', login: '', extra: '{"b": 1, "a": [1, 2]}' });
    const b = new Connection({
      id: 'x',
      type: 'http',
      host: 'h',
      schema: '',
      extra: '{"a": [1, 2], "b": 1}',
    });
    expect(connectionDifferences(a, b)).toEqual([]);
    const c = new Connection({
      id: 'x',
      type: 'http',
      host: 'H',
      password: 'p',
      port: 1,
      extra: '{"a": [1, 2], "b": true}',
    });
    expect(connectionDifferences(a, c)).toEqual(['host', 'password', 'port', 'extra']);
    expect(connectionDifferences(new Connection({ description: 'd' }), new Connection({}))).toEqual([]);
    expect(
      connectionDifferences(new Connection({ description: 'd' }), new Connection({}), { description: true }),
    ).toEqual(['description']);
  });

  it('knows what a URI cannot carry: an upper-case host, port 0; JSON carries both', () => {
    const c = new Connection({ id: 'x', type: 'http', host: 'API.Example', port: 0 });
    expect(connectionDifferences(c, afterRoundTrip(c, 'uri'))).toEqual(['host', 'port']);
    expect(connectionDifferences(c, afterRoundTrip(c, 'json'))).toEqual([]);
  });
});

describe('migrate', () => {
  const conn = (host: string, extra: Partial<ConstructorParameters<typeof Connection>[0]> = {}) =>
    new Connection({ type: 'postgres', host, login: 'u', password: PW, port: 5432, ...extra });
  const source = () =>
    memory({
      name: 'src',
      connections: { db: conn('db.internal'), other: conn('other.internal') },
      variables: { flag: 'on', json_var: '{"a": 1}' },
    });

  it('plans first (create with the exact name), writes, reads back; a second run changes nothing', async () => {
    const from = source();
    const to = memory({ name: 'dst' });
    const seen: unknown[] = [];
    const first = await migrate({ from, to, onPlan: (p) => seen.push(p.map((e) => e.action)) });
    expect(seen).toEqual([['create', 'create', 'create', 'create']]);
    expect(first.plan.map((e) => [e.kind, e.id, e.action, e.secretName])).toEqual([
      ['connection', 'db', 'create', 'db'],
      ['connection', 'other', 'create', 'other'],
      ['variable', 'flag', 'create', 'flag'],
      ['variable', 'json_var', 'create', 'json_var'],
    ]);
    expect(first.report.results.map((r) => r.outcome)).toEqual(['created', 'created', 'created', 'created']);
    expect(first.exitCode).toBe(0);
    expect((await to.getConnection('db'))!.password).toBe(PW);
    const second = await migrate({ from, to });
    expect(second.plan.map((e) => e.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(second.report).toMatchObject({ results: [], written: 0, unchanged: 4, notWritten: 0 });
    expect(JSON.stringify([first, second]) + inspect([first, second], { depth: 9 })).not.toContain(PW);
  });

  it('dry run plans and writes nothing', async () => {
    const to = memory({ name: 'dst' });
    const r = await migrate({ from: source(), to, dryRun: true, kinds: ['variable'] });
    expect(r.plan.map((e) => e.action)).toEqual(['create', 'create']);
    expect(r.report.results).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect((await to.list('variable')).entries).toEqual([]);
  });

  it('a different target value is a conflict (exit 1) until overwrite turns it into an update', async () => {
    const to = memory({ name: 'dst', variables: { flag: 'off' } });
    const r = await migrate({ from: source(), to, kinds: ['variable'] });
    expect(r.plan.find((e) => e.id === 'flag')).toMatchObject({
      action: 'conflict',
      reason: 'the target holds a different value (value); pass overwrite to replace it',
    });
    expect(r.exitCode).toBe(1);
    expect(await to.getVariable('flag')).toBe('off');
    const o = await migrate({ from: source(), to, kinds: ['variable'], overwrite: true });
    expect(o.plan.find((e) => e.id === 'flag')!.action).toBe('update');
    expect(o.exitCode).toBe(0);
    expect(await to.getVariable('flag')).toBe('on');
  });

  it('only moves the named ids; one the source lacks is invalid', async () => {
    const r = await migrate({
      from: source(),
      to: memory({ name: 'dst' }),
      only: ['db', 'ghost'],
      kinds: ['connection'],
    });
    expect(r.plan.map((e) => [e.id, e.action, e.reason])).toEqual([
      ['db', 'create', undefined],
      ['ghost', 'invalid', "the source 'src' serves no value for it"],
    ]);
    expect(r.exitCode).toBe(1);
  });

  it('refuses what the URI form would change, naming the fields and the way out', async () => {
    const from = memory({
      name: 'src',
      connections: { up: conn('DB.Example'), described: conn('h', { description: 'd' }) },
    });
    const r = await migrate({ from, to: memory({ name: 'dst' }), kinds: ['connection'] });
    expect(r.plan).toEqual([
      {
        kind: 'connection',
        id: 'described',
        action: 'create',
        secretName: 'described',
        notes: ['the description is not stored (a URI has no place for it)'],
      },
      {
        kind: 'connection',
        id: 'up',
        action: 'invalid',
        secretName: 'up',
        reason: 'the URI form would not keep it as it is (host); the JSON form would: use format json',
      },
    ]);
    const json = await migrate({ from, to: memory({ name: 'dst2' }), kinds: ['connection'], format: 'json' });
    expect(json.plan.map((e) => e.action)).toEqual(['create', 'create']);
  });

  it('two ids the target stores under one name are both invalid', async () => {
    const from = memory({ name: 'src', variables: { my_key: '1', MY_KEY: '2' } });
    const to = environmentVariables({ env: {} });
    (to as SecretsBackend).put = async () => ({ secretName: '', action: 'created' });
    const r = await migrate({ from, to, kinds: ['variable'] });
    expect(r.plan.map((e) => [e.id, e.action])).toEqual([
      ['MY_KEY', 'invalid'],
      ['my_key', 'invalid'],
    ]);
    expect(r.plan[0]!.reason).toBe(
      "the ids 'MY_KEY' and 'my_key' would all be stored as 'AIRFLOW_VAR_MY_KEY'",
    );
  });

  it('a failed write stops the run (exit 3), reports what was and was not written; the next run continues', async () => {
    const to = memory({ name: 'dst' });
    const put = to.put.bind(to);
    let fail = true;
    to.put = async (kind, id, value, o) => {
      if (id === 'other' && fail)
        throw new BackendUnavailableError('dst', `dst: unavailable writing '${id}'`);
      return put(kind, id, value, o);
    };
    const r = await migrate({ from: source(), to });
    expect(r.exitCode).toBe(3);
    expect(r.report.results.map((x) => [x.id, x.outcome, x.message])).toEqual([
      ['db', 'created', undefined],
      ['other', 'failed', "dst: unavailable writing 'other'"],
      ['flag', 'skipped', 'not attempted after an earlier failure'],
      ['json_var', 'skipped', 'not attempted after an earlier failure'],
    ]);
    expect(r.report).toMatchObject({ written: 1, notWritten: 3 });
    fail = false;
    const again = await migrate({ from: source(), to });
    expect(again.plan.map((e) => e.action)).toEqual(['unchanged', 'create', 'create', 'create']);
    expect(again.exitCode).toBe(0);
  });

  it('a value the target refuses is reported as refused (exit 1) and the run goes on', async () => {
    const to = memory({ name: 'dst' });
    const put = to.put.bind(to);
    to.put = async (kind, id, value, o) => {
      if (id === 'flag') throw new ConfigurationError('id', `dst: cannot write ${kind} '${id}': too long`);
      return put(kind, id, value, o);
    };
    const r = await migrate({ from: source(), to, kinds: ['variable'] });
    expect(r.report.results.map((x) => [x.id, x.outcome])).toEqual([
      ['flag', 'refused'],
      ['json_var', 'created'],
    ]);
    expect(r.report.results[0]!.message).toBe("dst: cannot write variable 'flag': too long");
    expect(r.exitCode).toBe(1);
  });

  it('a write option the target cannot honour stops the run before the plan (a ConfigurationError)', async () => {
    const to = memory({ name: 'dst' });
    let planned = false;
    const run = migrate({
      from: source(),
      to,
      kinds: ['variable'],
      putOptions: { tier: 'Advanced' },
      onPlan: () => void (planned = true),
    });
    await expect(run).rejects.toThrow(
      new ConfigurationError('tier', "dst: the write option 'tier' is not supported here"),
    );
    expect(planned).toBe(false);
    expect((await to.list('variable')).entries).toEqual([]);
  });

  it('a dry run counts the planned writes and the ids left to resolve apart', async () => {
    const to = memory({ name: 'dst' });
    to.setVariable('flag', 'different');
    const r = await migrate({ from: source(), to, kinds: ['variable'], dryRun: true });
    expect(r.plan.map((e) => [e.id, e.action])).toEqual([
      ['flag', 'conflict'],
      ['json_var', 'create'],
    ]);
    expect(r.report).toMatchObject({ planned: 1, written: 0, unchanged: 0, notWritten: 1 });
  });

  it('a value that reads back different is a mismatch naming the id and the fields (exit 3)', async () => {
    const to = memory({ name: 'dst' });
    const put = to.put.bind(to);
    to.put = async (kind, id, _value, o) => put(kind, id, conn('elsewhere'), o);
    const r = await migrate({ from: source(), to, kinds: ['connection'], only: ['db'] });
    expect(r.report.results).toEqual([
      {
        kind: 'connection',
        id: 'db',
        secretName: 'db',
        outcome: 'mismatch',
        message: 'written, but it reads back different (host)',
      },
    ]);
    expect(r.exitCode).toBe(3);
  });

  it('a source or target that cannot be read is an error entry (exit 3), its reason in words', async () => {
    const to = memory({ name: 'dst' });
    to.getVariable = async () => {
      throw new BackendUnavailableError('dst', 'dst: cannot reach it');
    };
    const r = await migrate({ from: source(), to, kinds: ['variable'] });
    expect(r.plan[0]).toMatchObject({
      action: 'error',
      errorReason: 'unavailable',
      reason: "reading the target 'dst' failed: dst: cannot reach it",
    });
    expect(r.exitCode).toBe(3);
  });

  it('refuses a target that cannot write, the same backend twice, and a source that cannot list', async () => {
    const from = source();
    const noPut = environmentVariables({ env: {} });
    await expect(migrate({ from, to: noPut })).rejects.toThrow(/cannot write/);
    await expect(migrate({ from, to: from })).rejects.toBeInstanceOf(ConfigurationError);
    const noList: SecretsBackend = {
      name: 'c',
      locate: (_k, id) => ({ name: id }),
      getConnection: async () => null,
      getVariable: async () => null,
    };
    await expect(migrate({ from: noList, to: memory() })).rejects.toThrow(
      /cannot list its ids; name them with only/,
    );
    await expect(migrate({ from, to: memory(), limit: 1 })).rejects.toThrow(/holds more than 1 connection/);
  });
});

describe('checkPut: the write options each target takes, refused before any write', () => {
  const aws = {
    endpoint_url: 'http://127.0.0.1:1',
    region_name: 'us-east-1',
    aws_access_key_id: 'AKIDTEST',
    aws_secret_access_key: 'test-secret',
  };
  // The table of docs/migration.md's options: which backend takes which write option.
  const cases: [string, Record<string, unknown>, (keyof PutOptions)[]][] = [
    ['aws-secrets-manager', aws, ['kmsKeyId', 'tags']],
    ['aws-ssm', aws, ['kmsKeyId', 'tags', 'parameterType', 'tier']],
    ['hashicorp-vault', { url: 'http://127.0.0.1:1', token: 'test-token' }, []],
    ['gcp-secret-manager', { project_id: 'fake-project' }, ['tags', 'replicaLocations']],
    ['azure-key-vault', { vault_url: 'https://127.0.0.1:1/' }, ['tags']],
    ['local-filesystem', { variables_file_path: '/nonexistent/vars.json' }, []],
  ];
  const options: PutOptions = {
    kmsKeyId: 'key',
    tags: { team: 'data' },
    parameterType: 'String',
    tier: 'Advanced',
    replicaLocations: ['europe-west1'],
  };
  it.each(cases)('%s', async (name, kwargs, takes) => {
    const b = await backendFromClassPath(name, kwargs, { env: {}, logger: silentLogger });
    try {
      for (const key of Object.keys(options) as (keyof PutOptions)[]) {
        const one = { [key]: options[key] } as PutOptions;
        if (takes.includes(key)) {
          expect(() => b.checkPut!('variable', one), key).not.toThrow();
          continue;
        }
        const refusal = new ConfigurationError(
          key,
          `${name}: the write option '${key}' is not supported here`,
        );
        expect(() => b.checkPut!('variable', one), key).toThrow(refusal);
        // `put` refuses it the same way, before any request.
        await expect(b.put!('variable', 'x', 'v', one), key).rejects.toThrow(refusal);
      }
    } finally {
      await b.close?.();
    }
  });

  it('a .env connections file takes no JSON; a .json one does', async () => {
    const ctx = { env: {}, logger: silentLogger };
    const env = await backendFromClassPath('local-filesystem', { connections_file_path: '/x/c.env' }, ctx);
    expect(() => env.checkPut!('connection', { format: 'json' })).toThrow(/holds URIs only/);
    expect(() => env.checkPut!('connection', { format: 'uri' })).not.toThrow();
    expect(() => env.checkPut!('variable', { format: 'json' })).not.toThrow();
    const json = await backendFromClassPath('local-filesystem', { connections_file_path: '/x/c.json' }, ctx);
    expect(() => json.checkPut!('connection', { format: 'json' })).not.toThrow();
  });
});
