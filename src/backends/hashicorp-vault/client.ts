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
import { serverText } from '../../masker.js';
import { importOptional } from '../../optional-import.js';
import { kwargSetting } from '../airflow-kwargs.js';
import { NETWORK_ERROR_CODES, networkReason } from '../base.js';
import {
  MAX_RESPONSE_BYTES,
  type VaultTransport,
  type VaultTransportSettings,
  vaultTransport,
} from './transport.js';

export const DRIVER_NAME = 'hashicorp-vault';

/** The part of a node-vault client this adapter uses. */
export interface VaultClient {
  token: string;
  read(path: string, requestOptions?: object): Promise<any>;
  /** Also used: `write` (KV writes, logins), `list` (the `LIST` verb, as hvac sends it), `delete`. */
  [login: string]: any;
}

/** What {@link createClient} reads (the adapter's options, documented in `./index.ts`). */
export interface VaultClientSettings {
  url?: string | undefined;
  namespace?: string | undefined;
  verify?: boolean | string | undefined;
  cert?: string | readonly [string, string] | undefined;
  allowRedirects?: boolean | undefined;
  strictHttp?: boolean | undefined;
  requestHeader?: boolean | undefined;
}

/** A node-vault client and the transport under it (whose `destroy` closes every socket). */
export interface OwnedClient {
  client: VaultClient;
  transport: VaultTransport;
}

/**
 * A new node-vault client with no token yet (node-vault is imported on first use), on our own
 * transport (`./transport.ts`: cancellable, bounded, no proxy, nothing read from the environment).
 * Everything node-vault would otherwise take from `process.env` (`VAULT_ADDR`, `VAULT_TOKEN`,
 * `VAULT_NAMESPACE`, `VAULT_PREFIX`, `VAULT_SKIP_VERIFY`) is set from the options, and its `debug`
 * logger (which prints login bodies under `DEBUG=node-vault`) is a no-op.
 */
export async function createClient(o: VaultClientSettings): Promise<OwnedClient> {
  const mod = await importOptional<any>('node-vault', DRIVER_NAME, () => import('node-vault'));
  const tls: VaultTransportSettings = {
    rejectUnauthorized: o.verify !== false,
    followRedirects: o.allowRedirects !== false,
    strictHttp: o.strictHttp === true,
    requestHeader: o.requestHeader !== false,
  };
  if (typeof o.verify === 'string') tls.ca = readSettingFile(o.verify, 'verify');
  if (o.cert !== undefined) {
    const [certFile, keyFile] = typeof o.cert === 'string' ? [o.cert, o.cert] : o.cert;
    tls.cert = readSettingFile(certFile, 'cert');
    tls.key = readSettingFile(keyFile, 'cert');
  }
  const transport = vaultTransport(tls);
  const c = (mod.default ?? mod)({
    apiVersion: 'v1',
    endpoint: o.url ?? 'http://localhost:8200',
    'request-promise': transport.requestPromise,
    debug: noDebug,
  }) as VaultClient;
  // node-vault falls back to process.env for these: only our settings count.
  c.token = '';
  c.namespace = o.namespace;
  c.pathPrefix = '';
  c.endpoint = (o.url ?? 'http://localhost:8200').replace(/\/$/, '');
  return { client: c, transport };
}

/** node-vault's `debug` replacement: it would print request bodies (KV writes and login secrets). */
function noDebug(): void {}

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

/** Where a failure happened, for its message: the Vault address and whether a token was sent. */
export interface VaultErrorContext {
  /** What was being done, in the message: `reading` (default), `writing`, `deleting`, `listing`. */
  verb?: string;
  url?: string | undefined;
  /** The token sent was empty (a token file with nothing in it). */
  noToken?: boolean;
}

/** Each HTTP status Vault answers with, in words (the message also gives the number). */
const STATUS_WORDS: Record<number, string> = {
  400: 'bad request',
  401: 'not authenticated',
  403: 'permission denied',
  405: 'operation not supported at this path',
  412: 'not yet replicated to this node',
  429: 'rate limited',
  473: 'refused by a performance standby',
  500: 'Vault server error',
  502: 'bad gateway (a proxy could not reach Vault)',
  503: 'Vault is unavailable (sealed, or in maintenance)',
  504: 'gateway timeout (a proxy got no answer from Vault)',
};

/**
 * A node-vault failure as a typed error whose message says why in words: what was being done
 * (`context.verb`, or the string given instead of a context), the classified status and its number, or the network failure (DNS, refused, reset, TLS) with the host. Vault's own text is
 * kept only through {@link serverText} (one line, capped, token-like strings, quoted or JSON
 * fragments and registered secrets masked): a Vault plugin or a proxy may echo the request.
 */
export function mapVaultError(name: string, e: unknown, context: VaultErrorContext | string = {}): Error {
  if (e instanceof BackendError || e instanceof ConfigurationError) return e;
  const ctx = typeof context === 'string' ? { verb: context } : context;
  const verb = ctx.verb ?? 'reading';
  const opts = { cause: safeCause(e), secretName: name };
  const code = (e as { code?: unknown })?.code;
  const s = status(e);
  if (s !== undefined) {
    const said = vaultSays((e as { response: { body?: unknown } }).response.body);
    const sealed = s === 503 && /\bsealed\b/i.test(said);
    const words = sealed ? 'Vault is sealed' : (STATUS_WORDS[s] ?? 'failed');
    const extra =
      (ctx.noToken ? '; no token was sent (the token or token file is empty)' : '') +
      (said && !said.toLowerCase().includes(words.toLowerCase()) ? `; Vault said: ${said}` : '');
    const msg = `${DRIVER_NAME}: ${words} (HTTP ${s}) ${verb} '${name}'${extra}`;
    if (s === 401 || s === 403) return new AccessDeniedError(DRIVER_NAME, msg, opts);
    if (s === 429) return new ThrottledError(DRIVER_NAME, msg, opts);
    if (s >= 500 || s === 412 || s === 473) return new BackendUnavailableError(DRIVER_NAME, msg, opts);
    return new BackendError(DRIVER_NAME, 'failed', msg, opts);
  }
  const at = ctx.url ? ` at ${origin(ctx.url)}` : '';
  if (code === 'ETIMEDOUT') {
    return new BackendTimeoutError(DRIVER_NAME, `${DRIVER_NAME}: no answer for '${name}' in time`, opts);
  }
  const network = networkReason(e);
  if (network !== undefined && typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) {
    return new BackendUnavailableError(
      DRIVER_NAME,
      `${DRIVER_NAME}: cannot reach Vault${at} for '${name}': ${network}`,
      opts,
    );
  }
  if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    const hint = 'set verify to the CA bundle that signed the Vault certificate';
    return new BackendError(
      DRIVER_NAME,
      'failed',
      `${DRIVER_NAME}: TLS failed${at} for '${name}' (${code}); ${hint}`,
      opts,
    );
  }
  if (code === 'ERESPONSETOOLARGE') {
    return new BackendError(
      DRIVER_NAME,
      'failed',
      `${DRIVER_NAME}: the answer for '${name}' is larger than ${MAX_RESPONSE_BYTES} bytes; the read was stopped`,
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

/** Vault's first error text, made safe: "1 error occurred:\n\t* permission denied\n\n" → "permission denied". */
function vaultSays(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  if (typeof first !== 'string') return '';
  return serverText(first.replace(/^\s*\d+ errors? occurred:\s*\*\s*/, ''));
}

/** The scheme, host and port of a URL (never its credentials or path). */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured url';
  }
}
