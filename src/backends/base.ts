/**
 * Shared building blocks for adapters: the raw-string backend shape most providers share, Airflow's
 * `build_path`, Python-`re.match` lookup patterns, lazy optional imports, and deadlines.
 */
import type { Lookup, SecretKind, SecretsBackend } from '../backend.js';
import { type Connection, deserializeConnection } from '../connection.js';
import {
  BackendTimeoutError,
  ConfigurationError,
  isAirflowSecretsError,
  MalformedSecretError,
  safeCause,
} from '../errors.js';

/** A source that stores each secret as one string at a name (most cloud providers). */
export interface RawSecretSource {
  readonly name: string;
  /** Pure: which secret name a lookup asks for, or why it is skipped. */
  locate(kind: SecretKind, id: string): Lookup;
  /** Read the raw text stored at `secretName`; `null` when absent. Failures throw typed errors. */
  fetch(secretName: string, kind: SecretKind, id: string): Promise<string | null>;
  getMany?: SecretsBackend['getMany'];
  close?(): Promise<void>;
}

/** Turns a raw-string source into a backend: locate → fetch → (connections) deserialize. */
export function rawBackend(src: RawSecretSource): SecretsBackend {
  const read = async (kind: SecretKind, id: string): Promise<string | null> => {
    const where = src.locate(kind, id);
    if (!('name' in where)) return null;
    return src.fetch(where.name, kind, id);
  };
  const backend: SecretsBackend = {
    name: src.name,
    locate: (kind, id) => src.locate(kind, id),
    async getConnection(connId) {
      const raw = await read('connection', connId);
      // Airflow: `if value:` — an empty value is "not found" for connections.
      if (raw === null || raw.trim() === '') return null;
      return parseConnection(src.name, connId, raw, secretNameOf(src.locate('connection', connId)));
    },
    getVariable: (key) => read('variable', key),
    getConfig: (key) => read('config', key),
  };
  if (src.getMany) backend.getMany = src.getMany.bind(src);
  if (src.close) backend.close = src.close.bind(src);
  return backend;
}

function secretNameOf(l: Lookup): string | undefined {
  return 'name' in l ? l.name : undefined;
}

/** Deserialize a stored connection value; a bad value becomes a `MalformedSecretError` (no value quoted). */
export function parseConnection(
  backend: string,
  connId: string,
  raw: string,
  secretName?: string,
): Connection {
  try {
    return deserializeConnection(connId, raw);
  } catch (e) {
    const why = isAirflowSecretsError(e) ? `: ${e.message}` : '';
    throw new MalformedSecretError(
      backend,
      `The value stored for connection '${connId}'${secretName ? ` at '${secretName}'` : ''} is not a valid connection URI or JSON${why}`,
      { cause: safeCause(e), secretName },
    );
  }
}

/** Airflow's `BaseSecretsBackend.build_path`: `${prefix}${sep}${id}`, no stripping or escaping. */
export function buildPath(prefix: string, id: string, sep = '/'): string {
  return `${prefix}${sep}${id}`;
}

/**
 * Compile an Airflow `*_lookup_pattern` (Python `re.match(pattern, id, re.IGNORECASE)`: anchored at
 * the start only). Python-only syntax `(?P<name>…)` / `(?P=name)` is translated. A pattern that does
 * not compile is a `ConfigurationError` naming the setting.
 */
export function compileLookupPattern(
  pattern: string | null | undefined,
  setting: string,
): ((id: string) => boolean) | null {
  if (pattern === null || pattern === undefined || pattern === '') return null;
  if (typeof pattern !== 'string') throw new ConfigurationError(setting, `${setting} must be a string`);
  const js = pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${js})`, 'iu');
  } catch {
    try {
      re = new RegExp(`^(?:${js})`, 'i');
    } catch (e) {
      throw new ConfigurationError(setting, `${setting} is not a valid regular expression`, {
        cause: safeCause(e),
      });
    }
  }
  return (id) => re.test(id);
}

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

/** Default deadline for one remote call, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

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
