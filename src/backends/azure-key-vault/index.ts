/**
 * Azure Key Vault, as Airflow's `airflow.providers.microsoft.azure.secrets.key_vault.AzureKeyVaultBackend`:
 * the secret `<prefix><sep><id>` with every `_` replaced by `sep` (e.g. `airflow-connections-my-db`),
 * latest version. SDKs `@azure/keyvault-secrets` + `@azure/identity`, loaded on the first lookup;
 * one credential and one `SecretClient` per backend.
 */
import http from 'node:http';
import https from 'node:https';
import type { AdapterContext, SecretKind, SecretsBackend } from '../../backend.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  describeError,
  ThrottledError,
} from '../../errors.js';
import { consoleLogger, type Logger } from '../../logger.js';
import { serverText } from '../../masker.js';
import { importOptional } from '../../optional-import.js';
import { kwargSetting, kwOptString, kwString } from '../airflow-kwargs.js';
import {
  type CallCancel,
  DEFAULT_TIMEOUT_MS,
  InFlightCalls,
  networkReason,
  rawBackend,
  withDeadline,
} from '../base.js';
import { activeTeam, kindRules, locateWith, type TeamOptions, teamNaming } from '../naming.js';
import { clientKwargs } from './client-kwargs.js';
import { type AzureWriteClient, azureWrites } from './write.js';

const DRIVER_NAME = 'azure-key-vault';

export interface AzureKeyVaultOptions extends TeamOptions {
  /** The vault, e.g. `https://my-vault.vault.azure.net/` (Airflow `vault_url`). Required unless `client` is given. */
  vaultUrl?: string | undefined;
  /** Prefix of connection secrets; `null` disables connections. Default `airflow-connections`. */
  connectionsPrefix?: string | null | undefined;
  /** Prefix of variable secrets; `null` disables variables. Default `airflow-variables`. */
  variablesPrefix?: string | null | undefined;
  /** Prefix of config secrets; `null` disables config. Default `airflow-config`. */
  configPrefix?: string | null | undefined;
  /** Between prefix and id, and the replacement for every `_`. Default `-`. */
  sep?: string | undefined;
  /** With `clientId` and `clientSecret`: a service principal (`ClientSecretCredential`). */
  tenantId?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** With `workloadIdentityTenantId`: the user-assigned identity `DefaultAzureCredential` uses. */
  managedIdentityClientId?: string | undefined;
  workloadIdentityTenantId?: string | undefined;
  /** A ready `TokenCredential`; the options above are then unused. */
  credential?: object | undefined;
  /** More options for the credential (`authorityHost`, `tlsOptions`, `disableInstanceDiscovery`, …). */
  credentialOptions?: Record<string, unknown> | undefined;
  /** More `SecretClient` options (`tlsOptions`, `serviceVersion`, `disableChallengeResourceVerification`, …). */
  clientOptions?: Record<string, unknown> | undefined;
  /** The SDK's retry policy (429, 408, 5xx, network). Default: the SDK's (3 retries, exponential from 1 s). */
  retryOptions?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number } | undefined;
  /** A ready `SecretClient` (or anything with `getSecret`). */
  client?: AzureSecretClient | undefined;
  /** Deadline of one lookup (token + request + retries), passed to the SDK as `abortSignal`. Default 10 s. */
  timeoutMs?: number | undefined;
  logger?: Logger | undefined;
  /** Backend name in logs and `explain`. Default `azure-key-vault`. */
  name?: string | undefined;
  /**
   * Where the proxy (`HTTPS_PROXY`, `HTTP_PROXY`) and `AZURE_AUTHORITY_HOST` are read, instead of
   * the SDK reading `process.env`. Default `process.env`. (`fromAirflowKwargs`: the resolver's env.)
   */
  env?: Record<string, string | undefined> | undefined;
}

/** The part of `SecretClient` this adapter uses (lookups need only `getSecret`). */
export type AzureSecretClient = AzureWriteClient;

export function azureKeyVault(options: AzureKeyVaultOptions): SecretsBackend {
  return create(options, (o) => `${DRIVER_NAME}.${o}`);
}

