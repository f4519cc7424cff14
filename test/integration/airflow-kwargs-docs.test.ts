/**
 * The `backend_kwargs` JSON shown in the providers' public docs (and MWAA's), taken verbatim and run
 * through `backendFromClassPath` as `AIRFLOW__SECRETS__BACKEND` / `…_BACKEND_KWARGS` would: accepted
 * without warnings, secret names built as Airflow builds them, and values read from the local fakes
 * where the kwargs alone can reach them (AWS via `AWS_ENDPOINT_URL_*`, Vault via `url`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../src/backend.js';
import { backendFromClassPath } from '../../src/config/index.js';
import type { Logger } from '../../src/logger.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';

let aws: AwsFake;
let vault: VaultFake;
beforeAll(async () => {
  [aws, vault] = await Promise.all([startAwsFake(), startVaultFake()]);
});
afterAll(async () => {
  await Promise.all([aws.close(), vault.close()]);
});

function ctx(env: Record<string, string | undefined> = {}): AdapterContext & { warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = { debug: () => {}, error: () => {}, warn: (m) => warnings.push(m) };
  return { env, logger, warnings };
}

describe('documented backend_kwargs, verbatim', () => {
  it('MWAA: Secrets Manager prefixes plus the aws_default-skipping lookup pattern', async () => {
    aws.reset();
    aws.secrets.set('airflow/connections/my_pg', 'postgres://u:p@pg.internal:5432/app');
    aws.secrets.set('airflow/variables/env', 'prod');
    const c = ctx({
      AWS_ACCESS_KEY_ID: 'AKIDMWAA',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    });
    const b = await backendFromClassPath(
      'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
      JSON.parse(
        '{"connections_prefix" : "airflow/connections", "connections_lookup_pattern" : "^(?!aws_default$).*$", "variables_prefix" : "airflow/variables"}',
      ),
      c,
    );
    expect((await b.getConnection('my_pg'))?.host).toBe('pg.internal');
    expect(await b.getVariable('env')).toBe('prod');
    expect(await b.getConnection('aws_default')).toBeNull();
    expect(await b.getConnection('AWS_DEFAULT')).toBeNull(); // IGNORECASE
    expect(aws.requests.map((r) => r.body.SecretId)).toEqual([
      'airflow/connections/my_pg',
      'airflow/variables/env',
    ]);
    expect(c.warnings).toEqual([]);
    await b.close?.();
  });

  it('Amazon provider docs: SSM with variables turned off by null', async () => {
    aws.reset();
    aws.parameters.set('/airflow/connections/smtp_default', { value: 'smtp://u:p@mail:25' });
    const c = ctx({
      AWS_ACCESS_KEY_ID: 'A',
      AWS_SECRET_ACCESS_KEY: 'B',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SSM: aws.url,
    });
    const b = await backendFromClassPath(
      'airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend',
      JSON.parse('{"connections_prefix": "airflow/connections", "variables_prefix": null}'),
      c,
    );
    expect((await b.getConnection('smtp_default'))?.host).toBe('mail');
    expect(await b.getVariable('anything')).toBeNull();
    expect(aws.requests.map((r) => r.body.Name)).toEqual(['/airflow/connections/smtp_default']);
    expect(c.warnings).toEqual([]);
    await b.close?.();
  });

  it('Vault provider docstring: {connections_path, url, mount_point} with VAULT_TOKEN', async () => {
    vault.reset();
    vault.mount('airflow', 2);
    vault.put('airflow', 'connections/smtp_default', { conn_uri: 'smtp://u:p@mail:25' });
    const c = ctx({ VAULT_TOKEN: vault.rootToken });
    const b = await backendFromClassPath(
      'airflow.providers.hashicorp.secrets.vault.VaultBackend',
      JSON.parse(`{"connections_path": "connections", "url": "${vault.url}", "mount_point": "airflow"}`),
      c,
    );
    expect((await b.getConnection('smtp_default'))?.host).toBe('mail');
    expect(vault.reads()).toEqual(['airflow/data/connections/smtp_default']); // KV v2 by default
    expect(c.warnings).toEqual([]);
  });

  it('Google provider docs: prefixes, sep and project_id name secrets without stripping', async () => {
    const c = ctx();
    const b = await backendFromClassPath(
      'airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend',
      JSON.parse(
        '{"connections_prefix": "airflow-connections", "variables_prefix": "airflow-variables", "sep": "-", "project_id": "example-project"}',
      ),
      c,
    );
    expect(b.locate('connection', 'first_connection')).toEqual({
      name: 'airflow-connections-first_connection',
    });
    expect(b.locate('variable', 'first-variable')).toEqual({ name: 'airflow-variables-first-variable' });
    expect(b.locate('config', 'sql_alchemy_conn')).toEqual({ name: 'airflow-config-sql_alchemy_conn' });
    expect(c.warnings).toEqual([]);
  });

  it('Azure provider docs: prefixes and vault_url; every "_" becomes the separator', async () => {
    const c = ctx();
    const b = await backendFromClassPath(
      'airflow.providers.microsoft.azure.secrets.key_vault.AzureKeyVaultBackend',
      JSON.parse(
        '{"connections_prefix": "airflow-connections", "variables_prefix": "airflow-variables", "vault_url": "https://example-akv-resource-name.vault.azure.net/"}',
      ),
      c,
    );
    expect(b.locate('connection', 'smtp_default')).toEqual({ name: 'airflow-connections-smtp-default' });
    expect(b.locate('variable', 'hello')).toEqual({ name: 'airflow-variables-hello' });
    expect(c.warnings).toEqual([]);
  });
});
