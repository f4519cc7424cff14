/**
 * Airflow's environment → a resolver: `[custom backend] → environment → metastore`, configured by
 * the same settings Airflow reads (`AIRFLOW__SECRETS__BACKEND`, `…_BACKEND_KWARGS`, `…_USE_CACHE`,
 * `…_CACHE_TTL_SECONDS`, `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`, `AIRFLOW__CORE__FERNET_KEY`, with
 * their `_CMD` / `_SECRET` variants and `airflow.cfg`). The public face of `src/config/`: read the
 * settings (`settings.ts`), build the chain (`chain.ts`), then the resolver.
 */
import { consoleLogger, type Logger, messageSafeLogger } from '../logger.js';
import { createResolver, type Resolver, type ResolverOptions } from '../resolver/index.js';
import { applyMaskerSettings, buildChain, cacheOptions } from './chain.js';
import { DEFAULT_SOURCE, readMetastoreSettings, readSettings } from './settings.js';

export { shlexSplit } from './command.js';
export { backendFromClassPath, knownBackends, registerBackend } from './registry.js';
export { cacheFromEnv } from './setting.js';
export {
  airflowHome,
  type BackendKind,
  type CacheSettings,
  type CustomBackendSettings,
  type MaskerSettings,
  type MetastoreSettings,
  type ReadSettingsOptions,
  readSettings,
  SensitiveSetting,
  type Setting,
  type Settings,
  type SettingsAndBackend,
} from './settings.js';

type Env = Record<string, string | undefined>;

export interface FromEnvOptions extends Partial<Omit<ResolverOptions, 'backends'>> {
  logger?: Logger | undefined;
  /** Read `$AIRFLOW_CONFIG` / `$AIRFLOW_HOME/airflow.cfg` for settings the environment does not set. Default true. */
  readAirflowCfg?: boolean | undefined;
  /**
   * Airflow 3.2 multi-team: the team whose team-scoped connections and variables are read first
   * (as Airflow does for a task of that team). Used only when `[core] multi_team` is on.
   */
  team?: string | undefined;
  /**
   * The custom backend refuses ids that would leave its configured mount or prefix (`..`, `//`,
   * `/` where a name cannot hold one; Vault, SSM, Google Cloud). Default false (Airflow does no
   * sanitising); the CLI sets it.
   */
  confineIds?: boolean | undefined;
}

/**
 * Build the chain Airflow builds from this environment: the custom backend (if
 * `AIRFLOW__SECRETS__BACKEND` is set), then `AIRFLOW_CONN_*`/`AIRFLOW_VAR_*`, then the metadata
 * database. Settings are read once, now; `env` defaults to `process.env`.
 */
export async function resolverFromEnv(
  env: Env = process.env,
  options: FromEnvOptions = {},
): Promise<Resolver> {
  const { logger: given = consoleLogger, readAirflowCfg, team, confineIds, ...rest } = options;
  const logger = messageSafeLogger(given);
  const { settings, customBackend } = await readSettings(env, { logger, readAirflowCfg, team, confineIds });
  applyMaskerSettings(settings.masker);
  let resolver: Resolver | undefined;
  const backends = await buildChain(settings, customBackend, {
    env,
    logger,
    // Writes through this metastore drop the resolver's cached answer for that id.
    onWrite: (kind, id) => resolver?.invalidate(kind, id),
  }).catch(async (e: unknown) => {
    await customBackend?.close?.().catch(() => undefined);
    throw e;
  });
  resolver = createResolver({ cache: cacheOptions(settings.cache), ...rest, logger, backends });
  return resolver;
}

/** The metastore's settings in the shape `metastoreFromSettings` takes. */
export interface MetastoreSettingsFromEnv {
  sqlAlchemyConn: string | undefined;
  fernetKey: string | undefined;
  airflowHome: string;
  urlSetting: string;
  urlSource: string;
  fernetKeySource: string | undefined;
}

/**
 * Where the metadata database is and its Fernet key, from the environment and `airflow.cfg`
 * (with `_CMD` variants), for tools that write to it (the CLI). `_SECRET` variants need the custom
 * backend: use `resolverFromEnv` for those.
 */
export async function metastoreSettingsFromEnv(env: Env = process.env): Promise<MetastoreSettingsFromEnv> {
  const { airflowHome: home, metastore } = await readMetastoreSettings(env);
  const conn = metastore.sqlAlchemyConn;
  return {
    sqlAlchemyConn: conn.source === DEFAULT_SOURCE ? undefined : conn.reveal(),
    fernetKey: metastore.fernetKey?.reveal(),
    airflowHome: home.value,
    urlSetting: conn.name,
    urlSource: conn.source,
    fernetKeySource: metastore.fernetKey?.source,
  };
}
