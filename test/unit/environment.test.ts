import { describe, expect, it } from 'vitest';
import { environmentVariables, envVarName } from '../../src/backends/environment.js';
import { MalformedSecretError } from '../../src/errors.js';
import { runBackendConformance } from '../../src/testing/conformance.js';

describe('environmentVariables()', () => {
  it('upper-cases the id as Python str.upper() and changes nothing else', () => {
    expect(envVarName('connection', 'my_db')).toBe('AIRFLOW_CONN_MY_DB');
    expect(envVarName('variable', 'my-key.v2/x')).toBe('AIRFLOW_VAR_MY-KEY.V2/X');
    expect(envVarName('variable', 'straße')).toBe('AIRFLOW_VAR_STRASSE');
  });

  it('reads AIRFLOW_CONN_* as a URI, or as JSON when the trimmed value starts with {', async () => {
    const b = environmentVariables({
      env: {
        AIRFLOW_CONN_URI_DB: 'postgres://u:p@h:5432/s',
        AIRFLOW_CONN_JSON_DB: '  {"conn_type": "mysql", "host": "m", "port": "3306"}',
      },
    });
    expect((await b.getConnection('uri_db'))?.type).toBe('postgres');
    const j = await b.getConnection('JSON_db');
    expect(j?.type).toBe('mysql');
    expect(j?.port).toBe(3306);
  });

  it('treats an empty AIRFLOW_CONN_* as not found, but an empty AIRFLOW_VAR_* as the value ""', async () => {
    const b = environmentVariables({ env: { AIRFLOW_CONN_EMPTY: '', AIRFLOW_VAR_EMPTY: '' } });
    expect(await b.getConnection('empty')).toBeNull();
    expect(await b.getVariable('empty')).toBe('');
  });

  it('reports an unparseable connection as MalformedSecretError naming the id, not the value', async () => {
    const b = environmentVariables({ env: { AIRFLOW_CONN_BAD: 'postgres://u:hunter2secret@h:notaport/s' } });
    const err = await b.getConnection('bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect((err as Error).message).toContain("'bad'");
    expect((err as Error).message).not.toContain('hunter2secret');
  });

  it('reads process.env at lookup time by default', async () => {
    const b = environmentVariables();
    process.env.AIRFLOW_VAR_LATE_SET = 'later';
    try {
      expect(await b.getVariable('late_set')).toBe('later');
    } finally {
      delete process.env.AIRFLOW_VAR_LATE_SET;
    }
  });

  // Audit finding (issue 12 item 7): team names may hold a single `_` (Airflow's TEAM_NAME_PATTERN),
  // and the old check (`_[a-zA-Z0-9-]{3,50}___…`) let team `analytics` read team `my_team`'s secret.
  it("multi-team: an id naming another team's namespace is refused, team names with `_` included", async () => {
    const env = {
      AIRFLOW_CONN__MY_TEAM___DB: 'postgres://u:teamsecret@h/db',
      AIRFLOW_CONN__OTHER___DB: 'postgres://u:othersecret@h/db',
      AIRFLOW_CONN__AB___X: 'postgres://u:p@h/ab',
      AIRFLOW_VAR__MY_TEAM___K: 'team value',
      'AIRFLOW_VAR__MY_TEAM___\n': 'team value',
      AIRFLOW_VAR__A__B___K: 'no team: a__b is not a team name',
    };
    const b = environmentVariables({ env, team: 'analytics', multiTeam: true });
    expect(await b.getConnection('_my_team___db')).toBeNull();
    expect(await b.getConnection('_other___db')).toBeNull();
    expect(await b.getVariable('_my_team___k')).toBeNull();
    expect(await b.getVariable('_my_team___\n')).toBeNull();
    expect(environmentVariables({ env, multiTeam: true }).locate('connection', '_my_team___db')).toEqual({
      skip: expect.stringMatching(/team namespace/),
    });
    // `ab` is too short and `a__b` has two `_` in a row: no team can have these names.
    expect((await b.getConnection('_ab___x'))?.host).toBe('h');
    expect(await b.getVariable('_a__b___k')).toBe('no team: a__b is not a team name');
    // The team itself reads its own secrets by the bare id.
    const mine = environmentVariables({ env, team: 'my_team', multiTeam: true });
    expect((await mine.getConnection('db'))?.password).toBe('teamsecret');
    // Multi-team off: nothing is refused.
    expect(await environmentVariables({ env }).getVariable('_my_team___k')).toBe('team value');
  });

  it('has no config secrets and says so in locate()', () => {
    expect(environmentVariables({ env: {} }).locate('config', 'x')).toEqual({
      skip: 'the environment backend holds no config secrets',
    });
  });
});

runBackendConformance(
  { describe, it },
  {
    name: 'environment',
    create(seed) {
      const env: Record<string, string> = {};
      for (const [id, v] of Object.entries(seed.connections)) env[envVarName('connection', id)] = v;
      for (const [id, v] of Object.entries(seed.variables)) env[envVarName('variable', id)] = v;
      return environmentVariables({ env });
    },
  },
);
