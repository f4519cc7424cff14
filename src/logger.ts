/**
 * The tiny logging seam. Everything the library logs goes through a `Logger`; no message or field
 * ever carries a secret value (ids, secret names, backend names and error kinds only).
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function format(message: string, fields?: Record<string, unknown>): string {
  if (!fields || Object.keys(fields).length === 0) return `airflow-secrets: ${message}`;
  return `airflow-secrets: ${message} ${JSON.stringify(fields)}`;
}

/**
 * Default logger: warnings and errors to stderr; debug lines only when `AIRFLOW_SECRETS_DEBUG` is set
 * (read at each call, so tests can flip it).
 */
export const consoleLogger: Logger = {
  debug(message, fields) {
    if (process.env.AIRFLOW_SECRETS_DEBUG) console.error(format(message, fields));
  },
  warn(message, fields) {
    console.warn(format(message, fields));
  },
  error(message, fields) {
    console.error(format(message, fields));
  },
};

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, warn() {}, error() {} };
