/**
 * Reading Airflow's `backend_kwargs` (the JSON object of `AIRFLOW__SECRETS__BACKEND_KWARGS`) with
 * type checks. Keys stay snake_case as Airflow spells them; a value of the wrong type is a
 * `ConfigurationError` naming the setting (`AIRFLOW__SECRETS__BACKEND_KWARGS.<key>`), never the
 * value. Each adapter maps the kwargs it reads onto its options in its own `fromAirflowKwargs`.
 */
import { ConfigurationError } from '../errors.js';

type Kw = Record<string, unknown>;

/** The setting name used in errors for a kwarg, e.g. `AIRFLOW__SECRETS__BACKEND_KWARGS.sep`. */
export const kwargSetting = (key: string): string => `AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`;

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

function bad(key: string, what: string): never {
  throw new ConfigurationError(kwargSetting(key), `${kwargSetting(key)} must be ${what}`);
}
