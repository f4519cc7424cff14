/**
 * Listing and writing for the Azure Key Vault adapter: `listPropertiesOfSecrets` (names and tags),
 * the id taken from the secret's `airflow_id` tag (which `put` sets) when it names this secret,
 * else the sep rule reversed where it is unambiguous (a name part without `sep` is that id; one
 * with `sep` could be `-` or `_` at each place, so it is listed with no id and a note); `setSecret`
 * at the name `locate` gives, tagged with the id, refusing names Key Vault does not allow, the ids
 * `locate` skips, and an ambiguous id that cannot be tagged or whose name holds another id;
 * `beginDeleteSecret` (the vault's soft delete).
 */
import type { Lookup, SecretKind, SecretsBackend } from '../../backend.js';
import { BackendError, SecretExistsError } from '../../errors.js';
import {
  checkPutOptions,
  emptyList,
  encodeValue,
  idPart,
  listedName,
  locateWriteWith,
  pagedList,
  refusedId,
} from '../list-write.js';

/** The write options `put` takes (`checkPut` refuses any other before a migration plans). */
const PUT_OPTIONS = ['tags'] as const;

/** The parts of `SecretClient` listing and writing use. */
export interface AzureWriteClient {
  getSecret(
    name: string,
    options?: { abortSignal?: AbortSignal },
  ): Promise<{ value?: string | undefined; properties?: { tags?: Record<string, string> | undefined } }>;
  setSecret?(name: string, value: string, options?: object): Promise<unknown>;
  listPropertiesOfSecrets?(options?: object): {
    byPage(settings?: { maxPageSize?: number }): AsyncIterableIterator<ListedProperties[]>;
  };
  beginDeleteSecret?(name: string, options?: object): Promise<unknown>;
}

/** What a listing page gives of each secret. */
type ListedProperties = { name: string; tags?: Record<string, string> | undefined };

/** The tag `put` sets to the id it wrote, so a listing maps an ambiguous name back to it. */
const ID_TAG = 'airflow_id';
/** Key Vault's limit on the tags of a secret. */
const MAX_TAGS = 15;

