/**
 * Listing and writing for the local-filesystem adapter. A write edits one entry of the kind's file
 * and leaves every other entry as it was: `.env` by lines (`ID=VALUE`; connections as URIs, the
 * only form Airflow reads there), `.json` re-emitted from Python's parse of it (one entry per
 * line), `.yaml` by top-level blocks (a block mapping; comments of other entries kept). The new
 * text is parsed back with Airflow's rules and checked (the entry reads back, the others are
 * unchanged) before it replaces the file atomically: a temporary file in the same folder, then a
 * rename; the file's mode is kept, a new file gets 0600.
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Lookup, SecretKind } from '../../backend.js';
import { type Connection, deserializeConnection } from '../../connection.js';
import {
  BackendError,
  ConfigurationError,
  describeError,
  SecretExistsError,
  safeCause,
} from '../../errors.js';
import { type PyDict, type PyValue, pyJsonDumps, pyJsonLoads, pyJsonString } from '../../pyjson.js';
import { encodeValue, refusedId } from '../list-write.js';
import {
  loadConfigs,
  loadConnections,
  loadVariables,
  loadYamlParser,
  type SecretFileFormat,
  secretFileFormat,
  yamlParser,
} from './parse.js';

const DRIVER_NAME = 'local-filesystem';

/** The entry to store: a string (URI or variable text) or a connection's fields (JSON/YAML files). */
type Stored = string | PyDict;

