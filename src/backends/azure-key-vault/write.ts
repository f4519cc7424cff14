/**
 * Listing and writing for the Azure Key Vault adapter: `listPropertiesOfSecrets` (names only), the
 * sep rule reversed where it is unambiguous (a name part without `sep` is that id; one with `sep`
 * could be `-` or `_` at each place, so it is listed with no id and a note); `setSecret` at the
 * name `locate` gives, refusing names Key Vault does not allow (and the ids `locate` skips);
 * `beginDeleteSecret` (the vault's soft delete).
 */
import type { Lookup, SecretKind, SecretsBackend } from '../../backend.js';
import { BackendError, SecretExistsError } from '../../errors.js';
import {
  checkPutOptions,
  emptyList,
  encodeValue,
  listedName,
  locateWriteWith,
  pagedList,
  refusedId,
} from '../list-write.js';

/** The parts of `SecretClient` listing and writing use. */
export interface AzureWriteClient {
  getSecret(name: string, options?: { abortSignal?: AbortSignal }): Promise<{ value?: string | undefined }>;
  setSecret?(name: string, value: string, options?: object): Promise<unknown>;
  listPropertiesOfSecrets?(options?: object): {
    byPage(settings?: { maxPageSize?: number }): AsyncIterableIterator<{ name: string }[]>;
  };
  beginDeleteSecret?(name: string, options?: object): Promise<unknown>;
}

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
  const present = (name: string) =>
    run(name, 'reading', (c, abortSignal) => c.getSecret(name, { abortSignal })).then(
      (x) => typeof x.value === 'string',
      (e: unknown) => {
        if (e === MISSING) return false;
        throw e;
      },
    );
  /** A 404 where one is not expected (the vault itself is not there): a failure, not "not found". */
  const surely = <T>(name: string, verb: string, p: Promise<T>) =>
    p.catch((e: unknown) => {
      if (e !== MISSING) throw e;
      throw new BackendError(
        s.backend,
        'failed',
        `${s.backend}: 404 ${verb} '${name}' (is the vault URL right?)`,
        { secretName: name },
      );
    });
  return {
    locateWrite,
    list: (kind, options) => listNames(s, kind, options, method),
    checkPut: (_kind, options) => checkPutOptions(s.backend, options, ['tags']),
    async put(kind, id, value, options = {}) {
      checkPutOptions(s.backend, options, ['tags']);
      const where = locateWrite(kind, id);
      if (!('name' in where)) throw refusedId(s.backend, kind, id, where.skip);
      const name = where.name;
      const text = encodeValue(kind, id, value, options.format);
      const existed = await present(name);
      if (existed && !options.overwrite) throw new SecretExistsError(s.backend, name);
      const tags = options.tags ? { tags: { ...options.tags } } : {};
      await surely(
        name,
        'writing',
        run(name, 'writing', (c, abortSignal) =>
          method(c, 'setSecret')(name, text, { ...tags, abortSignal }),
        ),
      );
      return { secretName: name, action: existed ? 'updated' : 'created' };
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
  let pages: AsyncIterableIterator<{ name: string }[]> | undefined;
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
      return { names: out.done ? [] : out.value.map((p) => p.name), next: out.done ? undefined : 'more' };
    },
    (name) => {
      if (!name.startsWith(head)) return null;
      let rest = name.slice(head.length);
      if (s.teamHead && rest.startsWith(s.teamHead)) rest = rest.slice(s.teamHead.length);
      if (s.sep === '' || rest.includes(s.sep)) {
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
