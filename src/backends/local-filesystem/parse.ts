/**
 * Airflow's local-filesystem parsing (`airflow.secrets.local_filesystem`), pure: the text of a
 * `.env`, `.json`, `.yaml` or `.yml` file in, variables, configs or connections out, with Airflow's
 * rules and error texts (its `FileSyntaxError` / `AirflowFileParseException` layout). Used by the
 * backend in `./index.ts` and by `airflow-secrets/testing`'s fixtures.
 */
import { CONNECTION_PARAMETERS, Connection, type ConnectionFields } from '../../connection.js';
import {
  describeError,
  type FileSyntaxError,
  isAirflowSecretsError,
  SecretFileError,
  safeCause,
} from '../../errors.js';
import { parsePythonJson, pyStrRepr } from '../../pyjson.js';
import type { parsePythonYaml as ParsePythonYaml } from '../../python-yaml.js';

const DRIVER_NAME = 'local-filesystem';

/** The YAML parser (and the `yaml` package behind it): loaded when YAML is first parsed, not at import. */
let parseYaml: typeof ParsePythonYaml | undefined;

/** Load the YAML parser ahead of a parse (the backend does so before it reads a YAML file). */
export async function loadYamlParser(): Promise<void> {
  parseYaml ??= (await import('../../python-yaml.js')).parsePythonYaml;
}

/** The YAML parser; a synchronous caller that did not load it first gets it through require(esm). */
export function yamlParser(): typeof ParsePythonYaml {
  if (parseYaml === undefined) {
    const { createRequire } = process.getBuiltinModule('node:module') as typeof import('node:module');
    const m = createRequire(import.meta.url)('../../python-yaml.js') as typeof import('../../python-yaml.js');
    parseYaml = m.parsePythonYaml;
  }
  return parseYaml;
}

/** A file format Airflow reads, chosen by the file's extension. */
export type SecretFileFormat = 'env' | 'json' | 'yaml';

// SecretFileError (with FileSyntaxError and AirflowFileErrorKind) lives in src/errors.ts, where its
// message escaping sits with the base class's; it is re-exported here under the same names.
export type { AirflowFileErrorKind, FileSyntaxError } from '../../errors.js';
export { SecretFileError } from '../../errors.js';

const EXTENSIONS: Record<string, SecretFileFormat> = { env: 'env', json: 'json', yaml: 'yaml', yml: 'yaml' };

/** Python's `Path(p).suffix.lstrip('.').lower()` mapped to a format; null when Airflow has no parser for it. */
export function secretFileFormat(filePath: string): SecretFileFormat | null {
  const name =
    filePath
      .replace(/[/\\]+$/, '')
      .split(/[/\\]/)
      .pop() ?? '';
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : '';
  return EXTENSIONS[ext] ?? null;
}

/**
 * Airflow's `_parse_secret_file` on the text of a file: key → value (a list of strings for `.env`).
 * Syntax errors become one {@link SecretFileError} in Airflow's `AirflowFileParseException` layout.
 */
export function parseSecretText(
  text: string,
  format: SecretFileFormat,
  filePath: string,
  backend = DRIVER_NAME,
): Map<string, unknown> {
  const { secrets, errors } = format === 'env' ? parseEnv(text) : parseStructured(text, format);
  if (errors.length === 0) return secrets;
  let message = `Failed to load the secret file.\nFilename: ${filePath}\n`;
  errors.forEach((e, i) => {
    message += `\n${'='.repeat(20)} Parse error ${String(i + 1).padStart(3)} ${'='.repeat(20)}\n${e.message}`;
    if (e.line) message += `\nLine number:  ${e.line}`;
  });
  throw new SecretFileError(backend, message, {
    filePath,
    airflowError: 'AirflowFileParseException',
    parseErrors: errors,
  });
}

