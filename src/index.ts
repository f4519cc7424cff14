export type {
  AdapterContext,
  BackendCallOptions,
  ListedName,
  ListOptions,
  ListResult,
  Lookup,
  PutOptions,
  PutResult,
  SecretKind,
  SecretsBackend,
} from './backend.js';
export { isSecretsBackend } from './backend.js';
// The configuration code is imported when a resolver is first built from the environment.
export { backendFromClassPath, knownBackends, registerBackend } from './config/registry.js';
export { cacheFromEnv } from './config/setting.js';
export { Connection, type ConnectionFields, deserializeConnection } from './connection.js';
export {
  getConnection,
  getConnectionOrThrow,
  getDefaultResolver,
  getVariable,
  getVariableOrThrow,
  migrate,
  resetDefaultResolver,
  resolverFromEnv,
  setDefaultResolver,
} from './default.js';
export * from './errors.js';
export type {
  Inventory,
  InventoryBackend,
  InventoryEntry,
  InventoryOptions,
  MigrateKind,
  MigrateOptions,
  MigrateReport,
  MigrateResult,
  PlanAction,
  PlanEntry,
  WriteResult,
} from './inventory/index.js';
export { consoleLogger, type Logger, silentLogger } from './logger.js';
export {
  configureMasker,
  isSensitiveName,
  MAX_MASKED_SECRETS,
  type MaskerOptions,
  maskSecret,
  redact,
  redactObject,
  resetMasker,
  SENSITIVE_FIELDS,
} from './masker.js';
export type { CacheOptions } from './resolver/cache.js';
export {
  type BackendStats,
  type CacheStats,
  type CallErrorReason,
  createResolver,
  type ExplainStep,
  type Explanation,
  type GetVariableOptions,
  type LatencyHistogram,
  type LookupOptions,
  type OpenTelemetryApi,
  type Resolver,
  type ResolverOptions,
  type ResolverStats,
  type TelemetryOptions,
  type WatchListener,
} from './resolver/index.js';
export { type FreshConnectionOptions, isLikelyAuthError, withFreshConnection } from './resolver/rotation.js';
