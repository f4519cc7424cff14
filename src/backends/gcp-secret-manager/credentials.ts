/**
 * Credentials, project and client construction for the Google Cloud Secret Manager adapter
 * (Airflow's `get_credentials_and_project_id` as far as Node's google-auth-library allows).
 * Everything here runs on the first lookup except `checkCredentials` (pure, at construction).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { ConfigurationError, describeError, safeCause } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { importOptional } from '../../optional-import.js';
import { silenceAuthLibrary } from '../google/auth-log.js';

const DRIVER_NAME = 'gcp-secret-manager';
const SDK = '@google-cloud/secret-manager';

/** The credential, project and client settings of `GcpSecretManagerOptions` (`./index.ts`). */
export interface GcpCredentialOptions {
  /** Project holding the secrets. Default: the key's `project_id`, then `GOOGLE_CLOUD_PROJECT`/`GCLOUD_PROJECT`, then ADC. */
  projectId?: string | undefined;
  /** Service-account key file, `.json` (Airflow `gcp_key_path`). */
  keyFilename?: string | undefined;
  /** Service-account key as an object or JSON text (Airflow `gcp_keyfile_dict`). */
  credentials?: Record<string, unknown> | string | undefined;
  /** External-account credential config: a file path, JSON text or object (Airflow `gcp_credential_config_file`). */
  credentialConfigFile?: string | Record<string, unknown> | undefined;
  /** OAuth scopes. Default: the SDK's (`cloud-platform`). */
  scopes?: string[] | undefined;
  /** Service account to impersonate, or a chain whose last entry is the target (Airflow `impersonation_chain`). */
  impersonationChain?: string | string[] | undefined;
  /** More `SecretManagerServiceClient` options (`apiEndpoint`, `port`, `sslCreds`, `universeDomain`, …). */
  clientOptions?: Record<string, unknown> | undefined;
  /** A ready client; auth options are then unused. It is not closed by `close()`. */
  client?: GcpSecretManagerClient | undefined;
  /** Where `GOOGLE_CLOUD_PROJECT` and `GOOGLE_APPLICATION_CREDENTIALS` are read. Default `process.env`. */
  env?: Record<string, string | undefined> | undefined;
}

/** The part of `SecretManagerServiceClient` this adapter uses. */
export interface GcpSecretManagerClient {
  accessSecretVersion(request: { name: string }, options?: object): Promise<unknown>;
  getProjectId?(): Promise<string>;
  close?(): Promise<void>;
}

/** Maps an option name to the setting named in errors (a kwarg, or `gcp-secret-manager.<option>`). */
export type Setting = (option: keyof GcpCredentialOptions) => string;
type Sdk = { SecretManagerServiceClient: new (opts: object) => GcpSecretManagerClient };

/** No I/O: the key sources are exclusive (as in Airflow) and a key path must be `.json`. */
export function checkCredentials(o: GcpCredentialOptions, setting: Setting): void {
  const given = [o.keyFilename, o.credentials, o.credentialConfigFile].filter((v) => v !== undefined);
  if (given.length > 1) {
    throw new ConfigurationError(
      setting('keyFilename'),
      `${DRIVER_NAME}: gcp_key_path, gcp_keyfile_dict and gcp_credential_config_file are mutually exclusive; set only one`,
    );
  }
  if (o.keyFilename?.endsWith('.p12')) {
    throw new ConfigurationError(
      setting('keyFilename'),
      'Legacy P12 key file are not supported, use a JSON key file.',
    );
  }
  if (o.keyFilename !== undefined && !o.keyFilename.endsWith('.json')) {
    throw new ConfigurationError(setting('keyFilename'), 'Unrecognised extension for key file.');
  }
  const chain = o.impersonationChain;
  if (chain !== undefined && (chain.length === 0 || (Array.isArray(chain) && chain.some((p) => !p)))) {
    throw new ConfigurationError(
      setting('impersonationChain'),
      `${DRIVER_NAME}: impersonation_chain is empty`,
    );
  }
}

/** First lookup: read the key (for its project), load the SDK, build the one client, find the project. */
export async function openClient(
  o: GcpCredentialOptions,
  setting: Setting,
  log: { logger: Logger; backend: string },
  own: (c: GcpSecretManagerClient) => void,
): Promise<{ client: GcpSecretManagerClient; project: string }> {
  const auth: Record<string, unknown> = {};
  const env = o.env ?? process.env;
  let key: Record<string, unknown> | undefined;
  // ADC's first step, read from our env (which may come from an --env-file, not process.env).
  const adcFile = o.client ? undefined : env.GOOGLE_APPLICATION_CREDENTIALS;
  if (o.keyFilename !== undefined) {
    key = await readJson(o.keyFilename, setting('keyFilename'));
    auth.keyFilename = o.keyFilename;
  } else if (o.credentials !== undefined) {
    key = parseJson(o.credentials, setting('credentials'));
    auth.credentials = key;
  } else if (o.credentialConfigFile !== undefined) {
    const c = o.credentialConfigFile;
    if (typeof c === 'string' && !c.trim().startsWith('{')) {
      key = await readJson(c, setting('credentialConfigFile'));
      auth.keyFilename = c;
    } else {
      key = parseJson(c, setting('credentialConfigFile'));
      auth.credentials = key;
    }
  } else if (adcFile) {
    key = await readJson(adcFile, 'GOOGLE_APPLICATION_CREDENTIALS');
    auth.keyFilename = adcFile;
  }
  if (o.scopes) auth.scopes = o.scopes;
  const known =
    o.projectId ??
    (typeof key?.project_id === 'string' ? key.project_id : undefined) ??
    env.GOOGLE_CLOUD_PROJECT ??
    env.GCLOUD_PROJECT;
  if (known) auth.projectId = known;
  let client = o.client;
  if (!client) {
    const sdk = await importOptional<Sdk & { default?: Sdk }>(
      SDK,
      DRIVER_NAME,
      () => import('@google-cloud/secret-manager'),
    );
    const Client = sdk.SecretManagerServiceClient ?? sdk.default?.SecretManagerServiceClient;
    if (o.impersonationChain !== undefined) auth.authClient = await impersonated(o, auth, setting, log);
    // The universe from our env (gax would read process.env, then ask the metadata server).
    const universeDomain = env.GOOGLE_CLOUD_UNIVERSE_DOMAIN || 'googleapis.com';
    client = new Client({ ...auth, universeDomain, ...noProcessProxy(env), ...o.clientOptions });
    silenceRequestLogs(client);
    own(client);
  }
  if (known) return { client, project: known };
  let cause: unknown;
  try {
    const found = await client.getProjectId?.();
    if (found) return { client, project: found };
  } catch (e) {
    cause = safeCause(e);
  }
  throw new ConfigurationError(
    setting('projectId'),
    `${DRIVER_NAME}: Project ID could not be determined. Set project_id in the backend kwargs, use a key with a project_id, or set GOOGLE_CLOUD_PROJECT.`,
    { cause },
  );
}

