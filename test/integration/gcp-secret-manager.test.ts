/**
 * The gcpSecretManager adapter with the REAL `@google-cloud/secret-manager` client (gRPC) talking
 * to a wire-level fake Secret Manager on 127.0.0.1 (test/fakes/gcp-fake.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import {
  fromAirflowKwargs,
  type GcpSecretManagerClient,
  type GcpSecretManagerOptions,
  gcpSecretManager,
} from '../../src/backends/gcp-secret-manager/index.js';
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
import { runBackendConformance } from '../../src/testing/conformance.js';
import { type GcpFake, startGcpFake } from '../fakes/gcp-fake.js';
import { rejection } from '../helpers/assertions.js';
import { packagesAroundMark } from '../helpers/module-probe.js';

const require = createRequire(import.meta.url);
// Channel credentials from the same grpc-js copy google-gax uses.
const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
  grpc: { credentials: { createInsecure(): unknown } };
};

let fake: GcpFake;
let tmp: string;
const open: SecretsBackend[] = [];

beforeAll(async () => {
  fake = await startGcpFake({ project: 'fake-project' });
  tmp = mkdtempSync(path.join(tmpdir(), 'gcp-sm-test-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close?.()));
  fake.requests.length = 0;
});
afterAll(async () => {
  await fake.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Points the real SDK at the fake: insecure channel, and `universeDomain` so nothing probes the metadata server. */
const clientOptions = () => ({
  apiEndpoint: '127.0.0.1',
  port: fake.port,
  sslCreds: gax.grpc.credentials.createInsecure(),
  universeDomain: 'googleapis.com',
});

function captureLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug: (message, fields) => void lines.push({ level: 'debug', message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => void lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => void lines.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
  return { logger, lines };
}

function backend({
  noProject,
  ...options
}: GcpSecretManagerOptions & { noProject?: boolean } = {}): SecretsBackend {
  const b = gcpSecretManager({
    ...(noProject ? {} : { projectId: 'fake-project' }),
    clientOptions: clientOptions(),
    maxRetries: 0,
    timeoutMs: 5_000,
    logger: captureLogger().logger,
    ...options,
  });
  open.push(b);
  return b;
}

function serviceAccountKey(projectId: string): Record<string, string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    type: 'service_account',
    project_id: projectId,
    private_key_id: 'throwaway',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: `airflow@${projectId}.iam.gserviceaccount.com`,
    client_id: '1',
    token_uri: 'http://127.0.0.1:9/token',
  };
}

runBackendConformance(
  { describe, it },
  {
    name: 'gcp-secret-manager (real SDK, gRPC fake)',
    create(seed) {
      for (const [id, v] of Object.entries(seed.connections)) fake.set(`airflow-connections-${id}`, v);
      for (const [id, v] of Object.entries(seed.variables)) fake.set(`airflow-variables-${id}`, v);
      return backend();
    },
  },
);

