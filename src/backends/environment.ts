/**
 * Airflow's `EnvironmentVariablesBackend`: `AIRFLOW_CONN_<ID>` and `AIRFLOW_VAR_<KEY>`, with the id
 * upper-cased as Python's `str.upper()` does (no other change: `-`, `.` and `/` stay as they are).
 * A connection value is a URI, or JSON when its first non-blank character is `{`.
 */
import type { AdapterContext, SecretKind, SecretsBackend } from '../backend.js';
import { rawBackend } from './base.js';

const DRIVER_NAME = 'environment';

export interface EnvironmentBackendOptions {
  /** The environment to read. Default `process.env`, read at each lookup (so later changes are seen). */
  env?: Record<string, string | undefined>;
}

export function environmentVariables(options: EnvironmentBackendOptions = {}): SecretsBackend {
  const env = () => options.env ?? process.env;
  return rawBackend({
    name: DRIVER_NAME,
    locate: (kind, id) =>
      kind === 'config'
        ? { skip: 'the environment backend holds no config secrets' }
        : { name: envVarName(kind, id) },
    async fetch(name) {
      const v = env()[name];
      return v === undefined ? null : v;
    },
  });
}

/** Airflow's `EnvironmentVariablesBackend` takes no kwargs. */
export function fromAirflowKwargs(_kwargs: Record<string, unknown>, context: AdapterContext): SecretsBackend {
  return environmentVariables({ env: context.env });
}

const PREFIX: Record<SecretKind, string> = {
  connection: 'AIRFLOW_CONN_',
  variable: 'AIRFLOW_VAR_',
  config: 'AIRFLOW_CONFIG_',
};

/** The environment variable name Airflow reads for `id`. */
export function envVarName(kind: SecretKind, id: string): string {
  return PREFIX[kind] + pythonUpper(id);
}

/** Python's `str.upper()`: like `toUpperCase()`, which already maps `ß` → `SS` and `ﬁ` → `FI` the same way. */
export function pythonUpper(s: string): string {
  return s.toUpperCase();
}
