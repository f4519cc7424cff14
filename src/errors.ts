/**
 * One small error hierarchy. Every message names what was wrong (the id, file, setting or backend),
 * never a secret value. `cause` is kept, but callers must never put an error whose message quotes a
 * value (e.g. a raw `JSON.parse` SyntaxError) into `cause`: use {@link safeCause} for those.
 *
 * Messages are escaped once, here: ids, keys and file names come from callers and files, so every
 * control character, line break, ANSI escape, bidi override or lone surrogate in a message is
 * written as a visible escape (`\n`, `\x1b`, `\u202e`) and cannot forge a log line or hide text.
 * The structured fields (`connId`, `key`, `secretName`, `filePath`, `setting`) keep the raw value.
 */
import { serverText } from './masker.js';

/**
 * What {@link escapeText} rewrites: C0 controls, DEL and C1 controls (which include ESC, so no ANSI
 * sequence survives), the Unicode line and paragraph separators, the bidi marks, embeddings,
 * overrides and isolates, and lone surrogates.
 */
const UNSAFE =
  /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSAFE_KEEP_NEWLINE =
  /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/**
 * `text` with every character that could break or disguise a line of log or terminal output written
 * as an escape: `\n`, `\r`, `\t`, `\xHH` (other C0/C1 controls, DEL), `\uHHHH` (line separators,
 * bidi controls, lone surrogates). With `json: true` every escape is `\uHHHH`, valid inside a JSON
 * string. Printable text, including a backslash, is left as it is.
 */
export function escapeText(text: string, options: { keepNewlines?: boolean; json?: boolean } = {}): string {
  const re = options.keepNewlines ? UNSAFE_KEEP_NEWLINE : UNSAFE;
  re.lastIndex = 0;
  if (!re.test(text)) return text;
  re.lastIndex = 0;
  return text.replace(re, (c) => {
    if (options.json) return `\\u${hex(c, 4)}`;
    return SHORT[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);
  });
}

/** Set by {@link SecretFileError} for its Airflow layout: the message's own line breaks are kept. */
const MULTILINE = Symbol('multiline');
type BaseOptions = { cause?: unknown; [MULTILINE]?: boolean };

/** Base class of every error this library throws. */
export class AirflowSecretsError extends Error {
  override name = 'AirflowSecretsError';
  /**
   * A `cause` that is not one of ours is kept only as {@link safeCause} makes it: SDK errors carry
   * their request (bearer tokens, `X-Vault-Token`, login bodies) and parser errors quote input.
   * The message is escaped with {@link escapeText}.
   */
  constructor(message: string, options?: BaseOptions) {
    super(
      escapeText(String(message), { keepNewlines: options?.[MULTILINE] === true }),
      options?.cause === undefined ? options : { cause: safeCause(options.cause) },
    );
  }
}

/** A setting (environment variable, kwarg, option) has a value we cannot use. */
export class ConfigurationError extends AirflowSecretsError {
  override name: string = 'ConfigurationError';
  /** The setting at fault, e.g. `AIRFLOW__SECRETS__BACKEND` or `backend_kwargs.kv_engine_version`. */
  readonly setting: string;
  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.setting = setting;
  }
}

/**
 * A backend that failed during a lookup that then found nothing: which backend, the classified
 * reason, the reason in words (the backend error's message, never a value) and the exact secret
 * name it was asked for, when it can say.
 */
export interface BackendFailure {
  readonly backend: string;
  readonly reason: BackendErrorReason;
  readonly message: string;
  readonly secretName: string | null;
}

/** What the not-found errors take besides the id: the failures seen during the walk. */
export interface NotFoundOptions {
  /** The backends that failed; the first one's error becomes the `cause`. */
  failures?: ReadonlyArray<BackendFailure & { readonly error?: unknown }> | undefined;
}

/** The failures as the error keeps them (frozen, without the errors), and the first one's error. */
function notFoundParts(o: NotFoundOptions | undefined): {
  failures: readonly BackendFailure[];
  cause?: unknown;
  suffix: string;
} {
  const given = o?.failures ?? [];
  const failures = Object.freeze(
    given.map((f) =>
      Object.freeze({ backend: f.backend, reason: f.reason, message: f.message, secretName: f.secretName }),
    ),
  );
  if (failures.length === 0) return { failures, suffix: '' };
  const list = failures.map((f) => `${f.backend} (${f.reason})`).join(', ');
  const suffix = ` (not found while ${failures.length === 1 ? 'a backend' : `${failures.length} backends`} failed: ${list})`;
  return { failures, cause: given[0]?.error, suffix };
}

/** `getConnectionOrThrow` found the id nowhere in the chain. */
export class ConnectionNotFoundError extends AirflowSecretsError {
  override name = 'ConnectionNotFoundError' as const;
  readonly connId: string;
  /** The backends that failed during the lookup (empty when every source answered "not found"). */
  readonly failures: readonly BackendFailure[];
  constructor(connId: string, options?: NotFoundOptions) {
    const { failures, cause, suffix } = notFoundParts(options);
    super(`The conn_id \`${connId}\` isn't defined${suffix}`, cause === undefined ? undefined : { cause });
    this.connId = connId;
    this.failures = failures;
  }
}

