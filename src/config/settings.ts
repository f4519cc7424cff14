/**
 * Airflow's configuration, read once into one typed, deeply frozen `Settings` object: the
 * environment, `airflow.cfg` and the `_CMD` / `_SECRET` variants, already resolved. Every value
 * keeps where it came from (`Setting.source`: `AIRFLOW__SECRETS__BACKEND`,
 * `AIRFLOW__CORE__FERNET_KEY_CMD`, `airflow.cfg [secrets] backend`,
 * `airflow.cfg [database] sql_alchemy_conn_cmd`, `default`, …), and the errors of settings that
 * cannot be used say it ("… (from airflow.cfg [secrets] cache_ttl_seconds)").
 *
 * Precedence, as Airflow's `conf.get`: env `AIRFLOW__S__K` > env `…_CMD` > env `…_SECRET` >
 * `[s] k` > `[s] k_cmd` > `[s] k_secret`. `_CMD` / `_SECRET` count only for the settings Airflow
 * marks sensitive (`SENSITIVE`). The first variant present wins, even when it then yields nothing
 * (a `_SECRET` the backend does not hold reads as unset; nothing further down is tried).
 *
 * Reading order (explicit, because `_SECRET` variants need a backend to ask):
 *  1. `AIRFLOW_HOME`, `AIRFLOW_CONFIG` and the file itself (`airflow-cfg.ts`).
 *  2. `[secrets] backend` and `[secrets] backend_kwargs`. There is no backend yet, so a `_secret`
 *     variant of `backend_kwargs` reads as unset.
 *  3. The custom backend is built from those (`registry.ts`), here, before anything else.
 *  4. Everything else — `backends_order`, the masker, the metastore (URL, Fernet key), the cache —
 *     with `_SECRET` variants read through that backend's `getConfig` (Airflow does the same with
 *     its `get_custom_secret_backend()`).
 * Errors surface in that order. A new setting is one more field in its section's interface and one
 * more line in that section's reader (`readMasker`, `readMetastore`, `readCache`, …).
 */
import os from 'node:os';
import path from 'node:path';
import type { SecretsBackend } from '../backend.js';
import { ConfigurationError, describeError, isAirflowSecretsError, safeCause } from '../errors.js';
import { consoleLogger, type Logger } from '../logger.js';
import { type CfgValues, readAirflowCfgValues } from './airflow-cfg.js';
import { runCommand } from './command.js';
import { buildBackend } from './registry.js';
import {
  type CacheSettings,
  DEFAULT_SOURCE,
  fromSource,
  parseBool,
  readCache,
  type Setting,
} from './setting.js';

export { type CacheSettings, DEFAULT_SOURCE, fromSource, readCache, type Setting };

type Env = Record<string, string | undefined>;

/**
 * A sensitive setting (a URL with a password, a key, kwargs holding tokens): its value is handed
 * out by `reveal()` only and never shows in `util.inspect`, JSON or `String()`.
 */
export class SensitiveSetting<T> {
  readonly name: string;
  readonly source: string;
  readonly #reveal: () => T;
  constructor(name: string, source: string, reveal: () => T) {
    this.name = name;
    this.source = source;
    this.#reveal = reveal;
    Object.freeze(this);
  }
  reveal(): T {
    return this.#reveal();
  }
  toJSON(): { name: string; source: string; value: string } {
    return { name: this.name, source: this.source, value: '***' };
  }
  toString(): string {
    return `${this.name}=*** (from ${this.source})`;
  }
}

export type BackendKind = 'custom' | 'environment_variable' | 'metastore';

export interface CustomBackendSettings {
  /** `[secrets] backend`, trimmed: a class path or short name. */
  readonly classPath: Setting<string>;
  /** `[secrets] backend_kwargs`; each `reveal()` is a fresh copy the adapter may keep or change. */
  readonly kwargs: SensitiveSetting<Record<string, unknown>>;
}

export interface MetastoreSettings {
  /**
   * `[database] sql_alchemy_conn` (trimmed), else the legacy `[core] sql_alchemy_conn` (`name`
   * says which), else `sqlite:///$AIRFLOW_HOME/airflow.db` with source `default`.
   */
  readonly sqlAlchemyConn: SensitiveSetting<string>;
  /** `[core] fernet_key`; null when unset (values are stored and read as plain text). */
  readonly fernetKey: SensitiveSetting<string> | null;
}

export interface MaskerSettings {
  /** `[core] sensitive_var_conn_names`, split on commas; null when unset. */
  readonly sensitiveVarConnNames: Setting<readonly string[]> | null;
  /** `[logging] min_length_masked_secret`; null when unset. */
  readonly minLengthMaskedSecret: Setting<number> | null;
}

