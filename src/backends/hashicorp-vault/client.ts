/**
 * node-vault plumbing for the Vault adapter: building the client (endpoint, TLS, client certificate,
 * namespace), reading the files settings name, hvac's URL quoting, and the mapping of Vault/axios
 * errors onto typed errors. Logging in is `./auth.ts`; what is read where is `./index.ts`.
 */
import { readFileSync } from 'node:fs';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  describeError,
  safeCause,
  ThrottledError,
} from '../../errors.js';
import { importOptional } from '../../optional-import.js';
import { kwargSetting } from '../airflow-kwargs.js';
import { NETWORK_ERROR_CODES } from '../base.js';

export const DRIVER_NAME = 'hashicorp-vault';

/** The part of a node-vault client this adapter uses. */
export interface VaultClient {
  token: string;
  read(path: string): Promise<any>;
  /** Also used: `write` (KV writes, logins), `list` (the `LIST` verb, as hvac sends it), `delete`. */
  [login: string]: any;
}

/** What {@link createClient} reads (the adapter's options, documented in `./index.ts`). */
export interface VaultClientSettings {
  url?: string | undefined;
  namespace?: string | undefined;
  verify?: boolean | string | undefined;
  cert?: string | readonly [string, string] | undefined;
}

/** A new node-vault client with no token yet (node-vault is imported on first use). */
export async function createClient(o: VaultClientSettings, timeoutMs: number): Promise<VaultClient> {
  const mod = await importOptional<any>('node-vault', DRIVER_NAME, () => import('node-vault'));
  const requestOptions: Record<string, unknown> = { timeout: timeoutMs, strictSSL: o.verify !== false };
  if (typeof o.verify === 'string') requestOptions.ca = readSettingFile(o.verify, 'verify');
  if (o.cert !== undefined) {
    const [certFile, keyFile] = typeof o.cert === 'string' ? [o.cert, o.cert] : o.cert;
    requestOptions.cert = readSettingFile(certFile, 'cert');
    requestOptions.key = readSettingFile(keyFile, 'cert');
  }
  const c = (mod.default ?? mod)({
    apiVersion: 'v1',
    endpoint: o.url ?? 'http://localhost:8200',
    requestOptions,
    // node-vault's debug log (DEBUG=node-vault) prints request bodies: KV writes and login secrets.
    debug: () => {},
  }) as VaultClient;
  // node-vault falls back to process.env (VAULT_TOKEN, VAULT_NAMESPACE): only our settings count.
  c.token = '';
  c.namespace = o.namespace;
  return c;
}

/** Read the file a setting names (a CA bundle, a certificate, a token); failure names the setting. */
export function readSettingFile(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigurationError(
      kwargSetting(setting),
      `${DRIVER_NAME}: cannot read the file named by ${setting}`,
      {
        cause: safeCause(e),
      },
    );
  }
}

/** Python's `urllib.parse.quote(s, safe="/")`, as hvac builds KV URLs. */
export function quote(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The HTTP status of a node-vault error, when Vault answered. */
export function status(e: unknown): number | undefined {
  const s = (e as { response?: { statusCode?: unknown } })?.response?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** A node-vault or axios error → a typed error; `verb` says what was being done (default `reading`). */
export function mapVaultError(name: string, e: unknown, verb = 'reading'): Error {
  if (e instanceof BackendError || e instanceof ConfigurationError) return e;
  const opts = { cause: safeCause(e), secretName: name };
  const code = (e as { code?: string })?.code ?? '';
  const s = status(e);
  if (s !== undefined) {
    const errors = (e as { response: { body?: { errors?: unknown } } }).response.body?.errors;
    const said = Array.isArray(errors) && typeof errors[0] === 'string' ? `: ${vaultSays(errors[0])}` : '';
    const msg = `${DRIVER_NAME}: HTTP ${s} ${verb} '${name}'${said}`;
    if (s === 403) return new AccessDeniedError(DRIVER_NAME, msg, opts);
    if (s === 429) return new ThrottledError(DRIVER_NAME, msg, opts);
    if (s >= 500 || s === 412) return new BackendUnavailableError(DRIVER_NAME, msg, opts);
    return new BackendError(DRIVER_NAME, 'failed', msg, opts);
  }
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new BackendTimeoutError(DRIVER_NAME, `${DRIVER_NAME}: no answer for '${name}' in time`, opts);
  }
  if (NETWORK_ERROR_CODES.has(code)) {
    return new BackendUnavailableError(
      DRIVER_NAME,
      `${DRIVER_NAME}: cannot reach Vault for '${name}' (${code})`,
      opts,
    );
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    const hint = 'set verify to the CA bundle that signed the Vault certificate';
    return new BackendError(
      DRIVER_NAME,
      'failed',
      `${DRIVER_NAME}: TLS failed for '${name}' (${code}); ${hint}`,
      opts,
    );
  }
  return new BackendError(
    DRIVER_NAME,
    'failed',
    `${DRIVER_NAME}: ${verb} '${name}' failed (${describeError(e)})`,
    opts,
  );
}

/** Vault's first error text on one line: "1 error occurred:\n\t* permission denied\n\n" → "permission denied". */
function vaultSays(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/^\s*\d+ errors? occurred: \* /, '')
    .trim()
    .slice(0, 120);
}
