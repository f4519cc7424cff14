/**
 * The backend shape most adapters share, and the bound on one remote call. A provider that stores
 * each secret as one string at a name (Vault, Secrets Manager, SSM, Google Cloud, Azure, the
 * environment) describes itself as a {@link RawSecretSource} (`locate` + `fetch`) and
 * {@link rawBackend} turns it into a `SecretsBackend`, deserialising connections the one way
 * Airflow does. {@link withDeadline} bounds a remote call; {@link NETWORK_ERROR_CODES} says which
 * socket errors mean "could not reach the service".
 */
import type { Lookup, SecretKind, SecretsBackend } from '../backend.js';
import { type Connection, deserializeConnection } from '../connection.js';
import { BackendTimeoutError, isAirflowSecretsError, MalformedSecretError, safeCause } from '../errors.js';
import { pyJsonLoads } from '../pyjson.js';

/** A source that stores each secret as one string at a name (most cloud providers). */
export interface RawSecretSource {
  readonly name: string;
  /** Pure: which secret name a lookup asks for, or why it is skipped. */
  locate(kind: SecretKind, id: string): Lookup;
  /** Read the raw text stored at `secretName`; `null` when absent. Failures throw typed errors. */
  fetch(secretName: string, kind: SecretKind, id: string): Promise<string | null>;
  /**
   * Every name a lookup tries, in order, when there is more than one (Airflow 3.2's team-scoped
   * name before the team-agnostic one); the first is `locate`'s. Absent: just `locate`'s name.
   */
  candidates?(kind: SecretKind, id: string): readonly string[];
  getMany?: SecretsBackend['getMany'];
  close?(): Promise<void>;
}

/** Turns a raw-string source into a backend: locate → fetch → (connections) deserialize. */
export function rawBackend(src: RawSecretSource): SecretsBackend {
  /** The value and the name it was found at (`null`: not found at any name tried). */
  const find = async (kind: SecretKind, id: string): Promise<{ value: string; at: string } | null> => {
    const where = src.locate(kind, id);
    if (!('name' in where)) return null;
    for (const at of src.candidates ? src.candidates(kind, id) : [where.name]) {
      const value = await src.fetch(at, kind, id);
      if (value !== null) return { value, at };
    }
    return null;
  };
  const read = async (kind: SecretKind, id: string) => (await find(kind, id))?.value ?? null;
  const backend: SecretsBackend = {
    name: src.name,
    locate: (kind, id) => src.locate(kind, id),
    async getConnection(connId) {
      const found = await find('connection', connId);
      // Airflow: `if value:` — only an empty value is "not found"; blank text fails to deserialize.
      if (found === null || found.value === '') return null;
      return parseConnection(src.name, connId, found.value, found.at);
    },
    getVariable: (key) => read('variable', key),
    getConfig: (key) => read('config', key),
  };
  if (src.getMany) backend.getMany = src.getMany.bind(src);
  if (src.close) backend.close = src.close.bind(src);
  return backend;
}

/** Deserialize a stored connection value; a bad value becomes a `MalformedSecretError` (no value quoted). */
export function parseConnection(
  backend: string,
  connId: string,
  raw: string,
  secretName?: string,
): Connection {
  const at = secretName ? ` at '${secretName}'` : '';
  if (isBlank(raw)) {
    // Airflow's `deserialize_connection` strips the value and then indexes it: an IndexError.
    throw new MalformedSecretError(
      backend,
      `The value stored for connection '${connId}'${at} is blank (only whitespace)`,
      { secretName },
    );
  }
  try {
    requireTypeOrUri(raw);
    return deserializeConnection(connId, raw);
  } catch (e) {
    const why = isAirflowSecretsError(e) || e instanceof ConnectionShapeError ? `: ${e.message}` : '';
    throw new MalformedSecretError(
      backend,
      `The value stored for connection '${connId}'${at} is not a valid connection URI or JSON${why}`,
      { cause: safeCause(e), secretName },
    );
  }
}

/** Default deadline for one remote call, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Run `fn` with an AbortSignal that fires after `ms`; if it has not settled by then, reject with a
 * `BackendTimeoutError` (the underlying call is aborted where the SDK honours the signal).
 */
export async function withDeadline<T>(
  backend: string,
  secretName: string,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(
        new BackendTimeoutError(backend, `${backend}: no answer for '${secretName}' within ${ms} ms`, {
          secretName,
        }),
      );
    }, ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([fn(ac.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Node socket error codes meaning the service could not be reached (→ `BackendUnavailableError`). */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Newest Airflow (the shared `BaseSecretsBackend._deserialize_connection_value`): a JSON value must
 * carry a non-blank string `conn_type` or `uri`; older versions accepted any JSON object.
 */
function requireTypeOrUri(raw: string): void {
  const text = raw.replace(PY_EDGE_SPACE, '');
  if (!text.startsWith('{')) return;
  let v: unknown;
  try {
    v = pyJsonLoads(text);
  } catch {
    return; // deserializeConnection reports the parse error in its own words
  }
  if (!(v instanceof Map)) return;
  const ok = (x: unknown) => typeof x === 'string' && !isBlank(x) && x !== '';
  if (!ok(v.get('conn_type')) && !ok(v.get('uri'))) {
    throw new ConnectionShapeError("Connection secret JSON must include a non-empty 'conn_type' or 'uri'.");
  }
}

class ConnectionShapeError extends Error {}

const PY_EDGE_SPACE =
  /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Only whitespace as Python's `str.strip()` sees it (a non-empty value that strips to nothing). */
const PY_BLANK = /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;
export function isBlank(raw: string): boolean {
  return PY_BLANK.test(raw);
}