/** What the adapter hands over: its client, naming, deadline and error mapping. */
export interface AzureStore {
  backend: string;
  connect(): Promise<AzureWriteClient>;
  /** One call under the backend's deadline, with the abort signal to give the SDK. */
  bounded<T>(secretName: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T>;
  /** `null`: the error is a 404; anything else, the typed error (`verb` says what was being done). */
  mapError(secretName: string, e: unknown, verb: string): BackendError | null;
  locate(kind: SecretKind, id: string): Lookup;
  /** Every name a lookup of `id` reads, in order (multi-team: the team's first). */
  candidates(kind: SecretKind, id: string): readonly string[];
  /** Names of this kind start with this (`<prefix><sep>`, `_` → `sep`); `null` = disabled. */
  head(kind: SecretKind): string | null;
  /** Multi-team: what follows the head in a team-scoped name, before the id (`<team>--`). */
  teamHead?: string;
  sep: string;
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** A 404 where one is not expected (the vault itself is not there): a failure, not "not found". */
function surely<T>(backend: string, name: string, verb: string, p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => {
    if (e !== MISSING) throw e;
    throw new BackendError(backend, 'failed', `${backend}: 404 ${verb} '${name}' (is the vault URL right?)`, {
      secretName: name,
    });
  });
}

export function azureWrites(
  s: AzureStore,
): Required<Pick<SecretsBackend, 'list' | 'put' | 'delete' | 'locateWrite' | 'checkPut'>> {
  const locateWrite = (kind: SecretKind, id: string) =>
    locateWriteWith(s.locate, kind, id, (name) =>
      NAME.test(name) ? null : 'Key Vault names allow only 0-9 a-z A-Z - (1 to 127)',
    );
  const method = <K extends keyof AzureWriteClient>(c: AzureWriteClient, k: K) => {
    const fn = c[k];
    if (typeof fn !== 'function')
      throw new BackendError(s.backend, 'failed', `${s.backend}: the client has no ${k}()`);
    return (fn as (...a: unknown[]) => unknown).bind(c) as NonNullable<AzureWriteClient[K]>;
  };
  const run = async <T>(
    name: string,
    verb: string,
    fn: (c: AzureWriteClient, signal: AbortSignal) => Promise<T>,
  ) => {
    const c = await s.connect();
    try {
      return await s.bounded(name, (signal) => fn(c, signal));
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw s.mapError(name, e, verb) ?? MISSING;
    }
  };
  /** Whether `name` holds a value, and the id its `airflow_id` tag names (a 404: not there). */
  const existing = (name: string) =>
    run(name, 'reading', (c, abortSignal) => c.getSecret(name, { abortSignal })).then(
      (x) => ({ present: typeof x.value === 'string', id: x.properties?.tags?.[ID_TAG] }),
      (e: unknown) => {
        if (e === MISSING) return { present: false, id: undefined };
        throw e;
      },
    );
  return {
    locateWrite,
    list: (kind, options) => listNames(s, kind, options, method),
    checkPut: (_kind, options) => checkPutOptions(s.backend, options, PUT_OPTIONS),
    async put(kind, id, value, options = {}) {
      checkPutOptions(s.backend, options, PUT_OPTIONS);
      const where = locateWrite(kind, id);
      if (!('name' in where)) throw refusedId(s.backend, kind, id, where.skip);
      const name = where.name;
      const tags = idTags(s, kind, id, name, options.tags);
      const text = encodeValue(kind, id, value, options.format);
      const found = await existing(name);
      if (found.present && !options.overwrite) throw new SecretExistsError(s.backend, name);
      // Another id whose lookup reads this name wrote it (`my_db` and `my-db` share one name).
      if (found.id !== undefined && found.id !== id && s.candidates(kind, found.id).includes(name)) {
        const why = `its name '${name}' already holds the id '${found.id}' (tag ${ID_TAG}); both ids read that secret`;
        throw refusedId(s.backend, kind, id, why);
      }
      await surely(
        s.backend,
        name,
        'writing',
        run(name, 'writing', (c, abortSignal) => method(c, 'setSecret')(name, text, { tags, abortSignal })),
      );
      return { secretName: name, action: found.present ? 'updated' : 'created' };
    },
    async delete(kind, id) {
      const where = s.locate(kind, id);
      if (!('name' in where)) return false;
      try {
        await run(where.name, 'deleting', (c, abortSignal) =>
          method(c, 'beginDeleteSecret')(where.name, { abortSignal }),
        );
        return true;
      } catch (e) {
        if (e === MISSING) return false;
        throw e;
      }
    },
  };
}

/** Whether the part of a name after the kind's prefix maps back to more than one id (the sep rule). */
function ambiguous(s: AzureStore, rest: string): boolean {
  return s.sep === '' || rest.includes(s.sep);
}

/**
 * The tags of a `put`: the caller's, and `airflow_id` set to the id, so the listing maps the name
 * back to it. An id whose name is ambiguous must carry the tag: it is refused when the caller's
 * tags give `airflow_id` another value or leave no room for it (Key Vault allows 15 tags).
 */
function idTags(
  s: AzureStore,
  kind: SecretKind,
  id: string,
  name: string,
  given: Record<string, string> | undefined,
): Record<string, string> {
  const tags = { ...given };
  const room = ID_TAG in tags || Object.keys(tags).length < MAX_TAGS;
  if (tags[ID_TAG] === undefined || tags[ID_TAG] === id) {
    if (room) return { ...tags, [ID_TAG]: id };
  }
  const rest = idPart(name.slice(s.head(kind)!.length), s.teamHead);
  if (!ambiguous(s, rest)) return tags;
  const why = room
    ? `the tag ${ID_TAG} is given another value, and the name '${name}' maps back to more than one id without it`
    : `the name '${name}' maps back to more than one id, and the ${MAX_TAGS} tags given leave no room for the tag ${ID_TAG} that names it`;
  throw refusedId(s.backend, kind, id, why);
}

/** What `run` throws for a 404 (not found; callers decide what it means). */
const MISSING = Symbol('not found');

/** The vault's secret names, page by page, each mapped back to an id where the sep rule allows. */
async function listNames(
  s: AzureStore,
  kind: SecretKind,
  options: Parameters<NonNullable<SecretsBackend['list']>>[1],
  method: <K extends keyof AzureWriteClient>(c: AzureWriteClient, k: K) => NonNullable<AzureWriteClient[K]>,
) {
  const head = s.head(kind);
  if (head === null) return emptyList();
  const c = await s.connect();
  const lister = new AbortController();
  let pages: AsyncIterableIterator<ListedProperties[]> | undefined;
  // The tags of the names on the page being mapped (the page hands the mapping names only).
  const tagsOf = new Map<string, Record<string, string> | undefined>();
  return pagedList(
    options,
    async () => {
      const out = await s
        .bounded('(all secrets)', async (signal) => {
          signal.addEventListener('abort', () => lister.abort(), { once: true });
          pages ??= method(
            c,
            'listPropertiesOfSecrets',
          )({ abortSignal: lister.signal }).byPage({ maxPageSize: 25 });
          return pages.next();
        })
        .catch((e: unknown) => {
          if (e instanceof BackendError) throw e;
          throw (
            s.mapError('(all secrets)', e, 'listing') ??
            new BackendError(
              s.backend,
              'failed',
              `${s.backend}: 404 listing the vault's secrets (is the vault URL right?)`,
            )
          );
        });
      tagsOf.clear();
      for (const p of out.done ? [] : out.value) tagsOf.set(p.name, p.tags);
      return { names: [...tagsOf.keys()], next: out.done ? undefined : 'more' };
    },
    (name) => {
      if (!name.startsWith(head)) return null;
      const tags = tagsOf.get(name);
      const rest = idPart(name.slice(head.length), s.teamHead);
      // The id `put` tagged it with, when a lookup of that id reads this name.
      const tagged = tags?.[ID_TAG];
      if (tagged && s.candidates(kind, tagged).includes(name)) {
        return listedName(s.locate, kind, name, tagged, undefined, s.candidates);
      }
      if (ambiguous(s, rest)) {
        const underscored = s.sep === '' ? rest : rest.replaceAll(s.sep, '_');
        const note = `ambiguous: each '${s.sep}' may stand for '${s.sep}' or '_' in the id (e.g. '${rest}' or '${underscored}')`;
        return {
          id: null,
          secretName: name,
          note: s.sep === '' ? "ambiguous: sep is '', so the id's '_' left no trace" : note,
        };
      }
      return listedName(s.locate, kind, name, rest, undefined, s.candidates);
    },
  );
}
