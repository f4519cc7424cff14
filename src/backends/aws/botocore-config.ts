/**
 * The boto3 client settings Airflow's AWS backends pass on: `config_kwargs` (botocore's
 * `Config(**config_kwargs)`) and `use_ssl`. Each key is either mapped onto the AWS SDK v3 (see
 * {@link HONOURED}) or refused with a `ConfigurationError` naming it and saying why: none is
 * ignored, since behaviour would then differ from Airflow's without a word.
 */
import { ConfigurationError } from '../../errors.js';
import { kwargSetting, kwInt, kwObject } from '../airflow-kwargs.js';

/** What `config_kwargs` sets on the SDK client and its HTTP handler. */
export interface BotocoreSettings {
  /** `connect_timeout` (s → ms). */
  connectTimeoutMs?: number;
  /** `read_timeout` (s → ms): the socket's idle timeout per attempt (the SDK's `requestTimeout`). */
  readTimeoutMs?: number;
  /** `max_pool_connections`: sockets per agent. */
  maxSockets?: number;
  /** `use_dualstack_endpoint`, `use_fips_endpoint`, `user_agent_extra`, `user_agent_appid`. */
  clientConfig?: Record<string, unknown>;
}

/** The `config_kwargs` keys mapped onto the SDK (`retries` is read by the caller). */
const HONOURED = new Set([
  ...['retries', 'connect_timeout', 'read_timeout', 'max_pool_connections'],
  ...['use_dualstack_endpoint', 'use_fips_endpoint', 'user_agent_extra', 'user_agent_appid'],
  ...['signature_version', 'tcp_keepalive', 'parameter_validation'],
]);

/** Why a `config_kwargs` key botocore knows is refused. */
const REFUSED: Record<string, string> = {
  proxies: 'AWS calls are not sent through a proxy by this library (route them at the network level)',
  proxies_config: 'AWS calls are not sent through a proxy by this library',
  client_cert: 'client certificates (mutual TLS) are not supported for AWS calls',
  region_name: 'set region_name in backend_kwargs instead (it is used for every client)',
  user_agent: 'the AWS SDK for JavaScript cannot replace its User-Agent; use user_agent_extra',
  s3: 'S3 settings do not apply to Secrets Manager or Parameter Store',
  inject_host_prefix: 'the AWS SDK for JavaScript has no such setting',
};

const setting = (key: string) => kwargSetting(`config_kwargs.${key}`);

function seconds(config: Record<string, unknown>, key: string): number | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !(v > 0)) {
    throw new ConfigurationError(setting(key), `${setting(key)} must be a number of seconds above 0`);
  }
  return v * 1000;
}

function flag(config: Record<string, unknown>, key: string): boolean | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean')
    throw new ConfigurationError(setting(key), `${setting(key)} must be true or false`);
  return v;
}

function text(config: Record<string, unknown>, key: string): string | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigurationError(setting(key), `${setting(key)} must be a string`);
  return v;
}

/** Every key of `config_kwargs` refused unless {@link HONOURED}; the honoured ones as SDK settings. */
export function botocoreSettings(kw: Record<string, unknown>): BotocoreSettings {
  const config = kwObject(kw, 'config_kwargs') ?? {};
  for (const key of Object.keys(config)) {
    if (HONOURED.has(key)) continue;
    const why = REFUSED[key] ?? 'not a botocore Config setting this library maps onto the AWS SDK';
    throw new ConfigurationError(setting(key), `${setting(key)} is not supported: ${why}`);
  }
  const signature = text(config, 'signature_version');
  if (signature !== undefined && signature !== 'v4') {
    throw new ConfigurationError(
      setting('signature_version'),
      `${setting('signature_version')} is not supported other than 'v4' (Secrets Manager and Parameter Store sign with SigV4)`,
    );
  }
  if (flag(config, 'tcp_keepalive') === false) {
    throw new ConfigurationError(
      setting('tcp_keepalive'),
      `${setting('tcp_keepalive')} false is not supported: the connections are always kept alive`,
    );
  }
  flag(config, 'parameter_validation'); // no effect: the adapters send only valid parameters
  const out: BotocoreSettings = {};
  const connect = seconds(config, 'connect_timeout');
  if (connect !== undefined) out.connectTimeoutMs = connect;
  const read = seconds(config, 'read_timeout');
  if (read !== undefined) out.readTimeoutMs = read;
  const pool = kwInt(config, 'max_pool_connections');
  if (pool !== undefined) {
    if (pool < 1) {
      const key = setting('max_pool_connections');
      throw new ConfigurationError(key, `${key} must be at least 1`);
    }
    out.maxSockets = pool;
  }
  const client: Record<string, unknown> = {};
  const dualstack = flag(config, 'use_dualstack_endpoint');
  if (dualstack !== undefined) client.useDualstackEndpoint = dualstack;
  const fips = flag(config, 'use_fips_endpoint');
  if (fips !== undefined) client.useFipsEndpoint = fips;
  const extra = text(config, 'user_agent_extra');
  if (extra !== undefined) client.customUserAgent = extra;
  const appId = text(config, 'user_agent_appid');
  if (appId !== undefined) client.userAgentAppId = appId;
  if (Object.keys(client).length > 0) out.clientConfig = client;
  return out;
}

/**
 * `use_ssl` (popped by Airflow's backends and passed to `session.client`): botocore ignores it
 * when the endpoint is given (the URL's scheme decides), as here; `false` without an endpoint
 * would mean plain HTTP to AWS's own endpoint, which is refused.
 */
export function checkUseSsl(kw: Record<string, unknown>, endpoint: string | undefined): void {
  const v = kw.use_ssl;
  if (v === undefined || v === null || v === true) return;
  if (v !== false)
    throw new ConfigurationError(kwargSetting('use_ssl'), `${kwargSetting('use_ssl')} must be true or false`);
  if (!endpoint) {
    throw new ConfigurationError(
      kwargSetting('use_ssl'),
      `${kwargSetting('use_ssl')} false is not supported without endpoint_url: plain HTTP to AWS's own endpoints is refused (give endpoint_url with http:// for a local service)`,
    );
  }
}
