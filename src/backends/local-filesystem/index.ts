/**
 * Airflow's `LocalFilesystemBackend` (spec §7): connections, variables and configs in `.env`, `.json`,
 * `.yaml` or `.yml` files, re-read and re-parsed on every lookup (no caching here; the resolver
 * caches), with Airflow's parse rules and error texts.
 *
 * Intentional differences from Airflow, all documented in docs/backends/local-filesystem.md:
 * - a JSON/YAML variable (or config) whose value is not a string is returned as its JSON text (our
 *   `getVariable` returns strings; `deserializeJson: true` gives the object back); Airflow returns
 *   the parsed object;
 * - YAML error texts are fixed descriptions with a 1-based line and a column (PyYAML's text quotes
 *   a piece of the file; Airflow shows PyYAML's 0-based line);
 * - a connection field that must be text (`host`, `login`, `password`, ...) but is not (YAML reads
 *   `password: 12345` as a number) is an error naming the field; a `port` given as a string of
 *   digits is accepted as that number;
 * - a secrets file readable by group or others gets a warning (once per file per process).
 */
import { open } from 'node:fs/promises';
import type { AdapterContext, Lookup, PutOptions, SecretKind, SecretsBackend } from '../../backend.js';
import { BackendError, ConfigurationError, describeError, safeCause } from '../../errors.js';
import { consoleLogger, type Logger } from '../../logger.js';
import { kwargSetting } from '../airflow-kwargs.js';
import { checkPutOptions, emptyList, listedName, listLimit, refusedId } from '../list-write.js';
import {
  loadConfigs,
  loadConnections,
  loadVariables,
  loadYamlParser,
  SecretFileError,
  type SecretFileFormat,
  secretFileFormat,
} from './parse.js';
import { checkStoredFormat, editSecretFile, fileLocateWrite } from './write.js';

export {
  type AirflowFileErrorKind,
  type FileSyntaxError,
  loadConfigs,
  loadConnections,
  loadVariables,
  parseSecretText,
  SecretFileError,
  type SecretFileFormat,
  secretFileFormat,
} from './parse.js';

const DRIVER_NAME = 'local-filesystem';

export interface LocalFilesystemOptions {
  /** File of connections (Airflow's `connections_file_path`). Unset or `""`: connection lookups return null. */
  connectionsFilePath?: string | null | undefined;
  /** File of variables (`variables_file_path`). Unset or `""`: variable lookups return null. */
  variablesFilePath?: string | null | undefined;
  /** File of config values (`configs_file_path`). Unset or `""`: config lookups return null. */
  configsFilePath?: string | null | undefined;
  /** Where the group/world-readable warning goes. Default `consoleLogger`. */
  logger?: Logger | undefined;
  /** The team of the lookups (Airflow 3.2 multi-team); used only with `multiTeam`. */
  team?: string | undefined;
  /**
   * Airflow's `[core] multi_team`: a `<team>___<id>` key wins over `<id>` for that team, and an id
   * containing `___` is refused (connections and variables). Default `false`.
   */
  multiTeam?: boolean | undefined;
  /**
   * A file that does not exist: `'error'` (default, as Airflow) or `'empty'` (it holds nothing; a
   * `put` creates it), for a file that a migration is about to create.
   */
  missingFiles?: 'error' | 'empty' | undefined;
}

/** The kwarg (and setting named in errors) of each kind's file. */
const SETTING: Record<SecretKind, string> = {
  connection: 'connections_file_path',
  variable: 'variables_file_path',
  config: 'configs_file_path',
};