/**
 * grpc-js takes a proxy from `grpc_proxy`/`https_proxy`/`http_proxy` in `process.env`. When the
 * environment we were given names none, it is told not to (a channel option), so a proxy set only
 * in the process does not redirect the reads. (A proxy named only in the given env cannot be
 * handed to grpc-js this way; it is used when the process has it too: docs/security.md.)
 */
function noProcessProxy(env: Record<string, string | undefined>): Record<string, unknown> {
  const names = ['grpc_proxy', 'https_proxy', 'http_proxy', 'HTTPS_PROXY', 'HTTP_PROXY'];
  return names.some((n) => env[n]) ? {} : { 'grpc.enable_http_proxy': 0 };
}

/**
 * Under `GOOGLE_SDK_NODE_LOGGING`, the generated client logs every response (secret payloads
 * included) and google-auth-library logs its token endpoints' answers (access tokens). Both loggers
 * are swapped for google-logging-utils' no-op `placeholder`: the client's own, and the static one of
 * the google-auth-library copy the SDK uses (process-wide for that copy; docs/security.md).
 */
function silenceRequestLogs(client: GcpSecretManagerClient): void {
  try {
    const gax = createRequire(createRequire(import.meta.url).resolve(SDK))('google-gax') as {
      loggingUtils?: { placeholder?: unknown };
      googleAuthLibrary?: { AuthClient?: { log?: unknown } };
    };
    const quiet = gax.loggingUtils?.placeholder;
    if (!quiet) return;
    (client as unknown as { _log?: unknown })._log = quiet;
    silenceAuthLibrary(gax.googleAuthLibrary, quiet);
  } catch {
    // an SDK layout without these loggers has nothing to silence
  }
}

/** Airflow's impersonation: a string is the target; a list's last entry is the target, the rest delegates. */
async function impersonated(
  o: GcpCredentialOptions,
  auth: Record<string, unknown>,
  setting: Setting,
  log: { logger: Logger; backend: string },
) {
  const chain =
    typeof o.impersonationChain === 'string' ? [o.impersonationChain] : (o.impersonationChain ?? []);
  let lib: {
    GoogleAuth: new (o: object) => { getClient(): Promise<unknown> };
    googleAuthLibrary: { Impersonated: new (o: object) => unknown };
  };
  try {
    // google-auth-library is reached through the SDK's own dependency (google-gax), not installed by us.
    lib = createRequire(createRequire(import.meta.url).resolve(SDK))('google-gax');
  } catch (e) {
    throw new ConfigurationError(
      setting('impersonationChain'),
      `${DRIVER_NAME}: impersonation_chain needs google-auth-library's Impersonated credentials, which could not be loaded through ${SDK}`,
      { cause: safeCause(e) },
    );
  }
  const sourceClient = await new lib.GoogleAuth({ ...auth }).getClient();
  const target = {
    targetPrincipal: chain[chain.length - 1],
    delegates: chain.slice(0, -1),
    targetScopes: o.scopes ?? ['https://www.googleapis.com/auth/cloud-platform'],
  };
  log.logger.debug(`${log.backend}: impersonating a service account`, {
    targetPrincipal: target.targetPrincipal,
    delegates: target.delegates,
    scopes: target.targetScopes,
  });
  return new lib.googleAuthLibrary.Impersonated({ sourceClient, ...target, lifetime: 3600 });
}

async function readJson(path: string, setting: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigurationError(
      setting,
      `${DRIVER_NAME}: cannot read the key file '${path}' (${describeError(e)})`,
      {
        cause: safeCause(e),
      },
    );
  }
  return parseJson(text, setting, `the key file '${path}'`);
}

function parseJson(
  v: string | Record<string, unknown>,
  setting: string,
  what = setting,
): Record<string, unknown> {
  if (typeof v !== 'string') return v;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new ConfigurationError(setting, `${DRIVER_NAME}: ${what} is not valid JSON`, {
      cause: safeCause(e),
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigurationError(setting, `${DRIVER_NAME}: ${what} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
