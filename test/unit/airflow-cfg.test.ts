import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memory } from '../../src/backends/memory.js';
import { expandEnvVars, loadAirflowCfg, parseAirflowCfg } from '../../src/config/airflow-cfg.js';
import { registerBackend, resolverFromEnv } from '../../src/config/index.js';
import { ConfigurationError } from '../../src/errors.js';

function home(cfg: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'af-cfg-'));
  writeFileSync(path.join(dir, 'airflow.cfg'), cfg);
  return dir;
}

describe('airflow.cfg', () => {
  it('parses sections, = and :, lower-cases keys, and joins indented continuation lines', () => {
    const s = parseAirflowCfg(
      '[core]\nDags_Folder = /dags\n# comment\n[secrets]\nbackend_kwargs: {"a":\n    1}\n',
      'f',
    );
    expect(s.get('core')?.get('dags_folder')).toBe('/dags');
    expect(s.get('secrets')?.get('backend_kwargs')).toBe('{"a":\n1}');
    expect(() => parseAirflowCfg('key = outside a section\n', 'airflow.cfg')).toThrow(ConfigurationError);
  });

  it('interpolates %% and %(name)s, then expands $VARS and ~ like Airflow', () => {
    const dir = home(
      '[DEFAULT]\nbase = /data\n[database]\nsql_alchemy_conn = postgresql://u:p%%40ss@$DB_HOST/%(base)s\n',
    );
    const cfg = loadAirflowCfg(path.join(dir, 'airflow.cfg'), { DB_HOST: 'db.internal' });
    expect(cfg.get('database', 'sql_alchemy_conn')).toBe('postgresql://u:p%40ss@db.internal//data');
    expect(expandEnvVars(['~', 'x', '$' + '{A}', '$B'].join('/'), { A: 'a' })).toBe(`${os.homedir()}/x/a/$B`);
  });

  it('configures the chain when the environment does not, and the environment wins', async () => {
    let kwargs: Record<string, unknown> = {};
    registerBackend('test.FromCfg', (k) => {
      kwargs = k;
      return memory({ name: 'from-cfg', variables: { v: 'cfg' } });
    });
    const dir = home(
      '[secrets]\nbackend = test.FromCfg\nbackend_kwargs = {"variables_prefix": "team"}\nuse_cache = True\ncache_ttl_seconds = 60\n',
    );
    const r = await resolverFromEnv({ AIRFLOW_HOME: dir });
    expect(r.backends.map((b) => b.name)).toEqual(['from-cfg', 'environment', 'metastore']);
    expect(kwargs).toEqual({ variables_prefix: 'team' });
    expect(await r.getVariable('v')).toBe('cfg');
    const overridden = await resolverFromEnv({
      AIRFLOW_HOME: dir,
      AIRFLOW__SECRETS__BACKEND_KWARGS: '{"x": 1}',
    });
    expect(overridden.backends[0]?.name).toBe('from-cfg');
    expect(kwargs).toEqual({ x: 1 });
    const ignored = await resolverFromEnv({ AIRFLOW_HOME: dir }, { readAirflowCfg: false });
    expect(ignored.backends.map((b) => b.name)).toEqual(['environment', 'metastore']);
  });

  it('runs a _cmd key from airflow.cfg for a sensitive setting', async () => {
    let kwargs: Record<string, unknown> = {};
    registerBackend('test.CfgCmd', (k) => {
      kwargs = k;
      return memory();
    });
    const dir = home(`[secrets]\nbackend = test.CfgCmd\nbackend_kwargs_cmd = printf '{"b": 2}'\n`);
    await resolverFromEnv({ AIRFLOW_HOME: dir });
    expect(kwargs).toEqual({ b: 2 });
  });

  it('reads the file named by AIRFLOW_CONFIG', async () => {
    registerBackend('test.Named', () => memory({ name: 'named' }));
    const dir = home('[secrets]\nbackend = test.Named\n');
    const r = await resolverFromEnv({
      AIRFLOW_HOME: mkdtempSync(path.join(os.tmpdir(), 'af-empty-')),
      AIRFLOW_CONFIG: path.join(dir, 'airflow.cfg'),
    });
    expect(r.backends[0]?.name).toBe('named');
  });
});
