/**
 * Issue 11 item 9: parse errors name the field and the kind of problem, never the stored text —
 * in the error, in `explain` and in the CLI's output. Before the fix a bad `port` string was quoted
 * (`Expected integer value for port, but got 'hunter2' instead.`) and unknown JSON keys were listed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { environmentVariables } from '../../src/backends/environment.js';
import { loadConnections } from '../../src/backends/local-filesystem/parse.js';
import { parseEnvFile } from '../../src/cli/env-file.js';
import { main } from '../../src/cli/main.js';
import { Connection, deserializeConnection } from '../../src/connection.js';
import { silentLogger } from '../../src/logger.js';
import { parsePythonYaml } from '../../src/python-yaml.js';
import { createResolver } from '../../src/resolver/index.js';

const PORT = 'hunter2-port-4471';
const KEY = `K3y-${'q'.repeat(60)}`;
const STORED = {
  AIRFLOW_CONN_BAD_PORT: JSON.stringify({ conn_type: 'postgres', host: 'h', port: PORT }),
  AIRFLOW_CONN_BAD_KEY: JSON.stringify({ conn_type: 'postgres', [KEY]: 'v', another_unknown: 1 }),
};
const PLANTED = [PORT, KEY, 'another_unknown'];

describe('stored text never appears in parse errors (issue 11 item 9)', () => {
  it('in the error', () => {
    for (const value of Object.values(STORED)) {
      let message = '';
      try {
        deserializeConnection('c', value);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/port|connection parameter/);
      for (const s of PLANTED) expect(message).not.toContain(s);
    }
    expect(() => Connection.fromJson(JSON.stringify({ port: [PORT] }))).toThrow('a JSON array');
  });

  it('in explain', async () => {
    const r = createResolver({ backends: [environmentVariables({ env: STORED })], logger: silentLogger });
    for (const id of ['bad_port', 'bad_key']) {
      const x = await r.explain('connection', id);
      expect(x.steps[0]!.outcome).toBe('error');
      const text = JSON.stringify(x);
      for (const s of PLANTED) expect(text).not.toContain(s);
    }
  });

  it('in the CLI (get, explain, explain --json)', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'quoted-input-'));
    try {
      for (const argv of [
        ['connections', 'get', 'bad_port'],
        ['connections', 'get', 'bad_key'],
        ['--strict', 'connections', 'get', 'bad_port'],
        ['explain', 'connection', 'bad_port'],
        ['explain', 'connection', 'bad_key', '--json'],
      ]) {
        const lines: string[] = [];
        await main(argv, {
          env: {
            ...STORED,
            AIRFLOW_HOME: home,
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${home}/a.db`,
          },
          out: (s) => lines.push(s),
          err: (s) => lines.push(s),
        });
        const text = lines.join('\n');
        expect(text, argv.join(' ')).toMatch(/Malformed|malformed|error/);
        for (const s of PLANTED) expect(text, argv.join(' ')).not.toContain(s);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('in no process warning: the yaml package warns with the text of a collection key (fuzz finding)', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      // A collection key is now refused as PyYAML refuses it (UNHASHABLE_KEY), still without a warning.
      const r = parsePythonYaml(`? [${PORT}]\n: v\n{${PORT}: x}: w\n`);
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain(PORT);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('in YAML errors (fixed descriptions, never the text)', () => {
    for (const text of [`k: "${PORT}`, `k: !${PORT} x`, `k: *${PORT}`, `? [${PORT}]\n: v\n- x`]) {
      const r = parsePythonYaml(text);
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain(PORT);
    }
  });
});

describe('secrets files and .env files never quote what they hold in their errors', () => {
  const SECRET = 'Hunter2-stored-text';
  const failure = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected a failure');
  };

  it('an illegal key or a mismatching conn_id in a connections file is counted or named by its entry key only', () => {
    const load = (value: unknown) =>
      failure(() => loadConnections(JSON.stringify({ db: value }), 'json', 'connections.json'));
    const illegal = load({ [SECRET]: 'x', host: 'h' });
    expect(illegal.message).toContain('1 illegal key');
    expect(illegal.message).not.toContain(SECRET);
    const mismatch = load({ conn_id: SECRET });
    expect(mismatch.message).toContain('conn_id field differs from its key: db');
    expect(mismatch.message).not.toContain(SECRET);
  });

  it('a .env line whose name is not a variable name is reported by line, not by its text', () => {
    const e = failure(() => parseEnvFile(`OK=1\n${SECRET} PASSWORD=x\n`, '.env'));
    expect(e.message).toBe(".env:2: the name before '=' is not a valid variable name");
    expect(e.message).not.toContain(SECRET);
  });
});
