/**
 * What is built from a `Settings` object: the chain — the custom backend (built by `settings.ts`,
 * which needs it for `_SECRET` variants), `AIRFLOW_CONN_*` / `AIRFLOW_VAR_*`, the metadata
 * database — in `backends_order`, each backend's `origin` saying where its configuration came
 * from; the resolver's cache options; and the masker settings, applied process-wide as Airflow
 * applies them. The environment and metastore modules are imported only here, when built.
 */
import type { SecretsBackend } from '../backend.js';
import type { MetastoreOptions } from '../backends/metastore.js';
import type { Logger } from '../logger.js';
import { configureMasker } from '../masker.js';
import { type BackendKind, DEFAULT_SOURCE, type MaskerSettings, type Settings } from './settings.js';

/** The `origin` of a backend that is in the chain because Airflow's chain always has it. */
export const DEFAULT_CHAIN = 'default chain';

export interface ChainContext {
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Called after each committed write through the metastore (the resolver drops its cached answer). */
  onWrite: NonNullable<MetastoreOptions['onWrite']>;
}

/**
 * The backends in `backends_order`. A custom backend the order leaves out was needed only for
 * `_SECRET` settings; it is closed here, so nothing is left running.
 */
export async function buildChain(
  settings: Settings,
  customBackend: SecretsBackend | null,
  ctx: ChainContext,
): Promise<SecretsBackend[]> {
  const { environmentVariables } = await import('../backends/environment.js');
  const { metastoreFromSettings } = await import('../backends/metastore.js');
  const m = settings.metastore;
  const configured = m.sqlAlchemyConn.source !== DEFAULT_SOURCE;
  // Airflow 3.2 multi-team: the team reaches the built-in backends only with `[core] multi_team`.
  const team = settings.multiTeam.value
    ? { multiTeam: true, ...(settings.team ? { team: settings.team.value } : {}) }
    : {};
  const metastore = metastoreFromSettings({
    sqlAlchemyConn: configured ? m.sqlAlchemyConn.reveal() : undefined,
    urlSetting: m.sqlAlchemyConn.name,
    urlSource: m.sqlAlchemyConn.source,
    fernetKey: m.fernetKey?.reveal(),
    fernetKeySource: m.fernetKey?.source,
    airflowHome: settings.airflowHome.value,
    logger: ctx.logger,
    onWrite: ctx.onWrite,
    ...team,
  });
  const byKind: Record<BackendKind, SecretsBackend | null> = {
    custom:
      customBackend && withOrigin(customBackend, settings.customBackend?.classPath.source ?? DEFAULT_CHAIN),
    environment_variable: withOrigin(environmentVariables({ env: ctx.env, ...team }), DEFAULT_CHAIN),
    metastore: withOrigin(metastore, configured ? m.sqlAlchemyConn.source : DEFAULT_CHAIN),
  };
  const backends = settings.backendsOrder.value.flatMap((kind) => byKind[kind] ?? []);
  if (customBackend && !backends.includes(customBackend)) await customBackend.close?.();
  return backends;
}

/**
 * Record where a backend's configuration came from. A backend that already says (its factory set
 * `origin`) or that cannot take the property (frozen) is left as it is.
 */
function withOrigin(backend: SecretsBackend, origin: string): SecretsBackend {
  if (backend.origin === undefined && Object.isExtensible(backend)) {
    Object.defineProperty(backend, 'origin', { value: origin, enumerable: true });
  }
  return backend;
}

export { cacheOptions } from './setting.js';

/** `[core] sensitive_var_conn_names` and `[logging] min_length_masked_secret`, when either is set. */
export function applyMaskerSettings(masker: MaskerSettings): void {
  const names = masker.sensitiveVarConnNames;
  const min = masker.minLengthMaskedSecret;
  if (!names && !min) return;
  configureMasker({
    ...(names ? { sensitiveFields: [...names.value] } : {}),
    ...(min ? { minLength: min.value } : {}),
  });
}
