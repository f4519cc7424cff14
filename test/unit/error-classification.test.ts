/**
 * docs/configuration.md, "Configuration errors and backend failures", walked row by row: each
 * problem in the table is built for real (Airflow's environment variables, SQLite files, a closed
 * PostgreSQL port, the AWS fake on 127.0.0.1), and the lookup must do what the row says — stop with
 * the named error, fall through with the named reason (the next backend asked, its answer used),
 * or skip. A row without a scenario here, or a scenario without a row, fails.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metastore } from '../../src/backends/metastore.js';
import { registerBackend, resolverFromEnv } from '../../src/config/index.js';
import { silentLogger } from '../../src/logger.js';
import { importOptional } from '../../src/optional-import.js';
import type { Resolver } from '../../src/resolver/index.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { py } from '../helpers/metastore-suite.js';

interface Row {
  problem: string;
  error: string;
  reason: string | null;
  effect: 'stops' | 'falls through' | 'skipped';
}

function tableRows(): Row[] {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
  const section = doc.split('## Configuration errors and backend failures')[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| Problem') && !l.startsWith('| ---'))
    .map((l) => {
      const [problem, error, effect] = l.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '').trim());
      const m = /^`(\w+)`(?: \(`([\w-]+)`\))?$|^none$/.exec(error!);
      if (!m) throw new Error(`cannot read the error column: ${error}`);
      return {
        problem: problem!,
        error: m[1] ?? 'none',
        reason: m[2] ?? null,
        effect: effect as Row['effect'],
      };
    });
}

const URI = 'postgres://app:pw@fallback.internal:5432/orders';
const dir = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-classes-'));
let fake: AwsFake;
let closedPort: number;
let encryptedHome: string;
beforeAll(async () => {
  fake = await startAwsFake();
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  encryptedHome = mkdtempSync(path.join(dir, 'home-'));
  const db = metastore({ url: `sqlite:///${encryptedHome}/airflow.db`, fernetKey: py.fernetKeySetting });
  await db.setConnection((await import('../../src/connection.js')).Connection.fromUri(URI, 'c'));
  await db.close();
  registerBackend('tests.classification.MissingSdkBackend', () => ({
    name: 'missing-sdk',
    locate: (_kind, id) => ({ name: id }),
    getConnection: async () => {
      const pkg = 'airflow-secrets-no-such-sdk';
      await importOptional(pkg, 'missing-sdk', () => import(/* @vite-ignore */ pkg));
      return null;
    },
    getVariable: async () => null,
  }));
});
afterAll(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const home = () => mkdtempSync(path.join(dir, 'home-'));
const aws = (extra: Record<string, unknown> = {}) => ({
  AIRFLOW__SECRETS__BACKEND: 'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
  AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
    endpoint_url: fake.url,
    region_name: 'us-east-1',
    aws_access_key_id: 'AKIDTEST',
    aws_secret_access_key: 'test-secret',
    config_kwargs: { retries: { total_max_attempts: 1 } },
    ...extra,
  }),
});

interface Scenario {
  env: Record<string, string>;
  /** The backend that fails (for "falls through"). */
  failing?: string;
  /** Resolver options beside the logger. */
  backendTimeoutMs?: number;
  /** What the failure's message must say, in words. */
  says?: RegExp;
}