describe('gcp-secret-manager naming', () => {
  it('asks for <prefix>-<id> with Airflow default prefixes, underscores kept', () => {
    const b = backend();
    expect(b.locate('connection', 'my_db')).toEqual({ name: 'airflow-connections-my_db' });
    expect(b.locate('variable', 'my_var')).toEqual({ name: 'airflow-variables-my_var' });
    expect(b.locate('config', 'sql_alchemy_conn')).toEqual({ name: 'airflow-config-sql_alchemy_conn' });
  });

  it('sends the exact resource name projects/<p>/secrets/<id>/versions/latest on the wire', async () => {
    fake.set('airflow-variables-wire_check', 'v1');
    expect(await backend().getVariable('wire_check')).toBe('v1');
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.name).toBe(
      'projects/fake-project/secrets/airflow-variables-wire_check/versions/latest',
    );
    expect(fake.requests[0]?.metadata['x-goog-request-params']).toBe(
      'name=projects%2Ffake-project%2Fsecrets%2Fairflow-variables-wire_check%2Fversions%2Flatest',
    );
  });

  it('uses custom prefixes and separator', async () => {
    fake.set('team_vars__color', 'blue');
    const b = backend({ variablesPrefix: 'team_vars', connectionsPrefix: 'team_conns', sep: '__' });
    expect(b.locate('connection', 'db')).toEqual({ name: 'team_conns__db' });
    expect(await b.getVariable('color')).toBe('blue');
  });

  it('keeps a leading separator for an empty prefix, as Airflow build_path does', async () => {
    fake.set('-bare', 'x');
    const b = backend({ variablesPrefix: '' });
    expect(b.locate('variable', 'bare')).toEqual({ name: '-bare' });
    expect(await b.getVariable('bare')).toBe('x');
  });

  it('skips a kind whose prefix is null without any call', async () => {
    const b = backend({ connectionsPrefix: null, variablesPrefix: null, configPrefix: null });
    expect(b.locate('connection', 'x')).toEqual({ skip: 'connections_prefix is null' });
    expect(b.locate('variable', 'x')).toEqual({ skip: 'variables_prefix is null' });
    expect(await b.getConnection('x')).toBeNull();
    expect(await b.getVariable('x')).toBeNull();
    expect(await b.getConfig?.('x')).toBeNull();
    expect(fake.requests).toHaveLength(0);
  });

  it("rejects a connections_prefix + sep outside ^[a-zA-Z0-9-_]*$ with Airflow's message", () => {
    for (const kwargs of [
      { connections_prefix: 'bad/prefix' },
      { sep: '.' },
      { connections_prefix: 'a b' },
    ]) {
      let err: unknown;
      try {
        fromAirflowKwargs(kwargs, { env: {}, logger: captureLogger().logger });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).message).toBe(
        '`connections_prefix`, `variables_prefix` and `sep` should follows that pattern ^[a-zA-Z0-9-_]*$',
      );
      expect((err as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__BACKEND_KWARGS.connections_prefix');
    }
  });

  it('does not validate variables_prefix, nor anything when connections_prefix is null (as Airflow)', () => {
    const ctx = { env: {}, logger: captureLogger().logger };
    expect(() => fromAirflowKwargs({ variables_prefix: 'not/checked' }, ctx)).not.toThrow();
    expect(() => fromAirflowKwargs({ connections_prefix: null, sep: '/' }, ctx)).not.toThrow();
    // Python's `$` also matches before a final newline.
    expect(() => fromAirflowKwargs({ sep: '\n' }, ctx)).not.toThrow();
  });
});

