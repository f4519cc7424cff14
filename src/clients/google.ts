/**
 * `googleCredentials(conn)`: google-auth-library `GoogleAuth` options from a `google_cloud_platform`
 * connection, the way GoogleBaseHook.get_credentials_and_project_id reads it (`key_path`,
 * `keyfile_dict`, `credential_config_file`, `scope`, `project`, `impersonation_chain`,
 * `num_retries`, each also under its old `extra__google_cloud_platform__` name). docs/clients.md
 * lists each rule.
 */
import { existsSync } from 'node:fs';
import type { Connection } from '../connection.js';
import { ConfigurationError } from '../errors.js';
import {
  type ClientBuilderOptions,
  type Extras,
  extraError,
  extrasOf,
  hideSecrets,
  pyTruthy,
  requireConnType,
} from './common.js';

const FN = 'googleCredentials';
const PREFIX = 'extra__google_cloud_platform__';
const DEFAULT_SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

/** Options for `new GoogleAuth(...)`. `credentials` (a key's `private_key`) holds a secret. */
export interface GoogleCredentialsOptions {
  scopes: string[];
  projectId?: string;
  /** `key_path`, or a `credential_config_file` that names an existing file. */
  keyFilename?: string;
  /** `keyfile_dict`, or the JSON of `credential_config_file`. */
  credentials?: Record<string, unknown>;
  /** `impersonation_chain`: for `new Impersonated({ sourceClient, targetPrincipal, delegates, targetScopes })`. */
  impersonation?: { targetPrincipal: string; delegates: string[] };
  /** `num_retries` (default 5), for the caller's own retry policy. */
  numRetries: number;
}

/** GoogleBaseHook's `get_field`: the short name, else the prefixed one; `""` counts as absent. */
function field(x: Extras, name: string): unknown {
  x.use(name, PREFIX + name);
  const v = x.has(name) ? x.values[name] : x.values[PREFIX + name];
  return v === '' ? undefined : v;
}

export function googleCredentials(
  conn: Connection,
  options: ClientBuilderOptions = {},
): GoogleCredentialsOptions {
  requireConnType(FN, conn, ['google_cloud_platform']);
  const x = extrasOf(FN, conn, options);
  const keyPath = field(x, 'key_path');
  const keyfile = field(x, 'keyfile_dict');
  const configFile = field(x, 'credential_config_file');
  const secretName = field(x, 'key_secret_name');
  const anonymous = field(x, 'is_anonymous');
  const given = Object.entries({
    key_path: keyPath,
    keyfile_dict: keyfile,
    credential_config_file: configFile,
    key_secret_name: secretName,
    is_anonymous: anonymous,
  }).filter(([, v]) => pyTruthy(v));
  const idp = field(x, 'idp_issuer_url');
  if (given.length > 1) {
    throw new ConfigurationError(
      'extra',
      `${FN}: the \`keyfile_dict\`, \`key_path\`, \`credential_config_file\`, \`is_anonymous\` and \`key_secret_name\` fields are all mutually exclusive (connection '${conn.id}' sets ${given.map(([k]) => k).join(', ')}).`,
    );
  }
  for (const [key, v] of [
    ['key_secret_name', secretName],
    ['is_anonymous', anonymous],
    ['idp_issuer_url', idp],
  ] as const) {
    if (pyTruthy(v))
      throw extraError(
        FN,
        conn,
        key,
        'asks for a way of authenticating that googleCredentials does not build',
      );
  }
  const out: GoogleCredentialsOptions = { scopes: scopes(field(x, 'scope')), numRetries: numRetries(x) };
  if (pyTruthy(keyPath)) {
    const p = String(keyPath);
    if (p.endsWith('.p12'))
      throw extraError(FN, conn, 'key_path', 'names a legacy P12 key file; use a JSON key file');
    if (!p.endsWith('.json'))
      throw extraError(FN, conn, 'key_path', 'has an unrecognised extension (not .json)');
    out.keyFilename = p;
  } else if (pyTruthy(keyfile)) {
    const key = jsonObject(conn, 'keyfile_dict', keyfile, 'Invalid key JSON');
    if (typeof key.private_key === 'string') key.private_key = key.private_key.replaceAll('\\n', '\n');
    out.credentials = hideSecrets(key, ['private_key', 'client_secret', 'refresh_token']);
    if (typeof key.project_id === 'string') out.projectId = key.project_id;
  } else if (pyTruthy(configFile)) {
    if (typeof configFile === 'string' && existsSync(configFile)) out.keyFilename = configFile;
    else
      out.credentials = jsonObject(conn, 'credential_config_file', configFile, 'is neither a file nor JSON');
  }
  const chain = impersonation(field(x, 'impersonation_chain'));
  if (chain) out.impersonation = chain;
  const project = field(x, 'project');
  if (pyTruthy(project)) out.projectId = String(project);
  x.warnUnused();
  return hideSecrets(out, ['credentials']);
}

function jsonObject(conn: Connection, key: string, v: unknown, why: string): Record<string, unknown> {
  let o = v;
  if (typeof o === 'string') {
    try {
      o = JSON.parse(o);
    } catch {
      throw extraError(FN, conn, key, why);
    }
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw extraError(FN, conn, key, why);
  return { ...(o as Record<string, unknown>) };
}

/** `_get_scopes`: comma-separated and stripped, else cloud-platform. */
function scopes(v: unknown): string[] {
  return typeof v === 'string' && v ? v.split(',').map((s) => s.trim()) : [...DEFAULT_SCOPES];
}

/** A comma-separated string becomes a list; the last account is the target, the rest delegates. */
function impersonation(v: unknown): GoogleCredentialsOptions['impersonation'] {
  if (!pyTruthy(v)) return undefined;
  if (typeof v === 'string') {
    if (!v.includes(',')) return { targetPrincipal: v, delegates: [] };
    v = v.split(',').map((s) => s.trim());
  }
  if (!Array.isArray(v)) return undefined;
  const list = v.map(String);
  return { targetPrincipal: list[list.length - 1]!, delegates: list.slice(0, -1) };
}

function numRetries(x: Extras): number {
  const v = field(x, 'num_retries');
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return 5;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw extraError(FN, x.conn, 'num_retries', 'must be an integer');
  return n;
}
