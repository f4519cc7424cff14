import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolverFromEnv } from '../../dist/config/index.js';
import { silentLogger } from '../../dist/logger.js';
import { typedAsync } from './_check.mjs';

const HOME = mkdtempSync(join(tmpdir(), 'fuzz-kwargs-'));
const BACKENDS = [
  'airflow.secrets.local_filesystem.LocalFilesystemBackend',
  'airflow.providers.hashicorp.secrets.vault.VaultBackend',
  'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
  'airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend',
  'airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend',
  'airflow.providers.microsoft.azure.secrets.key_vault.AzureKeyVaultBackend',
];

/**
 * `AIRFLOW__SECRETS__BACKEND_KWARGS` through `resolverFromEnv`: byte 0 picks the backend class, the
 * rest is the kwargs text. Building the chain must give a resolver or a typed error, and open no
 * socket (the check module makes any connection attempt a finding).
 */
export async function fuzz(data) {
  if (data.length === 0) return;
  const env = {
    AIRFLOW_HOME: HOME,
    AIRFLOW__SECRETS__BACKEND: BACKENDS[data[0] % BACKENDS.length],
    AIRFLOW__SECRETS__BACKEND_KWARGS: data.subarray(1).toString('utf8'),
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${HOME}/unused.db`,
  };
  const r = await typedAsync(() => resolverFromEnv(env, { logger: silentLogger, readAirflowCfg: false }));
  if (r) await r.close();
}
