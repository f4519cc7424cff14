/**
 * Airflow's `EnvironmentVariablesBackend`: `AIRFLOW_CONN_<ID>` and `AIRFLOW_VAR_<KEY>`, with the id
 * upper-cased as Python's `str.upper()` does (no other change: `-`, `.` and `/` stay as they are).
 * A connection value is a URI, or JSON when its first non-blank character is `{`.
 *
 * Airflow 3.2 multi-team (only with `multiTeam`): a lookup for a team reads
 * `AIRFLOW_CONN__<TEAM>___<ID>` first (when set and non-empty), then the team-agnostic name; an
 * id shaped like a team namespace (`_<team>___<id>`) is refused for the team-agnostic name.
 */
import type {
  AdapterContext,
  ListedName,
  ListOptions,
  ListResult,
  Lookup,
  SecretKind,
  SecretsBackend,
} from '../backend.js';
import { rawBackend } from './base.js';
import { emptyList, listedName, listLimit } from './list-write.js';

const DRIVER_NAME = 'environment';

export interface EnvironmentBackendOptions {
  /** The environment to read. Default `process.env`, read at each lookup (so later changes are seen). */
  env?: Record<string, string | undefined> | undefined;
  /** The team of the lookups (Airflow 3.2 multi-team); used only with `multiTeam`. */
  team?: string | undefined;
  /** Airflow's `[core] multi_team`. Default `false`: team names are neither read nor refused. */
  multiTeam?: boolean | undefined;
}

export function environmentVariables(options: EnvironmentBackendOptions = {}): SecretsBackend {
  const env = () => options.env ?? process.env;
  const multi = options.multiTeam === true;
  const team = multi && options.team ? options.team : undefined;
  const names = (kind: SecretKind, id: string): string[] => [
    ...(team ? [teamEnvVarName(kind, team, id)] : []),
    ...(multi && namesATeamNamespace(id) ? [] : [envVarName(kind, id)]),
  ];
  const locate = (kind: SecretKind, id: string): Lookup => {
    if (kind === 'config') return { skip: 'the environment backend holds no config secrets' };
    const [first] = names(kind, id);
    return first ? { name: first } : { skip: 'the id names a team namespace (_<team>___<id>)' };
  };
  const backend = rawBackend({
    name: DRIVER_NAME,
    locate,
    async fetch(_name, kind, id) {
      if (team) {
        const v = env()[teamEnvVarName(kind, team, id)];
        if (v) return v; // Airflow takes the team variable only when non-empty (`if team_var := …`)
      }
      if (multi && namesATeamNamespace(id)) return null;
      return env()[envVarName(kind, id)] ?? null;
    },
  });
  const teamHead = team ? `_${pythonUpper(team)}___` : undefined;
  return {
    ...backend,
    list: async (kind, o) =>
      listEnv(env(), kind, o, (name, rest) => {
        const scoped = teamHead !== undefined && rest.startsWith(teamHead);
        const id = (scoped ? rest.slice(teamHead.length) : rest).toLowerCase();
        return listedName(locate, kind, name, id, '', (k, i) => (k === 'config' ? [] : names(k, i)));
      }),
  };
}

/**
 * The `AIRFLOW_CONN_*` / `AIRFLOW_VAR_*` variables, sorted. A lookup upper-cases the id, so the id
 * listed is the name's rest in lower case (any casing finds it); a connection variable set to an
 * empty value is listed with no id (Airflow reads it as not found; a blank one is an error, and listed).
 */
function listEnv(
  env: Record<string, string | undefined>,
  kind: SecretKind,
  options: ListOptions | undefined,
  entry: (name: string, rest: string) => ListedName,
): ListResult {
  const limit = listLimit(options);
  if (kind === 'config') return emptyList();
  const prefix = PREFIX[kind];
  const found = Object.keys(env)
    .filter((k) => k.startsWith(prefix) && k.length > prefix.length && env[k] !== undefined)
    .sort();
  const entries = found
    .slice(0, limit)
    .map((name) =>
      kind === 'connection' && env[name] === ''
        ? { id: null, secretName: name, note: 'empty value: Airflow reads it as not found' }
        : entry(name, name.slice(prefix.length)),
    );
  return { entries, truncated: found.length > limit };
}

/** Airflow's `EnvironmentVariablesBackend` takes no kwargs. */
export function fromAirflowKwargs(_kwargs: Record<string, unknown>, context: AdapterContext): SecretsBackend {
  return environmentVariables({ env: context.env, team: context.team, multiTeam: context.multiTeam });
}

const PREFIX: Record<SecretKind, string> = {
  connection: 'AIRFLOW_CONN_',
  variable: 'AIRFLOW_VAR_',
  config: 'AIRFLOW_CONFIG_',
};

/** The environment variable name Airflow reads for `id`. */
export function envVarName(kind: SecretKind, id: string): string {
  return PREFIX[kind] + pythonUpper(id);
}

/** Airflow 3.2's team-scoped name: `AIRFLOW_CONN__<TEAM>___<ID>` (both upper-cased). */
function teamEnvVarName(kind: SecretKind, team: string, id: string): string {
  return `${PREFIX[kind]}_${pythonUpper(team)}___${pythonUpper(id)}`;
}

/**
 * What Airflow accepts as a team name (its `TEAM_NAME_PATTERN`, `(?!.*__)[a-zA-Z0-9_-]{3,50}`, used
 * with `re.fullmatch`): 3 to 50 letters, digits, `-` or `_`, never two `_` in a row, so a team name
 * cannot contain the `___` separator.
 */
const TEAM_NAME = /^(?!.*__)[a-zA-Z0-9_-]{3,50}$/;
const TEAM_SEP = '___';

/**
 * Airflow's `_names_a_team_namespace` (newest `airflow/secrets/environment_variables.py`): the id
 * starts with `_`, and what follows splits at its first `___` into a valid team name and a
 * non-empty rest. Such an id would make the team-agnostic name land in that team's namespace.
 */
function namesATeamNamespace(id: string): boolean {
  if (!id.startsWith('_')) return false;
  const at = id.indexOf(TEAM_SEP, 1);
  if (at === -1 || at + TEAM_SEP.length === id.length) return false;
  return TEAM_NAME.test(id.slice(1, at));
}

/** Python's `str.upper()`: like `toUpperCase()`, which already maps `ß` → `SS` and `ﬁ` → `FI` the same way. */
export function pythonUpper(s: string): string {
  return s.toUpperCase();
}
