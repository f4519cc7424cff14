/**
 * The `backend_kwargs` Airflow's `AzureKeyVaultBackend` does not read itself: it passes every one
 * to `SecretClient(vault_url, credential, **kwargs)` (azure-keyvault-secrets and azure-core's
 * pipeline options). Each is mapped onto the JavaScript `SecretClient`'s options, or refused with
 * a `ConfigurationError` naming it and saying why; none is ignored (Python's client would use it,
 * or fail on a key it does not know).
 */
import { readFileSync } from 'node:fs';
import { ConfigurationError, safeCause } from '../../errors.js';
import { kwargSetting } from '../airflow-kwargs.js';

/** What the kwargs set: `SecretClient` options and the retry policy. */
export interface ClientKwargs {
  clientOptions?: Record<string, unknown>;
  retryOptions?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
}

/** The service versions the JavaScript client speaks (Python's `api_version` values). */
const API_VERSIONS = new Set(['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01']);

/** Why a pipeline kwarg Python's client takes is refused. */
const REFUSED: Record<string, string> = {
  headers: 'extra request headers are not supported by the JavaScript client options',
  user_agent_overwrite: 'the JavaScript client only prefixes its User-Agent (use user_agent)',
  logging_enable: "HTTP logging is the JavaScript SDK's AZURE_LOG_LEVEL, not a client option",
  logging_body: "HTTP logging is the JavaScript SDK's AZURE_LOG_LEVEL, not a client option",
  connection_timeout:
    'the JavaScript client has no connect timeout (the lookup deadline, timeoutMs, bounds each read)',
  read_timeout:
    'the JavaScript client has no read timeout (the lookup deadline, timeoutMs, bounds each read)',
  retry_connect: 'the JavaScript retry policy has one count for every kind of retry (use retry_total)',
  retry_read: 'the JavaScript retry policy has one count for every kind of retry (use retry_total)',
  retry_status: 'the JavaScript retry policy has one count for every kind of retry (use retry_total)',
  retry_on_status_codes: 'the JavaScript retry policy retries its own set of status codes',
  timeout: "the retry policy's overall timeout is the lookup deadline here (timeoutMs)",
  proxies:
    "a proxy is not supported for Key Vault calls (the SDK's proxy policy does not apply to this library's own connections)",
  connection_cert: 'client certificates (mutual TLS) are not supported for Key Vault calls',
  transport: 'a Python transport object cannot be given through backend_kwargs',
  policies: 'Python pipeline policies cannot be given through backend_kwargs',
  per_call_policies: 'Python pipeline policies cannot be given through backend_kwargs',
  per_retry_policies: 'Python pipeline policies cannot be given through backend_kwargs',
  authentication_policy: 'Python pipeline policies cannot be given through backend_kwargs',
  permit_redirects: 'redirects are handled by the JavaScript pipeline itself',
  redirect_max: 'redirects are handled by the JavaScript pipeline itself',
};

const bad = (key: string, why: string) =>
  new ConfigurationError(kwargSetting(key), `${kwargSetting(key)} ${why}`);

function seconds(v: unknown, key: string): number {
  if (typeof v !== 'number' || !(v >= 0)) throw bad(key, 'must be a number of seconds');
  return Math.round(v * 1000);
}

/** `connection_verify`: `false` skips TLS verification, a string is a CA bundle file. */
function tlsOptions(v: unknown): Record<string, unknown> | undefined {
  if (v === true) return undefined;
  if (v === false) return { rejectUnauthorized: false };
  if (typeof v !== 'string') throw bad('connection_verify', 'must be true, false or a CA bundle path');
  try {
    return { ca: readFileSync(v) };
  } catch (e) {
    throw new ConfigurationError(
      kwargSetting('connection_verify'),
      `Cannot read the CA bundle named by ${kwargSetting('connection_verify')}`,
      { cause: safeCause(e) },
    );
  }
}

/** Each retry kwarg onto the SDK's retry options. */
function retryKwarg(out: NonNullable<ClientKwargs['retryOptions']>, key: string, v: unknown): boolean {
  if (key === 'retry_total') {
    if (!Number.isInteger(v) || (v as number) < 0) throw bad(key, 'must be a whole number of retries');
    out.maxRetries = v as number;
  } else if (key === 'retry_backoff_factor') out.retryDelayInMs = seconds(v, key);
  else if (key === 'retry_backoff_max') out.maxRetryDelayInMs = seconds(v, key);
  else if (key === 'retry_mode') {
    if (v !== 'exponential' && v !== 'Exponential') throw bad(key, "is supported only as 'exponential'");
  } else return false;
  return true;
}

/** The kwargs not in `own` (the backend's own), as `SecretClient` options; any other is refused. */
export function clientKwargs(kwargs: Record<string, unknown>, own: ReadonlySet<string>): ClientKwargs {
  const client: Record<string, unknown> = {};
  const retry: NonNullable<ClientKwargs['retryOptions']> = {};
  for (const [key, v] of Object.entries(kwargs)) {
    if (own.has(key) || v === undefined || v === null || retryKwarg(retry, key, v)) continue;
    if (key === 'api_version') {
      if (typeof v !== 'string' || !API_VERSIONS.has(v)) {
        throw bad(
          key,
          `must be one of the versions the JavaScript client speaks: ${[...API_VERSIONS].join(', ')}`,
        );
      }
      client.serviceVersion = v;
    } else if (key === 'verify_challenge_resource') {
      if (typeof v !== 'boolean') throw bad(key, 'must be true or false');
      client.disableChallengeResourceVerification = !v;
    } else if (key === 'user_agent') {
      if (typeof v !== 'string') throw bad(key, 'must be a string');
      client.userAgentOptions = { userAgentPrefix: v };
    } else if (key === 'connection_verify') {
      const tls = tlsOptions(v);
      if (tls) client.tlsOptions = tls;
    } else {
      const why = REFUSED[key] ?? 'is not a SecretClient option this library maps onto the JavaScript client';
      throw bad(key, REFUSED[key] ? `is not supported: ${why}` : why);
    }
  }
  return {
    ...(Object.keys(client).length > 0 ? { clientOptions: client } : {}),
    ...(Object.keys(retry).length > 0 ? { retryOptions: retry } : {}),
  };
}
