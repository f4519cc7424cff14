/**
 * HashiCorp Vault adapter: the real node-vault client against the wire-level fake in
 * test/fakes/vault-fake.ts (KV v1/v2, auth methods, sealed, TLS with throwaway certificates).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../src/backend.js';
import {
  fromAirflowKwargs,
  type HashicorpVaultOptions,
  hashicorpVault,
} from '../../src/backends/hashicorp-vault/index.js';
import { backendFromClassPath } from '../../src/config/index.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  ConfigurationError,
  MalformedSecretError,
  ThrottledError,
} from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { silentLogger } from '../../src/logger.js';
import { runBackendConformance } from '../../src/testing/conformance.js';
import { startVaultFake, VAULT_MALFORMED_MARKER, type VaultFake } from '../fakes/vault-fake.js';
import { rejection } from '../helpers/assertions.js';

let fake: VaultFake;
let tmp: string;
beforeAll(async () => {
  fake = await startVaultFake();
  tmp = mkdtempSync(path.join(tmpdir(), 'vault-test-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

const make = (o: HashicorpVaultOptions = {}) =>
  hashicorpVault({ url: fake.url, token: fake.rootToken, logger: silentLogger, ...o });

const context = (
  env: Record<string, string | undefined> = {},
  logger: Logger = silentLogger,
): AdapterContext => ({
  env,
  logger,
});

function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
}

function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m, f) => lines.push(`debug ${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => lines.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
    error: (m, f) => lines.push(`error ${m} ${JSON.stringify(f ?? {})}`),
  };
  return { logger, lines };
}

/** Store the conformance seed: URIs under `conn_uri`, JSON connections as field dicts, variables under `value`. */
function seedVault(
  mount: string,
  seed: { connections: Record<string, string>; variables: Record<string, string> },
) {
  for (const [id, v] of Object.entries(seed.connections)) {
    const rel = id.slice(id.indexOf('/') + 1);
    const key = mount === 'secret' ? id : rel;
    fake.put(mount, `connections/${key}`, v.trim().startsWith('{') ? JSON.parse(v) : { conn_uri: v });
  }
  for (const [id, v] of Object.entries(seed.variables)) {
    const key = mount === 'secret' ? id : id.slice(id.indexOf('/') + 1);
    fake.put(mount, `variables/${key}`, { value: v });
  }
}

runBackendConformance(
  { describe, it },
  {
    name: 'hashicorp-vault (KV v2, mount "secret")',
    create(seed) {
      fake.reset();
      seedVault('secret', seed);
      return make();
    },
  },
);

runBackendConformance(
  { describe, it },
  {
    name: 'hashicorp-vault (KV v1, mount from the id)',
    mapId: (id) => `kv/${id}`,
    create(seed) {
      fake.reset();
      fake.mount('kv', 1);
      seedVault('kv', seed);
      return make({ mountPoint: null, kvEngineVersion: 1 });
    },
  },
);

