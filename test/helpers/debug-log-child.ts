/**
 * Child process of `test/robustness/leaks-debug-logs.test.ts`: logs in and reads through every
 * adapter whose SDK has a debug logger (Vault's AppRole, userpass, JWT and gcp logins; Secrets Manager
 * with an STS AssumeRole; Azure with a client secret; Google Cloud), against fakes run by the
 * parent, whose addresses and credentials come as JSON in argv[2]. It prints `done` at the end;
 * whatever the dependencies print under `DEBUG=*`, `AZURE_LOG_LEVEL`, `GOOGLE_SDK_NODE_LOGGING`,
 * `GRPC_TRACE` or `NODE_DEBUG` goes to its stdout/stderr, which the parent searches for credentials.
 */
import { createRequire } from 'node:module';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import { azureKeyVault } from '../../src/backends/azure-key-vault/index.js';
import { gcpSecretManager } from '../../src/backends/gcp-secret-manager/index.js';
import { hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { silentLogger } from '../../src/logger.js';

const cfg = JSON.parse(process.argv[2]!) as {
  vault: {
    url: string;
    roleId: string;
    secretId: string;
    user: string;
    password: string;
    jwtRole: string;
    jwt: string;
    gcp: { role: string; key: Record<string, unknown> };
  };
  aws: { url: string; keyId: string; secret: string; roleArn: string };
  azure: {
    url: string;
    tenantId: string;
    clientId: string;
    clientSecret: string;
    clientOptions: Record<string, unknown>;
    credentialOptions: Record<string, unknown>;
  };
  gcp: { port: number };
};
const require = createRequire(import.meta.url);
const gax = createRequire(require.resolve('@google-cloud/secret-manager'))('google-gax') as {
  grpc: { credentials: { createInsecure(): unknown } };
};

const expect = (what: string, got: unknown, want: string) => {
  if (got !== want) throw new Error(`${what}: got ${typeof got}`);
};
const v = cfg.vault;
for (const auth of [
  { authType: 'approle', roleId: v.roleId, secretId: v.secretId },
  { authType: 'userpass', username: v.user, password: v.password },
  { authType: 'jwt', jwtRole: v.jwtRole, jwtToken: v.jwt },
] as const) {
  const b = hashicorpVault({ url: v.url, ...auth, logger: silentLogger });
  expect(`vault ${auth.authType}`, await b.getVariable('marker'), 'vault-value-Marker7');
  await b.close?.();
}
// Vault's gcp login: google-auth-library (its own copy, not the Secret Manager SDK's) gets the
// JWT signed by the IAM fake, which its logger would print under GOOGLE_SDK_NODE_LOGGING.
const vaultGcp = hashicorpVault({
  url: v.url,
  authType: 'gcp',
  roleId: v.gcp.role,
  gcpKeyfileDict: v.gcp.key,
  gcpScopes: 'https://www.googleapis.com/auth/cloud-platform',
  gcpIamEndpoint: `${v.url}/google/iam`,
  gcpUseJwtAccessWithScope: true,
  logger: silentLogger,
});
expect('vault gcp', await vaultGcp.getVariable('marker'), 'vault-value-Marker7');
await vaultGcp.close?.();
const aws = awsSecretsManager({
  endpoint: cfg.aws.url,
  stsEndpoint: cfg.aws.url,
  region: 'us-east-1',
  credentials: { accessKeyId: cfg.aws.keyId, secretAccessKey: cfg.aws.secret },
  roleArn: cfg.aws.roleArn,
  logger: silentLogger,
});
expect('aws', await aws.getVariable('marker'), 'aws-value-Marker7');
await aws.close?.();
const az = azureKeyVault({
  vaultUrl: cfg.azure.url,
  tenantId: cfg.azure.tenantId,
  clientId: cfg.azure.clientId,
  clientSecret: cfg.azure.clientSecret,
  clientOptions: cfg.azure.clientOptions,
  credentialOptions: cfg.azure.credentialOptions,
  retryOptions: { maxRetries: 0 },
  logger: silentLogger,
});
expect('azure', await az.getVariable('marker'), 'azure-value-Marker7');
await az.close?.();
const gcp = gcpSecretManager({
  projectId: 'p',
  clientOptions: {
    apiEndpoint: '127.0.0.1',
    port: cfg.gcp.port,
    sslCreds: gax.grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  },
  maxRetries: 0,
  logger: silentLogger,
});
expect('gcp', await gcp.getVariable('marker'), 'gcp-value-Marker7');
await gcp.close?.();
process.stdout.write('done\n');