export function localFilesystem(options: LocalFilesystemOptions = {}): SecretsBackend {
  const logger = options.logger ?? consoleLogger;
  const files: Record<SecretKind, string | null> = {
    connection: options.connectionsFilePath || null,
    variable: options.variablesFilePath || null,
    config: options.configsFilePath || null,
  };
  const read = async (kind: SecretKind) => {
    const path = files[kind];
    if (!path) return null;
    const f = await readSecretFile(path, SETTING[kind], logger, options.missingFiles === 'empty');
    return f ? { path, ...f } : null;
  };
  const team = options.multiTeam === true && options.team ? options.team : undefined;
  const keys = teamKeys(options);
  const pick = <T>(found: Map<string, T>, kind: SecretKind, id: string): T | null => {
    for (const k of keys(kind, id)) {
      const v = found.get(k);
      if (v !== undefined) return v;
    }
    return null;
  };
  const value = async (kind: 'variable' | 'config', id: string) => {
    if (!keys(kind, id).length) return null;
    const f = await read(kind);
    if (!f) return null;
    const load = kind === 'variable' ? loadVariables : loadConfigs;
    return pick(load(f.text, f.format, f.path), kind, id);
  };
  const locate = (kind: SecretKind, id: string): Lookup => {
    const path = files[kind];
    if (!path) return { skip: `${SETTING[kind]} not set` };
    const [first] = keys(kind, id);
    return first === undefined
      ? { skip: `the id contains '${TEAM_SEP}' (multi-team)` }
      : { name: `${path}#${first}` };
  };
  return {
    name: DRIVER_NAME,
    locate,
    async getConnection(connId) {
      if (!keys('connection', connId).length) return null;
      const f = await read('connection');
      return f ? pick(loadConnections(f.text, f.format, f.path), 'connection', connId) : null;
    },
    getVariable: (key) => value('variable', key),
    getConfig: (key) => value('config', key),
    async list(kind, options) {
      const limit = listLimit(options);
      const f = await read(kind);
      if (!f) return emptyList();
      const load =
        kind === 'connection' ? loadConnections : kind === 'variable' ? loadVariables : loadConfigs;
      const found = [...load(f.text, f.format, f.path).keys()];
      const names = (k: SecretKind, id: string) => keys(k, id).map((x) => `${f.path}#${x}`);
      const teamHead = team === undefined ? undefined : `${team}${TEAM_SEP}`;
      const entries = found.slice(0, limit).map((key) => {
        const id =
          teamHead && kind !== 'config' && key.startsWith(teamHead) ? key.slice(teamHead.length) : key;
        return listedName(locate, kind, `${f.path}#${key}`, id, undefined, names);
      });
      return { entries, truncated: found.length > limit };
    },
    ...fileWrites(files, keys, locate),
    async close() {},
  };
}

type Keys = (kind: SecretKind, id: string) => string[];

/** The keys to try, in order: `<team>___<id>` first for a team; none for a refused id. */
function teamKeys(options: LocalFilesystemOptions): Keys {
  const multi = options.multiTeam === true;
  const team = multi && options.team ? options.team : undefined;
  return (kind, id) =>
    kind === 'config'
      ? [id]
      : multi && id.includes(TEAM_SEP)
        ? []
        : team
          ? [`${team}${TEAM_SEP}${id}`, id]
          : [id];
}

/** Writes go to the key a lookup reads first (with a team in multi-team mode: `<team>___<id>`). */
function fileWrites(
  files: Record<SecretKind, string | null>,
  keys: Keys,
  locate: (kind: SecretKind, id: string) => Lookup,
): Pick<SecretsBackend, 'locateWrite' | 'checkPut' | 'put' | 'delete'> {
  return {
    locateWrite: (kind, id) => {
      const key = keys(kind, id)[0];
      return key === undefined ? locate(kind, id) : fileLocateWrite(files[kind], SETTING[kind], key);
    },
    checkPut: (kind, options) => checkFilePut(files[kind], kind, options),
    async put(kind, id, v, options = {}) {
      checkFilePut(files[kind], kind, options);
      const path = files[kind];
      if (!path) throw new ConfigurationError(SETTING[kind], `${DRIVER_NAME}: ${SETTING[kind]} is not set`);
      const key = keys(kind, id)[0];
      const where = key === undefined ? locate(kind, id) : fileLocateWrite(path, SETTING[kind], key);
      if (!('name' in where) || key === undefined)
        throw refusedId(DRIVER_NAME, kind, id, 'skip' in where ? where.skip : '');
      const { existed } = await editSecretFile(path, kind, key, v, options);
      return { secretName: where.name, action: existed ? 'updated' : 'created' };
    },
    async delete(kind, id) {
      const path = files[kind];
      const key = keys(kind, id)[0];
      return path && key !== undefined ? (await editSecretFile(path, kind, key, null)).existed : false;
    },
  };
}