/** `getVariableOrThrow` found the key nowhere in the chain. */
export class VariableNotFoundError extends AirflowSecretsError {
  override name = 'VariableNotFoundError' as const;
  readonly key: string;
  /** The backends that failed during the lookup (empty when every source answered "not found"). */
  readonly failures: readonly BackendFailure[];
  constructor(key: string, options?: NotFoundOptions) {
    const { failures, cause, suffix } = notFoundParts(options);
    super(`Variable ${key} does not exist${suffix}`, cause === undefined ? undefined : { cause });
    this.key = key;
    this.failures = failures;
  }
}

/**
 * A connection URI or JSON document (or the `extra` field) could not be parsed. The message names
 * the connection id when known and says what is wrong, but never quotes the input.
 */
export class InvalidConnectionError extends AirflowSecretsError {
  override name = 'InvalidConnectionError' as const;
  readonly connId: string | undefined;
  constructor(message: string, connId?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.connId = connId;
  }
}

/** Why a backend failed. Not-found is never one of these: it is a `null` answer. */
export type BackendErrorReason =
  | 'access-denied'
  | 'throttled'
  | 'timeout'
  | 'unavailable'
  | 'malformed'
  | 'failed';

type SubOptions = { cause?: unknown; secretName?: string | undefined; [MULTILINE]?: boolean };

/** A backend could not answer. The resolver logs it and moves on (or rethrows, per policy). */
export class BackendError extends AirflowSecretsError {
  override name: string = 'BackendError';
  /** The backend's name, e.g. `aws-secrets-manager`. */
  readonly backend: string;
  readonly reason: BackendErrorReason;
  /** The secret name or id that was asked for, when known (never its value). */
  readonly secretName: string | undefined;
  constructor(backend: string, reason: BackendErrorReason, message: string, options?: SubOptions) {
    super(message, options);
    this.backend = backend;
    this.reason = reason;
    this.secretName = options?.secretName;
  }
}

export class AccessDeniedError extends BackendError {
  override name = 'AccessDeniedError' as const;
  constructor(backend: string, message: string, options?: SubOptions) {
    super(backend, 'access-denied', message, options);
  }
}

export class ThrottledError extends BackendError {
  override name = 'ThrottledError' as const;
  constructor(backend: string, message: string, options?: SubOptions) {
    super(backend, 'throttled', message, options);
  }
}

export class BackendTimeoutError extends BackendError {
  override name = 'BackendTimeoutError' as const;
  constructor(backend: string, message: string, options?: SubOptions) {
    super(backend, 'timeout', message, options);
  }
}

export class BackendUnavailableError extends BackendError {
  override name = 'BackendUnavailableError' as const;
  constructor(backend: string, message: string, options?: SubOptions) {
    super(backend, 'unavailable', message, options);
  }
}

/** The secret exists but its payload cannot be used (bad JSON, wrong shape, undecryptable). */
export class MalformedSecretError extends BackendError {
  override name: string = 'MalformedSecretError';
  constructor(backend: string, message: string, options?: SubOptions) {
    super(backend, 'malformed', message, options);
  }
}

/** `put` without `overwrite` found a secret already at the name it would write. */
export class SecretExistsError extends AirflowSecretsError {
  override name = 'SecretExistsError' as const;
  readonly backend: string;
  /** The exact secret name that exists. */
  readonly secretName: string;
  constructor(backend: string, secretName: string, options?: { cause?: unknown }) {
    super(`${backend}: '${secretName}' already exists (pass overwrite to replace it)`, options);
    this.backend = backend;
    this.secretName = secretName;
  }
}

/** One problem in a secrets file (Airflow's `FileSyntaxError`). `line` is 1-based, or null when unknown. */
export interface FileSyntaxError {
  line: number | null;
  message: string;
}

/** The Airflow exception a {@link SecretFileError} stands for. */
export type AirflowFileErrorKind =
  | 'AirflowFileParseException'
  | 'VariableNotUnique'
  | 'ConnectionNotUnique'
  | 'AirflowException'
  | 'UnicodeDecodeError';

/** Airflow's `AirflowFileParseException` text: the file name, then one block per parse error. */
function fileParseText(filePath: string, errors: readonly FileSyntaxError[]): string {
  let message = `Failed to load the secret file.\nFilename: ${filePath}\n`;
  errors.forEach((e, i) => {
    message += `\n${'='.repeat(20)} Parse error ${String(i + 1).padStart(3)} ${'='.repeat(20)}\n${e.message}`;
    if (e.line) message += `\nLine number:  ${e.line}`;
  });
  return message;
}

/**
 * A secrets file's content cannot be used: a syntax error, a duplicate key, a connection entry of
 * the wrong shape. A `MalformedSecretError` (reason `malformed`), so the resolver treats it like any
 * other backend failure. The message names the file and the line numbers, never a value.
 *
 * Airflow's multi-line `AirflowFileParseException` layout keeps its line breaks: when the message is
 * exactly that layout for `filePath` and `parseErrors`, it is rebuilt with the file name and each
 * error text escaped line by line, so only the layout's own breaks remain. Any other message is
 * escaped whole, like every message.
 */