/** Line breaks Python's `str.splitlines()` knows besides `\n` (a `.env` line cannot hold them). */
const BREAKS = /[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;
const ENV_BREAKS = /[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;
const ENV_COMMENT = /^[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*#/;

/** Why a `.env` file cannot hold this id (null: it can). */
export function envIdProblem(id: string): string | null {
  if (id.includes('=')) return "a .env key cannot hold '='";
  if (ENV_BREAKS.test(id)) return 'a .env key cannot hold a line break';
  if (ENV_COMMENT.test(id)) return "a .env key cannot start with '#'";
  return null;
}

/** `locateWrite` for a file: `locate`, and for `.env` files the key rules. */
export function fileLocateWrite(file: string | null, setting: string, id: string): Lookup {
  if (!file) return { skip: `${setting} not set` };
  if (secretFileFormat(file) === 'env') {
    const why = envIdProblem(id);
    if (why) return { skip: why };
  }
  return { name: `${file}#${id}` };
}

/** Write (or, with `value` null, remove) one entry of a secrets file. */
export async function editSecretFile(
  file: string,
  kind: SecretKind,
  id: string,
  value: Connection | string | null,
  options: { format?: 'uri' | 'json' | undefined; overwrite?: boolean | undefined } = {},
): Promise<{ existed: boolean; changed: boolean }> {
  const format = secretFileFormat(file);
  if (!format)
    throw new ConfigurationError(file, `${DRIVER_NAME}: "${file}" is not a .env, .json, .yaml or .yml file`);
  if (format === 'yaml') await loadYamlParser(); // the YAML parser loads only when a YAML file is edited
  const current = await readText(file);
  const before = current === null ? new Map<string, unknown>() : load(kind, current, format, file);
  const existed = before.has(id);
  if (value === null && !existed) return { existed, changed: false };
  if (value !== null && existed && !options.overwrite)
    throw new SecretExistsError(DRIVER_NAME, `${file}#${id}`);
  const stored = value === null ? null : storedForm(kind, id, value, format, options.format);
  if (format === 'env' && typeof stored === 'string') {
    if (stored === '')
      throw refusedId(DRIVER_NAME, kind, id, `a .env value cannot be empty (file "${file}")`);
    if (ENV_BREAKS.test(stored))
      throw refusedId(DRIVER_NAME, kind, id, `a .env value cannot hold a line break (file "${file}")`);
  }
  const text = current ?? '';
  const next =
    format === 'env'
      ? editEnv(text, id, stored, file)
      : format === 'json'
        ? editJson(text, id, stored, file)
        : editYaml(text, id, stored, file);
  checkEdit(kind, id, value, before, next, format, file);
  await replaceAtomically(file, next);
  return { existed, changed: true };
}

/** The kind's entries of a file's text, by Airflow's loaders. */
function load(kind: SecretKind, text: string, format: SecretFileFormat, file: string): Map<string, unknown> {
  if (kind === 'connection') return loadConnections(text, format, file);
  return kind === 'variable' ? loadVariables(text, format, file) : loadConfigs(text, format, file);
}

/** Refuse a form the file cannot hold: a connection as JSON in a `.env` file. */
export function checkStoredFormat(
  kind: SecretKind,
  format: SecretFileFormat | null,
  as: 'uri' | 'json' | undefined,
): void {
  if (kind === 'connection' && as === 'json' && format === 'env') {
    throw new ConfigurationError(
      'format',
      `${DRIVER_NAME}: a .env connections file holds URIs only (Airflow reads no JSON there)`,
    );
  }
}

/** What the file holds for the entry: `.env` a line's text; JSON/YAML a string, or fields for `json`. */
function storedForm(
  kind: SecretKind,
  id: string,
  value: Connection | string,
  format: SecretFileFormat,
  as: 'uri' | 'json' | undefined,
): Stored {
  checkStoredFormat(kind, format, as);
  if (kind !== 'connection' || as !== 'json') {
    const text = encodeValue(kind, id, value, 'uri');
    if (kind === 'connection' && text.trimStart().startsWith('{'))
      return deserializeConnection(id, text).getUri();
    return text;
  }
  const c = typeof value === 'string' ? deserializeConnection(id, value) : value;
  const fields: [string, PyValue][] = [
    ['conn_type', c.type],
    ['description', c.description],
    ['host', c.host],
    ['login', c.login],
    ['password', c.password],
    ['schema', c.schema],
    ['port', c.port === null ? null : BigInt(c.port)],
    ['extra', c.extra],
  ];
  return new Map(fields.filter(([, v]) => v !== null && v !== ''));
}

function editEnv(text: string, id: string, stored: Stored | null, file: string): string {
  if (BREAKS.test(text)) {
    throw cannotEdit(file, 'it holds line breaks other than \\n, which Airflow reads as separate lines');
  }
  if (stored !== null && typeof stored !== 'string') {
    throw new ConfigurationError('format', `${DRIVER_NAME}: a .env file holds text only`);
  }
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const keyOf = (line: string) =>
    line && !ENV_COMMENT.test(line) && line.includes('=') ? line.slice(0, line.indexOf('=')) : null;
  const out: string[] = [];
  let placed = false;
  for (const line of lines) {
    if (keyOf(line) !== id) out.push(line);
    else if (stored !== null && !placed) {
      out.push(`${id}=${stored}`);
      placed = true;
    }
  }
  if (stored !== null && !placed) out.push(`${id}=${stored}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

function editJson(text: string, id: string, stored: Stored | null, file: string): string {
  let doc: PyValue = new Map();
  if (text.trim() !== '') {
    try {
      doc = pyJsonLoads(text);
    } catch (e) {
      throw cannotEdit(file, 'it is not valid JSON', e);
    }
  }
  if (!(doc instanceof Map)) throw cannotEdit(file, 'it does not hold a JSON object');
  if (stored === null) doc.delete(id);
  else doc.set(id, stored);
  if (doc.size === 0) return '{}\n';
  return `{\n${[...doc].map(([k, v]) => `  ${pyJsonString(k)}: ${pyJsonDumps(v)}`).join(',\n')}\n}\n`;
}

/**
 * Edit a YAML file by top-level blocks: each starts at a line in column 0 that is no comment and
 * parses on its own to a mapping of one key. A file of another shape (a flow mapping, anchors used
 * across entries, several documents) is not edited.
 */
function editYaml(text: string, id: string, stored: Stored | null, file: string): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const blocks: { key: string | null; lines: string[] }[] = [{ key: null, lines: [] }];
  for (const line of lines) {
    if (line.trim() === '{}') continue; // an empty mapping (what removing the last entry leaves)
    const starts = line !== '' && !/^[\s#]/.test(line) && line !== '---';
    if (starts) blocks.push({ key: null, lines: [line] });
    else blocks[blocks.length - 1]!.lines.push(line);
  }
  if (blocks[0]!.lines.some((l) => l.trim() !== '' && !l.trimStart().startsWith('#') && l !== '---')) {
    throw cannotEdit(file, 'it does not start with a top-level mapping');
  }
  for (const b of blocks.slice(1)) {
    const r = yamlParser()(b.lines.join('\n'));
    const keys = r.ok && isRecord(r.value) ? Object.keys(r.value) : [];
    if (keys.length !== 1)
      throw cannotEdit(file, 'its top level is not a block mapping of one entry per block');
    b.key = keys[0]!;
  }
  const entry = stored === null ? null : yamlEntry(id, stored);
  const out: string[] = [];
  let placed = false;
  for (const b of blocks) {
    if (b.key !== id) out.push(...b.lines);
    else if (entry && !placed) {
      out.push(...entry, ...b.lines.slice(1).filter((l) => l.trim() === '' || l.startsWith('#')));
      placed = true;
    }
  }
  if (entry && !placed) out.push(...entry);
  const body = out.join('\n').replace(/\n+$/, '');
  const entries = entry !== null || blocks.some((b) => b.key !== null && b.key !== id);
  // An empty file is an error for Airflow ("The file is empty."): an empty mapping is not.
  return entries ? `${body}\n` : `${body ? `${body}\n` : ''}{}\n`;
}

/** One top-level YAML entry in double-quoted scalars (read the same by PyYAML and our parser). */
function yamlEntry(id: string, stored: Stored): string[] {
  if (typeof stored === 'string') return [`${yamlString(id)}: ${yamlString(stored)}`];
  const lines = [`${yamlString(id)}:`];
  for (const [k, v] of stored)
    lines.push(`  ${yamlString(k)}: ${typeof v === 'bigint' ? v.toString() : yamlString(String(v))}`);
  return lines;
}

/** A YAML double-quoted scalar: printable ASCII as it is, everything else escaped (`\uXXXX`, `\UXXXXXXXX`). */
export function yamlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp >= 0xd800 && cp <= 0xdfff)
      throw new ConfigurationError('value', `${DRIVER_NAME}: a lone surrogate cannot be written to a file`);
    else if (cp > 0xffff) out += `\\U${cp.toString(16).padStart(8, '0')}`;
    else out += `\\u${cp.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/** The edited text, parsed back: the entry reads as written and every other entry is unchanged. */
function checkEdit(
  kind: SecretKind,
  id: string,
  value: Connection | string | null,
  before: Map<string, unknown>,
  next: string,
  format: SecretFileFormat,
  file: string,
): void {
  const after = load(kind, next, format, file);
  const others = (m: Map<string, unknown>) =>
    [...m]
      .filter(([k]) => k !== id)
      .map(([k, v]) => [k, kind === 'connection' ? fieldsOf(v as Connection) : v]);
  const ok = isDeepStrictEqual(others(before), others(after)) && after.has(id) === (value !== null);
  if (!ok) throw cannotEdit(file, 'the edited text would not read back as intended');
}

function fieldsOf(c: Connection): unknown[] {
  return [c.type, c.description, c.host, c.login, c.password, c.schema, c.port, c.extra];
}

async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).replace(/\r\n?/g, '\n');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw new BackendError(
      DRIVER_NAME,
      'failed',
      `${DRIVER_NAME}: the file "${file}" cannot be read (${describeError(e)})`,
      {
        cause: safeCause(e),
        secretName: file,
      },
    );
  }
}

/** Write `text` to a temporary file beside `file` (its mode, or 0600 for a new file), then rename it over `file`. */
async function replaceAtomically(file: string, text: string): Promise<void> {
  const mode = await stat(file).then(
    (st) => st.mode & 0o777,
    () => 0o600,
  );
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, mode); // the umask may have narrowed it
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new BackendError(
      DRIVER_NAME,
      'failed',
      `${DRIVER_NAME}: cannot write "${file}" (${describeError(e)})`,
      {
        cause: safeCause(e),
        secretName: file,
      },
    );
  }
}

function cannotEdit(file: string, why: string, cause?: unknown): BackendError {
  return new BackendError(DRIVER_NAME, 'failed', `${DRIVER_NAME}: will not edit "${file}": ${why}`, {
    cause: cause === undefined ? undefined : safeCause(cause),
    secretName: file,
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
