import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { parseEnvFile } from '../../src/cli/env-file.js';
import { main } from '../../src/cli/main.js';
import { GLOBAL_OPTIONS } from '../../src/cli/spec.js';
import { registerBackend } from '../../src/config/registry.js';

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const home = mkdtempSync(path.join(os.tmpdir(), 'af-cli-'));
  const code = await main(argv, {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    env: { AIRFLOW_HOME: home, ...env },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const DB = 'postgres://app:p%40ss%20word@db.internal:5432/orders?sslmode=require';

describe('airflow-secrets CLI', () => {
  it('prints a connection as a URI (default) or as JSON, exit 0', async () => {
    const uri = await run(['connections', 'get', 'orders_db'], { AIRFLOW_CONN_ORDERS_DB: DB });
    expect(uri.code).toBe(0);
    expect(uri.out).toBe(DB);
    const json = await run(['connections', 'get', 'orders_db', '--output', 'json'], {
      AIRFLOW_CONN_ORDERS_DB: DB,
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      conn_type: 'postgres',
      host: 'db.internal',
      password: 'p@ss word',
    });
  });

  it('exits 1 with Airflow’s message when the connection is not defined', async () => {
    const r = await run(['connections', 'get', 'nope']);
    expect(r.code).toBe(1);
    expect(r.err).toContain("The conn_id `nope` isn't defined");
  });

  it('prints a variable, pretty-prints it with --json, and exits 1 when missing', async () => {
    expect(await run(['variables', 'get', 'flag'], { AIRFLOW_VAR_FLAG: 'on' })).toMatchObject({
      code: 0,
      out: 'on',
    });
    const j = await run(['variables', 'get', 'cfg', '--json'], { AIRFLOW_VAR_CFG: '{"a":1}' });
    expect(j.out).toBe('{\n  "a": 1\n}');
    expect((await run(['variables', 'get', 'missing'])).code).toBe(1);
  });

  it('explains which backend answered and which secret names were asked, without values', async () => {
    const r = await run(['explain', 'connection', 'orders_db'], { AIRFLOW_CONN_ORDERS_DB: DB });
    expect(r.code).toBe(0);
    expect(r.out).toContain("connection 'orders_db': found in environment");
    expect(r.out).toMatch(/1\. environment\s+AIRFLOW_CONN_ORDERS_DB\s+found/);
    expect(r.out).toMatch(/2\. metastore\s+-\s+not asked/);
    expect(r.out).not.toContain('p%40ss');
    expect(r.out).not.toContain('p@ss');
    const j = await run(['explain', 'variable', 'missing', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({ kind: 'variable', id: 'missing', found: false });
  });

  it('reads an Astro-style --env-file over the environment', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'af-envfile-'));
    const file = path.join(dir, '.env');
    writeFileSync(file, `# local settings\nexport AIRFLOW_VAR_COLOR="blue"\nAIRFLOW_VAR_SIZE=10 # inline\n`);
    expect(await run(['--env-file', file, 'variables', 'get', 'color'])).toMatchObject({
      code: 0,
      out: 'blue',
    });
    expect(await run(['variables', 'get', 'size', '--env-file', file])).toMatchObject({ code: 0, out: '10' });
    expect((await run(['--env-file', path.join(dir, 'missing.env'), 'variables', 'get', 'x'])).code).toBe(2);
    expect(await run(['--env', file, 'variables', 'get', 'color'])).toMatchObject({ code: 0, out: 'blue' });
    expect(await run(['variables', 'get', 'size', '-e', file])).toMatchObject({ code: 0, out: '10' });
    const missing = await run(['variables', 'get', 'x', `--env=${path.join(dir, 'missing.env')}`]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('missing.env');
    expect(missing.err).toContain('ENOENT');
    expect((await run(['--env', file, '--env-file', file, 'variables', 'get', 'color'])).code).toBe(2);
  });

  it('exits 2 on usage errors and on configuration errors, naming the setting', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['connections', 'get'])).code).toBe(2);
    expect((await run(['connections', 'get', 'x', '--output', 'yaml'])).code).toBe(2);
    const bad = await run(['variables', 'get', 'x'], { AIRFLOW__SECRETS__BACKEND: 'nope.Backend' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('AIRFLOW__SECRETS__BACKEND');
    expect((await run(['--help'])).code).toBe(0);
  });
});

