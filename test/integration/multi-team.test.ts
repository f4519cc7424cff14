/**
 * Airflow 3.2 multi-team naming through every adapter, against vectors computed by re-implementing
 * the newest code of each backend (test/fixtures/multi-team/make_team_vectors.py): which names a
 * lookup asks for, in order, with and without a team, and which ids are refused. Real SDKs against
 * the fakes (AWS, Google Cloud, Azure), a recording environment, real files; the metastore's
 * `team_name` column on SQLite; activation by `[core] multi_team` through `resolverFromEnv`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterContext, SecretKind, SecretsBackend } from '../../src/backend.js';
import * as sm from '../../src/backends/aws-secrets-manager/index.js';
import * as ssm from '../../src/backends/aws-ssm/index.js';
import * as azure from '../../src/backends/azure-key-vault/index.js';
import * as env from '../../src/backends/environment.js';
import * as gcp from '../../src/backends/gcp-secret-manager/index.js';
import * as local from '../../src/backends/local-filesystem/index.js';
import { metastore } from '../../src/backends/metastore.js';
import { resolverFromEnv } from '../../src/config/index.js';
import type { Logger } from '../../src/logger.js';
import { silentLogger } from '../../src/logger.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { type GcpFake, startGcpFake } from '../fakes/gcp-fake.js';
import { AWS_TEST_CREDS } from '../helpers/aws-fixture.js';
import { type AzureFixture, startAzureFixture, staticTokenCredential } from '../helpers/azure-fixture.js';

interface Vector {
  backend: string;
  kind: SecretKind;
  id: string;
  team: string | null;
  multi_team: boolean;
  names: string[];
  airflow_refuses_without_multi_team?: boolean;
}
const VECTORS = (
  JSON.parse(readFileSync(new URL('../fixtures/multi-team/team-vectors.json', import.meta.url), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;

const require = createRequire(import.meta.url);
const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
  grpc: { credentials: { createInsecure(): unknown } };
};

let aws: AwsFake;
let gcpFake: GcpFake;
let az: AzureFixture;
let tmp: string;
beforeAll(async () => {
  [aws, gcpFake, az] = await Promise.all([
    startAwsFake(),
    startGcpFake({ project: 'p' }),
    startAzureFixture({ tenantId: 't', clientId: 'c', clientSecret: 's', staticToken: 'tok' }),
  ]);
  tmp = mkdtempSync(path.join(tmpdir(), 'multi-team-'));
});
afterAll(async () => {
  await Promise.all([aws.close(), gcpFake.close(), az.close()]);
  rmSync(tmp, { recursive: true, force: true });
});

const ctx = (v: Vector, logger: Logger = silentLogger): AdapterContext => ({
  env: {},
  logger,
  multiTeam: v.multi_team,
  ...(v.team !== null ? { team: v.team } : {}),
});

const lookup = (b: SecretsBackend, kind: SecretKind, id: string) =>
  kind === 'connection' ? b.getConnection(id) : kind === 'variable' ? b.getVariable(id) : b.getConfig!(id);

/** Build one adapter for a vector, and a function returning the names it asked for since. */
function adapter(v: Vector): { b: SecretsBackend; asked: () => string[] } {
  const c = ctx(v);
  const aws_ = { region_name: 'us-east-1', endpoint_url: aws.url };
  const awsEnv = {
    AWS_ACCESS_KEY_ID: AWS_TEST_CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDS.secretAccessKey,
  };
  aws.reset();
  gcpFake.requests.length = 0;
  az.vault.requests.length = 0;
  switch (v.backend) {
    case 'aws-secrets-manager':
      return {
        b: sm.fromAirflowKwargs(aws_, { ...c, env: awsEnv }),
        asked: () => aws.requestsFor('secretsmanager.GetSecretValue').map((r) => String(r.body.SecretId)),
      };
    case 'aws-ssm':
      return {
        b: ssm.fromAirflowKwargs(aws_, { ...c, env: awsEnv }),
        asked: () => aws.requestsFor('AmazonSSM.GetParameter').map((r) => String(r.body.Name)),
      };
    case 'gcp-secret-manager':
      return {
        b: gcp.fromAirflowKwargs({ project_id: 'p' }, c, {
          clientOptions: {
            apiEndpoint: '127.0.0.1',
            port: gcpFake.port,
            sslCreds: gax.grpc.credentials.createInsecure(),
            universeDomain: 'googleapis.com',
          },
          credentials: { type: 'external_account_authorized_user' } as never,
          maxRetries: 0,
        }),
        asked: () => gcpFake.requests.map((r) => r.name.split('/')[3]!),
      };
    case 'azure-key-vault':
      return {
        b: azure.fromAirflowKwargs({ vault_url: az.vault.url }, c, {
          credential: staticTokenCredential('tok'),
          clientOptions: az.clientOptions(),
          retryOptions: { maxRetries: 0 },
        }),
        asked: () => az.vault.requests.filter((r) => r.authorized).map((r) => r.name),
      };
    default: {
      const seen: string[] = [];
      const recording = new Proxy({} as Record<string, string | undefined>, {
        get: (_t, k) => {
          if (typeof k === 'string') seen.push(k);
          return undefined;
        },
      });
      return { b: env.environmentVariables({ ...c, env: recording }), asked: () => seen };
    }
  }
}

