/**
 * boto3's `config_kwargs` and `use_ssl`, as Airflow's AWS backends pass them on
 * (src/backends/aws/botocore-config.ts): each key mapped onto the AWS SDK v3 or refused, none
 * only warned about. The mapped ones are checked on the options and, for `read_timeout`, on the
 * wire (the real SDK against a server on 127.0.0.1 that never answers).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../src/backend.js';
import { awsOptionsFromKwargs } from '../../src/backends/aws/common.js';
import { fromAirflowKwargs } from '../../src/backends/aws-secrets-manager/index.js';
import { BackendTimeoutError, ConfigurationError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { closed, type HostileServer, startHostileServer } from '../fakes/hostile-http.js';
import { rejection } from '../helpers/assertions.js';

const context: AdapterContext = { env: {}, logger: silentLogger } as AdapterContext;
const SM = { id: 'secretsmanager', envSuffix: 'SECRETS_MANAGER' };
const options = (kw: Record<string, unknown>) => awsOptionsFromKwargs(kw, context, SM);

const servers: HostileServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('config_kwargs → the AWS SDK', () => {
  it('maps connect_timeout, read_timeout, max_pool_connections, dualstack, FIPS and the user agent', () => {
    const o = options({
      config_kwargs: {
        connect_timeout: 2,
        read_timeout: 30,
        max_pool_connections: 4,
        use_dualstack_endpoint: true,
        use_fips_endpoint: false,
        user_agent_extra: 'team/etl',
        user_agent_appid: 'airflow-etl',
        signature_version: 'v4',
        tcp_keepalive: true,
        parameter_validation: false,
        retries: { max_attempts: 2 },
      },
    });
    expect(o).toMatchObject({
      connectTimeoutMs: 2000,
      readTimeoutMs: 30_000,
      maxSockets: 4,
      maxAttempts: 3,
      clientConfig: {
        useDualstackEndpoint: true,
        useFipsEndpoint: false,
        customUserAgent: 'team/etl',
        userAgentAppId: 'airflow-etl',
      },
    });
  });

  it.each([
    ['proxies', { https: 'http://u:secret-pw@proxy:3128' }],
    ['proxies_config', {}],
    ['client_cert', '/cert.pem'],
    ['region_name', 'eu-west-1'],
    ['user_agent', 'x'],
    ['s3', {}],
    ['inject_host_prefix', false],
    ['tcp_keepalive', false],
    ['signature_version', 's3v2'],
    ['read_timeout', 'soon'],
    ['max_pool_connections', 0],
    ['made_up', 1],
  ])('refuses config_kwargs.%s, naming it and never its value', (key, value) => {
    let err: unknown;
    try {
      options({ config_kwargs: { [key]: value } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(String(err)).toContain(`config_kwargs.${key}`);
    expect(String(err)).not.toContain('secret-pw');
  });

  it('use_ssl: true or, with an endpoint, false are accepted (botocore then ignores it); false alone is refused', () => {
    expect(() => options({ use_ssl: true })).not.toThrow();
    expect(() => options({ use_ssl: false, endpoint_url: 'http://127.0.0.1:1' })).not.toThrow();
    expect(() => options({ use_ssl: false })).toThrow(ConfigurationError);
    expect(() => options({ use_ssl: 'no' })).toThrow(ConfigurationError);
  });
});

describe('config_kwargs on the wire', () => {
  const backend = (url: string, config: Record<string, unknown>) =>
    fromAirflowKwargs(
      {
        endpoint_url: url,
        region_name: 'us-east-1',
        aws_access_key_id: 'AKIDTEST',
        aws_secret_access_key: 'test',
        config_kwargs: { retries: { total_max_attempts: 1 }, ...config },
      },
      context,
    );

  it('read_timeout ends an attempt on a silent socket long before the lookup deadline', async () => {
    const s = await startHostileServer('silent');
    servers.push(s);
    const b = backend(s.url, { read_timeout: 0.2 });
    try {
      const err = await rejection(b.getVariable('k'));
      expect(err).toBeInstanceOf(BackendTimeoutError);
      // The SDK's per-attempt timeout (TimeoutError), not the 10 s lookup deadline ("within 10000 ms").
      expect(err.message).toContain('(TimeoutError)');
      await closed(await s.connection(1));
    } finally {
      await b.close?.();
    }
  });
});