describe('hashicorp-vault naming and paths', () => {
  it('names secrets <mount>/<path>/<id> with Airflow defaults', () => {
    const b = make();
    expect(b.locate('connection', 'db')).toEqual({ name: 'secret/connections/db' });
    expect(b.locate('variable', 'k')).toEqual({ name: 'secret/variables/k' });
    expect(b.locate('config', 'c')).toEqual({ name: 'secret/config/c' });
  });

  it('strips trailing "/" from paths, and an empty path reads at the mount root', () => {
    expect(make({ connectionsPath: 'airflow/conns/' }).locate('connection', 'db')).toEqual({
      name: 'secret/airflow/conns/db',
    });
    expect(make({ variablesPath: '' }).locate('variable', 'k')).toEqual({ name: 'secret/k' });
  });

  it('KV v2 reads <mount>/data/<path>; KV v1 reads <mount>/<path>', async () => {
    fake.put('secret', 'variables/k', { value: 'v2 value' });
    fake.mount('kv1', 1);
    fake.put('kv1', 'variables/k', { value: 'v1 value' });
    expect(await make().getVariable('k')).toBe('v2 value');
    expect(await make({ mountPoint: 'kv1', kvEngineVersion: 1 }).getVariable('k')).toBe('v1 value');
    expect(fake.reads()).toEqual(['secret/data/variables/k', 'kv1/variables/k']);
  });

  it('mount_point null: the first segment of the id is the mount; an id without one is never sent', async () => {
    fake.mount('team-a', 2);
    fake.put('team-a', 'connections/db', { conn_uri: 'postgres://h/db' });
    const b = make({ mountPoint: null });
    expect(b.locate('connection', 'team-a/db')).toEqual({ name: 'team-a/connections/db' });
    expect((await b.getConnection('team-a/db'))?.host).toBe('h');
    expect(b.locate('connection', 'db')).toEqual({ skip: 'no mount point in id (mount_point is null)' });
    expect(await b.getConnection('db')).toBeNull();
    expect(fake.reads()).toEqual(['team-a/data/connections/db']);
  });

  it('percent-encodes ids like hvac, so "?" and spaces stay part of the path', async () => {
    fake.put('secret', 'variables/a b?c#d', { value: 'odd' });
    expect(await make().getVariable('a b?c#d')).toBe('odd');
    expect(fake.reads()).toEqual(['secret/data/variables/a b?c#d']);
  });

  it('a null path disables that kind without a request; lookup patterns filter ids', async () => {
    const b = make({ connectionsPath: null, variablesLookupPattern: 'app_' });
    expect(b.locate('connection', 'db')).toEqual({ skip: 'connections_path is null' });
    expect(await b.getConnection('db')).toBeNull();
    expect(await b.getVariable('other')).toBeNull();
    expect(b.locate('variable', 'other')).toEqual({ skip: 'id does not match variables_lookup_pattern' });
    expect(fake.requests).toEqual([]);
  });

  it('uses an injected node-vault client as is, without logging in', async () => {
    fake.put('secret', 'variables/k', { value: 'v' });
    const nodeVault = (await import('node-vault')).default;
    const client = nodeVault({ endpoint: fake.url, token: fake.rootToken });
    const b = hashicorpVault({ client, authType: 'approle' });
    expect(await b.getVariable('k')).toBe('v');
    expect(fake.logins()).toEqual([]);
  });

  it('the factory makes no request', () => {
    make({ authType: 'approle', roleId: 'r', secretId: 's' });
    expect(fake.requests).toEqual([]);
  });
});

describe('hashicorp-vault values', () => {
  it('a field dict becomes a connection through the JSON form (port string coerced, extra object)', async () => {
    fake.put('secret', 'connections/fields', {
      conn_type: 'postgres',
      host: 'pg',
      login: 'u',
      password: 'p',
      port: '5432',
      schema: 's',
      extra: { sslmode: 'verify-full' },
    });
    const c = await make().getConnection('fields');
    expect([c?.type, c?.host, c?.port, c?.schema]).toEqual(['postgres', 'pg', 5432, 's']);
    expect(c?.extraDejson).toEqual({ sslmode: 'verify-full' });
  });

  it('conn_uri wins over other fields', async () => {
    fake.put('secret', 'connections/both', { conn_uri: 'mysql://a@uri-host/x', host: 'ignored' });
    expect((await make().getConnection('both'))?.host).toBe('uri-host');
  });

  it('a variable without the "value" key is null, with Airflow\'s warning', async () => {
    fake.put('secret', 'variables/novalue', { other: 'x' });
    const log = recordingLogger();
    expect(await make({ logger: log.logger }).getVariable('novalue')).toBeNull();
    expect(
      log.lines.some((l) => l.startsWith('warn') && l.includes('does not have required key "value"')),
    ).toBe(true);
  });

  it('"value": null and an empty secret are not found, as Airflow returns None for them', async () => {
    fake.put('secret', 'variables/nullvalue', { value: null });
    fake.put('secret', 'config/nullvalue', { value: null });
    fake.put('secret', 'variables/empty', {});
    const log = recordingLogger();
    const b = make({ logger: log.logger });
    expect(await b.getVariable('nullvalue')).toBeNull();
    expect(await b.getConfig?.('nullvalue')).toBeNull();
    expect(await b.getVariable('empty')).toBeNull();
    expect(log.lines.filter((l) => l.startsWith('warn'))).toEqual([]); // `if not response: return None`
  });

  it('a soft-deleted latest version (404 with metadata) is not found', async () => {
    fake.put('secret', 'variables/gone', { value: 'old' }, { deleted: true });
    expect(await make().getVariable('gone')).toBeNull();
  });

  it('a missing secret and an unknown mount are not found', async () => {
    expect(await make().getVariable('absent')).toBeNull();
    expect(await make({ mountPoint: 'nope' }).getVariable('absent')).toBeNull();
  });

  it('a config value is read from config/<key>', async () => {
    fake.put('secret', 'config/sql_alchemy_conn', { value: 'sqlite://' });
    expect(await make().getConfig?.('sql_alchemy_conn')).toBe('sqlite://');
  });
});