/** Airflow's `load_variables`: key → string. Non-string values become JSON text; `null` values are left out. */
export function loadVariables(
  text: string,
  format: SecretFileFormat,
  filePath: string,
  backend = DRIVER_NAME,
): Map<string, string> {
  const secrets = parseSecretText(text, format, filePath, backend);
  if (format === 'env') rejectDuplicates(secrets, filePath, backend);
  return toStrings(secrets, format === 'env');
}

/** Airflow's `load_configs_dict`: like variables, but a one-item list is unwrapped in every format. */
export function loadConfigs(
  text: string,
  format: SecretFileFormat,
  filePath: string,
  backend = DRIVER_NAME,
): Map<string, string> {
  const secrets = parseSecretText(text, format, filePath, backend);
  rejectDuplicates(secrets, filePath, backend);
  return toStrings(secrets, true);
}

/** Airflow's `load_connections_dict`: every entry is built (a bad one fails the whole file, as in Airflow). */
export function loadConnections(
  text: string,
  format: SecretFileFormat,
  filePath: string,
  backend = DRIVER_NAME,
): Map<string, Connection> {
  const secrets = parseSecretText(text, format, filePath, backend);
  const out = new Map<string, Connection>();
  for (const [key, value] of secrets) {
    if (Array.isArray(value)) {
      if (value.length > 1) {
        throw new SecretFileError(backend, `Found multiple values for ${key} in ${filePath}.`, {
          filePath,
          airflowError: 'ConnectionNotUnique',
        });
      }
      for (const item of value) out.set(key, createConnection(key, item, filePath, backend));
    } else {
      out.set(key, createConnection(key, value, filePath, backend));
    }
  }
  return out;
}

const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

const COMMENT = /^[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*#/;

/** Python's `str.splitlines()`. */
function splitLines(text: string): string[] {
  const lines = text.split(LINE_BREAK);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function parseEnv(text: string): { secrets: Map<string, unknown>; errors: FileSyntaxError[] } {
  const secrets = new Map<string, string[]>();
  const errors: FileSyntaxError[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line || COMMENT.test(line)) continue;
    const eq = line.indexOf('=');
    const message =
      eq === -1
        ? 'Invalid line format. The line should contain at least one equal sign ("=").'
        : eq === 0
          ? 'Invalid line format. Key is empty.'
          : eq === line.length - 1
            ? 'Invalid line format. Value is empty.'
            : null;
    if (message) {
      errors.push({ line: i + 1, message });
      continue;
    }
    const key = line.slice(0, eq);
    const list = secrets.get(key) ?? [];
    list.push(line.slice(eq + 1));
    secrets.set(key, list);
  }
  return { secrets, errors };
}

function parseStructured(text: string, format: 'json' | 'yaml') {
  const none = new Map<string, unknown>();
  if (!text) return { secrets: none, errors: [{ line: 1, message: 'The file is empty.' }] };
  let value: unknown;
  if (format === 'json') {
    const r = parsePythonJson(text);
    if (!r.ok) return { secrets: none, errors: [{ line: r.line, message: r.message }] };
    value = r.value;
  } else {
    const r = yamlParser()(text);
    if (!r.ok)
      return { secrets: none, errors: [{ line: r.line, message: `${r.message}, column ${r.column}` }] };
    value = r.value;
  }
  if (!isPlainObject(value)) {
    return { secrets: none, errors: [{ line: 1, message: 'The file should contain the object.' }] };
  }
  return { secrets: new Map(Object.entries(value)), errors: [] };
}

function rejectDuplicates(secrets: Map<string, unknown>, filePath: string, backend: string): void {
  const bad = [...secrets].filter(([, v]) => Array.isArray(v) && v.length !== 1).map(([k]) => k);
  if (bad.length > 0) {
    throw new SecretFileError(
      backend,
      `The "${filePath}" file contains multiple values for keys: [${bad.map(pyStrRepr).join(', ')}]`,
      { filePath, airflowError: 'VariableNotUnique' },
    );
  }
}

function toStrings(secrets: Map<string, unknown>, unwrap: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, raw] of secrets) {
    const v = unwrap && Array.isArray(raw) ? raw[0] : raw;
    if (v === null || v === undefined) continue;
    out.set(key, typeof v === 'string' ? v : JSON.stringify(v, jsonReplacer));
  }
  return out;
}