/** Option → the kwarg of `AzureKeyVaultBackend` it comes from (also names settings in errors). */
const KWARG_OF: Partial<Record<keyof AzureKeyVaultOptions, string>> = {
  vaultUrl: 'vault_url',
  connectionsPrefix: 'connections_prefix',
  variablesPrefix: 'variables_prefix',
  configPrefix: 'config_prefix',
  sep: 'sep',
  tenantId: 'tenant_id',
  clientId: 'client_id',
  clientSecret: 'client_secret',
  managedIdentityClientId: 'managed_identity_client_id',
  workloadIdentityTenantId: 'workload_identity_tenant_id',
};

/**
 * Airflow's `backend_kwargs` (snake_case, as `AzureKeyVaultBackend` takes them). `overrides` are
 * programmatic options laid over the result (e.g. `credentialOptions` for a private authority).
 */
export function fromAirflowKwargs(
  kwargs: Record<string, unknown>,
  context: AdapterContext,
  overrides: Partial<AzureKeyVaultOptions> = {},
): SecretsBackend {
  const opts: AzureKeyVaultOptions = {
    logger: context.logger,
    env: context.env,
    team: context.team,
    multiTeam: context.multiTeam,
  };
  // The rest go to SecretClient in Airflow: mapped onto its options here, or refused.
  const passed = clientKwargs(kwargs, new Set(Object.values(KWARG_OF)));
  for (const [option, kwarg] of Object.entries(KWARG_OF) as [keyof AzureKeyVaultOptions, string][]) {
    const prefix = option.endsWith('Prefix');
    const v = prefix ? kwString(kwargs, kwarg, true) : kwOptString(kwargs, kwarg);
    if (v !== undefined) (opts as Record<string, unknown>)[option] = v;
  }
  const clientOptions = { ...passed.clientOptions, ...overrides.clientOptions };
  const merged: AzureKeyVaultOptions = {
    ...opts,
    ...(passed.retryOptions ? { retryOptions: passed.retryOptions } : {}),
    ...overrides,
  };
  if (Object.keys(clientOptions).length > 0) merged.clientOptions = clientOptions;
  return create(merged, (o) => kwargSetting(KWARG_OF[o] ?? o));
}

/** Maps an option name to the setting named in errors (a kwarg, or `azure-key-vault.<option>`). */
type Setting = (option: keyof AzureKeyVaultOptions) => string;

/** Both entry points: the backend, with errors naming settings through `setting`. */
function create(options: AzureKeyVaultOptions, setting: Setting): SecretsBackend {
  const name = options.name ?? DRIVER_NAME;
  const logger = options.logger ?? consoleLogger;
  const sep = options.sep ?? '-';
  const vaultUrl = options.vaultUrl ?? '';
  if (!vaultUrl && !options.client) {
    throw new ConfigurationError(
      setting('vaultUrl'),
      `${name}: vault_url is required (e.g. https://<vault-name>.vault.azure.net/)`,
    );
  }
  const prefixes = kindPrefixes(options, sep);
  const rules = kindRules(prefixes, {}, 'prefix'); // Airflow's backend has no lookup patterns
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  let client: Promise<AzureSecretClient> | undefined;
  const agents = new Set<http.Agent>();
  const inFlight = new InFlightCalls();
  const connect = () => {
    client ??= open(options, vaultUrl, logger, agents).catch((e: unknown) => {
      client = undefined;
      throw e;
    });
    return client;
  };

  const { build, team, locate, candidates } = azureNaming(options, { name, logger, sep, prefixes, rules });

  const writes = azureWrites({
    backend: name,
    connect,
    bounded: (secretName, fn) =>
      withDeadline(name, secretName, timeoutMs, (cancel) =>
        inFlight.track(cancel, fn(abortSignalOf(cancel))),
      ),
    mapError: (secretName, e, verb) => toBackendError(name, secretName, vaultUrl, e, verb),
    locate,
    candidates,
    head: (kind) => (prefixes[kind] === null ? null : build(prefixes[kind], '')),
    ...(team ? { teamHead: `${build('', team)}${TEAM_SEP}` } : {}),
    sep,
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
        (cancel) => readSecret({ name, vaultUrl, logger, connect, inFlight }, secretName, cancel),
        fetchOptions?.signal,
      ),
    async close() {
      client = undefined;
      inFlight.cancelAll();
      for (const a of agents) a.destroy();
      agents.clear();
    },
  });
  return { ...backend, ...writes };
}

