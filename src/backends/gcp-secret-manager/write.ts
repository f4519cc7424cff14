/**
 * Listing and writing for the Google Cloud Secret Manager adapter: `listSecrets` in the project,
 * filtered by the kind's prefix (the service's `name:` filter narrows; names are checked here),
 * one page at a time; `createSecret` (automatic replication unless `replicaLocations` is given;
 * `tags` become labels) then `addSecretVersion`; `deleteSecret`. A secret created by an earlier run
 * that stopped before its first version is completed, not reported as existing.
 */
import type { Lookup, PutOptions, SecretKind, SecretsBackend } from '../../backend.js';
import {
  AccessDeniedError,
  BackendError,
  BackendTimeoutError,
  BackendUnavailableError,
  describeError,
  SecretExistsError,
  ThrottledError,
} from '../../errors.js';
import {
  checkPutOptions,
  emptyList,
  encodeValue,
  locateWriteWith,
  pagedList,
  prefixedName,
  refusedId,
} from '../list-write.js';
import type { GcpSecretManagerClient } from './credentials.js';

/** The write options `put` takes (`checkPut` refuses any other before a migration plans). */
const PUT_OPTIONS = ['tags', 'replicaLocations'] as const;

/** What the adapter hands over: its client (opened on first use), naming and deadline. */
export interface GcpStore {
  backend: string;
  connect(): Promise<{ client: GcpSecretManagerClient; project: string }>;
  /** Runs one call under the backend's deadline; `timeout` is what is left of it, in ms. */
  bounded<T>(secretName: string, fn: (timeout: number) => Promise<T>): Promise<T>;
  locate(kind: SecretKind, id: string): Lookup;
  /** Every name a lookup of `id` reads, in order (multi-team: the team's first). */
  candidates(kind: SecretKind, id: string): readonly string[];
  /** The names of this kind start with this (`prefix + sep`); `null` = disabled. */
  head(kind: SecretKind): string | null;
  /** Multi-team: what follows the head in a team-scoped name, before the id (`<team>--`). */
  teamHead?: string;
}

/** The service's secret id rule. */
const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;
const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;

type Client = GcpSecretManagerClient & Record<string, ((...a: any[]) => Promise<any>) | undefined>;

/** One SDK call by method name, under the deadline. */
type Call = (name: string, verb: string, method: string, request: object) => Promise<any>;

/** One SDK call by method name, gax retries off (as for reads), mapped onto typed errors. */
function sdkCall(s: GcpStore): Call {
  return async (name, verb, method, request) => {
    const { client, project } = await s.connect();
    const fn = (client as Client)[method];
    if (typeof fn !== 'function') {
      throw new BackendError(s.backend, 'failed', `${s.backend}: the client has no ${method}()`);
    }
    try {
      return await s.bounded(name, (timeout) =>
        fn.call(client, request, { timeout, retry: { retryCodes: [] }, autoPaginate: false }),
      );
    } catch (e) {
      throw writeError(s.backend, name, project, verb, e);
    }
  };
}

type Writes = Required<Pick<SecretsBackend, 'list' | 'put' | 'delete' | 'locateWrite' | 'checkPut'>>;

export function gcpWrites(s: GcpStore): Writes {
  const locateWrite = (kind: SecretKind, id: string) =>
    locateWriteWith(s.locate, kind, id, (name) =>
      SECRET_ID.test(name) ? null : 'secret ids allow only A-Z a-z 0-9 - _ (1 to 255)',
    );
  const call = sdkCall(s);
  const project = async () => (await s.connect()).project;
  return {
    locateWrite,
    checkPut: (_kind, options) => checkPutOptions(s.backend, options, PUT_OPTIONS),
    list: (kind, options) => listKind(s, call, kind, options),
    async put(kind, id, value, options = {}) {
      checkPutOptions(s.backend, options, PUT_OPTIONS);
      const where = locateWrite(kind, id);
      if (!('name' in where)) throw refusedId(s.backend, kind, id, where.skip);
      const name = where.name;
      const data = Buffer.from(encodeValue(kind, id, value, options.format), 'utf8');
      const p = await project();
      let action: 'created' | 'updated' = 'created';
      try {
        const secret = secretSpec(options);
        await call(name, 'creating', 'createSecret', { parent: `projects/${p}`, secretId: name, secret });
      } catch (e) {
        if (codeOf(e) !== ALREADY_EXISTS) throw e;
        if (options.overwrite) action = 'updated';
        else if (await hasVersion(call, name, p)) throw new SecretExistsError(s.backend, name);
      }
      const parent = `projects/${p}/secrets/${name}`;
      await call(name, 'writing', 'addSecretVersion', { parent, payload: { data } });
      return { secretName: name, action };
    },
    async delete(kind, id) {
      const where = s.locate(kind, id);
      if (!('name' in where)) return false;
      try {
        await call(where.name, 'deleting', 'deleteSecret', {
          name: `projects/${await project()}/secrets/${where.name}`,
        });
        return true;
      } catch (e) {
        if (codeOf(e) === NOT_FOUND) return false;
        throw e;
      }
    },
  };
}

