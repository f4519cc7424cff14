import { afterEach, describe, expect, it } from 'vitest';
import { memory } from '../../src/backends/memory.js';
import {
  ConnectionNotFoundError,
  createResolver,
  getConnection,
  getConnectionOrThrow,
  getDefaultResolver,
  getVariable,
  getVariableOrThrow,
  resetDefaultResolver,
  setDefaultResolver,
  VariableNotFoundError,
} from '../../src/index.js';

const saved = { ...process.env };
afterEach(() => {
  resetDefaultResolver();
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('the default resolver behind the top-level functions', () => {
  it('is built once, lazily, from process.env', async () => {
    process.env.AIRFLOW_HOME = '/nonexistent-airflow-home';
    process.env.AIRFLOW_VAR_TOP_LEVEL = 'from-env';
    process.env.AIRFLOW_CONN_TOP_DB = 'postgres://u:p@h:5432/s';
    expect(await getVariable('top_level')).toBe('from-env');
    expect((await getConnection('top_db'))?.host).toBe('h');
    const first = await getDefaultResolver();
    expect(await getDefaultResolver()).toBe(first);
    expect(first.backends.map((b) => b.name)).toEqual(['environment', 'metastore']);
  });

  it('follows the null-vs-throw contract of the Airflow task SDK', async () => {
    setDefaultResolver(createResolver({ backends: [memory({ variables: { v: '{"n": 1}' } })] }));
    expect(await getVariable('missing')).toBeNull();
    expect(await getVariable('missing', { default: 'd' })).toBe('d');
    expect(await getVariable('v', { deserializeJson: true })).toEqual({ n: 1 });
    expect(await getConnection('missing')).toBeNull();
    await expect(getVariableOrThrow('missing')).rejects.toBeInstanceOf(VariableNotFoundError);
    await expect(getConnectionOrThrow('missing')).rejects.toBeInstanceOf(ConnectionNotFoundError);
  });

  it('can be replaced by a test resolver and reset to the environment again', async () => {
    process.env.AIRFLOW_HOME = '/nonexistent-airflow-home';
    process.env.AIRFLOW_VAR_WHO = 'env';
    setDefaultResolver(createResolver({ backends: [memory({ variables: { who: 'test' } })] }));
    expect(await getVariable('who')).toBe('test');
    resetDefaultResolver();
    expect(await getVariable('who')).toBe('env');
  });

  it('retries a failed build on the next call instead of caching the failure', async () => {
    process.env.AIRFLOW_HOME = '/nonexistent-airflow-home';
    process.env.AIRFLOW__SECRETS__BACKEND = 'no.such.Backend';
    await expect(getVariable('x')).rejects.toThrow(/AIRFLOW__SECRETS__BACKEND/);
    delete process.env.AIRFLOW__SECRETS__BACKEND;
    process.env.AIRFLOW_VAR_X = 'fixed';
    expect(await getVariable('x')).toBe('fixed');
  });
});