/** The prefix of each kind: the option, `sep` stripped off its end as Airflow does, or the default. */
function kindPrefixes(options: AzureKeyVaultOptions, sep: string): Record<SecretKind, string | null> {
  const prefix = (p: string | null | undefined, dflt: string) =>
    p === undefined ? dflt : p === null ? null : p ? pyRstrip(p, sep) : p;
  return {
    connection: prefix(options.connectionsPrefix, 'airflow-connections'),
    variable: prefix(options.variablesPrefix, 'airflow-variables'),
    config: prefix(options.configPrefix, 'airflow-config'),
  };
}

/** The names a lookup reads: Airflow's `build_path` (`_` → `sep`), with multi-team scoping and refusals. */
function azureNaming(
  options: AzureKeyVaultOptions,
  b: {
    name: string;
    logger: Logger;
    sep: string;
    prefixes: Record<SecretKind, string | null>;
    rules: ReturnType<typeof kindRules>;
  },
) {
  const { name, logger, sep, prefixes, rules } = b;
  // Airflow's override of build_path: every `_` in the whole name becomes `sep`.
  const build = (p: string, id: string) => (p === '' ? id : `${p}${sep}${id}`).replaceAll('_', sep);
  const team = activeTeam(options);
  // Airflow 3.2 multi-team: `<prefix>-<team>--<id>` (with `_` → sep) first; without a team, an id
  // that reads as a team-scoped one (`[^sep]+--.+` once normalised) is refused.
  const teamShaped = new RegExp(`^[^${escapeRegExp(sep)}]+${TEAM_SEP}[^\n]+$`);
  const { locate, candidates } = teamNaming({
    backend: name,
    logger,
    sep: TEAM_SEP,
    plain: (kind, id) => locateWith(rules, kind, id, (p) => ({ name: build(p, id) })),
    scoped: (kind, id) =>
      team ? build(prefixes[kind]!, `${build('', team)}${TEAM_SEP}${id.replaceAll('_', sep)}`) : null,
    refused: (_kind, id) => options.multiTeam === true && !team && teamShaped.test(id.replaceAll('_', sep)),
  });
  return { build, team, locate, candidates };
}

/** One `getSecret` (latest version) under `cancel`: its value, `null` when not found (404, logged at debug). */
async function readSecret(
  b: {
    name: string;
    vaultUrl: string;
    logger: Logger;
    connect: () => Promise<AzureSecretClient>;
    inFlight: InFlightCalls;
  },
  secretName: string,
  cancel: CallCancel,
): Promise<string | null> {
  const c = await b.connect();
  try {
    const abortSignal = abortSignalOf(cancel);
    const secret = await b.inFlight.track(cancel, c.getSecret(secretName, { abortSignal }));
    return typeof secret.value === 'string' ? secret.value : null;
  } catch (e) {
    const err = toBackendError(b.name, secretName, b.vaultUrl, e);
    if (err) throw err;
    b.logger.debug(`${b.name}: secret '${secretName}' not found`, { vaultUrl: b.vaultUrl });
    return null;
  }
}

type Sdk = { SecretClient: new (url: string, credential: object, options: object) => AzureSecretClient };
type Identity = {
  ClientSecretCredential: new (t: string, c: string, s: string, o: object) => object;
  DefaultAzureCredential: new (o: object) => object;
};

/** A real `AbortSignal` that aborts with `cancel` (the SDK subscribes with addEventListener). */
function abortSignalOf(cancel: CallCancel): AbortSignal {
  const ac = new AbortController();
  cancel.onCancel(() => ac.abort());
  return ac.signal;
}

/**
 * First lookup: load the SDKs, choose the credential as Airflow does, build the one client. The
 * client and the credential send through keep-alive agents of ours (`agents`, destroyed by
 * `close()`), and get the proxy and authority host from `o.env` rather than `process.env`.
 */