/** One builder per row of the table, keyed by the row's first column. */
const SCENARIOS: Record<string, () => Scenario> = {
  '`AIRFLOW__SECRETS__BACKEND` names no known backend': () => ({
    env: { AIRFLOW_HOME: home(), AIRFLOW__SECRETS__BACKEND: 'my_company.secrets.NoSuchBackend' },
  }),
  'A backend kwarg has a value the backend cannot use (Vault `kv_engine_version: 3`)': () => ({
    env: {
      AIRFLOW_HOME: home(),
      AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
        url: 'http://127.0.0.1:1',
        token: 't',
        kv_engine_version: 3,
      }),
    },
  }),
  "The backend's SDK is not installed": () => ({
    env: { AIRFLOW_HOME: home(), AIRFLOW__SECRETS__BACKEND: 'tests.classification.MissingSdkBackend' },
  }),
  '`AIRFLOW__DATABASE__SQL_ALCHEMY_CONN` has a scheme no driver serves (`mssql://…`)': () => ({
    env: { AIRFLOW_HOME: home(), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'mssql://sa:pw@127.0.0.1/airflow' },
  }),
  '`AIRFLOW__CORE__FERNET_KEY` is malformed and the stored value is encrypted': () => ({
    env: { AIRFLOW_HOME: encryptedHome, AIRFLOW__CORE__FERNET_KEY: 'not-a-fernet-key' },
  }),
  'The source refuses the read (AWS `AccessDeniedException`)': () => {
    fake.fail({ kind: 'access-denied' }, { name: 'airflow/connections/c' });
    return { env: { AIRFLOW_HOME: home(), ...aws(), AIRFLOW_CONN_C: URI }, failing: 'aws-secrets-manager' };
  },
  'The source throttles the read (AWS `ThrottlingException`)': () => {
    fake.fail({ kind: 'throttling' }, { name: 'airflow/connections/c' });
    return { env: { AIRFLOW_HOME: home(), ...aws(), AIRFLOW_CONN_C: URI }, failing: 'aws-secrets-manager' };
  },
  'The source does not answer within the deadline': () => {
    fake.fail({ kind: 'hang' }, { name: 'airflow/connections/c' });
    return {
      env: { AIRFLOW_HOME: home(), ...aws(), AIRFLOW_CONN_C: URI },
      failing: 'aws-secrets-manager',
      backendTimeoutMs: 300,
    };
  },
  'The AWS credentials are incomplete (an access key id without its secret access key)': () => ({
    env: { AIRFLOW_HOME: home(), ...aws({ aws_secret_access_key: undefined }), AIRFLOW_CONN_C: URI },
    failing: 'aws-secrets-manager',
    says: /missing AWS secret access key/,
  }),
  'The database server cannot be reached (connection refused)': () => ({
    env: {
      AIRFLOW_HOME: home(),
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `postgresql://airflow:pw@127.0.0.1:${closedPort}/airflow`,
      AIRFLOW__SECRETS__BACKENDS_ORDER: 'metastore,environment_variable',
      AIRFLOW_CONN_C: URI,
    },
    failing: 'metastore',
  }),
  'A stored value is not a connection (a malformed `AIRFLOW_CONN_<ID>`)': () => {
    const h = home();
    return {
      env: {
        AIRFLOW_HOME: h,
        AIRFLOW_CONN_C: '{"conn_type": ',
        AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
          connections_file_path: write(h, 'c.json', { c: URI }),
        }),
        AIRFLOW__SECRETS__BACKENDS_ORDER: 'environment_variable,custom,metastore',
      },
      failing: 'environment',
    };
  },
  "The local-filesystem backend's file does not exist": () => ({
    env: {
      AIRFLOW_HOME: home(),
      AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
        connections_file_path: path.join(dir, 'nope.yaml'),
      }),
      AIRFLOW_CONN_C: URI,
    },
    failing: 'local-filesystem',
  }),
  'The default SQLite file `$AIRFLOW_HOME/airflow.db` does not exist': () => ({
    env: { AIRFLOW_HOME: home() },
  }),
};

function write(where: string, name: string, data: unknown): string {
  const file = path.join(where, name);
  writeFileSync(file, JSON.stringify(data), { mode: 0o600 });
  return file;
}

const rows = tableRows();

describe('docs/configuration.md: configuration errors and backend failures', () => {
  it('the table and the scenarios name the same problems', () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.map((r) => r.problem).sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  it.each(rows)('$problem: $effect', async (row) => {
    fake.clearFaults();
    const s = SCENARIOS[row.problem]!();
    let resolver: Resolver | undefined;
    try {
      const open = async () =>
        (resolver = await resolverFromEnv(s.env, {
          logger: silentLogger,
          ...(s.backendTimeoutMs ? { backendTimeoutMs: s.backendTimeoutMs } : {}),
        }));
      if (row.effect === 'stops') {
        const err = await open()
          .then((r) => r.getConnection('c'))
          .then(
            () => null,
            (e: Error) => e,
          );
        expect(err?.name, 'the lookup must stop with the error the table names').toBe(row.error);
        return;
      }
      const r = await open();
      const x = await r.explain('connection', 'c', { fresh: true });
      if (row.effect === 'skipped') {
        expect(x.steps.at(-1)).toMatchObject({ backend: 'metastore', outcome: 'skipped' });
        expect(await r.getConnection('c')).toBeNull();
        return;
      }
      const i = x.steps.findIndex((st) => st.backend === s.failing);
      expect(x.steps[i]).toMatchObject({ outcome: 'error', reason: row.reason });
      expect(x.steps[i]!.detail).toMatch(new RegExp(`^${row.error}: `));
      if (s.says) expect(x.steps[i]!.detail).toMatch(s.says);
      expect(x.steps.length, 'the next backend is asked').toBeGreaterThan(i + 1);
      expect((await r.getConnection('c'))?.host).toBe('fallback.internal');
    } finally {
      fake.clearFaults();
      await resolver?.close();
    }
  });
});
