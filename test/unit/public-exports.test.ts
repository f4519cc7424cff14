/**
 * The public API, by name: every subpath of the exports map and the runtime names it exports.
 * A name may be added (add it here too); none may disappear or be renamed without a major version.
 * Types are checked by the typecheck of examples/ and test/; this lists what `import` sees.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, { default: string } | string>;
};

const PUBLIC: Record<string, string[]> = {
  '.': [
    'AccessDeniedError',
    'AirflowSecretsError',
    'BackendError',
    'BackendTimeoutError',
    'BackendUnavailableError',
    'ConfigurationError',
    'Connection',
    'ConnectionNotFoundError',
    'InvalidConnectionError',
    'MAX_MASKED_SECRETS',
    'MalformedSecretError',
    'MissingDependencyError',
    'SENSITIVE_FIELDS',
    'SecretExistsError',
    'SecretFileError',
    'ThrottledError',
    'VariableNotFoundError',
    'backendFromClassPath',
    'cacheFromEnv',
    'configureMasker',
    'consoleLogger',
    'createResolver',
    'describeError',
    'deserializeConnection',
    'escapeText',
    'getConnection',
    'getConnectionOrThrow',
    'getDefaultResolver',
    'getVariable',
    'getVariableOrThrow',
    'isAirflowSecretsError',
    'isBackendError',
    'isLikelyAuthError',
    'isSecretsBackend',
    'isSensitiveName',
    'knownBackends',
    'maskSecret',
    'migrate',
    'redact',
    'redactObject',
    'registerBackend',
    'resetDefaultResolver',
    'resetMasker',
    'resolverFromEnv',
    'safeCause',
    'setDefaultResolver',
    'silentLogger',
    'withFreshConnection',
  ],
  './testing': [
    'CONFORMANCE_PASSWORD',
    'conformanceSeed',
    'fromFixtures',
    'getDefaultResolver',
    'memory',
    'memoryBackend',
    'recordCalls',
    'runBackendConformance',
    'seededRandom',
    'useTestResolver',
    'withFaults',
    'withTestResolver',
  ],
  './backends/environment': ['envVarName', 'environmentVariables', 'fromAirflowKwargs', 'pythonUpper'],
  './backends/local-filesystem': [
    'SecretFileError',
    'fromAirflowKwargs',
    'loadConfigs',
    'loadConnections',
    'loadVariables',
    'localFilesystem',
    'parseSecretText',
    'secretFileFormat',
  ],
  './backends/memory': ['memory', 'memoryBackend'],
  './backends/metastore': [
    'ConnectionExistsError',
    'fromAirflowKwargs',
    'metastore',
    'metastoreFromSettings',
  ],
  './backends/hashicorp-vault': ['fromAirflowKwargs', 'hashicorpVault'],
  './backends/aws-secrets-manager': ['awsSecretsManager', 'fromAirflowKwargs'],
  './backends/aws-ssm': ['awsSsm', 'fromAirflowKwargs'],
  './backends/gcp-secret-manager': ['fromAirflowKwargs', 'gcpSecretManager'],
  './backends/azure-key-vault': ['azureKeyVault', 'fromAirflowKwargs'],
  './clients': [
    'awsConfig',
    'googleCredentials',
    'httpBaseUrl',
    'httpOptions',
    'mongoUri',
    'mysqlConfig',
    'pgConfig',
    'redisOptions',
    'roleSessionName',
    'urlFromEndpoint',
  ],
};

describe('public exports', () => {
  it('lists every subpath of the exports map', () => {
    const subpaths = Object.entries(pkg.exports)
      .filter(([, t]) => typeof t !== 'string')
      .map(([sub]) => sub);
    expect(subpaths.sort()).toEqual(Object.keys(PUBLIC).sort());
  });

  for (const [sub, names] of Object.entries(PUBLIC)) {
    it(`${sub} exports exactly its listed names`, async () => {
      const target = pkg.exports[sub] as { default: string };
      const file = path.join(root, target.default.replace('./dist/', 'src/').replace(/\.js$/, '.ts'));
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      expect(Object.keys(mod).sort()).toEqual([...names].sort());
    });
  }
});