async function open(
  o: AzureKeyVaultOptions,
  vaultUrl: string,
  logger: Logger,
  agents: Set<http.Agent>,
): Promise<AzureSecretClient> {
  if (o.client) return o.client;
  const env = o.env ?? process.env;
  const proxyOptions = proxyFrom(env);
  if (proxyOptions && !o.clientOptions?.agent) {
    // The SDK's proxy policy steps aside for a request that has an agent, and every request here
    // has one of ours (so close() can destroy its sockets): the proxy is not used. Say so.
    logger.warn(
      `${o.name ?? DRIVER_NAME}: HTTPS_PROXY/HTTP_PROXY is set but not applied: this backend connects to the vault and the authority host directly`,
    );
  }
  const agent = (url: string, tls: unknown): http.Agent => {
    const a = url.startsWith('http:')
      ? new http.Agent({ keepAlive: true })
      : new https.Agent({ keepAlive: true, ...(tls as https.AgentOptions | undefined) });
    agents.add(a);
    return a;
  };
  const { SecretClient } = await importOptional<Sdk>(
    '@azure/keyvault-secrets',
    DRIVER_NAME,
    () => import('@azure/keyvault-secrets'),
  );
  const credential = o.credential ?? (await chooseCredential(o, env, logger, agent, proxyOptions));
  const clientOptions = {
    agent: agent(vaultUrl, o.clientOptions?.tlsOptions),
    ...(proxyOptions ? { proxyOptions } : {}),
    ...o.clientOptions,
    ...(o.retryOptions ? { retryOptions: o.retryOptions } : {}),
  };
  const client = new SecretClient(vaultUrl, credential, clientOptions);
  // No proxy in `env`: drop the policy that would take one from process.env.
  if (!proxyOptions && !o.clientOptions?.proxyOptions) {
    type Pipeline = { removePolicy(p: { name: string }): unknown };
    (client as { client?: { pipeline?: Pipeline } }).client?.pipeline?.removePolicy({ name: 'proxyPolicy' });
  }
  return client;
}

/** The credential Airflow's `AzureKeyVaultBackend` would choose from the same kwargs. */
async function chooseCredential(
  o: AzureKeyVaultOptions,
  env: Record<string, string | undefined>,
  logger: Logger,
  agent: (url: string, tls: unknown) => http.Agent,
  proxyOptions: Record<string, unknown> | undefined,
): Promise<NonNullable<AzureKeyVaultOptions['credential']>> {
  const name = o.name ?? DRIVER_NAME;
  const identity = await importOptional<Identity>(
    '@azure/identity',
    DRIVER_NAME,
    () => import('@azure/identity'),
  );
  const given = o.credentialOptions ?? {};
  const authorityHost = (given.authorityHost as string | undefined) ?? env.AZURE_AUTHORITY_HOST;
  const extra: Record<string, unknown> = {
    agent: agent(authorityHost ?? 'https:', given.tlsOptions),
    authorityHost: authorityHost ?? 'https://login.microsoftonline.com',
    ...(proxyOptions ? { proxyOptions } : {}),
    ...given,
  };
  if (o.tenantId && o.clientId && o.clientSecret) {
    logger.debug(`${name}: using ClientSecretCredential`, { tenantId: o.tenantId, clientId: o.clientId });
    return new identity.ClientSecretCredential(o.tenantId, o.clientId, o.clientSecret, extra);
  } else if (o.managedIdentityClientId && o.workloadIdentityTenantId) {
    const tenant = o.workloadIdentityTenantId;
    logger.debug(`${name}: using DefaultAzureCredential with a managed identity`, {
      managedIdentityClientId: o.managedIdentityClientId,
      workloadIdentityTenantId: tenant,
    });
    return new identity.DefaultAzureCredential({
      ...extra,
      managedIdentityClientId: o.managedIdentityClientId,
      workloadIdentityClientId: o.managedIdentityClientId,
      tenantId: tenant,
      additionallyAllowedTenants: [tenant],
    });
  } else {
    if (
      o.tenantId ||
      o.clientId ||
      o.clientSecret ||
      o.managedIdentityClientId ||
      o.workloadIdentityTenantId
    ) {
      logger.warn(
        `${name}: tenant_id/client_id/client_secret are used only all together, and managed_identity_client_id only with workload_identity_tenant_id (as in Airflow); falling back to DefaultAzureCredential`,
      );
    }
    logger.debug(`${name}: using DefaultAzureCredential`);
    return new identity.DefaultAzureCredential(extra);
  }
}

