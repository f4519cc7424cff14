/**
 * `airflow-secrets/clients`: from a `Connection` to the options of a common Node client, following
 * the rules of the Airflow hook that reads the same connection (docs/clients.md). Nothing here
 * imports a client library; AssumeRole in `awsConfig` loads `@aws-sdk/credential-providers` on use.
 */
export {
  type AwsClientConfig,
  type AwsConfigOptions,
  type AwsCredentialIdentity,
  type AwsCredentialsProvider,
  awsConfig,
  roleSessionName,
} from './aws.js';
export type { ClientBuilderOptions } from './common.js';
export { type GoogleCredentialsOptions, googleCredentials } from './google.js';
export {
  type HttpOptions,
  type HttpOptionsOptions,
  type HttpTlsOptions,
  httpBaseUrl,
  httpOptions,
  urlFromEndpoint,
} from './http.js';
export { mongoUri } from './mongo.js';
export { type MysqlConfig, type MysqlConfigOptions, type MysqlTlsOptions, mysqlConfig } from './mysql.js';
export { type PgConfig, type PgConfigOptions, type PgTlsOptions, pgConfig } from './postgres.js';
export {
  type IoredisOptions,
  type NodeRedisOptions,
  type RedisOptionsOptions,
  type RedisTlsOptions,
  redisOptions,
} from './redis.js';
