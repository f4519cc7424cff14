/**
 * Google Cloud Secret Manager, as Airflow's
 * `airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend`: the secret
 * `<prefix><sep><id>` (e.g. `airflow-connections-my_db`), version `latest`, in one project.
 * SDK: `@google-cloud/secret-manager` (gRPC), loaded on the first lookup; one client per backend.
 *
 * This file: the options, the naming, the read (with its retries) and the kwargs. Credentials, the
 * project and building the client are `./credentials.ts`.
 */
import { stringify } from 'node:querystring';
import type { AdapterContext, SecretKind, SecretsBackend } from '../../backend.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  describeError,
  MalformedSecretError,
  safeCause,
  ThrottledError,
} from '../../errors.js';
import { consoleLogger, type Logger } from '../../logger.js';
import { serverText } from '../../masker.js';
import { kwargSetting, kwObject, kwOptString, kwString } from '../airflow-kwargs.js';
import { type CallCancel, DEFAULT_TIMEOUT_MS, InFlightCalls, rawBackend, withDeadline } from '../base.js';
import { refusal } from '../confine.js';
import { activeTeam, buildPath, kindRules, locateWith, type TeamOptions, teamNaming } from '../naming.js';
import {
  checkCredentials,
  type GcpCredentialOptions,
  type GcpSecretManagerClient,
  openClient,
} from './credentials.js';
import { gcpWrites } from './write.js';

export type { GcpCredentialOptions, GcpSecretManagerClient } from './credentials.js';

const DRIVER_NAME = 'gcp-secret-manager';

/** The options; those of the credentials, the project and the client are in {@link GcpCredentialOptions}. */
export interface GcpSecretManagerOptions extends GcpCredentialOptions, TeamOptions {
  /** Prefix of connection secrets; `null` disables connections. Default `airflow-connections`. */
  connectionsPrefix?: string | null | undefined;
  /** Prefix of variable secrets; `null` disables variables. Default `airflow-variables`. */
  variablesPrefix?: string | null | undefined;
  /** Prefix of config secrets; `null` disables config. Default `airflow-config`. */
  configPrefix?: string | null | undefined;
  /** Between prefix and id. Default `-`. */
  sep?: string | undefined;
  /** Deadline of one lookup, retries included. Default `DEFAULT_TIMEOUT_MS` (10 s). */
  timeoutMs?: number | undefined;
  /** Retries of UNAVAILABLE / RESOURCE_EXHAUSTED answers within the deadline. Default 2. */
  maxRetries?: number | undefined;
  /** First retry delay in ms, doubled each retry. Default 250. */
  retryDelayMs?: number | undefined;
  logger?: Logger | undefined;
  /** Backend name in logs and `explain`. Default `gcp-secret-manager`. */
  name?: string | undefined;
  /**
   * Refuse ids holding `/` (a secret id cannot; in the resource name `projects/<p>/secrets/<id>` it
   * would address another path): `locate` skips them, saying why. Default `false` (Airflow
   * parity); the CLI turns it on.
   */
  confineIds?: boolean | undefined;
}

export function gcpSecretManager(options: GcpSecretManagerOptions = {}): SecretsBackend {
  return create(options, (o) => `${DRIVER_NAME}.${o}`);
}

/** Option → the kwarg of `CloudSecretManagerBackend` it comes from (also names settings in errors). */
const KWARG_OF: Partial<Record<keyof GcpSecretManagerOptions, string>> = {
  connectionsPrefix: 'connections_prefix',
  variablesPrefix: 'variables_prefix',
  configPrefix: 'config_prefix',
  projectId: 'project_id',
  keyFilename: 'gcp_key_path',
  credentials: 'gcp_keyfile_dict',
  credentialConfigFile: 'gcp_credential_config_file',
  scopes: 'gcp_scopes',
  impersonationChain: 'impersonation_chain',
};

/**
 * Airflow's `backend_kwargs` (snake_case, as `CloudSecretManagerBackend` takes them). `overrides`
 * are programmatic options laid over the result (e.g. `clientOptions` pointing at a test server).
 */