export class SecretFileError extends MalformedSecretError {
  override name = 'SecretFileError';
  readonly filePath: string;
  readonly parseErrors: readonly FileSyntaxError[];
  readonly airflowError: AirflowFileErrorKind;
  constructor(
    backend: string,
    message: string,
    details: {
      filePath: string;
      airflowError: AirflowFileErrorKind;
      parseErrors?: FileSyntaxError[];
      cause?: unknown;
    },
  ) {
    const errors = details.parseErrors ?? [];
    const layout =
      details.airflowError === 'AirflowFileParseException' &&
      errors.length > 0 &&
      message === fileParseText(details.filePath, errors);
    const text = layout
      ? fileParseText(
          escapeText(details.filePath),
          errors.map((e) => ({ line: e.line, message: escapeText(e.message) })),
        )
      : message;
    super(backend, text, { cause: details.cause, secretName: details.filePath, [MULTILINE]: layout });
    this.filePath = details.filePath;
    this.airflowError = details.airflowError;
    this.parseErrors = errors;
  }
}

/** An SDK or driver that an adapter needs is not installed. */
export class MissingDependencyError extends ConfigurationError {
  override name = 'MissingDependencyError' as const;
  readonly packageName: string;
  constructor(packageName: string, usedBy: string, options?: { cause?: unknown }) {
    super(
      usedBy,
      `Cannot import '${packageName}' (needed by ${usedBy}). Install it (npm install ${packageName}), or pass a client.`,
      options,
    );
    this.packageName = packageName;
  }
}

const NAMES = new Set([
  'AirflowSecretsError',
  'ConfigurationError',
  'ConnectionNotFoundError',
  'VariableNotFoundError',
  'InvalidConnectionError',
  'BackendError',
  'AccessDeniedError',
  'ThrottledError',
  'BackendTimeoutError',
  'BackendUnavailableError',
  'MalformedSecretError',
  'MissingDependencyError',
  'SecretExistsError',
  'SecretFileError',
]);

/** Type guard that also works across realms/duplicate copies (matches on `name`). */
export function isAirflowSecretsError(e: unknown): e is AirflowSecretsError {
  return e instanceof AirflowSecretsError || (e instanceof Error && NAMES.has(e.name));
}

/** Type guard for backend failures (any reason), realm-safe. */
export function isBackendError(e: unknown): e is BackendError {
  return (
    e instanceof BackendError ||
    (e instanceof Error && typeof (e as { reason?: unknown }).reason === 'string' && 'backend' in e)
  );
}

/**
 * A description of an underlying error that is safe to keep or log: its name and code, never its
 * message (SDK and parser messages can quote the input, e.g. `JSON.parse`).
 */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const name = foreignText(e, e.name) || 'Error';
    const code = (e as { code?: unknown }).code;
    if (code === undefined || code === null) return name;
    const shown = typeof code === 'number' ? String(code) : foreignText(e, String(code));
    return shown ? `${name} (${shown})` : name;
  }
  return typeof e;
}

/**
 * A foreign error's name or string code as a message may show it: often the server's own text (an
 * SDK error's name is the `<Code>` STS or a proxy sent), so it goes through {@link serverText}
 * (token-like strings and quoted text masked). Our own errors' names are ours.
 */
function foreignText(e: unknown, text: string): string {
  return e instanceof AirflowSecretsError ? text : serverText(text, 80);
}

/** Primitive properties of a foreign error that say what failed without quoting anything. */
const SAFE_PROPS = ['code', 'errno', 'syscall', 'status', 'statusCode'] as const;

/**
 * A cause that is safe to keep: errors of our own hierarchy as they are (their causes were sanitised
 * when they were built); anything else becomes a plain `Error` with the original's name, a message
 * of name and code, and only its primitive `code`/`errno`/`syscall`/`status`/`statusCode` — never
 * its message, request, response, config or metadata (SDK errors carry bearer tokens, login bodies
 * and response bodies there; parser messages quote the input). Its own `cause` is sanitised the same way.
 */
export function safeCause(e: unknown, depth = 0): unknown {
  if (e instanceof AirflowSecretsError) return e;
  const err = new Error(describeError(e));
  err.name = e instanceof Error ? foreignText(e, e.name) || 'Error' : 'Error';
  if (typeof e === 'object' && e !== null) {
    const src = e as Record<string, unknown>;
    for (const k of SAFE_PROPS) {
      let v: unknown;
      try {
        v = src[k];
      } catch {
        continue;
      }
      if (typeof v === 'string') v = v.length <= 100 ? foreignText(e, v) : '';
      if (typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v !== '')) {
        (err as unknown as Record<string, unknown>)[k] = v;
      }
    }
    const inner = e instanceof Error ? e.cause : undefined;
    if (inner !== undefined && inner !== e && depth < 5) err.cause = safeCause(inner, depth + 1);
  }
  return err;
}
