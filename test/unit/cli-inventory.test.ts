/**
 * The CLI's `connections list`, `variables list` and `migrate`: the table and `--json`, the plan
 * printed before the writes, idempotence, dry runs, conflicts, usage errors and exit codes 0/1/2/3,
 * and no value in any output.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const PW = 'cli-s3cret-pw';
const DB = `postgres://app:${PW}@db.internal:5432/orders`;

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const home = env.AIRFLOW_HOME ?? mkdtempSync(path.join(os.tmpdir(), 'af-cli-inv-'));
  const code = await main(argv, {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    env: { AIRFLOW_HOME: home, ...env },
  });
  const all = `${out.join('\n')}\n${err.join('\n')}`;
  expect(all).not.toContain(PW);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const ENV = { AIRFLOW_CONN_ORDERS_DB: DB, AIRFLOW_CONN_OTHER: 'mysql://h', AIRFLOW_VAR_FLAG: PW };

describe('airflow-secrets connections list / variables list', () => {
  it('prints each id with the backend that serves it and where it is shadowed', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'af-cli-inv-'));
    const env = { ...ENV, AIRFLOW_HOME: home };
    expect((await run(['connections', 'add', 'orders_db', '--conn-uri', 'mysql://old'], env)).code).toBe(0);
    const r = await run(['connections', 'list'], env);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^2 connections/);
    expect(r.out).toMatch(
      /orders_db\s+environment\s+AIRFLOW_CONN_ORDERS_DB\s+metastore \(connection\.conn_id=orders_db\)/,
    );
    expect(r.out).toMatch(/other\s+environment\s+AIRFLOW_CONN_OTHER/);
    expect(r.out).toMatch(/backends:\n {2}environment: listed 2\n {2}metastore: listed 1/);
    const j = await run(['connections', 'list', '--json', '--source', 'metastore'], env);
    const inv = JSON.parse(j.out);
    expect(inv.entries).toEqual([
      {
        id: 'orders_db',
        source: 'environment',
        secretName: 'AIRFLOW_CONN_ORDERS_DB',
        shadowed: [{ backend: 'metastore', secretName: 'connection.conn_id=orders_db' }],
        unverified: [],
      },
    ]);
    const v = await run(['variables', 'list'], env);
    expect(v.out).toMatch(/flag\s+environment\s+AIRFLOW_VAR_FLAG/);
  });

  it('exits 2 for an unknown source or option, 3 when a backend cannot be listed', async () => {
    expect((await run(['connections', 'list', '--source', 'nope'], ENV)).code).toBe(2);
    expect((await run(['connections', 'list', '--bogus'])).code).toBe(2);
    const r = await run(['connections', 'list'], {
      ...ENV,
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'sqlite:////nonexistent-dir/airflow.db',
    });
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/metastore: failed \[unavailable\]/);
    expect(r.out).toMatch(/orders_db\s+environment/);
  });

  it('a misconfigured backend stops the listing with its configuration error (exit 2), nothing listed', async () => {
    const env = {
      ...ENV,
      AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ connections_file_path: '/tmp/conns.txt' }),
    };
    for (const json of [[], ['--json']]) {
      const r = await run(['connections', 'list', ...json], env);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toBe(
        'airflow-secrets: ConfigurationError: Unsupported file format. The file must have one of the following extensions: .env .json .yaml .yml',
      );
    }
  });
});

describe('airflow-secrets migrate', () => {
  const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'af-cli-mig-'));

  it('plans, writes, reads back; a second run writes nothing', async () => {
    const file = path.join(tmp(), 'connections.yaml');
    const args = ['migrate', '--from', 'environment', '--to', `file:${file}`, '--kind', 'connections'];
    const r = await run(args, ENV);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^Plan: environment -> local-filesystem \(2 ids\)\n {2}create {2}connection {2}orders_db/,
    );
    expect(r.out).toContain(`${file}#orders_db`);
    expect(r.out).toMatch(/Writes \(each read back through the target\):\n {2}created/);
    expect(r.out).toMatch(/Done: 2 written, 0 unchanged, 0 not written\./);
    expect(readFileSync(file, 'utf8')).toContain('"orders_db": "postgres://app:');
    const again = await run(args, ENV);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/unchanged\s+connection\s+orders_db/);
    expect(again.out).toMatch(/Done: 0 written, 2 unchanged, 0 not written\./);
  });

  it('--dry-run writes nothing; a conflict exits 1 until --overwrite', async () => {
    const file = path.join(tmp(), 'variables.json');
    const base = ['migrate', '--from', 'environment', '--to', `file:${file}`, '--kind', 'variables'];
    const dry = await run([...base, '--dry-run'], ENV);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/Dry run: nothing written\./);
    expect(existsSync(file)).toBe(false);
    writeFileSync(file, '{"flag": "different"}', { mode: 0o600 });
    const conflict = await run(base, ENV);
    expect(conflict.code).toBe(1);
    expect(conflict.out).toMatch(
      /conflict\s+variable\s+flag\s+\S+#flag\s+the target holds a different value/,
    );
    const o = await run([...base, '--overwrite', '--json'], ENV);
    expect(o.code).toBe(0);
    const result = JSON.parse(o.out);
    expect(result.plan[0]).toMatchObject({ id: 'flag', action: 'update' });
    expect(result.report.results[0]).toMatchObject({ outcome: 'updated' });
  });

  it('migrates from the metastore to the configured backend, --only some ids', async () => {
    const home = tmp();
    const files = path.join(home, 'target.json');
    const env = {
      AIRFLOW_HOME: home,
      AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ connections_file_path: files }),
    };
    await run(['connections', 'add', 'a', '--conn-uri', DB], env);
    await run(['connections', 'add', 'b', '--conn-uri', 'mysql://h'], env);
    const r = await run(
      ['migrate', '--from', 'metastore', '--to', 'backend', '--kind', 'connections', '--only', 'a'],
      env,
    );
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(files, 'utf8')))).toEqual(['a']);
    const list = await run(['connections', 'list'], env);
    expect(list.out).toMatch(/a\s+local-filesystem\s+\S+#a\s+metastore \(connection\.conn_id=a\)/);
  });

  it('exits 2 on usage and configuration errors', async () => {
    const cases: [string[], RegExp][] = [
      [['migrate', '--from', 'environment'], /needs --from SOURCE and --to TARGET/],
      [['migrate', '--from', 'environment', '--to', 'file:/tmp/x.yaml'], /a file holds one kind/],
      [['migrate', '--from', 'nowhere', '--to', 'backend'], /unknown source 'nowhere'/],
      [['migrate', '--from', 'environment', '--to', 'backend'], /needs AIRFLOW__SECRETS__BACKEND/],
      [['migrate', '--from', 'metastore', '--to', 'metastore'], /same place/],
      [['migrate', '--from', 'environment', '--to', 'file:/tmp/x.env', '--kind', 'x'], /--kind must be/],
      [
        [
          'migrate',
          '--from',
          'environment',
          '--to',
          'file:/tmp/x.env',
          '--kind',
          'variables',
          '--tier',
          'Gold',
        ],
        /--tier must be/,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv, ENV);
      expect([argv, r.code]).toEqual([argv, 2]);
      expect(r.err).toMatch(message);
    }
    const file = path.join(tmp(), 'v.json');
    const refused = await run(
      [
        'migrate',
        '--from',
        'environment',
        '--to',
        `file:${file}`,
        '--kind',
        'variables',
        '--kms-key-id',
        'k',
      ],
      ENV,
    );
    // A write option the target does not take stops the run before the plan: nothing is planned.
    expect(refused.code).toBe(2);
    expect(refused.out).toBe('');
    expect(refused.err).toBe(
      "airflow-secrets: ConfigurationError: local-filesystem: the write option 'kmsKeyId' is not supported here",
    );
    expect(existsSync(file)).toBe(false);
  });

  it('a usage mistake points at migrate --help; an unknown --kind or --tier is the parser’s', async () => {
    const r = await run(['migrate', '--from', 'environment'], ENV);
    expect(r.err.split('\n')).toEqual([
      'airflow-secrets: migrate needs --from SOURCE and --to TARGET',
      "Run 'airflow-secrets migrate --help' for usage.",
    ]);
    const kind = await run(['migrate', '--from', 'environment', '--to', 'backend', '--kind', 'x'], ENV);
    expect(kind.err).toMatch(/^airflow-secrets: --kind must be connections or variables, not 'x'\n/);
    const limit = await run(['connections', 'list', '--limit', '0'], ENV);
    expect(limit.code).toBe(2);
    expect(limit.err).toContain("Run 'airflow-secrets connections list --help' for usage.");
  });

  it('--format json into a .env file is refused before the plan (exit 2), with --dry-run too', async () => {
    const file = path.join(tmp(), 'c.env');
    for (const dry of [['--dry-run'], []]) {
      const r = await run(
        [
          'migrate',
          '--from',
          'environment',
          '--to',
          `file:${file}`,
          '--kind',
          'connections',
          '--format',
          'json',
          ...dry,
        ],
        ENV,
      );
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/ConfigurationError: local-filesystem: a \.env connections file holds URIs only/);
    }
    expect(existsSync(file)).toBe(false);
  });

  it('suggests the JSON form only to a target that takes JSON', async () => {
    const env = { AIRFLOW_CONN_UP: JSON.stringify({ conn_type: 'http', host: 'API.Example.com' }) };
    const args = (to: string) => [
      'migrate',
      '--from',
      'environment',
      '--to',
      `file:${to}`,
      '--kind',
      'connections',
      '--dry-run',
    ];
    const json = await run(args(path.join(tmp(), 'c.json')), env);
    expect(json.out).toMatch(/invalid\s+connection\s+up\s+.*\(host\); the JSON form would: use format json/);
    const dotenv = await run(args(path.join(tmp(), 'c.env')), env);
    expect(dotenv.out).toMatch(
      /invalid\s+connection\s+up\s+.*the URI form would not keep it as it is \(host\)\n/,
    );
    expect(dotenv.out).not.toContain('format json');
    expect(dotenv.code).toBe(1);
  });

  it('a dry run prints the planned writes and the ids to resolve as separate counts', async () => {
    const file = path.join(tmp(), 'variables.json');
    writeFileSync(file, '{"other": "x"}', { mode: 0o600 });
    const env = { AIRFLOW_VAR_FLAG: PW, AIRFLOW_VAR_OTHER: 'y' };
    const r = await run(
      ['migrate', '--from', 'environment', '--to', `file:${file}`, '--kind', 'variables', '--dry-run'],
      env,
    );
    expect(r.out).toMatch(/create\s+variable\s+flag/);
    expect(r.out).toMatch(/conflict\s+variable\s+other/);
    expect(r.out).toMatch(/\nPlanned: 1 to write, 0 unchanged, 1 to resolve\.\n/);
  });

  it('exits 3 when the target cannot be reached, and says to run again', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const env = {
      ...ENV,
      AIRFLOW__SECRETS__BACKEND:
        'airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
        endpoint_url: `http://127.0.0.1:${port}`,
        region_name: 'us-east-1',
        aws_access_key_id: 'AKIDTEST',
        aws_secret_access_key: 'x',
        config_kwargs: { retries: { total_max_attempts: 1 } },
      }),
    };
    const r = await run(['migrate', '--from', 'environment', '--to', 'backend', '--kind', 'variables'], env);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(
      /error\s+variable\s+flag\s+\/airflow\/variables\/flag\s+reading the target 'aws-ssm' failed/,
    );
    expect(r.out).toMatch(/run the command again/);
  });
});