describe('gcp-secret-manager errors', () => {
  it('returns null when the service answers NOT_FOUND', async () => {
    const { logger, lines } = captureLogger();
    expect(await backend({ logger }).getVariable('absent')).toBeNull();
    expect(fake.requests).toHaveLength(1);
    expect(lines.some((l) => l.level === 'debug' && l.message.includes('not found'))).toBe(true);
  });

  it('throws AccessDeniedError on PERMISSION_DENIED and logs the missing permission', async () => {
    fake.fault('airflow-variables-locked', 'permission-denied');
    const { logger, lines } = captureLogger();
    const err = await rejection(backend({ logger }).getVariable('locked'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect((err as AccessDeniedError).secretName).toBe('airflow-variables-locked');
    expect(err.message).toContain("'secretmanager.versions.access'");
    const logged = lines.find((l) => l.level === 'error');
    expect(logged?.message).toContain("Did you add 'secretmanager.versions.access' permission?");
    expect(logged?.fields?.permission).toBe('secretmanager.versions.access');
  });

  it('throws a BackendError (failed) on INVALID_ARGUMENT for an id the API refuses, and logs it', async () => {
    const { logger, lines } = captureLogger();
    const err = await rejection(backend({ logger }).getVariable('has.dot'));
    expect(fake.requests[0]?.name).toBe(
      'projects/fake-project/secrets/airflow-variables-has.dot/versions/latest',
    );
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).reason).toBe('failed');
    expect(err.message).toContain('InvalidArgument');
    expect(lines.some((l) => l.level === 'error' && l.message.includes('Invalid secret ID'))).toBe(true);
  });

  it('throws ThrottledError on RESOURCE_EXHAUSTED', async () => {
    fake.fault('airflow-variables-busy', 'resource-exhausted');
    expect(await rejection(backend().getVariable('busy'))).toBeInstanceOf(ThrottledError);
  });

  it('throws BackendUnavailableError on UNAVAILABLE', async () => {
    fake.fault('airflow-variables-down', 'unavailable');
    expect(await rejection(backend().getVariable('down'))).toBeInstanceOf(BackendUnavailableError);
  });

  it('throws AccessDeniedError on UNAUTHENTICATED', async () => {
    fake.fault('airflow-variables-anon', 'unauthenticated');
    const err = await rejection(backend().getVariable('anon'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(err.message).toContain('UNAUTHENTICATED');
  });

  it('retries UNAVAILABLE within the deadline and then answers', async () => {
    fake.set('airflow-variables-flaky', 'steady');
    fake.fault('airflow-variables-flaky', 'unavailable', 2);
    expect(await backend({ maxRetries: 2, retryDelayMs: 5 }).getVariable('flaky')).toBe('steady');
    expect(fake.requests).toHaveLength(3);
  });

  it('retries RESOURCE_EXHAUSTED, then surfaces ThrottledError with the original code when retries run out', async () => {
    fake.fault('airflow-variables-hot', 'resource-exhausted', 3);
    const err = await rejection(backend({ maxRetries: 2, retryDelayMs: 5 }).getVariable('hot'));
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err.cause as { code?: number }).code).toBe(8);
    expect(fake.requests).toHaveLength(3);
  });

  it('rejects with BackendTimeoutError when the server never answers', { timeout: 5_000 }, async () => {
    fake.set('airflow-variables-warm', 'up');
    const b = backend({ timeoutMs: 300 });
    expect(await b.getVariable('warm')).toBe('up'); // connect the channel first
    fake.fault('airflow-variables-silent', 'hang');
    const err = await rejection(b.getVariable('silent'));
    expect(err).toBeInstanceOf(BackendTimeoutError);
    expect((err as BackendTimeoutError).secretName).toBe('airflow-variables-silent');
  });

  it('throws MalformedSecretError for a payload that is not UTF-8, without quoting it', async () => {
    fake.fault('airflow-variables-binary', 'malformed');
    const err = await rejection(backend().getVariable('binary'));
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect(err.message).toContain('airflow-variables-binary');
    expect(err.message).not.toMatch(/\uFFFD/);
  });

  it('throws MalformedSecretError for a stored connection that is neither a URI nor JSON, never quoting it', async () => {
    fake.set('airflow-connections-broken', '{"conn_type": "postgres", "password": "hunter2"');
    const err = await rejection(backend().getConnection('broken'));
    expect(err).toBeInstanceOf(MalformedSecretError);
    expect(err.message).not.toContain('hunter2');
    expect(String(err.cause)).not.toContain('hunter2');
  });

  it('returns null for an empty connection value and "" for an empty variable', async () => {
    fake.set('airflow-connections-empty', '');
    fake.set('airflow-variables-empty', '');
    const b = backend();
    expect(await b.getConnection('empty')).toBeNull();
    expect(await b.getVariable('empty')).toBe('');
  });
});

