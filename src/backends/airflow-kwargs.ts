/**
 * Shared pieces of the provider adapters: reading Airflow's snake_case `backend_kwargs` with type
 * checks (errors name the setting, never the value), Python's `str.rstrip(chars)`, and the
 * per-kind prefix + lookup-pattern table that decides which secret name a lookup asks for.
 */
import type { Lookup, SecretKind } from '../backend.js';
import { ConfigurationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { compileLookupPattern } from './base.js';

/** A `*_lookup_pattern`: Airflow regex text (Python `re.match`, IGNORECASE), or a predicate. */
export type LookupPattern = string | ((id: string) => boolean);

/** The per-kind lookup patterns of the AWS and Vault providers. Default: every id is looked up. */
export interface LookupPatternOptions {
  /** Only ids matching (Python `re.match`, case-insensitive) are looked up. Default: all. */
  connectionsLookupPattern?: LookupPattern | null;
  variablesLookupPattern?: LookupPattern | null;
  configLookupPattern?: LookupPattern | null;
}

/** The setting name used in errors for a kwarg, e.g. `AIRFLOW__SECRETS__BACKEND_KWARGS.sep`. */
export const kwargSetting = (key: string): string => `AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`;

type Kw = Record<string, unknown>;

function bad(key: string, what: string): never {
  throw new ConfigurationError(kwargSetting(key), `${kwargSetting(key)} must be ${what}`);
}

/** A string kwarg; `undefined` when absent. `null` is accepted only when `nullable`. */
export function kwString(kw: Kw, key: string): string | undefined;
export function kwString(kw: Kw, key: string, nullable: true): string | null | undefined;
export function kwString(kw: Kw, key: string, nullable = false): string | null | undefined {
  const v = kw[key];
  if (v === undefined) return undefined;
  if (v === null && nullable) return null;
  if (typeof v !== 'string') bad(key, nullable ? 'a string or null' : 'a string');
  return v;
}

/** A string kwarg where JSON `null` means "not set" (Python's `None` default). */
export function kwOptString(kw: Kw, key: string): string | undefined {
  const v = kwString(kw, key, true);
  return v === null ? undefined : v;
}

/** A whole-number kwarg (a numeric string is accepted, as Airflow's config often carries them). */
export function kwInt(kw: Kw, key: string): number | undefined {
  const v = kw[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) bad(key, 'a whole number');
  return n;
}

/** A JSON-object kwarg. */
export function kwObject(kw: Kw, key: string): Record<string, unknown> | undefined {
  const v = kw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) bad(key, 'a JSON object');
  return v as Record<string, unknown>;
}

/** `verify` as requests takes it: a boolean, or the path of a CA bundle; JSON `null` means "not set". */
export function kwVerify(kw: Kw, key = 'verify'): boolean | string | undefined {
  const v = kw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean' && typeof v !== 'string') bad(key, 'a boolean or a path');
  return v;
}

/**
 * botocore's total attempts from `config_kwargs.retries` (`Config(retries=…)`): `total_max_attempts`
 * as is, else `max_attempts` **+ 1** (botocore's `max_attempts` counts retries, not the first
 * request). `undefined` when neither is set.
 */
export function botocoreTotalAttempts(kw: Kw): number | undefined {
  const config = kwObject(kw, 'config_kwargs');
  const retries = config ? kwObject(config, 'retries') : undefined;
  if (!retries) return undefined;
  const total = kwInt(retries, 'total_max_attempts');
  if (total !== undefined) return Math.max(1, total);
  const retriesOnly = kwInt(retries, 'max_attempts');
  return retriesOnly === undefined ? undefined : retriesOnly + 1;
}

/** The AWS session kwargs the Secrets Manager and SSM adapters honour (`awsOptionsFromKwargs`). */
export const AWS_SESSION_KWARGS: readonly string[] = [
  ...['region_name', 'endpoint_url', 'aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'],
  ...['profile_name', 'role_arn', 'assume_role_method', 'assume_role_kwargs', 'verify', 'service_config'],
  'config_kwargs',
  // No effect in Airflow's current provider either (api_version: one API version; full_url_mode: removed).
  ...['api_version', 'full_url_mode'],
];
const BOTOCORE_CONFIG_HONOURED = new Set(['retries', 'connect_timeout']);