describe('hashicorp-vault errors', () => {
  it('403 is AccessDeniedError naming the secret (token auth: no second try)', async () => {
    fake.denied.add('secret/data/variables/k');
    const err = await make()
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect((err as AccessDeniedError).secretName).toBe('secret/variables/k');
    expect((err as AccessDeniedError).message).toBe(
      "hashicorp-vault: permission denied (HTTP 403) reading 'secret/variables/k'",
    );
    expect(fake.reads()).toHaveLength(1);
  });

  it('a sealed Vault is BackendUnavailableError that says so', async () => {
    fake.sealed = true;
    const err = await make()
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(String(err)).toContain('Vault is sealed');
  });

  it.each([
    [{ kind: 'status', status: 500, errors: ['internal error'] } as const, BackendUnavailableError],
    [{ kind: 'status', status: 502, html: true } as const, BackendUnavailableError],
    [{ kind: 'status', status: 429, errors: ['rate limit quota exceeded'] } as const, ThrottledError],
    [{ kind: 'status', status: 400, errors: ['bad request'] } as const, BackendError],
  ])('%j maps to a typed error', async (fault, type) => {
    fake.fail(fault);
    await expect(make().getVariable('k')).rejects.toBeInstanceOf(type);
  });

  it('a server that never answers is BackendTimeoutError within timeoutMs', async () => {
    fake.fail({ kind: 'hang' });
    await expect(make({ timeoutMs: 150 }).getVariable('k')).rejects.toBeInstanceOf(BackendTimeoutError);
  });

  it('a refused connection is BackendUnavailableError', async () => {
    const dead = await startVaultFake();
    const url = dead.url;
    await dead.close();
    await expect(make({ url }).getVariable('k')).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('a malformed body is MalformedSecretError without quoting the body', async () => {
    fake.fail({ kind: 'malformed' });
    const err = await make()
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect(String(err) + inspect(err, { depth: 8 }) + JSON.stringify(err)).not.toContain(
      VAULT_MALFORMED_MARKER,
    );
  });

  it('a field dict that is not a valid connection is MalformedSecretError without its password', async () => {
    fake.put('secret', 'connections/bad', { password: 'hunter2-secret', bogus_field: 1 });
    const err = await make()
      .getConnection('bad')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect(String(err) + inspect(err, { depth: 8 })).not.toContain('hunter2-secret');
  });
});

describe('hashicorp-vault authentication', () => {
  it('approle logs in once per backend and reuses the token', async () => {
    fake.put('secret', 'variables/a', { value: '1' });
    fake.put('secret', 'variables/b', { value: '2' });
    const b = make({ authType: 'approle', roleId: 'role-id-1', secretId: 'secret-id-1' });
    expect(await Promise.all([b.getVariable('a'), b.getVariable('b'), b.getVariable('a')])).toEqual([
      '1',
      '2',
      '1',
    ]);
    const logins = fake.logins();
    expect(logins).toHaveLength(1);
    expect(logins[0]?.body).toEqual({ role_id: 'role-id-1', secret_id: 'secret-id-1' });
    const readTokens = new Set(fake.requests.filter((r) => !r.path.startsWith('auth/')).map((r) => r.token));
    expect([...readTokens]).toEqual(['hvs.fake-approle-1']);
  });

  it('auth_mount_point changes the login path', async () => {
    fake.authMounts.set('corp-approle', 'approle');
    const b = make({
      authType: 'approle',
      roleId: 'role-id-1',
      secretId: 'secret-id-1',
      authMountPoint: 'corp-approle',
    });
    expect(await b.getVariable('x')).toBeNull();
    expect(fake.logins().map((l) => l.path)).toEqual(['auth/corp-approle/login']);
  });

  it('refused approle credentials are AccessDeniedError, and the next lookup tries to log in again', async () => {
    const b = make({ authType: 'approle', roleId: 'role-id-1', secretId: 'wrong' });
    await expect(b.getVariable('x')).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(b.getVariable('x')).rejects.toBeInstanceOf(AccessDeniedError);
    expect(fake.logins()).toHaveLength(2);
  });

  it('an expired login token is replaced by one fresh login on 403', async () => {
    fake.put('secret', 'variables/k', { value: 'v' });
    const b = make({ authType: 'approle', roleId: 'role-id-1', secretId: 'secret-id-1' });
    expect(await b.getVariable('k')).toBe('v');
    fake.tokens.delete('hvs.fake-approle-1');
    expect(await b.getVariable('k')).toBe('v');
    expect(fake.logins()).toHaveLength(2);
    expect(fake.requests.at(-1)?.token).toBe('hvs.fake-approle-2');
  });

  it.each(['userpass', 'ldap'] as const)(
    '%s logs in at its login path with the username',
    async (authType) => {
      const b = make({ authType, username: 'alice', password: 'alice-password' });
      expect(await b.getVariable('x')).toBeNull();
      expect(fake.logins().map((l) => [l.path, l.body])).toEqual([
        [`auth/${authType}/login/alice`, { password: 'alice-password' }],
      ]);
    },
  );

  it('kubernetes reads the service-account JWT file', async () => {
    const jwtPath = file('k8s-token', 'eyJ.fake.jwt\n');
    const b = make({ authType: 'kubernetes', kubernetesRole: 'airflow', kubernetesJwtPath: jwtPath });
    expect(await b.getVariable('x')).toBeNull();
    expect(fake.logins().map((l) => [l.path, l.body])).toEqual([
      ['auth/kubernetes/login', { role: 'airflow', jwt: 'eyJ.fake.jwt' }],
    ]);
  });

  it('jwt logs in with jwt_token or jwt_token_path', async () => {
    expect(
      await make({ authType: 'jwt', jwtRole: 'airflow', jwtToken: 'eyJ.fake.jwt' }).getVariable('x'),
    ).toBeNull();
    const p = file('jwt', 'eyJ.fake.jwt');
    expect(await make({ authType: 'jwt', jwtRole: 'airflow', jwtTokenPath: p }).getVariable('x')).toBeNull();
    expect(fake.logins().map((l) => l.path)).toEqual(['auth/jwt/login', 'auth/jwt/login']);
  });

  it('github logs in with the token', async () => {
    expect(await make({ authType: 'github', token: 'gh-token-1' }).getVariable('x')).toBeNull();
    expect(fake.logins().map((l) => [l.path, l.body])).toEqual([
      ['auth/github/login', { token: 'gh-token-1' }],
    ]);
  });

  it('token_path wins over token and is re-read after a 403 (rotated token)', async () => {
    fake.put('secret', 'variables/k', { value: 'v' });
    fake.tokens.add('file-token-1');
    const p = file('vault-token', '  file-token-1\n');
    const b = make({ token: 'ignored', tokenPath: p });
    expect(await b.getVariable('k')).toBe('v');
    fake.tokens.delete('file-token-1');
    fake.tokens.add('file-token-2');
    writeFileSync(p, 'file-token-2');
    expect(await b.getVariable('k')).toBe('v');
    expect(fake.requests.map((r) => r.token)).toEqual(['file-token-1', 'file-token-1', 'file-token-2']);
  });

  it('namespace is sent on logins and reads; VAULT_NAMESPACE in process.env is not used', async () => {
    const saved = process.env.VAULT_NAMESPACE;
    process.env.VAULT_NAMESPACE = 'from-process-env';
    try {
      await make({
        authType: 'approle',
        roleId: 'role-id-1',
        secretId: 'secret-id-1',
        namespace: 'team-a',
      }).getVariable('x');
      await make().getVariable('y');
    } finally {
      if (saved === undefined) delete process.env.VAULT_NAMESPACE;
      else process.env.VAULT_NAMESPACE = saved;
    }
    expect(fake.requests.map((r) => r.namespace)).toEqual(['team-a', 'team-a', undefined]);
  });
});

describe('hashicorp-vault TLS', () => {
  let tlsFake: VaultFake;
  let mtlsFake: VaultFake;
  beforeAll(async () => {
    tlsFake = await startVaultFake({ tls: true });
    mtlsFake = await startVaultFake({ tls: true, requireClientCert: true });
  });
  afterAll(async () => {
    await tlsFake.close();
    await mtlsFake.close();
  });

  it('verify = CA bundle path trusts the server', async () => {
    tlsFake.put('secret', 'variables/k', { value: 'over tls' });
    const b = hashicorpVault({ url: tlsFake.url, token: tlsFake.rootToken, verify: tlsFake.tls!.caFile });
    expect(await b.getVariable('k')).toBe('over tls');
  });

  it('default verification rejects an unknown CA with a TLS error and a hint', async () => {
    const err = await hashicorpVault({ url: tlsFake.url, token: tlsFake.rootToken })
      .getVariable('k')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(String(err)).toMatch(/TLS failed.*verify/);
  });

  it('verify = false skips verification', async () => {
    const b = hashicorpVault({ url: tlsFake.url, token: tlsFake.rootToken, verify: false });
    expect(await b.getVariable('absent')).toBeNull();
  });

  it('cert sends a client certificate ([cert, key] or one PEM file)', async () => {
    const certs = mtlsFake.tls!;
    const base = { url: mtlsFake.url, token: mtlsFake.rootToken, verify: certs.caFile };
    await expect(hashicorpVault(base).getVariable('k')).rejects.toBeInstanceOf(BackendError);
    expect(
      await hashicorpVault({ ...base, cert: [certs.clientCertFile, certs.clientKeyFile] }).getVariable('k'),
    ).toBeNull();
    expect(await hashicorpVault({ ...base, cert: certs.clientBundleFile }).getVariable('k')).toBeNull();
    expect(mtlsFake.requests.map((r) => r.clientCertCn)).toEqual(['airflow-client', 'airflow-client']);
  });

  it('TLS files come from the Airflow kwargs', async () => {
    const certs = mtlsFake.tls!;
    const b = fromAirflowKwargs(
      {
        url: mtlsFake.url,
        token: mtlsFake.rootToken,
        verify: certs.caFile,
        cert: [certs.clientCertFile, certs.clientKeyFile],
      },
      context(),
    );
    expect(await b.getVariable('k')).toBeNull();
  });
});

describe('hashicorp-vault configuration from Airflow kwargs', () => {
  it('an Astro-style approle configuration works end to end through the class path', async () => {
    fake.mount('airflow', 2);
    fake.put('airflow', 'connections/warehouse', { conn_uri: 'snowflake://u:p@acct/db' });
    fake.put('airflow', 'variables/env', { value: 'prod' });
    const env = {
      AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
        connections_path: 'connections',
        variables_path: 'variables',
        config_path: null,
        mount_point: 'airflow',
        url: fake.url,
        auth_type: 'approle',
        role_id: 'role-id-1',
        secret_id: 'secret-id-1',
      }),
    };
    const b = await backendFromClassPath(
      env.AIRFLOW__SECRETS__BACKEND,
      JSON.parse(env.AIRFLOW__SECRETS__BACKEND_KWARGS),
      context(env),
    );
    expect((await b.getConnection('warehouse'))?.host).toBe('acct');
    expect(await b.getVariable('env')).toBe('prod');
    expect(await b.getConfig?.('anything')).toBeNull();
    expect(b.locate('config', 'anything')).toEqual({ skip: 'config_path is null' });
    expect(fake.logins()).toHaveLength(1);
  });

  it('token auth takes VAULT_ADDR and VAULT_TOKEN from the given environment', async () => {
    fake.put('secret', 'variables/k', { value: 'v' });
    const b = fromAirflowKwargs({}, context({ VAULT_ADDR: fake.url, VAULT_TOKEN: fake.rootToken }));
    expect(await b.getVariable('k')).toBe('v');
  });

  it('token auth with no token, token_path or VAULT_TOKEN is a ConfigurationError', () => {
    expect(() => fromAirflowKwargs({ url: fake.url }, context())).toThrow(ConfigurationError);
    expect(() => fromAirflowKwargs({ url: fake.url }, context())).toThrow(
      expect.objectContaining({ setting: 'AIRFLOW__SECRETS__BACKEND_KWARGS.token' }),
    );
  });

  it.each([
    // Issue 12: gcp, aws_iam and azure are supported now; radius stays refused.
    [
      { auth_type: 'radius', token: 't' },
      'auth_type',
      /supported: token, approle, userpass, ldap, kubernetes, jwt, github, aws_iam, gcp, azure/,
    ],
    [{ auth_type: 'kerberos', token: 't' }, 'auth_type', /not a Vault auth type/],
    [{ kv_engine_version: 3, token: 't' }, 'kv_engine_version', /1 or 2/],
    [{ kv_engine_version: 'two', token: 't' }, 'kv_engine_version', /whole number/],
    [{ auth_type: 'approle' }, 'role_id', /role_id/],
    [{ auth_type: 'kubernetes' }, 'kubernetes_role', /kubernetes_role/],
    [{ auth_type: 'jwt', jwt_role: 'r' }, 'jwt_token', /jwt_token/],
    [{ token: 't', mount_point: 7 }, 'mount_point', /string/],
    [{ token: 't', verify: 1 }, 'verify', /boolean or a path/],
    [{ token: 't', timeout: '30' }, 'timeout', /seconds/],
  ])('bad kwargs %j: ConfigurationError on %s', (kwargs, key, message) => {
    let err: unknown;
    try {
      fromAirflowKwargs(kwargs as Record<string, unknown>, context());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
    expect(String(err)).toMatch(message);
  });

  // Issue 12: a bad pattern no longer fails construction; it fails the lookups of its kind (as Airflow).
  it('a bad connections_lookup_pattern is a ConfigurationError naming it, at the first connection lookup', () => {
    const b = fromAirflowKwargs({ token: 't', connections_lookup_pattern: '(?<' }, context());
    let err: unknown;
    try {
      b.locate('connection', 'x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(
      'AIRFLOW__SECRETS__BACKEND_KWARGS.connections_lookup_pattern',
    );
    expect(String(err)).toMatch(/regular expression/);
    expect(b.locate('variable', 'x')).toEqual({ name: 'secret/variables/x' });
  });

  it("hvac's timeout kwarg (seconds) bounds each lookup", async () => {
    fake.fail({ kind: 'hang' });
    const b = fromAirflowKwargs({ url: fake.url, token: fake.rootToken, timeout: 0.15 }, context());
    await expect(b.getVariable('k')).rejects.toBeInstanceOf(BackendTimeoutError);
  });

  it('jwt_token is stripped before login, as Airflow does (jwt_token.strip())', async () => {
    const b = fromAirflowKwargs(
      { url: fake.url, auth_type: 'jwt', jwt_role: 'airflow', jwt_token: '  eyJ.fake.jwt\n' },
      context(),
    );
    expect(await b.getVariable('x')).toBeNull();
    expect(fake.logins()).toHaveLength(1);
  });

  it.each([
    [{ proxies: { https: 'http://user:proxy-pass@proxy:3128' } }, 'proxies'],
    [{ session: { verify: false } }, 'session'],
    [{ adapter: 'hvac.adapters.RawAdapter' }, 'adapter'],
    [{ ignore_exceptions: true }, 'ignore_exceptions'],
    [{ strict_http: 'yes' }, 'strict_http'],
    [{ allow_redirects: 1 }, 'allow_redirects'],
  ])('hvac kwarg %j that cannot be honoured: ConfigurationError naming %s, no value in it', (kw, key) => {
    let err: unknown;
    try {
      fromAirflowKwargs({ url: fake.url, token: fake.rootToken, ...kw }, context());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
    expect((err as Error).message).not.toContain('proxy-pass');
    expect((err as Error).message).not.toContain('proxy:3128');
  });

  it('hvac kwargs left at their defaults (proxies {}, session null, ignore_exceptions false) are accepted without a warning', async () => {
    const log = recordingLogger();
    const b = fromAirflowKwargs(
      {
        url: fake.url,
        token: fake.rootToken,
        proxies: {},
        session: null,
        ignore_exceptions: false,
        allow_redirects: true,
        strict_http: false,
        request_header: true,
        // Airflow-only settings with no effect here (refused auth types, multi-team paths): no warning.
        use_team_secrets_path: true,
        global_secrets_path: null,
        region: 'eu-west-1',
      },
      context({}, log.logger),
    );
    expect(log.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
    fake.put('secret', 'variables/k', { value: 'v' });
    expect(await b.getVariable('k')).toBe('v');
  });

  it('a key that is no VaultBackend, hvac.Client or adapter parameter is warned about, never silently dropped', () => {
    const log = recordingLogger();
    fromAirflowKwargs({ url: fake.url, token: fake.rootToken, wrap_ttl_typo: 1 }, context({}, log.logger));
    expect(log.lines.filter((l) => l.startsWith('warn') && l.includes("'wrap_ttl_typo'"))).toHaveLength(1);
  });

  describe('allow_redirects and request_header, against a front that redirects to the fake', () => {
    let front: http.Server;
    let frontUrl: string;
    const seen: { method: string; url: string; vaultRequest: string | undefined }[] = [];
    beforeAll(async () => {
      front = http.createServer((req, res) => {
        seen.push({
          method: req.method!,
          url: req.url!,
          vaultRequest: req.headers['x-vault-request'] as string,
        });
        res.writeHead(307, { location: `${fake.url}${req.url}` });
        res.end();
      });
      await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
      frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => front.close(() => r())));
    beforeEach(() => {
      seen.length = 0;
      fake.put('secret', 'variables/k', { value: 'v' });
    });

    it('by default the 307 is followed and X-Vault-Request: true is sent, as hvac does', async () => {
      const b = fromAirflowKwargs({ url: frontUrl, token: fake.rootToken }, context());
      expect(await b.getVariable('k')).toBe('v');
      expect(seen.map((r) => r.vaultRequest)).toEqual(['true']);
      expect(fake.reads()).toEqual(['secret/data/variables/k']);
      await b.close?.();
    });

    it('allow_redirects false: the 307 is the answer (an error), nothing reaches the target; request_header false: no header', async () => {
      const b = fromAirflowKwargs(
        { url: frontUrl, token: fake.rootToken, allow_redirects: false, request_header: false },
        context(),
      );
      const err = await rejection(b.getVariable('k'));
      expect(err).toBeInstanceOf(BackendError);
      expect(err.message).toContain('307');
      expect(seen.map((r) => r.vaultRequest)).toEqual([undefined]);
      expect(fake.reads()).toEqual([]);
      await b.close?.();
    });
  });

  it('strict_http true: LIST goes out as GET ?list=true (hvac), false: as the LIST verb', async () => {
    fake.put('secret', 'variables/a', { value: '1' });
    for (const [strict, verb] of [
      [true, 'GET'],
      [false, 'LIST'],
    ] as const) {
      fake.reset();
      fake.put('secret', 'variables/a', { value: '1' });
      const b = fromAirflowKwargs({ url: fake.url, token: fake.rootToken, strict_http: strict }, context());
      const listed = await b.list!('variable');
      expect(listed.entries.map((e) => e.id)).toEqual(['a']);
      expect(fake.requests.filter((q) => q.path.startsWith('secret/metadata')).map((q) => q.method)).toEqual([
        verb,
      ]);
      await b.close?.();
    }
  });

  it('kv_engine_version 1 and mount_point null come from the kwargs', async () => {
    fake.mount('kv', 1);
    fake.put('kv', 'variables/k', { value: 'v1' });
    const b = fromAirflowKwargs(
      { url: fake.url, token: fake.rootToken, kv_engine_version: 1, mount_point: null },
      context(),
    );
    expect(await b.getVariable('kv/k')).toBe('v1');
    expect(fake.reads()).toEqual(['kv/variables/k']);
  });
});