/** `HTTPS_PROXY` (then `HTTP_PROXY`, either case) from `env`, as the SDK's proxy settings. */
function proxyFrom(env: Record<string, string | undefined>): Record<string, unknown> | undefined {
  const raw = env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy;
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    return {
      host: `${u.protocol}//${u.hostname}`,
      port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80),
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Credential errors of @azure/identity: no token could be had (→ AccessDeniedError). */
const AUTH_ERRORS = new Set([
  'AuthenticationError',
  'AuthenticationRequiredError',
  'AggregateAuthenticationError',
  'CredentialUnavailableError',
]);

/** What the identity needs for each kind of call (Azure RBAC role, or access-policy permission). */
const NEEDS: Record<string, string> = {
  reading: "the 'Key Vault Secrets User' role or a 'get' secret access policy",
  writing: "the 'Key Vault Secrets Officer' role or a 'set' secret access policy",
  listing: "the 'Key Vault Secrets User' role or a 'list' secret access policy",
  deleting: "the 'Key Vault Secrets Officer' role or a 'delete' secret access policy",
};

/**
 * `null` means not found (404 / `ResourceNotFoundError`, as Airflow); anything else is a typed
 * failure saying why in words. `verb` says what was being done (`reading` for lookups). The
 * service's error `code` is server text: kept only through {@link serverText}; its `message` never.
 */
function toBackendError(
  backend: string,
  secretName: string,
  vaultUrl: string,
  e: unknown,
  verb = 'reading',
): BackendError | null {
  const {
    name,
    statusCode,
    code: rawCode,
  } = (e ?? {}) as { name?: string; statusCode?: number; code?: unknown };
  const code = serverText(rawCode, 40);
  const opts = { cause: e, secretName };
  const where = `secret '${secretName}' in ${originOf(vaultUrl)}`;
  if (statusCode === 404) return null;
  if (name === 'AbortError')
    return new BackendTimeoutError(backend, `${backend}: aborted ${verb} ${where}`, opts);
  if (statusCode === 401 || statusCode === 403) {
    return new AccessDeniedError(
      backend,
      `${backend}: access denied (HTTP ${statusCode}${code ? ` ${code}` : ''}) ${verb} ${where}; the identity needs ${NEEDS[verb] ?? NEEDS.reading}`,
      opts,
    );
  }
  if (name && AUTH_ERRORS.has(name)) {
    return new AccessDeniedError(
      backend,
      `${backend}: could not get a token (${name}) ${verb} ${where}; check tenant_id/client_id/client_secret or the managed identity`,
      opts,
    );
  }
  if (statusCode === 429)
    return new ThrottledError(backend, `${backend}: throttled (HTTP 429) ${verb} ${where}`, opts);
  if (statusCode === 408 || statusCode === 504) {
    return new BackendTimeoutError(
      backend,
      `${backend}: timed out (HTTP ${statusCode}) ${verb} ${where}`,
      opts,
    );
  }
  if (statusCode === 409) {
    return new BackendError(
      backend,
      'failed',
      `${backend}: conflict (409) ${verb} ${where}; a deleted secret of this name may still be recoverable: recover or purge it first`,
      opts,
    );
  }
  const network = typeof rawCode === 'string' ? networkWords(rawCode, vaultUrl) : undefined;
  if (network) {
    return new BackendUnavailableError(
      backend,
      `${backend}: cannot reach the vault for ${where}: ${network}`,
      opts,
    );
  }
  if (
    (statusCode !== undefined && statusCode >= 500) ||
    (name === 'RestError' && statusCode === undefined && rawCode !== 'PARSE_ERROR')
  ) {
    const what = statusCode !== undefined ? `HTTP ${statusCode}` : code || 'network error';
    return new BackendUnavailableError(
      backend,
      `${backend}: vault unavailable (${what}) ${verb} ${where}`,
      opts,
    );
  }
  return new BackendError(
    backend,
    'failed',
    `${backend}: ${verb} ${where} failed: ${describeError(e)}`,
    opts,
  );
}

/** A socket error code of the SDK's `RestError`, in words naming the vault's host. */
function networkWords(code: string, vaultUrl: string): string | undefined {
  let host = 'the vault host';
  let port = '';
  try {
    const u = new URL(vaultUrl);
    host = u.hostname;
    port = u.port || (u.protocol === 'http:' ? '80' : '443');
  } catch {
    // keep the generic words
  }
  return networkReason({ code, hostname: host, address: host, port: Number(port) || undefined });
}

/** The scheme, host and port of the vault URL (never credentials or a path). */
function originOf(vaultUrl: string): string {
  try {
    return new URL(vaultUrl).origin;
  } catch {
    return 'the vault';
  }
}

/** Between the team and the id in a team-scoped name (Airflow 3.2's `TEAM_SEP`). */
const TEAM_SEP = '--';

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** Python's `str.rstrip(chars)` (Airflow strips `sep` off the prefixes): any trailing run of `chars`. */
function pyRstrip(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}
