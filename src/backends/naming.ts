/**
 * Which secret name a lookup asks for: the rules Airflow's provider backends share (Vault, Secrets
 * Manager, SSM, Google Cloud, Azure). Each kind (connection, variable, config) has a prefix or path,
 * where `None` disables the kind; Vault and AWS also have a `*_lookup_pattern` (Python `re.match`,
 * case-insensitive) that an id must match; `BaseSecretsBackend.build_path` joins prefix and id.
 * Each adapter adds its own last step (its `sep`, SSM's leading `/`, Vault's mount, Azure's
 * `_` → `sep`) in the `name` callback of {@link locateWith}.
 *
 * The lookup-pattern compiler lives here too ({@link compileLookupPattern}); it is the one place
 * that turns Airflow's Python regex text into a JS test.
 */
import type { Lookup, SecretKind } from '../backend.js';
import { ConfigurationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { compilePyreCached, isPyreError, type PyPattern } from '../pyre/index.js';
import { kwargSetting } from './airflow-kwargs.js';

/** A `*_lookup_pattern`: Airflow regex text (Python `re.match`, IGNORECASE), or a predicate. */
export type LookupPattern = string | ((id: string) => boolean);

/** The per-kind lookup patterns of the AWS and Vault providers. Default: every id is looked up. */
export interface LookupPatternOptions {
  /** Only ids matching (Python `re.match`, case-insensitive) are looked up. Default: all. */
  connectionsLookupPattern?: LookupPattern | null | undefined;
  variablesLookupPattern?: LookupPattern | null | undefined;
  configLookupPattern?: LookupPattern | null | undefined;
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
 * options) may be text or predicates. Text is compiled lazily, per kind, on the first lookup of that
 * kind, as Airflow compiles it inside `re.match`: a pattern that does not compile fails only the
 * lookups of its kind (a `ConfigurationError` naming the kwarg and why, logged once), never the
 * backend's construction or the other kinds.
 */
export function kindRules(
  prefixes: Record<SecretKind, string | null>,
  patterns: LookupPatternOptions,
  prefixWord: 'prefix' | 'path',
  logger?: Logger,
): KindRules {
  const out = {} as KindRules;
  for (const kind of ['connection', 'variable', 'config'] as const) {
    const patternKwarg = `${KWARG_STEM[kind]}_lookup_pattern`;
    const p = patterns[`${KWARG_STEM[kind]}LookupPattern` as keyof LookupPatternOptions];
    out[kind] = {
      prefix: prefixes[kind],
      match: typeof p === 'function' ? p : lazyLookupPattern(p, patternKwarg, logger),
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

/** Airflow's `BaseSecretsBackend.build_path`: `${prefix}${sep}${id}`, no stripping or escaping. */
export function buildPath(prefix: string, id: string, sep = '/'): string {
  return `${prefix}${sep}${id}`;
}

/**
 * A `*_lookup_pattern` as a predicate that compiles on its first call (then reuses the compiled
 * form, or rethrows the same `ConfigurationError`). `kwarg` is the kwarg's name (`…_lookup_pattern`).
 */
export function lazyLookupPattern(
  pattern: string | null | undefined,
  kwarg: string,
  logger?: Logger,
): ((id: string) => boolean) | null {
  if (pattern === null || pattern === undefined || pattern === '') return null;
  const setting = kwargSetting(kwarg);
  if (typeof pattern !== 'string') throw new ConfigurationError(setting, `${setting} must be a string`);
  let compiled: ((id: string) => boolean) | ConfigurationError | undefined;
  return (id) => {
    if (compiled === undefined) {
      try {
        compiled = compileLookupPattern(pattern, setting) ?? (() => true);
      } catch (e) {
        compiled = e instanceof ConfigurationError ? e : new ConfigurationError(setting, String(e));
        logger?.error(`${compiled.message}; lookups that use ${kwarg} fail until it is fixed`, {
          setting,
        });
      }
    }
    if (compiled instanceof ConfigurationError) throw compiled;
    return compiled(id);
  };
}

/**
 * Compile an Airflow `*_lookup_pattern` now (Python `re.match(pattern, id, re.IGNORECASE)`:
 * anchored at the start only). A pattern that does not compile is a `ConfigurationError` naming
 * the setting and the reason. The Python-to-JavaScript translation is `src/pyre` (CPython 3.11 `re`).
 */
export function compileLookupPattern(
  pattern: string | null | undefined,
  setting: string,
): ((id: string) => boolean) | null {
  if (pattern === null || pattern === undefined || pattern === '') return null;
  if (typeof pattern !== 'string') throw new ConfigurationError(setting, `${setting} must be a string`);
  let re: PyPattern;
  try {
    re = compilePyreCached(pattern, { flags: 'i' });
  } catch (e) {
    if (!isPyreError(e)) throw e;
    // Python refuses it (re.error), or it has no JavaScript equivalent: the message names the
    // construct and its position, never the whole pattern.
    const why =
      e.kind === 'invalid'
        ? `is not a valid regular expression: ${e.message}`
        : `cannot be used: ${e.message}`;
    throw new ConfigurationError(setting, `${setting} ${why}`);
  }
  return (id) => re.test(id);
}

/** Airflow 3.2 multi-team: what every provider adapter takes (set from `AdapterContext`). */
export interface TeamOptions {
  /** The team of the lookups (Airflow's `team_name`); used only with `multiTeam`. */
  team?: string | undefined;
  /** Airflow's `[core] multi_team`. Default `false`: no team-scoped names and no refusals. */
  multiTeam?: boolean | undefined;
}

/** The team of a backend's lookups: set only in multi-team mode. */
export function activeTeam(o: TeamOptions): string | undefined {
  return o.multiTeam === true && o.team ? o.team : undefined;
}

/**
 * `locate` and `candidates` for a provider with Airflow 3.2 team-scoped names: `plain` is the
 * usual name (or a skip), `scoped` the team-scoped one tried first (none for config lookups, or
 * when the adapter's rule gives none), and `refused` ids are skipped with Airflow's warning.
 */
export function teamNaming(args: {
  backend: string;
  logger: Logger | undefined;
  plain: (kind: SecretKind, id: string) => Lookup;
  scoped: (kind: 'connection' | 'variable', id: string) => string | null;
  refused: (kind: 'connection' | 'variable', id: string) => boolean;
  sep: string;
}): {
  locate: (kind: SecretKind, id: string) => Lookup;
  candidates: (kind: SecretKind, id: string) => string[];
} {
  const names = (kind: SecretKind, id: string): Lookup | string[] => {
    const plain = args.plain(kind, id);
    if (!('name' in plain) || kind === 'config') return 'name' in plain ? [plain.name] : plain;
    if (args.refused(kind, id)) {
      args.logger?.warn(
        `${args.backend}: ${kind} id '${id}' contains '${args.sep}', which separates the team name from the secret id in a team scoped secret name. Such an id is ambiguous and is not looked up.`,
        { backend: args.backend },
      );
      return { skip: `the id contains '${args.sep}' (ambiguous in multi-team mode)` };
    }
    const scoped = args.scoped(kind, id);
    return scoped === null ? [plain.name] : [scoped, plain.name];
  };
  return {
    locate: (kind, id) => {
      const n = names(kind, id);
      return Array.isArray(n) ? { name: n[0]! } : n;
    },
    candidates: (kind, id) => {
      const n = names(kind, id);
      return Array.isArray(n) ? n : [];
    },
  };
}
