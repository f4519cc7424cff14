/**
 * Reads `airflow.cfg` as Airflow does (Python `configparser` with basic interpolation, then
 * `expand_env_var`), for the few settings this library uses. Environment variables still win.
 * The file is `$AIRFLOW_CONFIG`, else `$AIRFLOW_HOME/airflow.cfg` (chosen by `settings.ts`); a missing
 * file is no settings.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ConfigurationError } from '../errors.js';

export type CfgSections = Map<string, Map<string, string>>;

/** Parse INI text like `configparser` (keys lower-cased, `=` or `:`, indented continuation lines). */
export function parseAirflowCfg(text: string, file: string): CfgSections {
  const sections: CfgSections = new Map();
  let current: Map<string, string> | null = null;
  let lastKey: string | null = null;
  let lastIndent = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const stripped = line.trim();
    const indent = line.length - line.trimStart().length;
    if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) return;
    if (current && lastKey !== null && indent > lastIndent) {
      current.set(lastKey, `${current.get(lastKey) ?? ''}\n${stripped}`);
      return;
    }
    const header = /^\[([^\]]+)\]$/.exec(stripped);
    if (header) {
      const name = header[1]!;
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      lastKey = null;
      return;
    }
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(stripped);
    if (!m || current === null) {
      throw new ConfigurationError(
        'AIRFLOW_CONFIG',
        `${file}:${i + 1}: cannot parse this line of airflow.cfg`,
      );
    }
    lastKey = m[1]!.toLowerCase();
    lastIndent = indent;
    current.set(lastKey, m[2]!);
  });
  return sections;
}

/** `%%` → `%` and `%(name)s` from the same section or `[DEFAULT]` (configparser's BasicInterpolation). */
function interpolate(cfg: CfgSections, section: string, value: string, depth = 0): string {
  if (depth > 10) return value;
  return value.replace(/%(%|\(([^)]+)\)s)/g, (_m, what: string, name?: string) => {
    if (what === '%') return '%';
    const key = name!.toLowerCase();
    const v = cfg.get(section)?.get(key) ?? cfg.get('DEFAULT')?.get(key);
    return v === undefined ? _m : interpolate(cfg, section, v, depth + 1);
  });
}

/** Python `os.path.expandvars` + `expanduser`: `$VAR` / `${VAR}` (unset ones left as they are), leading `~`. */
export function expandEnvVars(value: string, env: Record<string, string | undefined>): string {
  const expanded = value.replace(/\$(\w+|\{[^}]*\})/g, (m, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    const v = env[key];
    return v === undefined ? m : v;
  });
  return expanded.startsWith('~') && (expanded.length === 1 || expanded[1] === '/')
    ? os.homedir() + expanded.slice(1)
    : expanded;
}

export interface AirflowCfg {
  /** The value of `[section] key`, interpolated and env-expanded, or undefined. */
  get(section: string, key: string): string | undefined;
}

export const EMPTY_CFG: AirflowCfg = { get: () => undefined };

/** Every value of a file, interpolated and env-expanded: section → lower-cased key → value. */
export type CfgValues = ReadonlyMap<string, ReadonlyMap<string, string>>;

/**
 * Read and resolve the whole file at once (a missing file is no settings), so the settings reader
 * works on plain data and never calls back into this module.
 */
export function readAirflowCfgValues(file: string, env: Record<string, string | undefined>): CfgValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return new Map();
    throw new ConfigurationError(
      'AIRFLOW_CONFIG',
      `Cannot read ${file} (${(e as { code?: string }).code ?? 'error'})`,
    );
  }
  const cfg = parseAirflowCfg(text, file);
  const out = new Map<string, Map<string, string>>();
  for (const [section, entries] of cfg) {
    const resolved = new Map<string, string>();
    for (const [key, raw] of entries) resolved.set(key, expandEnvVars(interpolate(cfg, section, raw), env));
    out.set(section, resolved);
  }
  return out;
}

export function loadAirflowCfg(file: string, env: Record<string, string | undefined>): AirflowCfg {
  const values = readAirflowCfgValues(file, env);
  return values.size === 0
    ? EMPTY_CFG
    : { get: (section, key) => values.get(section)?.get(key.toLowerCase()) };
}
