import { expandEnvVars, parseAirflowCfg } from '../../dist/config/airflow-cfg.js';
import { typed } from './_check.mjs';

const ENV = { HOME: '/home/fuzz', AIRFLOW_HOME: '/opt/airflow', X: 'x' };

/** `airflow.cfg` (configparser rules) and the `$VAR` expansion applied to its values. */
export function fuzz(data) {
  const text = data.toString('utf8');
  const sections = typed(() => parseAirflowCfg(text, 'airflow.cfg'));
  if (sections) for (const s of sections.values()) for (const v of s.values()) expandEnvVars(v, ENV);
  expandEnvVars(text, ENV);
}
