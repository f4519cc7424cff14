/**
 * What a failed backend call becomes: a typed `BackendError` (configuration errors are told apart:
 * they always propagate), the record of the failure a walk keeps, the failures as the not-found
 * errors carry them, and the reason in words for the log line. Never a value.
 */
import type { Lookup, SecretKind, SecretsBackend } from '../backend.js';
import {
  BackendError,
  type BackendFailure,
  ConfigurationError,
  describeError,
  isAirflowSecretsError,
  isBackendError,
  MalformedSecretError,
  safeCause,
} from '../errors.js';

/** A backend that failed during a walk (under the `'continue'` policy; `'throw'` stops at the first). */
export interface Failure {
  readonly backend: string;
  readonly error: BackendError;
  /** The exact secret name the backend was asked for, when it can say. */
  readonly secretName: string | null;
}

/** The failures of a walk as the not-found errors carry them (`failures`, and the first error as `cause`). */
export function backendFailures(
  failures: readonly Failure[] | undefined,
): Array<BackendFailure & { error: BackendError }> {
  return (failures ?? []).map((f) => ({
    backend: f.backend,
    reason: f.error.reason,
    message: f.error.message,
    secretName: f.secretName,
    error: f.error,
  }));
}

/** A misconfigured backend or a missing SDK: never a backend failure, always propagated. */
export function isConfigError(e: unknown): boolean {
  return e instanceof ConfigurationError || (e instanceof Error && e.name === 'MissingDependencyError');
}

/** Any other error a backend threw, as a typed `BackendError` (one of ours keeps its class). */
export function toBackendError(backend: SecretsBackend, e: unknown): BackendError {
  if (isBackendError(e)) return e;
  if (isAirflowSecretsError(e)) {
    return new MalformedSecretError(backend.name, `${backend.name}: ${e.message}`, { cause: e });
  }
  return new BackendError(backend.name, 'failed', `${backend.name} failed: ${describeError(e)}`, {
    cause: safeCause(e),
  });
}

/** The secret name for a failure: where the backend says it looked, else what its error names. */
export function failureOf(
  b: SecretsBackend,
  kind: SecretKind,
  id: string,
  err: BackendError,
  where?: Lookup,
): Failure {
  let at: Lookup | undefined = where;
  try {
    at ??= b.locate(kind, id);
  } catch {
    // A backend whose `locate` throws still gets its failure recorded.
  }
  const secretName = at && 'name' in at ? at.name : (err.secretName ?? null);
  return { backend: b.name, error: err, secretName };
}

/**
 * The reason in words, as the error says it (our messages name ids, settings and hosts, never a
 * value), ending with one full stop.
 */
export function reasonText(err: BackendError): string {
  const m = err.message.trim();
  return /[.!?]$/.test(m) ? m : `${m}.`;
}
