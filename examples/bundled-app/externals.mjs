/**
 * What to leave out of a bundle of airflow-secrets (docs/installing.md, "Bundling"):
 * - `better-sqlite3` is a native addon (a `.node` file) and cannot be bundled: keep it external
 *   and install it beside the bundle if the app reads a SQLite metadata database;
 * - every optional SDK or driver the app does not use: the library names each one in a literal
 *   `import()` (so the SDK you use is bundled), and a bundler stops on one that is not installed.
 *   An SDK left out is loaded only if the environment configures its backend, and then fails
 *   with a MissingDependencyError that names it.
 * This app reads AWS Secrets Manager, so `@aws-sdk/client-secrets-manager` is bundled and the rest
 * is external. An app that uses role_arn (assume role) also bundles `@aws-sdk/credential-providers`.
 */
export const EXTERNAL = [
  'better-sqlite3',
  '@aws-sdk/client-ssm',
  '@aws-sdk/credential-providers',
  '@azure/identity',
  '@azure/keyvault-secrets',
  '@google-cloud/secret-manager',
  'mysql2',
  'node-vault',
  'pg',
];
