/**
 * A Lambda-style handler that reads an Airflow connection through Airflow's chain, configured by
 * the environment alone (on MWAA: AIRFLOW__SECRETS__BACKEND=…SecretsManagerBackend and its
 * AIRFLOW__SECRETS__BACKEND_KWARGS). Bundled with esbuild (build.mjs) or rollup (rollup.config.mjs)
 * into one file that runs with no node_modules beside it. It returns no password.
 */
import { getConnectionOrThrow } from 'airflow-secrets';

/** @param {{ connId: string }} event */
export async function handler(event) {
  const c = await getConnectionOrThrow(event.connId);
  return { id: c.id, type: c.type, host: c.host, port: c.port, login: c.login };
}