describe('gcp-secret-manager client and project', () => {
  it('builds one client lazily and reuses its channel for every lookup', async () => {
    fake.set('airflow-variables-a', '1');
    fake.set('airflow-variables-b', '2');
    const b = backend();
    expect(fake.requests).toHaveLength(0); // the factory does no I/O
    await Promise.all([b.getVariable('a'), b.getVariable('b')]);
    await b.getVariable('a');
    const peers = new Set(fake.requests.map((r) => r.peer));
    expect(fake.requests).toHaveLength(3);
    expect(peers.size).toBe(1);
  });

  it('loads no SDK when the module is imported and a backend is built (only at the first lookup)', async () => {
    const { before, after } = await packagesAroundMark(
      tmp,
      `
      import { fromAirflowKwargs } from './src/backends/gcp-secret-manager/index.ts';
      fromAirflowKwargs({ project_id: 'p' }, { env: {}, logger: console });
      moduleProbe.mark();
      await import('@google-cloud/secret-manager');
    `,
    );
    expect(before.filter((p) => /^(@azure|@google-cloud)\/|^google-gax$/.test(p))).toEqual([]);
    expect(after).toContain('@google-cloud/secret-manager'); // the probe does see imports
  });

  it('uses an injected client and does not close it', async () => {
    const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
    const client = new SecretManagerServiceClient(clientOptions() as never);
    fake.set('airflow-variables-injected', 'yes');
    const b = gcpSecretManager({
      client: client as unknown as GcpSecretManagerClient,
      projectId: 'fake-project',
    });
    expect(await b.getVariable('injected')).toBe('yes');
    await b.close?.();
    const [again] = await client.accessSecretVersion({
      name: 'projects/fake-project/secrets/airflow-variables-injected/versions/latest',
    });
    expect(Buffer.from(again.payload?.data as Uint8Array).toString()).toBe('yes');
    await client.close();
  });

  it("takes the project from gcp_keyfile_dict's project_id", async () => {
    const b = fromAirflowKwargs(
      { gcp_keyfile_dict: serviceAccountKey('key-project') },
      { env: {}, logger: captureLogger().logger },
      { clientOptions: clientOptions(), maxRetries: 0 },
    );
    open.push(b);
    expect(await b.getVariable('anything')).toBeNull();
    expect(fake.requests[0]?.name).toBe(
      'projects/key-project/secrets/airflow-variables-anything/versions/latest',
    );
  });

  it("takes the project from the gcp_key_path file's project_id", async () => {
    const file = path.join(tmp, 'key.json');
    writeFileSync(file, JSON.stringify(serviceAccountKey('file-project')));
    const b = backend({ noProject: true, keyFilename: file });
    await b.getVariable('x');
    expect(fake.requests[0]?.name).toBe('projects/file-project/secrets/airflow-variables-x/versions/latest');
  });

  it('prefers project_id over the key and falls back to GOOGLE_CLOUD_PROJECT from the environment', async () => {
    const ctx = { env: { GOOGLE_CLOUD_PROJECT: 'env-project' }, logger: captureLogger().logger };
    const over = { clientOptions: clientOptions(), maxRetries: 0 };
    const explicit = fromAirflowKwargs(
      { project_id: 'kw-project', gcp_keyfile_dict: serviceAccountKey('k') },
      ctx,
      over,
    );
    const fromEnv = fromAirflowKwargs({}, ctx, over);
    open.push(explicit, fromEnv);
    await explicit.getVariable('x');
    await fromEnv.getVariable('x');
    expect(fake.requests.map((r) => r.name.split('/')[1])).toEqual(['kw-project', 'env-project']);
  });

  it('reads GOOGLE_APPLICATION_CREDENTIALS from the given env (e.g. an --env-file) for the key and its project', async () => {
    const file = path.join(tmp, 'adc.json');
    writeFileSync(file, JSON.stringify(serviceAccountKey('adc-file-project')));
    const b = fromAirflowKwargs(
      {},
      { env: { GOOGLE_APPLICATION_CREDENTIALS: file }, logger: captureLogger().logger },
      { clientOptions: clientOptions() },
    );
    open.push(b);
    await b.getVariable('x');
    expect(fake.requests[0]?.name).toBe(
      'projects/adc-file-project/secrets/airflow-variables-x/versions/latest',
    );
    const missing = fromAirflowKwargs(
      {},
      {
        env: { GOOGLE_APPLICATION_CREDENTIALS: path.join(tmp, 'nope.json') },
        logger: captureLogger().logger,
      },
      { clientOptions: clientOptions() },
    );
    open.push(missing);
    const err = await rejection(missing.getVariable('x'));
    expect((err as ConfigurationError).setting).toBe('GOOGLE_APPLICATION_CREDENTIALS');
  });

  describe('with Application Default Credentials (fake metadata server, no gcloud on PATH)', () => {
    let meta: http.Server;
    let metaProject: string | null = null;
    const saved = { PATH: process.env.PATH, GCE_METADATA_HOST: process.env.GCE_METADATA_HOST };
    beforeAll(async () => {
      meta = http.createServer((req, res) => {
        const ok = req.url === '/computeMetadata/v1/project/project-id' && metaProject !== null;
        res.writeHead(ok ? 200 : 404, { 'Metadata-Flavor': 'Google', 'Content-Type': 'application/text' });
        res.end(ok ? metaProject : 'not found');
      });
      await new Promise<void>((r) => meta.listen(0, '127.0.0.1', r));
      process.env.GCE_METADATA_HOST = `127.0.0.1:${(meta.address() as { port: number }).port}`;
      process.env.PATH = path.join(tmp, 'empty-bin'); // google-auth-library shells out to `gcloud`
      delete process.env.GOOGLE_CLOUD_PROJECT;
      delete process.env.GCLOUD_PROJECT;
    });
    afterAll(async () => {
      process.env.PATH = saved.PATH;
      if (saved.GCE_METADATA_HOST === undefined) delete process.env.GCE_METADATA_HOST;
      else process.env.GCE_METADATA_HOST = saved.GCE_METADATA_HOST;
      await new Promise((r) => meta.close(r));
    });

    it('discovers the project through the SDK when nothing names it', async () => {
      metaProject = 'adc-project';
      const b = backend({ noProject: true, env: {} });
      await b.getVariable('x');
      expect(fake.requests[0]?.name).toBe('projects/adc-project/secrets/airflow-variables-x/versions/latest');
    });

    it('throws ConfigurationError naming project_id at the first lookup when no project can be found', async () => {
      metaProject = null;
      const b = fromAirflowKwargs(
        {},
        { env: {}, logger: captureLogger().logger },
        { clientOptions: clientOptions() },
      );
      open.push(b);
      const err = await rejection(b.getVariable('x'));
      expect(err).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__BACKEND_KWARGS.project_id');
      expect(err.message).toContain('Project ID could not be determined');
      expect(fake.requests).toHaveLength(0);
    });
  });
});