export interface Settings {
  /** `AIRFLOW_HOME`, default `~/airflow`. */
  readonly airflowHome: Setting<string>;
  /** The `airflow.cfg` consulted (a missing file is no settings); null with `readAirflowCfg: false`. */
  readonly airflowConfig: Setting<string> | null;
  /** The custom backend's configuration; null when `[secrets] backend` is unset or empty. */
  readonly customBackend: CustomBackendSettings | null;
  /** `[secrets] backends_order`, default `custom,environment_variable,metastore`. */
  readonly backendsOrder: Setting<readonly BackendKind[]>;
  readonly masker: MaskerSettings;
  readonly metastore: MetastoreSettings;
  readonly cache: CacheSettings;
  /** Airflow 3.2's `[core] multi_team`, default false. */
  readonly multiTeam: Setting<boolean>;
  /** The team of the lookups (`resolverFromEnv(env, { team })`); null when none is given. */
  readonly team: Setting<string> | null;
}

const KWARGS = 'AIRFLOW__SECRETS__BACKEND_KWARGS';
const ORDER = 'AIRFLOW__SECRETS__BACKENDS_ORDER';
const SQL_ALCHEMY_CONN = 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN';
const LEGACY_SQL_ALCHEMY_CONN = 'AIRFLOW__CORE__SQL_ALCHEMY_CONN';
const FERNET_KEY = 'AIRFLOW__CORE__FERNET_KEY';
const MIN_LENGTH = 'AIRFLOW__LOGGING__MIN_LENGTH_MASKED_SECRET';
const MULTI_TEAM = 'AIRFLOW__CORE__MULTI_TEAM';

/** Options Airflow marks sensitive: only these honour `_CMD` and `_SECRET`. */
const SENSITIVE = new Set([SQL_ALCHEMY_CONN, LEGACY_SQL_ALCHEMY_CONN, FERNET_KEY, KWARGS]);

/** What the readers read: the environment and the resolved `airflow.cfg`. */
interface Source {
  readonly env: Env;
  readonly cfg: CfgValues;
  readonly home: Setting<string>;
  readonly config: Setting<string> | null;
}

/** `AIRFLOW_HOME`, default `~/airflow`. */
export function airflowHome(env: Env): string {
  const h = env.AIRFLOW_HOME;
  if (h === undefined || h === '') return path.join(os.homedir(), 'airflow');
  return h.startsWith('~') ? path.join(os.homedir(), h.slice(1)) : h;
}

function openSource(env: Env, readCfg: boolean): Source {
  const set = env.AIRFLOW_HOME !== undefined && env.AIRFLOW_HOME !== '';
  const home = {
    value: airflowHome(env),
    name: 'AIRFLOW_HOME',
    source: set ? 'AIRFLOW_HOME' : DEFAULT_SOURCE,
  };
  const config = env.AIRFLOW_CONFIG
    ? { value: env.AIRFLOW_CONFIG, name: 'AIRFLOW_CONFIG', source: 'AIRFLOW_CONFIG' }
    : { value: path.join(home.value, 'airflow.cfg'), name: 'AIRFLOW_CONFIG', source: home.source };
  const cfg: CfgValues = readCfg ? readAirflowCfgValues(config.value, env) : new Map();
  return { env, cfg, home, config: readCfg ? config : null };
}

/** The variant of a setting that is present, by precedence; `label` is what its errors name. */
interface Variant {
  how: 'value' | 'cmd' | 'secret';
  text: string;
  source: string;
  label: string;
}

function findVariant(src: Source, name: string, withVariants: boolean): Variant | undefined {
  const [, s = '', k = ''] = /^AIRFLOW__(.+?)__(.+)$/.exec(name) ?? [];
  const [section, key] = [s.toLowerCase(), k.toLowerCase()];
  const cfg = src.cfg.get(section);
  const inEnv = (how: Variant['how'], suffix: string): Variant | undefined => {
    const text = src.env[name + suffix];
    return text === undefined ? undefined : { how, text, source: name + suffix, label: name + suffix };
  };
  const inCfg = (how: Variant['how'], suffix: string): Variant | undefined => {
    const text = cfg?.get(key + suffix);
    const label = `[${section}] ${key}${suffix}`;
    return text === undefined ? undefined : { how, text, source: `airflow.cfg ${label}`, label };
  };
  const direct = inEnv('value', '');
  if (direct || !withVariants) return direct ?? inCfg('value', '');
  return (
    inEnv('cmd', '_CMD') ??
    inEnv('secret', '_SECRET') ??
    inCfg('value', '') ??
    inCfg('cmd', '_cmd') ??
    inCfg('secret', '_secret')
  );
}

