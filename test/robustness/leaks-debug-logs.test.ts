/**
 * Credentials never reach a dependency's debug logger (issue 11 item 7). A child process
 * (`test/helpers/debug-log-child.ts`) logs in and reads through Vault (AppRole, userpass, JWT),
 * Secrets Manager (with STS AssumeRole), Azure (client secret) and Google Cloud under each
 * dependency's debug switch: `DEBUG=*` (node-vault, axios, follow-redirects), `NODE_DEBUG`
 * (Node's http, net, tls), `AZURE_LOG_LEVEL=verbose`, `GOOGLE_SDK_NODE_LOGGING=*`, `GRPC_TRACE=all`.
 * Its whole stdout and stderr must hold none of the credentials, tokens or secret values.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { type GcpFake, startGcpFake } from '../fakes/gcp-fake.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';
import { type AzureFixture, startAzureFixture } from '../helpers/azure-fixture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = path.join(ROOT, 'test/helpers/debug-log-child.ts');

const SECRET_ID = 'SecretIdMarker-5b1e9';
const PASSWORD = 'PasswordMarker-77c2a';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJKd3RNYXJrZXIifQ.SigMarker';
const AWS_SECRET = 'AwsSecretKeyMarker/9f3d';
const TENANT = '72f988bf-0000-4000-8000-2d7cd011db47';
const CLIENT_SECRET = 'AzureClientSecretMarker-41d';

let vault: VaultFake;
let aws: AwsFake;
let azure: AzureFixture;
let gcp: GcpFake;
beforeAll(async () => {
  vault = await startVaultFake();
  Object.assign(vault.credentials.approle, { roleId: 'role-id-1', secretId: SECRET_ID });
  vault.credentials.users.alice = PASSWORD;
  Object.assign(vault.credentials.jwt, { role: 'airflow', jwt: JWT });
  vault.put('secret', 'variables/marker', { value: 'vault-value-Marker7' });
  aws = await startAwsFake();
  aws.secrets.set('airflow/variables/marker', 'aws-value-Marker7');
  azure = await startAzureFixture({
    tenantId: TENANT,
    clientId: 'airflow-app',
    clientSecret: CLIENT_SECRET,
    staticToken: 'unused-static-token',
  });
  azure.vault.set('airflow-variables-marker', 'azure-value-Marker7');
  gcp = await startGcpFake({ project: 'p' });
  gcp.set('airflow-variables-marker', 'gcp-value-Marker7');
});
afterAll(async () => {
  await Promise.all([vault.close(), aws.close(), azure.close(), gcp.close()]);
});

/** Every credential, token and value the child handles, as they could be printed. */
function secrets(): string[] {
  return [
    SECRET_ID,
    PASSWORD,
    JWT,
    'SigMarker',
    AWS_SECRET,
    aws.assumedCredentials.secretAccessKey,
    aws.assumedCredentials.sessionToken,
    CLIENT_SECRET,
    'entra-token-',
    'vault-value-Marker7',
    'aws-value-Marker7',
    'azure-value-Marker7',
    'gcp-value-Marker7',
    // Tokens Vault issued at login (the fake's are `issued-token-N`; the root token is not used).
    ...[...vault.tokens].filter((t) => t !== vault.rootToken),
    // The JWTs IAM signed for the Vault gcp login, whole and their signature part.
    ...vault
      .logins()
      .filter((r) => r.path === 'auth/gcp/login')
      .flatMap((r) => [String(r.body?.jwt), String(r.body?.jwt).split('.')[2]!]),
  ];
}

function runChild(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const config = {
    vault: {
      url: vault.url,
      roleId: 'role-id-1',
      secretId: SECRET_ID,
      user: 'alice',
      password: PASSWORD,
      jwtRole: 'airflow',
      jwt: JWT,
      gcp: {
        role: vault.credentials.gcp.role,
        key: vault.gcpKey(),
      },
    },
    aws: {
      url: aws.url,
      keyId: 'AKIDDEBUGTEST',
      secret: AWS_SECRET,
      roleArn: 'arn:aws:iam::123456789012:role/debug',
    },
    azure: {
      url: azure.vault.url,
      tenantId: TENANT,
      clientId: 'airflow-app',
      clientSecret: CLIENT_SECRET,
      clientOptions: azure.clientOptions(),
      credentialOptions: azure.credentialOptions(),
    },
    gcp: { port: gcp.port },
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(config)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NO_PROXY: '127.0.0.1,localhost',
      AWS_EC2_METADATA_DISABLED: 'true',
      METADATA_SERVER_DETECTION: 'none',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('dependency debug logs carry no credential', () => {
  it.each([
    ['DEBUG=*', { DEBUG: '*' }],
    ['DEBUG=node-vault,axios,follow-redirects', { DEBUG: 'node-vault,axios,follow-redirects' }],
    ['NODE_DEBUG=http,https,net,tls', { NODE_DEBUG: 'http,https,net,tls' }],
    ['AZURE_LOG_LEVEL=verbose', { AZURE_LOG_LEVEL: 'verbose' }],
    ['GOOGLE_SDK_NODE_LOGGING=*', { GOOGLE_SDK_NODE_LOGGING: '*' }],
    ['GRPC_TRACE=all GRPC_VERBOSITY=DEBUG', { GRPC_TRACE: 'all', GRPC_VERBOSITY: 'DEBUG' }],
  ])('%s', async (_name, env) => {
    const { code, output } = await runChild(env);
    expect(output, output.slice(-2000)).toContain('done');
    expect(code).toBe(0);
    const all = secrets();
    expect(vault.logins().some((r) => r.path === 'auth/gcp/login')).toBe(true); // the gcp login did happen
    for (const s of all) expect(output.includes(s), `the log shows '${s}'`).toBe(false);
  });
});

describe('google-auth-library logs token answers under GOOGLE_SDK_NODE_LOGGING', () => {
  it("the SDK's copy gets the no-op logger once the adapter has built its client", async () => {
    const { gcpSecretManager } = await import('../../src/backends/gcp-secret-manager/index.js');
    const require = createRequire(import.meta.url);
    const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
      grpc: { credentials: { createInsecure(): unknown } };
      loggingUtils: { placeholder: unknown };
      googleAuthLibrary: { AuthClient: { log: unknown } };
    };
    const b = gcpSecretManager({
      projectId: 'p',
      clientOptions: {
        apiEndpoint: '127.0.0.1',
        port: gcp.port,
        sslCreds: gax.grpc.credentials.createInsecure(),
        universeDomain: 'googleapis.com',
      },
      maxRetries: 0,
    });
    expect(await b.getVariable('marker')).toBe('gcp-value-Marker7');
    expect(gax.googleAuthLibrary.AuthClient.log).toBe(gax.loggingUtils.placeholder);
    await b.close?.();
  });
});
