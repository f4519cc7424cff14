/**
 * `resolver.list(kind)`: what every backend of a chain holds for one kind, and for every id the
 * backend that serves it (the first in the chain that holds it) and the later ones where it is
 * shadowed. Backends are listed through their optional `list` capability (never a value is read);
 * whether a backend holds an id is decided by the name its `locate` gives for that id, so an id
 * written differently in two places (the environment upper-cases it, Azure maps `_` to `-`) is
 * still seen as one.
 */
import type { BackendCallOptions, ListedName, ListResult, SecretKind, SecretsBackend } from '../backend.js';
import {
  type BackendErrorReason,
  ConfigurationError,
  isAirflowSecretsError,
  isBackendError,
} from '../errors.js';

export interface InventoryOptions {
  /** Only the ids this backend (by name) holds; the others are still listed to say who serves them. */
  source?: string | undefined;
  /** Most names per backend. Default: each backend's own default (10 000). */
  limit?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** One id: who serves it, and where it is shadowed. No value. */
export interface InventoryEntry {
  id: string;
  /** The backend a lookup gets it from. */
  source: string;
  /** The exact secret name there. */
  secretName: string;
  /** Later backends that hold it too (a lookup never reaches them). */
  shadowed: { backend: string; secretName: string }[];
  /** Earlier backends that could not be listed (no `list`, or it failed): one of them may serve it. */
  unverified: string[];
}

/** How one backend's listing went. */
export interface InventoryBackend {
  backend: string;
  origin?: string;
  status: 'listed' | 'truncated' | 'unsupported' | 'failed';
  /** Names listed. */
  count: number;
  /** For `failed`: the classified reason and the error's message (never a value). */
  reason?: BackendErrorReason | 'configuration';
  message?: string;
  /**
   * For reason `configuration`: the `ConfigurationError` itself, for a caller that stops on it (the
   * CLI's exit 2). Not enumerable, so JSON and `inspect` show only `reason` and `message`.
   */
  readonly error?: ConfigurationError;
}

export interface Inventory {
  kind: SecretKind;
  /** Sorted by id. */
  entries: InventoryEntry[];
  /** Names a backend holds that no listed id maps to (with why). */
  unmapped: { backend: string; secretName: string; note?: string }[];
  /** One per backend, in chain order. */
  backends: InventoryBackend[];
}

/**
 * Runs one backend's `list` under a deadline (the resolver passes its own: `backendTimeoutMs`,
 * cancelled by `close()`, its timer keeping the process alive while the list is awaited). `what`
 * names the request in the timeout error; the call is handed the deadline's signal.
 */
export type ListRunner = (
  b: SecretsBackend,
  what: string,
  call: (options: BackendCallOptions) => Promise<ListResult>,
) => Promise<ListResult>;

/**
 * List every backend of the chain for `kind` and join the answers by id. With `run`, each backend's
 * list is made under it: one that does not answer in time is reported `failed` (reason `timeout`).
 */
export async function listChain(
  backends: readonly SecretsBackend[],
  kind: SecretKind,
  options: InventoryOptions = {},
  run?: ListRunner,
): Promise<Inventory> {
  if (options.source !== undefined && !backends.some((b) => b.name === options.source)) {
    throw new ConfigurationError(
      'source',
      `No backend named '${options.source}' in the chain (it has: ${backends.map((b) => b.name).join(', ')})`,
    );
  }
  const listed = await Promise.all(backends.map((b) => listOne(b, kind, options, run)));
  const ids = new Set(listed.flatMap((l) => l.entries.flatMap((e) => (e.id === null ? [] : [e.id]))));
  const entries: InventoryEntry[] = [];
  const matched = listed.map(() => new Set<string>());
  for (const id of [...ids].sort()) {
    const holders: { backend: string; secretName: string }[] = [];
    const unverified: string[] = [];
    backends.forEach((b, i) => {
      const name = nameFor(b, kind, id);
      if (name === null) return;
      const l = listed[i]!;
      if (l.status.status === 'unsupported' || l.status.status === 'failed') {
        if (holders.length === 0) unverified.push(b.name);
      } else if (l.names.has(name) || l.ids.has(id)) {
        holders.push({ backend: b.name, secretName: name });
        matched[i]!.add(name);
      }
    });
    const [first, ...shadowed] = holders;
    if (!first) continue;
    if (options.source !== undefined && !holders.some((h) => h.backend === options.source)) continue;
    entries.push({ id, source: first.backend, secretName: first.secretName, shadowed, unverified });
  }
  const unmapped = listed.flatMap((l, i) =>
    l.entries
      .filter((e) => e.id === null && !matched[i]!.has(e.secretName))
      .filter(() => options.source === undefined || backends[i]!.name === options.source)
      .map((e) => ({
        backend: backends[i]!.name,
        secretName: e.secretName,
        ...(e.note ? { note: e.note } : {}),
      })),
  );
  return { kind, entries, unmapped, backends: listed.map((l) => l.status) };
}

/** The name a lookup of `id` asks `b` for, or null when `b` would skip it. */
function nameFor(b: SecretsBackend, kind: SecretKind, id: string): string | null {
  try {
    const l = b.locate(kind, id);
    return 'name' in l ? l.name : null;
  } catch {
    return null;
  }
}

interface Listed {
  status: InventoryBackend;
  entries: ListedName[];
  names: Set<string>;
  ids: Set<string>;
}

/** One backend's `list` call: the caller's signal and the deadline's, whichever aborts first. */
function listCall(
  list: NonNullable<SecretsBackend['list']>,
  kind: SecretKind,
  options: InventoryOptions,
): (o: BackendCallOptions) => Promise<ListResult> {
  return (o) => {
    const mine = o.signal;
    const signal = options.signal ? (mine ? AbortSignal.any([options.signal, mine]) : options.signal) : mine;
    return list(kind, {
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      ...(signal ? { signal } : {}),
    });
  };
}

async function listOne(
  b: SecretsBackend,
  kind: SecretKind,
  options: InventoryOptions,
  run: ListRunner | undefined,
): Promise<Listed> {
  const base = { backend: b.name, ...(b.origin ? { origin: b.origin } : {}) };
  const none = { entries: [], names: new Set<string>(), ids: new Set<string>() };
  if (typeof b.list !== 'function') return { status: { ...base, status: 'unsupported', count: 0 }, ...none };
  const call = listCall(b.list.bind(b), kind, options);
  try {
    const r = await (run ? run(b, `the ${kind} list`, call) : call({}));
    return {
      status: { ...base, status: r.truncated ? 'truncated' : 'listed', count: r.entries.length },
      entries: r.entries,
      names: new Set(r.entries.map((e) => e.secretName)),
      ids: new Set(r.entries.flatMap((e) => (e.id === null ? [] : [e.id]))),
    };
  } catch (e) {
    if (options.signal?.aborted) throw e;
    const reason = isBackendError(e)
      ? e.reason
      : e instanceof ConfigurationError
        ? 'configuration'
        : 'failed';
    const message = isAirflowSecretsError(e)
      ? e.message
      : `${b.name}: listing failed (${(e as Error)?.name ?? 'error'})`;
    const status: InventoryBackend = { ...base, status: 'failed', count: 0, reason, message };
    if (e instanceof ConfigurationError) Object.defineProperty(status, 'error', { value: e });
    return { status, ...none };
  }
}
