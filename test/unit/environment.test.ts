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