export function fromAirflowKwargs(
  kwargs: Record<string, unknown>,
  context: AdapterContext,
  overrides: Partial<GcpSecretManagerOptions> = {},
): SecretsBackend {
  const known = new Set([...Object.values(KWARG_OF), 'sep']);
  for (const k of Object.keys(kwargs)) {
    if (!known.has(k)) context.logger.warn(`${DRIVER_NAME}: ignoring unknown backend_kwargs key '${k}'`);
  }
  const opts: GcpSecretManagerOptions = {
    env: context.env,
    logger: context.logger,
    team: context.team,
    multiTeam: context.multiTeam,
  };
  if (context.confineIds) opts.confineIds = true;
  for (const k of ['connectionsPrefix', 'variablesPrefix', 'configPrefix'] as const) {
    const v = kwString(kwargs, KWARG_OF[k] as string, true);
    if (v !== undefined) opts[k] = v;
  }
  const put = <K extends keyof GcpSecretManagerOptions>(k: K, v: GcpSecretManagerOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  put('sep', kwString(kwargs, 'sep'));
  put('projectId', kwOptString(kwargs, 'project_id'));
  put('keyFilename', kwOptString(kwargs, 'gcp_key_path'));
  put('credentials', stringOrObject(kwargs, 'gcp_keyfile_dict'));
  put('credentialConfigFile', stringOrObject(kwargs, 'gcp_credential_config_file'));
  const scopes = kwargs.gcp_scopes;
  if (Array.isArray(scopes) && scopes.every((s) => typeof s === 'string')) put('scopes', scopes);
  else
    put(
      'scopes',
      kwOptString(kwargs, 'gcp_scopes')
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  const chain = kwargs.impersonation_chain;
  if (Array.isArray(chain)) {
    if (!chain.every((s) => typeof s === 'string')) stringListError('impersonation_chain');
    put('impersonationChain', chain as string[]);
  } else put('impersonationChain', kwOptString(kwargs, 'impersonation_chain'));
  return create({ ...opts, ...overrides }, (o) => kwargSetting(KWARG_OF[o] ?? o));
}

/** Maps an option name to the setting named in errors (a kwarg, or `gcp-secret-manager.<option>`). */
type Setting = (option: keyof GcpSecretManagerOptions) => string;

/** Both entry points: the backend, with errors naming settings through `setting`. */
function create(options: GcpSecretManagerOptions, setting: Setting): SecretsBackend {
  const name = options.name ?? DRIVER_NAME;
  const logger = options.logger ?? consoleLogger;
  const sep = options.sep ?? '-';
  const prefixes = prefixesOf(options, sep, setting);
  checkCredentials(options, setting);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const reader: Reader = {
    name,
    logger,
    maxRetries: options.maxRetries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 250,
  };

  let opened: Promise<{ client: GcpSecretManagerClient; project: string }> | undefined;
  const inFlight = new InFlightCalls();
  let owned: GcpSecretManagerClient | undefined;
  const connect = () => {
    opened ??= openClient(options, setting, { logger, backend: name }, (c) => (owned = c)).catch(
      (e: unknown) => {
        opened = undefined;
        throw e;
      },
    );
    return opened;
  };

  const team = activeTeam(options);
  const { locate, candidates } = gcpNaming(options, { name, logger, prefixes, sep, team });

  const writes = gcpWrites({
    backend: name,
    connect,
    bounded: (secretName, fn) => withDeadline(name, secretName, timeoutMs, () => fn(timeoutMs)),
    locate,
    candidates,
    head: (kind) => (prefixes[kind] === null ? null : buildPath(prefixes[kind], '', sep)),
    ...(team ? { teamHead: `${team}${TEAM_SEP}` } : {}),
  });
  const backend = rawBackend({
    name,
    locate,
    ...(team ? { candidates } : {}),
    fetch: (secretName, _kind, _id, fetchOptions) =>
      withDeadline(
        name,
        secretName,
        timeoutMs,
        async (cancel) => {
          const deadline = Date.now() + timeoutMs;
          const { client, project } = await connect();
          return inFlight.track(cancel, accessLatest(reader, client, project, secretName, deadline, cancel));
        },
        fetchOptions?.signal,
      ),
    async close() {
      const c = owned;
      owned = undefined;
      opened = undefined;
      inFlight.cancelAll();
      await c?.close?.();
    },
  });
  return { ...backend, ...writes };
}

/** The prefix of each kind (`null`: the kind is off), checked as Airflow checks them. */
function prefixesOf(
  options: GcpSecretManagerOptions,
  sep: string,
  setting: Setting,
): Record<SecretKind, string | null> {
  const prefixes: Record<SecretKind, string | null> = {
    connection: options.connectionsPrefix === undefined ? 'airflow-connections' : options.connectionsPrefix,
    variable: options.variablesPrefix === undefined ? 'airflow-variables' : options.variablesPrefix,
    config: options.configPrefix === undefined ? 'airflow-config' : options.configPrefix,
  };
  if (prefixes.connection !== null && !PREFIX_RE.test(prefixes.connection + sep)) {
    throw new ConfigurationError(
      setting('connectionsPrefix'),
      '`connections_prefix`, `variables_prefix` and `sep` should follows that pattern ^[a-zA-Z0-9-_]*$',
    );
  }
  return prefixes;
}

interface NamingParts {
  name: string;
  logger: Logger;
  prefixes: Record<SecretKind, string | null>;
  sep: string;
  team: string | undefined;
}

/**
 * Where each id is looked up: `<prefix><sep><id>` (Airflow's backend has no lookup patterns);
 * Airflow 3.2 multi-team: `build_path(prefix, team, sep) + "--" + id` first, `--` ids refused.
 */
function gcpNaming(options: GcpSecretManagerOptions, { name, logger, prefixes, sep, team }: NamingParts) {
  const rules = kindRules(prefixes, {}, 'prefix');
  return teamNaming({
    backend: name,
    logger,
    sep: TEAM_SEP,
    plain: (kind, id) =>
      locateWith(rules, kind, id, (p) => {
        const secretName = buildPath(p, id, sep);
        if (options.confineIds && id.includes('/')) {
          const at = 'projects/<project>/secrets/';
          return { skip: refusal(id, `${at}${p}${sep}`, `${at}${secretName}`) };
        }
        return { name: secretName };
      }),
    scoped: (kind, id) => (team ? `${buildPath(prefixes[kind]!, team, sep)}${TEAM_SEP}${id}` : null),
    refused: (_kind, id) => options.multiTeam === true && id.includes(TEAM_SEP),
  });
}

/**
 * One `accessSecretVersion(latest)` with our own retries of RESOURCE_EXHAUSTED / UNAVAILABLE
 * (exponential delay, within the deadline); NOT_FOUND is "not found", anything else a typed error.
 */
async function accessLatest(
  r: Reader,
  client: GcpSecretManagerClient,
  project: string,
  secretName: string,
  deadline: number,
  cancel: CallCancel,
): Promise<string | null> {
  const resource = `projects/${project}/secrets/${secretName}/versions/latest`;
  for (let attempt = 0; ; attempt++) {
    let reply: unknown;
    try {
      // Per-call deadline; gax's own retries are off (they would replace the status code with 4).
      const timeout = Math.max(1, deadline - Date.now());
      reply = await cancellableAccess(client, resource, { timeout, retry: { retryCodes: [] } }, cancel);
    } catch (e) {
      const code = grpcCode(e);
      if (code === NOT_FOUND) {
        r.logger.debug(`${r.name}: secret '${secretName}' not found`, { project });
        return null;
      }
      if (code !== undefined && RETRYABLE.has(code) && attempt < r.maxRetries && !cancel.aborted) {
        await pause(r.retryDelayMs * 2 ** attempt, cancel);
        if (!cancel.aborted) continue;
      }
      throw toBackendError(r.name, r.logger, secretName, project, code, e);
    }
    return decodePayload(r.name, secretName, reply);
  }
}

/** The generated client's own call, which gives gax's cancellable promise (its public method does not). */
interface InnerCalls {
  initialize?(): Promise<unknown>;
  innerApiCalls?: {
    accessSecretVersion?(request: object, options: object): Promise<unknown> & { cancel?(): void };
  };
}

/**
 * `accessSecretVersion`, cancelled when `cancel` fires. The SDK's public method wraps gax's call
 * in a plain promise (losing its `cancel()`) and logs the whole response, secret payload included,
 * under `GOOGLE_SDK_NODE_LOGGING`; so, when the client has them, this calls the generated
 * client's `innerApiCalls.accessSecretVersion` (with the routing header the public method adds)
 * and cancels the gRPC call itself. An injected client without them is called as given.
 */
async function cancellableAccess(
  client: GcpSecretManagerClient,
  resource: string,
  options: Record<string, unknown>,
  cancel: CallCancel,
): Promise<unknown> {
  const c = client as GcpSecretManagerClient & InnerCalls;
  if (typeof c.initialize === 'function') await c.initialize();
  if (cancel.aborted) throw new Error('cancelled before the call');
  const inner = c.innerApiCalls?.accessSecretVersion;
  if (typeof inner !== 'function') return client.accessSecretVersion({ name: resource }, options);
  const headers = { 'x-goog-request-params': stringify({ name: resource }) };
  const call = inner.call(c.innerApiCalls, { name: resource }, { ...options, otherArgs: { headers } });
  const off = cancel.onCancel(() => call.cancel?.());
  try {
    return await call;
  } finally {
    off();
  }
}

/** Wait `ms`, or less when `cancel` fires first. */
function pause(ms: number, cancel: CallCancel): Promise<void> {
  return new Promise((resolve) => {
    let off = (): void => undefined;
    const timer = setTimeout(() => {
      off();
      resolve();
    }, ms);
    off = cancel.onCancel(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** What {@link accessLatest} needs of the backend, built once per backend. */
interface Reader {
  name: string;
  logger: Logger;
  maxRetries: number;
  retryDelayMs: number;
}

/** Between the team and the id in a team-scoped name (Airflow 3.2's `TEAM_SEP`). */
const TEAM_SEP = '--';
const PREFIX_RE = /^[a-zA-Z0-9\-_]*\n?$/; // Python `re.match(r"^[a-zA-Z0-9-_]*$")`: `$` also matches before a final newline
/** gRPC status codes: NOT_FOUND is "not found"; RESOURCE_EXHAUSTED (8) and UNAVAILABLE (14) are retried. */
const NOT_FOUND = 5;
const RETRYABLE = new Set([8, 14]);
/** REST (gaxios) errors carry an HTTP status: the gRPC code it stands for. */
const HTTP_TO_GRPC: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 429: 8, 503: 14, 504: 4 };

/** `payload.data.decode("UTF-8")`; bytes that are not UTF-8 are a malformed secret, never quoted. */
function decodePayload(backend: string, secretName: string, reply: unknown): string {
  const res = (Array.isArray(reply) ? reply[0] : reply) as
    | { payload?: { data?: unknown } | null }
    | undefined;
  const data = res?.payload?.data;
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch (e) {
      throw new MalformedSecretError(backend, `${backend}: secret '${secretName}' is not valid UTF-8`, {
        cause: safeCause(e),
        secretName,
      });
    }
  }
  if (data === undefined || data === null) return '';
  throw new MalformedSecretError(backend, `${backend}: secret '${secretName}' has no readable payload`, {
    secretName,
  });
}

/** gRPC status code of an SDK error; REST (gaxios) errors carry the HTTP status instead. */
function grpcCode(e: unknown): number | undefined {
  const { code, status } = (e ?? {}) as { code?: unknown; status?: unknown };
  if (typeof code === 'number') return code < 100 ? code : HTTP_TO_GRPC[code];
  if (typeof status === 'number') return HTTP_TO_GRPC[status];
  return undefined;
}

function toBackendError(
  backend: string,
  logger: Logger,
  secretName: string,
  project: string,
  code: number | undefined,
  e: unknown,
): BackendError {
  const opts = { cause: e, secretName };
  const where = `secret '${secretName}' in project '${project}'`;
  switch (code) {
    case 16:
      return new AccessDeniedError(
        backend,
        `${backend}: not authenticated (UNAUTHENTICATED) reading ${where}; check gcp_key_path / gcp_keyfile_dict / gcp_credential_config_file or the default credentials`,
        opts,
      );
    case 7: {
      const msg = `${backend}: Google Cloud API Call Error (PermissionDenied): No access for ${where}. Did you add 'secretmanager.versions.access' permission?`;
      logger.error(msg, { backend, secretName, permission: 'secretmanager.versions.access' });
      return new AccessDeniedError(backend, msg, opts);
    }
    case 3: {
      const msg = `${backend}: Google Cloud API Call Error (InvalidArgument): Invalid secret ID '${secretName}'. Only ASCII alphabets (a-Z), numbers (0-9), dashes (-), and underscores (_) are allowed in the secret ID.`;
      logger.error(msg, { backend, secretName });
      return new BackendError(backend, 'failed', msg, opts);
    }
    case 8:
      return new ThrottledError(
        backend,
        `${backend}: quota exhausted (RESOURCE_EXHAUSTED) reading ${where}`,
        opts,
      );
    case 14:
      return new BackendUnavailableError(
        backend,
        `${backend}: service unavailable (UNAVAILABLE) reading ${where}${detailsOf(e)}`,
        opts,
      );
    case 4:
      return new BackendTimeoutError(
        backend,
        `${backend}: deadline exceeded (DEADLINE_EXCEEDED) reading ${where}`,
        opts,
      );
    default:
      if (code === undefined && /credential/i.test(String((e as Error)?.message))) {
        return new AccessDeniedError(
          backend,
          `${backend}: no usable Google credentials reading ${where}; set gcp_key_path / gcp_keyfile_dict / gcp_credential_config_file or configure Application Default Credentials`,
          opts,
        );
      }
      return new BackendError(
        backend,
        'failed',
        `${backend}: reading ${where} failed: ${describeError(e)}`,
        opts,
      );
  }
}

/**
 * gRPC's `details` of an UNAVAILABLE answer, made safe: grpc-js writes the connection failure there
 * (`No connection established. Last error: … ECONNREFUSED 127.0.0.1:443`), but a server can send
 * any text, so only {@link serverText} of it is kept.
 */
function detailsOf(e: unknown): string {
  const text = serverText((e as { details?: unknown } | null)?.details, 100);
  return text ? `: ${text}` : '';
}

function stringOrObject(
  kw: Record<string, unknown>,
  key: string,
): string | Record<string, unknown> | undefined {
  return typeof kw[key] === 'string' ? (kw[key] as string) : kwObject(kw, key);
}

function stringListError(key: string): never {
  throw new ConfigurationError(
    kwargSetting(key),
    `${kwargSetting(key)} must be a string or a list of strings`,
  );
}
