/**
 * The tiny logging seam. Everything the library logs goes through a `Logger`; no message or field
 * ever carries a secret value (ids, secret names, backend names and error kinds only).
 *
 * Messages carry caller-provided text (ids, keys, file names). Our loggers escape it where the line
 * is written ({@link escapeText}: control characters, line breaks, ANSI escapes, bidi controls), so
 * an id holding a newline cannot forge a log line; `fields` reach a custom logger with their raw
 * values (they are data, not text), and are written as escaped JSON by {@link consoleLogger}.
 */
import { escapeText } from './errors.js';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function fieldsJson(fields: Record<string, unknown>): string {
  try {
    return escapeText(
      JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      {
        json: true,
      },
    );
  } catch {
    return '{"fields":"(not serialisable)"}';
  }
}

/** One log line: `airflow-secrets: <escaped message> <escaped JSON of fields>`. */
export function formatLogLine(message: string, fields?: Record<string, unknown>): string {
  const text = `airflow-secrets: ${escapeText(String(message))}`;
  if (!fields || Object.keys(fields).length === 0) return text;
  return `${text} ${fieldsJson(fields)}`;
}

/**
 * Default logger: warnings and errors to stderr; debug lines only when `AIRFLOW_SECRETS_DEBUG` is set
 * (read at each call, so tests can flip it).
 */
export const consoleLogger: Logger = {
  debug(message, fields) {
    if (process.env.AIRFLOW_SECRETS_DEBUG) console.error(formatLogLine(message, fields));
  },
  warn(message, fields) {
    console.warn(formatLogLine(message, fields));
  },
  error(message, fields) {
    console.error(formatLogLine(message, fields));
  },
};

/**
 * `logger` with every message escaped ({@link escapeText}) before it is handed on; fields are passed
 * through unchanged. For text loggers that print messages as they are.
 */
export function escapingLogger(logger: Logger): Logger {
  return {
    debug: (message, fields) => logger.debug(escapeText(String(message)), fields),
    warn: (message, fields) => logger.warn(escapeText(String(message)), fields),
    error: (message, fields) => logger.error(escapeText(String(message)), fields),
  };
}

/**
 * The logger a resolver or an adapter writes to: `logger` itself when it is one of ours (they
 * escape already), else wrapped by {@link escapingLogger}, so an id holding a line break cannot
 * forge a line in a user's own log either. Structured fields stay raw.
 */
export function messageSafeLogger(logger: Logger): Logger {
  if (logger === consoleLogger || logger === silentLogger || ESCAPING.has(logger)) return logger;
  const wrapped = escapingLogger(logger);
  ESCAPING.add(wrapped);
  return wrapped;
}

const ESCAPING = new WeakSet<Logger>();

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, warn() {}, error() {} };