describe('CLI ergonomics', () => {
  it('each command has its own --help (also as `help WORDS`), a group lists its commands', async () => {
    for (const c of COMMANDS) {
      const h = await run([...c.words, '--help']);
      expect(h.code, c.words.join(' ')).toBe(0);
      expect(h.out).toContain(`Usage: airflow-secrets ${c.words.join(' ')}`);
      for (const o of c.options) expect(h.out).toContain(o.name);
      expect(h.out).toContain('Exit codes:');
      expect((await run(['help', ...c.words])).out).toBe(h.out);
    }
    const group = await run(['connections', '--help']);
    expect(group.code).toBe(0);
    expect(group.out).toMatch(/connections get CONN_ID/);
    expect(group.out).toMatch(/connections add CONN_ID/);
    expect(group.out).not.toMatch(/variables get/);
    const top = await run(['help']);
    expect(top.code).toBe(0);
    expect(top.out).toBe((await run(['--help'])).out);
    expect(top.out).toContain('3  not found while at least one source failed');
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'),
    );
    expect(await run(['--version'])).toMatchObject({ code: 0, out: version });
  });

  it('takes options before, between or after the positional arguments', async () => {
    const env = { AIRFLOW_CONN_ORDERS_DB: DB };
    const a = await run(['explain', '--json', 'connection', 'orders_db'], env);
    const b = await run(['--json', 'explain', 'connection', 'orders_db'], env);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.out)).toMatchObject({ found: true, source: 'environment' });
    expect(JSON.parse(b.out)).toMatchObject({ found: true, source: 'environment' });
    const c = await run(['--output=json', 'connections', 'get', 'orders_db'], env);
    expect(JSON.parse(c.out)).toMatchObject({ host: 'db.internal' });
    const d = await run(['connections', '-o', 'json', 'get', 'orders_db'], env);
    expect(JSON.parse(d.out)).toMatchObject({ host: 'db.internal' });
    expect((await run(['variables', 'get', '--', '--odd-key'], { 'AIRFLOW_VAR_--ODD-KEY': 'x' })).code).toBe(
      0,
    );
  });

  it.each([
    [['frobnicate'], "Unknown command 'frobnicate'", '--help'],
    [['connections'], 'connections needs a command: get, add, delete', 'connections --help'],
    [['connections', 'get'], 'connections get needs exactly one CONN_ID', 'connections get --help'],
    [['connections', 'get', 'a', 'b'], "(unexpected 'b')", 'connections get --help'],
    [
      ['connections', 'get', 'x', '--output', 'yaml'],
      "--output must be uri or json, not 'yaml'",
      'connections get --help',
    ],
    [
      ['variables', 'get', 'x', '--bogus'],
      "Unknown option --bogus for 'variables get'",
      'variables get --help',
    ],
    [['variables', 'get', 'x', '--json=1'], '--json takes no value', 'variables get --help'],
    [['explain', 'thing', 'x'], "KIND must be connection, variable or config, not 'thing'", 'explain --help'],
    [['connections', 'get', 'x', '--env'], '--env needs a value', 'connections get --help'],
  ])('usage error %j: one line and a hint, exit 2', async (argv, message, help) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const lines = r.err.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(message);
    expect(lines[1]).toBe(`Run 'airflow-secrets ${help}' for usage.`);
  });

  it('no arguments: the help on stderr, exit 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Commands:');
  });

  it('every option name keeps one meaning (a value or a flag) across the table', () => {
    const seen = new Map<string, boolean>();
    for (const o of [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)]) {
      for (const n of [o.name, o.alias].filter(Boolean) as string[]) {
        const takes = o.value !== undefined;
        expect(seen.get(n) ?? takes, n).toBe(takes);
        seen.set(n, takes);
      }
    }
    const words = COMMANDS.map((c) => c.words.join(' '));
    expect(new Set(words).size).toBe(words.length);
  });
});

describe('explain and a missing default airflow.db', () => {
  it('says "skipped (no database file at …)", not "not found"; once the file exists, the table is asked', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'af-nodb-'));
    const x = await run(['explain', 'variable', 'v'], { AIRFLOW_HOME: home });
    expect(x.code).toBe(1);
    expect(x.out).toMatch(/2\. metastore\s+-\s+skipped \(no database file at .*airflow\.db\)/);
    const j = JSON.parse((await run(['explain', '--json', 'variable', 'v'], { AIRFLOW_HOME: home })).out);
    expect(j.steps[1]).toMatchObject({ backend: 'metastore', outcome: 'skipped', secretName: null });
    expect((await run(['variables', 'set', 'v', 'now-here'], { AIRFLOW_HOME: home })).code).toBe(0);
    const after = await run(['explain', 'variable', 'v'], { AIRFLOW_HOME: home });
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/2\. metastore\s+variable\.key=v\s+found/);
  });
});