/** `Connection.__init__` parameters (core, A2/A3.0) plus `extra_dejson`. */
const CONNECTION_KEYS: readonly string[] = ['conn_id', ...CONNECTION_PARAMETERS, 'extra_dejson'];

const TEXT_FIELDS = {
  conn_type: 'type',
  description: 'description',
  host: 'host',
  login: 'login',
  password: 'password',
  schema: 'schema',
  uri: 'uri',
} as const;

function createConnection(connId: string, value: unknown, filePath: string, backend: string): Connection {
  const fail = (message: string, cause?: unknown): never => {
    throw new SecretFileError(backend, message, { filePath, airflowError: 'AirflowException', cause });
  };
  const build = (fields: ConnectionFields) => {
    try {
      return new Connection(fields);
    } catch (e) {
      const why = isAirflowSecretsError(e) ? e.message : describeError(e);
      return fail(`Connection '${connId}' in "${filePath}" is invalid: ${why}`, safeCause(e));
    }
  };
  if (typeof value === 'string') return build({ id: connId, uri: value });
  if (!isPlainObject(value)) {
    return fail(
      `Unexpected value type: <class '${pyTypeName(value)}'>. The connection can only be defined using a string or object.`,
    );
  }
  const keys = Object.keys(value);
  const illegal = keys.filter((k) => !CONNECTION_KEYS.includes(k));
  if (illegal.length > 0) {
    fail(
      // Airflow names the keys; a key is stored text (a misplaced password would show), so we count them.
      `The object have ${illegal.length} illegal key${illegal.length === 1 ? '' : 's'}. The dictionary can only contain the following keys: {${[...CONNECTION_KEYS].sort().map(pyStrRepr).join(', ')}}`,
    );
  }
  if ('extra' in value && 'extra_dejson' in value) {
    fail('The extra and extra_dejson parameters are mutually exclusive. Please provide only one parameter.');
  }
  if ('conn_id' in value && value.conn_id !== connId) {
    fail(
      // Airflow also quotes the stored conn_id field; we name only the entry's key.
      `Mismatch conn_id. The item's conn_id field differs from its key: ${connId}.`,
    );
  }
  const fields: ConnectionFields = { id: connId };
  for (const [key, field] of Object.entries(TEXT_FIELDS)) {
    const v = value[key];
    if (v === undefined) continue;
    if (v !== null && typeof v !== 'string') {
      fail(
        `Connection '${connId}' in "${filePath}": ${key} must be a string, got <class '${pyTypeName(v)}'> (quote it in the file)`,
      );
    }
    fields[field] = v as string | null;
  }
  if ('port' in value) fields.port = portOf(value.port, connId, filePath, fail);
  const extra = 'extra_dejson' in value ? value.extra_dejson : value.extra;
  if (extra !== undefined) {
    fields.extra =
      extra === null || typeof extra === 'string' || isPlainObject(extra)
        ? (extra as string | Record<string, unknown> | null)
        : JSON.stringify(extra, jsonReplacer);
  }
  return build(fields);
}

function portOf(v: unknown, connId: string, filePath: string, fail: (m: string) => never): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[0-9]{1,5}$/.test(v)) return Number(v);
  return fail(
    `Connection '${connId}' in "${filePath}": port must be an integer, got <class '${pyTypeName(v)}'>`,
  );
}

function jsonReplacer(_key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof Set) return [...v];
  if (v instanceof Map) return Object.fromEntries(v);
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The Python type name of a parsed JSON/YAML value, as `type(value)` prints it. */
function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v) || v instanceof Map) return 'list';
  if (v instanceof Date) {
    const midnight = v.getUTCHours() + v.getUTCMinutes() + v.getUTCSeconds() + v.getUTCMilliseconds() === 0;
    return midnight ? 'datetime.date' : 'datetime.datetime';
  }
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Set) return 'set';
  return 'dict';
}