/**
 * Warn (naming the key, never its value) about each kwarg that Airflow would pass on to boto3 /
 * hvac / an SDK client but this adapter cannot honour, and about `config_kwargs` keys other than
 * `retries` and `connect_timeout`: behaviour would differ from Airflow's, so it is never silent.
 */
export function warnUnsupportedKwargs(
  kw: Kw,
  known: ReadonlySet<string>,
  logger: Logger,
  backend: string,
  passedTo: string,
): void {
  for (const key of Object.keys(kw)) {
    if (!known.has(key)) {
      logger.warn(
        `${backend}: ignoring backend_kwargs key '${key}' (Airflow passes it to ${passedTo}; not supported here)`,
        { backend },
      );
    }
  }
  if (!known.has('config_kwargs')) return;
  const config = kwObject(kw, 'config_kwargs') ?? {};
  for (const key of Object.keys(config)) {
    if (!BOTOCORE_CONFIG_HONOURED.has(key)) {
      logger.warn(
        `${backend}: ignoring config_kwargs key '${key}' (only 'retries' and 'connect_timeout' are used)`,
        { backend },
      );
    }
  }
}

/** Python's `str.rstrip(chars)`: strips any trailing run of the given characters. */
export function pyRstrip(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** One kind's prefix (`null` = disabled) and optional lookup pattern, with the kwarg names for messages. */
export interface KindRule {
  prefix: string | null;
  match: ((id: string) => boolean) | null;
  prefixKwarg: string;
  patternKwarg: string;
}

export type KindRules = Record<SecretKind, KindRule>;

const KWARG_STEM: Record<SecretKind, string> = {
  connection: 'connections',
  variable: 'variables',
  config: 'config',
};

/**
 * Build the per-kind table. `prefixes` are already normalised (stripped); the patterns (an adapter's
 * options) may be text (compiled here; a bad regex is a ConfigurationError naming the kwarg) or predicates.
 */
export function kindRules(
  prefixes: Record<SecretKind, string | null>,
  patterns: LookupPatternOptions,
  prefixWord: 'prefix' | 'path',
): KindRules {
  const out = {} as KindRules;
  for (const kind of ['connection', 'variable', 'config'] as const) {
    const patternKwarg = `${KWARG_STEM[kind]}_lookup_pattern`;
    const p = patterns[`${KWARG_STEM[kind]}LookupPattern` as keyof LookupPatternOptions];
    out[kind] = {
      prefix: prefixes[kind],
      match: typeof p === 'function' ? p : compileLookupPattern(p, kwargSetting(patternKwarg)),
      prefixKwarg: `${KWARG_STEM[kind]}_${prefixWord}`,
      patternKwarg,
    };
  }
  return out;
}

/** The common part of `locate`: disabled kind or non-matching id → skip; else `name(prefix)`. */
export function locateWith(
  rules: KindRules,
  kind: SecretKind,
  id: string,
  name: (prefix: string) => Lookup,
): Lookup {
  const r = rules[kind];
  if (r.prefix === null) return { skip: `${r.prefixKwarg} is null` };
  if (r.match && !r.match(id)) return { skip: `id does not match ${r.patternKwarg}` };
  return name(r.prefix);
}

/**
 * For `getMany`: every id starts as `null` (not found); ids that would be looked up are returned
 * keyed by their secret name.
 */
export function batchPlan<V>(
  locate: (kind: SecretKind, id: string) => Lookup,
  kind: SecretKind,
  ids: readonly string[],
): { result: Map<string, V | null>; idByName: Map<string, string> } {
  const result = new Map<string, V | null>();
  const idByName = new Map<string, string>();
  for (const id of ids) {
    result.set(id, null);
    const where = locate(kind, id);
    if ('name' in where) idByName.set(where.name, id);
  }
  return { result, idByName };
}

/**
 * The six per-kind kwargs (`connections_prefix`, `variables_prefix`, `config_prefix` or `…_path`,
 * and the three `…_lookup_pattern`s) as camelCase options; absent kwargs are left out.
 */
export function kindKwargs(kw: Kw, word: 'prefix' | 'path'): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const stem of ['connections', 'variables', 'config']) {
    for (const [key, opt] of [
      [`${stem}_${word}`, `${stem}${word === 'prefix' ? 'Prefix' : 'Path'}`],
      [`${stem}_lookup_pattern`, `${stem}LookupPattern`],
    ] as const) {
      const v = kwString(kw, key, true);
      if (v !== undefined) out[opt] = v;
    }
  }
  return out;
}
