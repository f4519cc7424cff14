import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/cli/env-file.js';
import { main } from '../../src/cli/main.js';

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