describe('team-scoped names as Airflow 3.2 computes them', () => {
  const remote = VECTORS.filter((v) => v.backend !== 'local-filesystem');
  it.each(
    remote.map(
      (v) =>
        [`${v.backend} ${v.kind} ${JSON.stringify(v.id)} team=${v.team} multi=${v.multi_team}`, v] as const,
    ),
  )('%s', async (_, v) => {
    const { b, asked } = adapter(v);
    try {
      expect(await lookup(b, v.kind, v.id)).toBeNull();
      if (v.airflow_refuses_without_multi_team) {
        // Documented difference: with multi-team off nothing changes, so the id is looked up.
        const where = b.locate(v.kind, v.id);
        expect(asked()).toEqual(['name' in where ? where.name : '?']);
      } else {
        expect(asked()).toEqual(v.names);
      }
    } finally {
      await b.close?.();
    }
  });

  const files = VECTORS.filter((v) => v.backend === 'local-filesystem');
  it.each(
    files.map((v) => [`${v.kind} ${JSON.stringify(v.id)} team=${v.team} multi=${v.multi_team}`, v] as const),
  )('local-filesystem %s', async (_, v) => {
    const file = path.join(tmp, `${v.kind}.json`);
    const all = [...new Set([v.id, ...(v.team ? [`${v.team}___${v.id}`] : []), ...v.names])];
    const stored = (k: string) => (v.kind === 'connection' ? `http://${encodeURIComponent(k)}` : `v:${k}`);
    writeFileSync(file, JSON.stringify(Object.fromEntries(all.map((k) => [k, stored(k)]))), { mode: 0o600 });
    const key = {
      connection: 'connections_file_path',
      variable: 'variables_file_path',
      config: 'configs_file_path',
    };
    const b = local.fromAirflowKwargs({ [key[v.kind]]: file }, ctx(v));
    const got = await lookup(b, v.kind, v.id);
    const text =
      got === null
        ? null
        : typeof got === 'string'
          ? got
          : `http://${encodeURIComponent(decodeURIComponent((got as { host: string }).host))}`;
    expect(text).toBe(v.names.length ? stored(v.names[0]!) : null);
  });
});

describe('precedence: the team-scoped value wins, the global one is the fallback', () => {
  it('environment: AIRFLOW_CONN__TEAM___ID over AIRFLOW_CONN_ID; an empty team value falls through', async () => {
    const e = {
      AIRFLOW_CONN__OPS___DB: 'http://team-host',
      AIRFLOW_CONN_DB: 'http://global-host',
      AIRFLOW_VAR__OPS___K: '',
      AIRFLOW_VAR_K: 'g',
    };
    const b = env.environmentVariables({ env: e, team: 'ops', multiTeam: true });
    expect((await b.getConnection('db'))?.host).toBe('team-host');
    expect(await b.getVariable('k')).toBe('g');
    const off = env.environmentVariables({ env: e, team: 'ops' });
    expect((await off.getConnection('db'))?.host).toBe('global-host');
  });

  it('Secrets Manager: the team secret first, then the global one', async () => {
    aws.reset();
    aws.secrets.set('airflow/variables/k', 'global');
    const c = {
      env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      logger: silentLogger,
      multiTeam: true,
      team: 'ops',
    };
    const b = sm.fromAirflowKwargs({ region_name: 'us-east-1', endpoint_url: aws.url }, c);
    expect(await b.getVariable('k')).toBe('global');
    aws.secrets.set('airflow/variables/ops--k', 'team');
    expect(await b.getVariable('k')).toBe('team');
    expect(b.getMany).toBeUndefined(); // two names per id: the resolver reads one by one
    await b.close?.();
  });

  it('a refused id is logged at warning, as Airflow does', async () => {
    const lines: string[] = [];
    const logger: Logger = { debug() {}, error() {}, warn: (m) => lines.push(m) };
    const b = gcp.fromAirflowKwargs(
      { project_id: 'p' },
      { env: {}, logger, multiTeam: true },
      { client: {} as never },
    );
    expect(await b.getVariable('a--b')).toBeNull();
    expect(lines.some((m) => m.includes('is ambiguous and is not looked up'))).toBe(true);
  });
});