/** The secret `createSecret` makes: automatic replication unless locations are given; tags as labels. */
function secretSpec(options: PutOptions) {
  const locations = options.replicaLocations ?? [];
  return {
    replication: locations.length
      ? { userManaged: { replicas: locations.map((location) => ({ location })) } }
      : { automatic: {} },
    ...(options.tags ? { labels: { ...options.tags } } : {}),
  };
}

/** `listSecrets` in the project, filtered by the kind's head, one page at a time. */
async function listKind(
  s: GcpStore,
  call: Call,
  kind: SecretKind,
  options: Parameters<Writes['list']>[1],
): ReturnType<Writes['list']> {
  const head = s.head(kind);
  if (head === null) return emptyList();
  const parent = `projects/${(await s.connect()).project}`;
  return pagedList(
    options,
    async (token, room) => {
      const [secrets, , response] = (await call(head || parent, 'listing', 'listSecrets', {
        parent,
        pageSize: Math.min(250, Math.max(1, room + 1)),
        ...(head ? { filter: `name:${head}` } : {}),
        ...(token ? { pageToken: token } : {}),
      })) as [{ name?: string }[], unknown, { nextPageToken?: string } | undefined];
      const names = (secrets ?? []).flatMap((x) =>
        x.name ? [x.name.slice(x.name.lastIndexOf('/') + 1)] : [],
      );
      return { names, next: response?.nextPageToken || undefined };
    },
    (name) => prefixedName(s, kind, name, head, s.teamHead),
  );
}

/** Whether the existing secret has a version a lookup would read. */
async function hasVersion(
  call: (name: string, verb: string, method: string, request: object) => Promise<unknown>,
  name: string,
  project: string,
): Promise<boolean> {
  try {
    await call(name, 'reading', 'accessSecretVersion', {
      name: `projects/${project}/secrets/${name}/versions/latest`,
    });
    return true;
  } catch (e) {
    if (codeOf(e) === NOT_FOUND) return false;
    throw e;
  }
}

/** The gRPC code a write error stands for (REST errors carry the HTTP status). */
function codeOf(e: unknown): number | undefined {
  const grpc = (e as { grpcCode?: unknown })?.grpcCode;
  return typeof grpc === 'number' ? grpc : undefined;
}

const HTTP_TO_GRPC: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  409: 6,
  429: 8,
  503: 14,
  504: 4,
};

/** A failed call → a typed error naming the secret and what was being done; the code is kept as `grpcCode`. */
function writeError(backend: string, name: string, project: string, verb: string, e: unknown): Error {
  if (e instanceof BackendError) return e;
  const raw = (e ?? {}) as { code?: unknown; status?: unknown };
  const code =
    typeof raw.code === 'number'
      ? raw.code < 100
        ? raw.code
        : HTTP_TO_GRPC[raw.code]
      : typeof raw.status === 'number'
        ? HTTP_TO_GRPC[raw.status]
        : undefined;
  const where = `'${name}' in project '${project}'`;
  const opts = { cause: e, secretName: name };
  const permission =
    verb === 'listing'
      ? 'secretmanager.secrets.list'
      : verb === 'creating'
        ? 'secretmanager.secrets.create'
        : verb === 'deleting'
          ? 'secretmanager.secrets.delete'
          : verb === 'reading'
            ? 'secretmanager.versions.access'
            : 'secretmanager.versions.add';
  let err: BackendError;
  if (code === 7 || code === 16) {
    err = new AccessDeniedError(
      backend,
      `${backend}: access denied ${verb} ${where} (${code === 7 ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED'}); the identity needs '${permission}'`,
      opts,
    );
  } else if (code === 8)
    err = new ThrottledError(backend, `${backend}: quota exhausted ${verb} ${where}`, opts);
  else if (code === 14)
    err = new BackendUnavailableError(backend, `${backend}: service unavailable ${verb} ${where}`, opts);
  else if (code === 4)
    err = new BackendTimeoutError(backend, `${backend}: deadline exceeded ${verb} ${where}`, opts);
  else {
    const what =
      code === 3
        ? 'INVALID_ARGUMENT'
        : code === 6
          ? 'ALREADY_EXISTS'
          : code === 5
            ? 'NOT_FOUND'
            : describeError(e);
    err = new BackendError(backend, 'failed', `${backend}: ${verb} ${where} failed (${what})`, opts);
  }
  return Object.assign(err, { grpcCode: code });
}