/** A non-sensitive setting: env, then `airflow.cfg`. */
function plain(src: Source, name: string): Setting<string> | undefined {
  const v = findVariant(src, name, false);
  return v && { value: v.text, name, source: v.source };
}

/** A sensitive setting, `_CMD` run and `_SECRET` asked of `secrets` (none: reads as unset). */
async function sensitive(
  src: Source,
  name: string,
  secrets: SecretsBackend | null,
): Promise<Setting<string> | undefined> {
  const v = findVariant(src, name, SENSITIVE.has(name));
  if (!v) return undefined;
  const value =
    v.how === 'value'
      ? v.text
      : v.how === 'cmd'
        ? runCommand(v.label, v.text)
        : await viaSecret(secrets, v.label, v.text);
  return value === undefined ? undefined : { value, name, source: v.source };
}

async function viaSecret(b: SecretsBackend | null, label: string, id: string): Promise<string | undefined> {
  if (!b?.getConfig) return undefined;
  try {
    return (await b.getConfig(id)) ?? undefined;
  } catch (e) {
    throw new ConfigurationError(
      label,
      `Cannot retrieve config from alternative secrets backend for ${label}. Make sure it is configured properly and that the Backend is accessible. (${isAirflowSecretsError(e) ? e.message : describeError(e)})`,
      { cause: safeCause(e) },
    );
  }
}

/** Stage 2: `[secrets] backend` and its kwargs (kwargs are read only when a backend is named). */
async function readCustomBackend(src: Source, logger: Logger): Promise<CustomBackendSettings | null> {
  const named = plain(src, 'AIRFLOW__SECRETS__BACKEND');
  const classPath = named?.value.trim();
  if (!named || !classPath) return null;
  const raw = await sensitive(src, KWARGS, null);
  const text = raw === undefined ? undefined : kwargsText(raw, logger);
  return {
    classPath: { ...named, value: classPath },
    // The validated JSON text is kept and parsed again on each reveal(), so what an adapter gets
    // is its own and the settings never change. A null-prototype copy: `__proto__` stays data.
    kwargs: new SensitiveSetting(KWARGS, raw?.source ?? DEFAULT_SOURCE, () =>
      text === undefined ? {} : Object.assign(Object.create(null), JSON.parse(text) as object),
    ),
  };
}

/** Airflow's rules: blank, not JSON (warned), falsy or not a dict (warned) all mean no kwargs. */
function kwargsText(raw: Setting<string>, logger: Logger): string | undefined {
  if (raw.value.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.value);
  } catch {
    logger.warn(`Failed to parse [secrets] backend_kwargs (${raw.source}) as JSON, defaulting to no kwargs.`);
    return undefined;
  }
  if (!parsed) return undefined;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    logger.warn(
      `Failed to parse [secrets] backend_kwargs (${raw.source}) into a dict, defaulting to no kwargs.`,
    );
    return undefined;
  }
  return raw.value;
}

const ORDER_KINDS: readonly BackendKind[] = ['custom', 'environment_variable', 'metastore'];

function readOrder(src: Source): Setting<readonly BackendKind[]> {
  const raw = plain(src, ORDER);
  if (raw === undefined || raw.value.trim() === '') {
    return { value: ORDER_KINDS, name: ORDER, source: DEFAULT_SOURCE };
  }
  const items = raw.value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const problem = (what: string, list: string[]) =>
    new ConfigurationError(
      ORDER,
      `[secrets] backends_order is misconfigured. The following backend types are ${what}: [${list.join(', ')}] (from ${raw.source})`,
    );
  const unknown = items.filter((i) => !(ORDER_KINDS as readonly string[]).includes(i));
  if (unknown.length) throw problem('unsupported', unknown);
  const missing = ['environment_variable', 'metastore'].filter((k) => !items.includes(k));
  if (missing.length) throw problem('missing', missing);
  return { ...raw, value: items as BackendKind[] };
}

function readMasker(src: Source): MaskerSettings {
  const names = plain(src, 'AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES');
  const min = plain(src, MIN_LENGTH);
  const n = min === undefined ? undefined : Number(min.value);
  if (min !== undefined && (!Number.isInteger(n) || n! < 0)) {
    throw new ConfigurationError(
      MIN_LENGTH,
      `${MIN_LENGTH} must be a whole number >= 0${fromSource(MIN_LENGTH, min.source)}`,
    );
  }
  return {
    sensitiveVarConnNames: names ? { ...names, value: names.value.split(',') } : null,
    minLengthMaskedSecret: min ? { ...min, value: n! } : null,
  };
}