describe('metastore: the team_name column (Airflow 3.2 schema)', () => {
  const file = () => path.join(tmp, 'airflow.db');
  beforeAll(async () => {
    const m = metastore({ url: `sqlite:///${file()}` });
    await m.ensureSchema();
    await m.close();
    const db = new Database(file());
    db.exec('ALTER TABLE connection ADD COLUMN team_name VARCHAR(50)');
    db.exec('ALTER TABLE variable ADD COLUMN team_name VARCHAR(50)');
    const conn = db.prepare(
      'INSERT INTO connection (conn_id, conn_type, host, team_name) VALUES (?, ?, ?, ?)',
    );
    conn.run('team_db', 'http', 'team-host', 'ops');
    conn.run('global_db', 'http', 'global-host', null);
    const vari = db.prepare('INSERT INTO variable (key, val, is_encrypted, team_name) VALUES (?, ?, 0, ?)');
    vari.run('team_k', 'team', 'ops');
    vari.run('other_k', 'other', 'dev');
    vari.run('global_k', 'global', null);
    db.close();
  });

  const read = async (o: { team?: string; multiTeam?: boolean }) => {
    const m = metastore({ url: `sqlite:///${file()}`, ...o });
    try {
      return [
        (await m.getConnection('team_db'))?.host ?? null,
        (await m.getConnection('global_db'))?.host ?? null,
        await m.getVariable('team_k'),
        await m.getVariable('other_k'),
        await m.getVariable('global_k'),
      ];
    } finally {
      await m.close();
    }
  };

  it("with a team: that team's rows and rows of no team (team_name = :team OR team_name IS NULL)", async () => {
    expect(await read({ multiTeam: true, team: 'ops' })).toEqual([
      'team-host',
      'global-host',
      'team',
      null,
      'global',
    ]);
  });
  it('multi-team without a team: only rows of no team', async () => {
    expect(await read({ multiTeam: true })).toEqual([null, 'global-host', null, null, 'global']);
  });
  it('multi-team off: the column is not read (nothing changes)', async () => {
    expect(await read({ team: 'ops' })).toEqual(['team-host', 'global-host', 'team', 'other', 'global']);
  });
});

describe('activation through resolverFromEnv', () => {
  const base = {
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'sqlite:///:memory:',
    AIRFLOW_CONN__OPS___DB: 'http://team-host',
    AIRFLOW_CONN_DB: 'http://global-host',
  };
  it('[core] multi_team on: the team given to resolverFromEnv reaches the backends', async () => {
    const r = await resolverFromEnv(
      { ...base, AIRFLOW__CORE__MULTI_TEAM: 'True' },
      { team: 'ops', readAirflowCfg: false, logger: silentLogger },
    );
    expect((await r.getConnection('db'))?.host).toBe('team-host');
    await r.close();
  });
  it('[core] multi_team off (the default): the team changes nothing', async () => {
    const r = await resolverFromEnv(base, { team: 'ops', readAirflowCfg: false, logger: silentLogger });
    expect((await r.getConnection('db'))?.host).toBe('global-host');
    await r.close();
  });
  it('the custom backend gets the team in its AdapterContext', async () => {
    const e = {
      ...base,
      AIRFLOW__CORE__MULTI_TEAM: 'true',
      AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ variables_file_path: path.join(tmp, 'vars.json') }),
    };
    writeFileSync(path.join(tmp, 'vars.json'), JSON.stringify({ k: 'global', ops___k: 'team' }), {
      mode: 0o600,
    });
    const r = await resolverFromEnv(e, { team: 'ops', readAirflowCfg: false, logger: silentLogger });
    expect(await r.getVariable('k')).toBe('team');
    await r.close();
  });
});
