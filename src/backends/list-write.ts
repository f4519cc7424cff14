/**
 * What the adapters share for the optional `list`, `put` and `delete` capabilities: bounded
 * pagination ({@link pagedList}), recovering an id from a secret name by the backend's own lookup
 * rule ({@link listedName}: the id is kept only when `locate(kind, id)` asks for exactly that
 * name; {@link prefixedName} for the stores that list by prefix), the stored form of a value
 * ({@link encodeValue}: a connection as Airflow's URI by default, its `as_json` when asked) and the
 * check that a backend is not given a write option it cannot honour ({@link checkPutOptions}).
 */
import {
  DEFAULT_LIST_LIMIT,
  type ListedName,
  type ListOptions,
  type ListResult,
  type Lookup,
  type PutOptions,
  type SecretKind,
} from '../backend.js';
import { Connection, deserializeConnection } from '../connection.js';
import { ConfigurationError } from '../errors.js';

/** One page of names: the names the service answered with and the token of the next page, if any. */
export interface NamePage {
  names: readonly string[];
  next: string | undefined;
}

/** The `limit` a listing asks for, checked: a whole number ≥ 1. */
export function listLimit(options: ListOptions | undefined): number {
  const limit = options?.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new ConfigurationError('limit', 'list: limit must be a whole number >= 1');
  }
  return limit;
}

/**
 * Follow `page` from the first page until the service has no more or `limit` entries are in hand
 * (`truncated` then says more may be there). `room` tells `page` how many entries are still
 * wanted, so it can ask for small pages near the end. `toEntry` turns a name into an entry, or
 * `null` for a name that is none of this kind's (filtered out). The signal is checked between pages.
 */
export async function pagedList(
  options: ListOptions | undefined,
  page: (token: string | undefined, room: number) => Promise<NamePage>,
  toEntry: (name: string) => ListedName | null,
): Promise<ListResult> {
  const limit = listLimit(options);
  const entries: ListedName[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    options?.signal?.throwIfAborted();
    const p = await page(token, limit - entries.length);
    for (const name of p.names) {
      const e = toEntry(name);
      if (!e) continue;
      if (entries.length >= limit) return { entries, truncated: true };
      entries.push(e);
    }
    token = p.next;
    // A service that keeps answering empty pages with a token is bounded too.
    if (++pages >= limit + 10) return { entries, truncated: token !== undefined };
  } while (token !== undefined && token !== '');
  return { entries, truncated: false };
}

/**
 * An entry for `secretName`, whose id by the backend's naming rule is `id` (`null`: the name maps
 * back to no id, `why` says so). The id is kept only when a lookup of it asks this backend for
 * exactly this name (`locate`'s, or one of `names` for a backend that tries several); otherwise the
 * entry says what a lookup of that id does instead.
 */
export function listedName(
  locate: (kind: SecretKind, id: string) => Lookup,
  kind: SecretKind,
  secretName: string,
  id: string | null,
  why = 'the name maps back to no id',
  names?: (kind: SecretKind, id: string) => readonly string[],
): ListedName {
  if (id === null || id === '') return { id: null, secretName, note: why };
  const l = locate(kind, id);
  if (!('name' in l)) return { id: null, secretName, note: `a lookup of '${id}' is skipped (${l.skip})` };
  // A backend that reads several names per id (multi-team: the team's first) holds the id at any of them.
  if (l.name !== secretName && !names?.(kind, id).includes(secretName)) {
    return { id: null, secretName, note: `a lookup of '${id}' asks for '${l.name}' instead` };
  }
  return { id, secretName };
}

/** The id in the part of a name after the kind's prefix: a team-scoped name has `<team>--` first. */
export function idPart(rest: string, teamHead: string | undefined): string {
  return teamHead && rest.startsWith(teamHead) ? rest.slice(teamHead.length) : rest;
}

/** How a store that lists by name prefix reads names (Secrets Manager, SSM, Google Secret Manager). */
export interface PrefixNaming {
  locate(kind: SecretKind, id: string): Lookup;
  candidates(kind: SecretKind, id: string): readonly string[];
}

/**
 * A listed name under the kind's prefix `head`, by {@link listedName}: the id is the rest, after
 * the team's `<team>--` (`teamHead`) when the name has it. Null for a name outside the prefix.
 */
export function prefixedName(
  store: PrefixNaming,
  kind: SecretKind,
  name: string,
  head: string,
  teamHead: string | undefined,
): ListedName | null {
  if (!name.startsWith(head)) return null;
  const id = idPart(name.slice(head.length), teamHead);
  return listedName(store.locate, kind, name, id, undefined, store.candidates);
}

/**
 * The text `put` stores: a variable or config value as it is; a connection given as a string
 * (a URI or JSON, checked to parse) as it is; a `Connection` as Airflow's `get_uri()` (format
 * `uri`, the default) or `as_json()` (format `json`).
 */
export function encodeValue(
  kind: SecretKind,
  id: string,
  value: Connection | string,
  format: PutOptions['format'],
): string {
  if (format !== undefined && format !== 'uri' && format !== 'json') {
    throw new ConfigurationError('format', "put: format must be 'uri' or 'json'");
  }
  if (kind !== 'connection') {
    if (typeof value !== 'string') {
      throw new ConfigurationError('value', `put: a ${kind} value must be a string`);
    }
    return value;
  }
  if (typeof value === 'string') {
    deserializeConnection(id, value); // refuse what no reader would parse (the error names the id)
    return value;
  }
  if (!(value instanceof Connection)) {
    throw new ConfigurationError('value', 'put: a connection must be a Connection or its URI/JSON text');
  }
  return format === 'json' ? value.asJson() : value.getUri();
}

/** The write options every backend takes; the rest each backend names in `checkPutOptions`. */
const COMMON: ReadonlySet<string> = new Set(['format', 'overwrite']);

/**
 * Refuse a write option this backend cannot honour (a `ConfigurationError` naming it), so that
 * `kmsKeyId` given to a backend without KMS is never silently dropped.
 */
export function checkPutOptions(
  backend: string,
  options: PutOptions | undefined,
  supported: readonly (keyof PutOptions)[],
): void {
  for (const [key, v] of Object.entries(options ?? {})) {
    if (v === undefined || COMMON.has(key) || supported.includes(key as keyof PutOptions)) continue;
    throw new ConfigurationError(key, `${backend}: the write option '${key}' is not supported here`);
  }
}

/** What a backend whose kind is disabled (`None` prefix) holds of it: nothing. */
export function emptyList(): ListResult {
  return { entries: [], truncated: false };
}

/**
 * `locateWrite` from `locate` and the service's naming rule: the name a lookup asks for, unless
 * `refuse(name)` says why it cannot be written (then a `skip` with that reason).
 */
export function locateWriteWith(
  locate: (kind: SecretKind, id: string) => Lookup,
  kind: SecretKind,
  id: string,
  refuse: (name: string) => string | null,
): Lookup {
  const l = locate(kind, id);
  if (!('name' in l)) return l;
  const why = refuse(l.name);
  return why === null ? l : { skip: why };
}

/** A `put` of an id that `locateWrite` refuses: the error saying why (no value involved). */
export function refusedId(backend: string, kind: SecretKind, id: string, why: string): ConfigurationError {
  return new ConfigurationError('id', `${backend}: cannot write ${kind} '${id}': ${why}`);
}