async function readMetastore(src: Source, secrets: SecretsBackend | null): Promise<MetastoreSettings> {
  const current = await sensitive(src, SQL_ALCHEMY_CONN, secrets);
  // The legacy name counts only when the new one is not set at all (a blank one is the default).
  const legacy = current === undefined ? await sensitive(src, LEGACY_SQL_ALCHEMY_CONN, secrets) : undefined;
  const conn = current ?? legacy;
  const fernet = await sensitive(src, FERNET_KEY, secrets);
  const url = conn?.value.trim();
  const defaultUrl = `sqlite:///${path.resolve(src.home.value, 'airflow.db')}`;
  return {
    sqlAlchemyConn: url
      ? new SensitiveSetting(conn!.name, conn!.source, () => url)
      : new SensitiveSetting(SQL_ALCHEMY_CONN, DEFAULT_SOURCE, () => defaultUrl),
    fernetKey: fernet ? new SensitiveSetting(FERNET_KEY, fernet.source, () => fernet.value) : null,
  };
}

/**
 * `[core] multi_team` (Airflow 3.2) and the team given by the caller. A team given while multi-team
 * is off is kept in the settings but used nowhere (Airflow passes no team then).
 */
function readMultiTeam(
  src: Source,
  team: string | undefined,
): { multiTeam: Setting<boolean>; team: Setting<string> | null } {
  const raw = plain(src, MULTI_TEAM);
  const multiTeam = raw
    ? { ...raw, value: parseBool(raw) }
    : { value: false, name: MULTI_TEAM, source: DEFAULT_SOURCE };
  if (team !== undefined && (typeof team !== 'string' || team === '')) {
    throw new ConfigurationError('team', 'team must be a non-empty string (the team of the lookups)');
  }
  return {
    multiTeam,
    team: team ? { value: team, name: 'team', source: 'resolverFromEnv({ team })' } : null,
  };
}

export interface ReadSettingsOptions {
  /** Read `$AIRFLOW_CONFIG` / `$AIRFLOW_HOME/airflow.cfg` for settings the environment does not set. Default true. */
  readAirflowCfg?: boolean | undefined;
  /**
   * The team of the lookups (Airflow 3.2 multi-team: the team of the task's DAG bundle). Used only
   * when `[core] multi_team` is on; Airflow has no process-wide setting for it.
   */
  team?: string | undefined;
  /** Receives the kwargs warnings; also the custom backend's logger. Default `consoleLogger`. */
  logger?: Logger | undefined;
  /** Passed to the custom backend (`AdapterContext.confineIds`): refuse ids that leave its path. */
  confineIds?: boolean | undefined;
}

export interface SettingsAndBackend {
  readonly settings: Settings;
  /** The custom backend, built in stage 3 (see the module comment); null when none is configured. */
  readonly customBackend: SecretsBackend | null;
}

/** Read every setting, in the order the module comment gives, building the custom backend on the way. */
export async function readSettings(env: Env, options: ReadSettingsOptions = {}): Promise<SettingsAndBackend> {
  const logger = options.logger ?? consoleLogger;
  const src = openSource(env, options.readAirflowCfg !== false);
  const customBackend = await readCustomBackend(src, logger);
  const { multiTeam, team } = readMultiTeam(src, options.team);
  const teamContext = multiTeam.value ? { multiTeam: true, ...(team ? { team: team.value } : {}) } : {};
  const backend = customBackend
    ? await buildBackend(
        customBackend.classPath.value,
        customBackend.kwargs.reveal(),
        { env, logger, ...teamContext, ...(options.confineIds ? { confineIds: true } : {}) },
        customBackend.classPath.source,
        customBackend.kwargs.source,
      )
    : null;
  try {
    const settings: Settings = {
      airflowHome: src.home,
      airflowConfig: src.config,
      customBackend,
      backendsOrder: readOrder(src),
      masker: readMasker(src),
      metastore: await readMetastore(src, backend),
      cache: readCache((name) => plain(src, name)),
      multiTeam,
      team,
    };
    return { settings: deepFreeze(settings), customBackend: backend };
  } catch (e) {
    await backend?.close?.().catch(() => undefined);
    throw e;
  }
}

/** Only where the metadata database is, for tools that write to it: no custom backend, so no `_SECRET`. */
export async function readMetastoreSettings(
  env: Env,
): Promise<{ airflowHome: Setting<string>; metastore: MetastoreSettings }> {
  const src = openSource(env, true);
  return deepFreeze({ airflowHome: src.home, metastore: await readMetastore(src, null) });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