describe('CLI exit codes', () => {
  it('0 found, 1 not found when every source answered', async () => {
    expect((await run(['variables', 'get', 'v'], { AIRFLOW_VAR_V: 'x' })).code).toBe(0);
    const miss = await run(['variables', 'get', 'v']);
    expect(miss.code).toBe(1);
    expect(miss.err).toBe('Variable v does not exist');
  });

  it('3 when not found and a source failed, naming the backend, the secret and the reason', async () => {
    const env = { AIRFLOW_CONN_BAD: '{"conn_type": "http", "password": "pw-n0t-this' };
    const r = await run(['connections', 'get', 'bad'], env);
    expect(r.code).toBe(3);
    expect(r.err).toContain("The conn_id `bad` isn't defined");
    expect(r.err).toMatch(/1 backend failed, so the answer may be incomplete/);
    expect(r.err).toMatch(/environment \(malformed, AIRFLOW_CONN_BAD\): .*not a valid connection/);
    expect(r.err).not.toContain('pw-n0t-this');
    const x = await run(['explain', 'connection', 'bad'], env);
    expect(x.code).toBe(3);
    expect(x.out).toContain("connection 'bad': not found, and 1 backend failed");
    const strict = await run(['--strict', 'connections', 'get', 'bad'], env);
    expect(strict.code).toBe(3);
    expect(strict.err).toMatch(/MalformedSecretError \[malformed\]/);
  });

  it('3 for an unreachable metadata database, the password masked', async () => {
    const r = await run(['variables', 'get', 'v'], {
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql://u:pw-db-s3cret@127.0.0.1:1/airflow',
    });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/metastore \(unavailable, variable\.key=v\)/);
    expect(r.err).not.toContain('pw-db-s3cret');
  });

  it('a found answer exits 0 even when an earlier source failed', async () => {
    const r = await run(['variables', 'get', 'v'], {
      AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ variables_file_path: '/nonexistent/vars.json' }),
      AIRFLOW_VAR_V: 'from-env',
    });
    expect(r).toMatchObject({ code: 0, out: 'from-env' });
  });
});

describe('CLI exit codes beyond lookups', () => {
  it('a write the metastore cannot take exits 3, says "writing", and --help lists 3 and 4', async () => {
    const r = await run(['variables', 'set', 'k', 'v'], {
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql://u:pw-db-s3cret@127.0.0.1:1/airflow',
    });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/BackendUnavailableError \[unavailable\]: Cannot reach \S+ \(writing 'k'\)/);
    expect(r.err).not.toContain('looking up');
    expect(r.err).not.toContain('pw-db-s3cret');
    for (const words of [
      ['variables', 'set'],
      ['connections', 'add'],
      ['connections', 'delete'],
    ]) {
      const help = await run([...words, '--help']);
      expect(help.out).toContain('\n  3  the metastore could not be reached or written');
      expect(help.out).toContain('\n  4  internal error: a bug in airflow-secrets');
    }
    expect((await run(['--help'])).out).toContain('\n  4  internal error');
  });

  it('an unexpected error is exit 4, "internal error", naming the error and never its message', async () => {
    registerBackend('tests.BrokenBackend', () => {
      throw new TypeError('broken with pw-n0t-this');
    });
    const r = await run(['connections', 'get', 'x'], { AIRFLOW__SECRETS__BACKEND: 'tests.BrokenBackend' });
    expect(r.code).toBe(4);
    expect(r.err).toBe(
      'airflow-secrets: internal error (a bug in airflow-secrets, please report it): TypeError',
    );
  });

  it("an adapter's kwargs error names where the kwargs came from", async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'af-cli-cfg-'));
    writeFileSync(
      path.join(home, 'airflow.cfg'),
      '[secrets]\nbackend = airflow.providers.hashicorp.secrets.vault.VaultBackend\n' +
        'backend_kwargs = {"kv_engine_version": 3, "url": "http://127.0.0.1:1"}\n',
    );
    const cfg = await run(['connections', 'get', 'x'], { AIRFLOW_HOME: home });
    expect(cfg.code).toBe(2);
    expect(cfg.err).toBe(
      'airflow-secrets: ConfigurationError: hashicorp-vault: kv_engine_version must be 1 or 2 (from airflow.cfg [secrets] backend_kwargs)',
    );
    const env = await run(['connections', 'get', 'x'], {
      AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: '{"kv_engine_version": 3, "url": "http://127.0.0.1:1"}',
    });
    expect(env.err).toMatch(/must be 1 or 2 \(from AIRFLOW__SECRETS__BACKEND_KWARGS\)$/);
  });

  it("explain's table says where each backend's configuration came from", async () => {
    const r = await run(['explain', 'connection', 'x'], {
      AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
      AIRFLOW_CONN_X: 'http://h',
    });
    expect(r.out).toMatch(
      /1\. local-filesystem\s+-\s+skipped \(.*\)\s+\S+ ms {2}\(from AIRFLOW__SECRETS__BACKEND\)\n/,
    );
    expect(r.out).toMatch(/2\. environment\s+AIRFLOW_CONN_X\s+found\s+\S+ ms {2}\(from default chain\)\n/);
    expect((await run(['explain', '--help'])).out).toContain('--strict does not stop it');
  });
});

describe('parseEnvFile', () => {
  it('handles comments, export, quotes and escapes like docker compose', () => {
    expect(parseEnvFile('A=1\n\n# c\nexport B = two \nC="x\\ny"\nD=\'$raw\'\nE=v # note\n', 'f')).toEqual({
      A: '1',
      B: 'two',
      C: 'x\ny',
      D: '$raw',
      E: 'v',
    });
    expect(() => parseEnvFile('novalue\n', '.env')).toThrow(/\.env:1/);
  });
});