describe('gcp-secret-manager configuration from AIRFLOW__SECRETS__BACKEND_KWARGS', () => {
  it('works end to end from the JSON a user sets', async () => {
    const env = {
      AIRFLOW__SECRETS__BACKEND:
        'airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS:
        '{"connections_prefix": "airflow-connections", "variables_prefix": "af-vars", "config_prefix": null, "sep": "-", "project_id": "fake-project"}',
    };
    fake.set('af-vars-region', 'europe-west1');
    fake.set('airflow-connections-pg', 'postgres://u:p@db:5432/app');
    const kwargs = JSON.parse(env.AIRFLOW__SECRETS__BACKEND_KWARGS) as Record<string, unknown>;
    const b = fromAirflowKwargs(
      kwargs,
      { env, logger: captureLogger().logger },
      { clientOptions: clientOptions() },
    );
    open.push(b);
    expect(await b.getVariable('region')).toBe('europe-west1');
    expect(b.locate('config', 'x')).toEqual({ skip: 'config_prefix is null' });
    expect(b.locate('connection', 'pg')).toEqual({ name: 'airflow-connections-pg' });
  });

  it('names the kwarg of a wrong type', () => {
    const ctx = { env: {}, logger: captureLogger().logger };
    const cases: [Record<string, unknown>, string][] = [
      [{ sep: 1 }, 'sep'],
      [{ project_id: ['p'] }, 'project_id'],
      [{ gcp_keyfile_dict: 5 }, 'gcp_keyfile_dict'],
      [{ impersonation_chain: [1] }, 'impersonation_chain'],
      [{ connections_prefix: false }, 'connections_prefix'],
    ];
    for (const [kw, key] of cases) {
      let err: unknown;
      try {
        fromAirflowKwargs(kw, ctx);
      } catch (e) {
        err = e;
      }
      expect(err, key).toBeInstanceOf(ConfigurationError);
      expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
    }
  });

  it('warns about kwargs it does not know and ignores them', () => {
    const { logger, lines } = captureLogger();
    fromAirflowKwargs({ project_id: 'p', some_python_kwarg: 1 }, { env: {}, logger });
    expect(lines.some((l) => l.level === 'warn' && l.message.includes("'some_python_kwarg'"))).toBe(true);
  });

  it('refuses more than one key source, and P12 or unknown key file extensions, at construction', () => {
    const ctx = { env: {}, logger: captureLogger().logger };
    expect(() => fromAirflowKwargs({ gcp_key_path: '/k.json', gcp_keyfile_dict: {} }, ctx)).toThrow(
      /mutually exclusive/,
    );
    expect(() => fromAirflowKwargs({ gcp_key_path: '/k.p12' }, ctx)).toThrow(
      'Legacy P12 key file are not supported, use a JSON key file.',
    );
    expect(() => fromAirflowKwargs({ gcp_key_path: '/k.txt' }, ctx)).toThrow(
      'Unrecognised extension for key file.',
    );
  });

  it('reports an unreadable key file as ConfigurationError naming gcp_key_path at the first lookup', async () => {
    const b = fromAirflowKwargs(
      { gcp_key_path: path.join(tmp, 'missing.json'), project_id: 'p' },
      { env: {}, logger: captureLogger().logger },
      { clientOptions: clientOptions() },
    );
    open.push(b);
    const err = await rejection(b.getVariable('x'));
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__BACKEND_KWARGS.gcp_key_path');
    expect(err.message).toContain('missing.json');
  });

  it('reports a key file that is not JSON without quoting its content', async () => {
    const file = path.join(tmp, 'garbage.json');
    writeFileSync(file, '-----BEGIN PRIVATE KEY----- s3cr3t-material');
    const b = fromAirflowKwargs(
      { gcp_key_path: file },
      { env: {}, logger: captureLogger().logger },
      { clientOptions: clientOptions() },
    );
    open.push(b);
    const err = await rejection(b.getVariable('x'));
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(err.message).not.toContain('s3cr3t');
    expect(String((err as Error).cause)).not.toContain('s3cr3t');
  });

  it('maps impersonation_chain to impersonated credentials (last entry the target) and still answers', async () => {
    const { logger, lines } = captureLogger();
    fake.set('airflow-variables-imp', 'ok');
    const b = fromAirflowKwargs(
      {
        gcp_keyfile_dict: serviceAccountKey('fake-project'),
        gcp_scopes:
          'https://www.googleapis.com/auth/cloud-platform, https://www.googleapis.com/auth/userinfo.email',
        impersonation_chain: [
          'hop@fake-project.iam.gserviceaccount.com',
          'target@fake-project.iam.gserviceaccount.com',
        ],
      },
      { env: {}, logger },
      { clientOptions: clientOptions() },
    );
    open.push(b);
    expect(await b.getVariable('imp')).toBe('ok');
    const line = lines.find((l) => l.message.includes('impersonat'));
    expect(line?.fields).toMatchObject({
      targetPrincipal: 'target@fake-project.iam.gserviceaccount.com',
      delegates: ['hop@fake-project.iam.gserviceaccount.com'],
      scopes: [
        'https://www.googleapis.com/auth/cloud-platform',
        'https://www.googleapis.com/auth/userinfo.email',
      ],
    });
  });
});
