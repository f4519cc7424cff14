export type { Lookup, SecretKind, SecretsBackend } from './backend.js';
export { isSecretsBackend } from './backend.js';
export { Connection, type ConnectionFields } from './connection.js';
export * from './errors.js';
export type { Logger } from './logger.js';