/** What every write to this file refuses: a write option, and JSON connections in a `.env` file. */
function checkFilePut(path: string | null | undefined, kind: SecretKind, options: PutOptions): void {
  checkPutOptions(DRIVER_NAME, options, []);
  if (path) checkStoredFormat(kind, secretFileFormat(path), options.format);
}

/** Airflow's `LocalFilesystemBackend(**backend_kwargs)`: only its three kwargs, each a string or null. */
export function fromAirflowKwargs(
  kwargs: Record<string, unknown>,
  context: AdapterContext,
  overrides: Partial<LocalFilesystemOptions> = {},
): SecretsBackend {
  const path = (key: string): string | null => {
    const v = kwargs[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') {
      throw new ConfigurationError(kwargSetting(key), `${key} must be a string (a file path)`);
    }
    return v;
  };
  const known = new Set(Object.values(SETTING));
  for (const key of Object.keys(kwargs)) {
    if (!known.has(key)) {
      throw new ConfigurationError(
        kwargSetting(key),
        `LocalFilesystemBackend got an unexpected keyword argument '${key}' (it takes ${[...known].join(', ')})`,
      );
    }
  }
  return localFilesystem({
    connectionsFilePath: path('connections_file_path'),
    variablesFilePath: path('variables_file_path'),
    configsFilePath: path('configs_file_path'),
    logger: context.logger,
    team: context.team,
    multiTeam: context.multiTeam,
    ...overrides,
  });
}

/** Between the team and the id in a team-scoped key (Airflow 3.2's `TEAM_SEP`). */
const TEAM_SEP = '___';

/** Airflow's text when a file's extension has no parser. */
const UNSUPPORTED =
  'Unsupported file format. The file must have one of the following extensions: .env .json .yaml .yml';
const warnedFiles = new Set<string>();

/**
 * Read one secrets file as Airflow does (UTF-8, universal newlines), warning once per file when it
 * is readable by group or others. A missing or unreadable file is a `BackendError` naming it.
 */
async function readSecretFile(
  path: string,
  setting: string,
  logger: Logger,
  missingIsEmpty = false,
): Promise<{ text: string; format: SecretFileFormat } | null> {
  const format = secretFileFormat(path);
  if (!format) throw new ConfigurationError(setting, UNSUPPORTED);
  if (format === 'yaml') await loadYamlParser();
  let bytes: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0 && !warnedFiles.has(path)) {
        warnedFiles.add(path);
        const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
        logger.warn('secrets file is readable by group or others; restrict it (chmod 600)', {
          file: path,
          mode,
        });
      }
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT' && missingIsEmpty) return null;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? `cannot be read: permission denied (${code})`
          : code === 'EISDIR'
            ? 'is a directory, not a file (EISDIR)'
            : `cannot be read (${describeError(e)})`;
    throw new BackendError(DRIVER_NAME, 'failed', `${DRIVER_NAME}: the file "${path}" (${setting}) ${why}`, {
      cause: safeCause(e),
      secretName: path,
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw new SecretFileError(DRIVER_NAME, `The file "${path}" is not valid UTF-8.`, {
      filePath: path,
      airflowError: 'UnicodeDecodeError',
      cause: safeCause(e),
    });
  }
  // Python's open() in text mode: universal newlines.
  return { text: text.replace(/\r\n?/g, '\n'), format };
}
