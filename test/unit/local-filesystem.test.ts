import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { SecretsBackend } from '../../src/backend.js';
import {
  fromAirflowKwargs,
  loadConfigs,
  loadVariables,
  localFilesystem,
  SecretFileError,
  secretFileFormat,
} from '../../src/backends/local-filesystem/index.js';
import { Connection } from '../../src/connection.js';
import {
  type BackendError,
  ConfigurationError,
  isBackendError,
  MalformedSecretError,
} from '../../src/errors.js';
import { type Logger, silentLogger } from '../../src/logger.js';
import { type ConformanceSeed, runBackendConformance } from '../../src/testing/conformance.js';
import { rejection } from '../helpers/assertions.js';

const dir = mkdtempSync(join(tmpdir(), 'airflow-secrets-lf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Write `content` to a fresh private (0600) file with the given name suffix; returns its path. */
function file(suffix: string, content: string | Buffer, mode = 0o600): string {
  const path = join(dir, `f${n++}${suffix}`);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

const vars = (path: string) => localFilesystem({ variablesFilePath: path, logger: silentLogger });
const conns = (path: string) => localFilesystem({ connectionsFilePath: path, logger: silentLogger });

function capture(): Logger & { warnings: Array<[string, Record<string, unknown> | undefined]> } {
  const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
  return { warnings, debug() {}, error() {}, warn: (m, f) => void warnings.push([m, f]) };
}

describe('local-filesystem: .env files', () => {
  it.each([
    ['KEY=AAA', { KEY: 'AAA' }],
    ['KEY_A=AAA\nKEY_B=BBB', { KEY_A: 'AAA', KEY_B: 'BBB' }],
    ['KEY_A=AAA\n # AAAA\nKEY_B=BBB', { KEY_A: 'AAA', KEY_B: 'BBB' }],
    ['\n\n\n\nKEY_A=AAA\n\n\n\n\nKEY_B=BBB\n\n\n', { KEY_A: 'AAA', KEY_B: 'BBB' }],
    ['KEY_DICT=\'{"k1": "val1", "k2": "val2"}\'', { KEY_DICT: '\'{"k1": "val1", "k2": "val2"}\'' }],
  ])('loads variables from %j as Airflow does', (content, expected) => {
    expect(Object.fromEntries(loadVariables(content, 'env', 'a.env'))).toEqual(expected);
  });

  it('neither trims nor unquotes, and splits at the first "="', async () => {
    const b = vars(file('.env', ' KEY = a=b=c \nQ="quoted"\n'));
    expect(await b.getVariable(' KEY ')).toBe(' a=b=c ');
    expect(await b.getVariable('KEY')).toBeNull();
    expect(await b.getVariable('Q')).toBe('"quoted"');
  });

  it('splits lines like Python splitlines (CRLF, CR, form feed) and skips indented comments', () => {
    const m = loadVariables('A=1\r\nB=2\rC=3\fD=4\u2028\t# comment\nE=5', 'env', 'a.env');
    expect(Object.fromEntries(m)).toEqual({ A: '1', B: '2', C: '3', D: '4', E: '5' });
  });

  it.each([
    ['AA', 'Invalid line format. The line should contain at least one equal sign ("=").'],
    ['=', 'Invalid line format. Key is empty.'],
    ['KEY=', 'Invalid line format. Value is empty.'],
  ])('rejects the line %j with Airflow text', (content, message) => {
    const e = (() => {
      try {
        loadVariables(content, 'env', 'a.env');
      } catch (err) {
        return err as SecretFileError;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(SecretFileError);
    expect(e.airflowError).toBe('AirflowFileParseException');
    expect(e.message).toContain(message);
    expect(e.parseErrors).toEqual([{ line: 1, message }]);
  });

  it('collects every bad line into one error naming the file and the line numbers', async () => {
    const path = file('.env', 'OK=1\nNOEQUALS\n\n=nokey\nEMPTY=\n');
    const e = (await rejection(vars(path).getVariable('OK'))) as SecretFileError;
    expect(e).toBeInstanceOf(SecretFileError);
    expect(e).toBeInstanceOf(MalformedSecretError);
    expect(e.reason).toBe('malformed');
    expect(e.filePath).toBe(path);
    expect(e.parseErrors.map((p) => p.line)).toEqual([2, 4, 5]);
    expect(e.message).toBe(
      [
        'Failed to load the secret file.',
        `Filename: ${path}`,
        '',
        '==================== Parse error   1 ====================',
        'Invalid line format. The line should contain at least one equal sign ("=").',
        'Line number:  2',
        '==================== Parse error   2 ====================',
        'Invalid line format. Key is empty.',
        'Line number:  4',
        '==================== Parse error   3 ====================',
        'Invalid line format. Value is empty.',
        'Line number:  5',
      ].join('\n'),
    );
  });

  it('rejects a variable key given twice with VariableNotUnique text', async () => {
    const path = file('.env', 'AA=A\nAA=B\nB=1\nB=2\n');
    const e = (await rejection(vars(path).getVariable('AA'))) as SecretFileError;
    expect(e.airflowError).toBe('VariableNotUnique');
    expect(e.message).toBe(`The "${path}" file contains multiple values for keys: ['AA', 'B']`);
    expect(e.message).not.toContain('=A');
  });

  it('rejects a connection id given twice with ConnectionNotUnique text', async () => {
    const path = file('.env', 'CONN_ID=mysql://host_1/\nCONN_ID=mysql://host_2/\n');
    const e = (await rejection(conns(path).getConnection('CONN_ID'))) as SecretFileError;
    expect(e.airflowError).toBe('ConnectionNotUnique');
    expect(e.message).toBe(`Found multiple values for CONN_ID in ${path}.`);
  });

  it('reads connections as URIs', async () => {
    const b = conns(
      file('.env', 'CONN_ID1=mysql://host_1/\n # AAAA\nCONN_ID2=mysql://host_2/?param1=val1&param2=val2\n'),
    );
    expect((await b.getConnection('CONN_ID1'))?.getUri()).toBe('mysql://host_1');
    expect((await b.getConnection('CONN_ID2'))?.getUri()).toBe('mysql://host_2/?param1=val1&param2=val2');
    expect(await b.getConnection('CONN_ID3')).toBeNull();
  });
});

describe('local-filesystem: JSON files', () => {
  it('returns string variables as they are, other values as JSON text, and null as not found', async () => {
    const b = vars(file('.json', '{"s": "text", "o": {"a": [1, 2]}, "n": 3, "t": true, "z": null, "e": ""}'));
    expect(await b.getVariable('s')).toBe('text');
    expect(JSON.parse((await b.getVariable('o'))!)).toEqual({ a: [1, 2] });
    expect(await b.getVariable('n')).toBe('3');
    expect(await b.getVariable('t')).toBe('true');
    expect(await b.getVariable('z')).toBeNull();
    expect(await b.getVariable('e')).toBe('');
  });

  it.each([
    ['', 'The file is empty.', 1],
    ['[]', 'The file should contain the object.', 1],
    ['null', 'The file should contain the object.', 1],
    ['{AAAAA}', 'Expecting property name enclosed in double quotes', 1],
    ['{\n"a": 1\n"b": 2}', "Expecting ',' delimiter", 3],
    ['{"a" 1}', "Expecting ':' delimiter", 1],
    ['{"a":\n\n }', 'Expecting value', 3],
    ['   \n  ', 'Expecting value', 2],
    ['{"a": 1}\n x', 'Extra data', 2],
    ['{"a": "abc', 'Unterminated string starting at', 1],
    ['{"a": "\\q"}', 'Invalid \\escape', 1],
    ['{"a": "\\u12"}', 'Invalid \\uXXXX escape', 1],
    ['{"a": "x\ty"}', 'Invalid control character at', 1],
    ['{"a": [1,]}', 'Expecting value', 1],
    ['{"a": 1,}', 'Expecting property name enclosed in double quotes', 1],
    ['\ufeff{}', 'Unexpected UTF-8 BOM (decode using utf-8-sig)', 1],
  ])('reports %j as CPython json does: %s (line %i)', (content, message, line) => {
    let err: SecretFileError | undefined;
    try {
      loadVariables(content, 'json', 'a.json');
    } catch (e) {
      err = e as SecretFileError;
    }
    expect(err).toBeInstanceOf(SecretFileError);
    expect(err!.parseErrors).toEqual([{ line, message }]);
  });

  it('accepts what CPython json accepts beyond the JSON spec (NaN, Infinity)', () => {
    const m = loadVariables('{"a": NaN, "b": -Infinity, "c": [Infinity]}', 'json', 'a.json');
    expect([...m.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('never quotes the file content in a parse error', async () => {
    const e = await rejection(
      vars(file('.json', '{"password": "hunter2-secret" "x": 1}')).getVariable('password'),
    );
    expect(e.message).toContain("Expecting ',' delimiter");
    expect(e.message).not.toContain('hunter2');
    expect(JSON.stringify(e)).not.toContain('hunter2');
  });

  it('builds connections from strings, objects and one-item lists', async () => {
    const b = conns(
      file(
        '.json',
        JSON.stringify({
          A: 'mysql://host_1',
          B: ['mysql://host_1'],
          C: { uri: 'mysql://host_1' },
          D: [{ uri: 'mysql://host_1' }],
          E: [],
          F: { conn_id: 'F', conn_type: 'postgresql', host: 'h', port: 5432, extra_dejson: { a: 'b' } },
          G: { conn_type: 'my-type', extra: '{"x": 1}', port: '6543', password: '' },
        }),
      ),
    );
    for (const id of ['A', 'B', 'C', 'D'])
      expect((await b.getConnection(id))?.getUri()).toBe('mysql://host_1');
    expect(await b.getConnection('E')).toBeNull();
    const f = await b.getConnection('F');
    expect(f?.id).toBe('F');
    expect(f?.type).toBe('postgresql'); // no conn_type normalisation for objects
    expect(f?.port).toBe(5432);
    expect(f?.extraDejson).toEqual({ a: 'b' });
    const g = await b.getConnection('G');
    expect(g?.type).toBe('my-type');
    expect(g?.port).toBe(6543);
    expect(g?.password).toBeNull();
    expect(g?.extraDejson).toEqual({ x: 1 });
  });

  it.each([
    [
      { CONN_ID: null },
      "Unexpected value type: <class 'NoneType'>. The connection can only be defined using a string or object.",
    ],
    [{ CONN_ID: 1 }, "Unexpected value type: <class 'int'>."],
    [{ CONN_ID: 1.5 }, "Unexpected value type: <class 'float'>."],
    [{ CONN_ID: true }, "Unexpected value type: <class 'bool'>."],
    [{ CONN_ID: [2] }, "Unexpected value type: <class 'int'>."],
    [{ CONN_ID: [null] }, "Unexpected value type: <class 'NoneType'>."],
    [{ CONN_ID: [[]] }, "Unexpected value type: <class 'list'>."],
    [
      { CONN_ID: { AAA: 'mysql://host_1' } },
      'The object have 1 illegal key. The dictionary can only contain the following keys: {',
    ],
    [
      { CONN_ID: { conn_id: 'BBBB' } },
      "Mismatch conn_id. The item's conn_id field differs from its key: CONN_ID.",
    ],
    [
      { CONN_ID: { extra: '{}', extra_dejson: {} } },
      'The extra and extra_dejson parameters are mutually exclusive. Please provide only one parameter.',
    ],
    [{ CONN_ID: ['mysql://', 'mysql://'] }, 'Found multiple values for CONN_ID in '],
    [{ CONN_ID: { password: 12345 } }, "password must be a string, got <class 'int'>"],
    [{ CONN_ID: { port: 'abc' } }, "port must be an integer, got <class 'str'>"],
    [{ CONN_ID: { port: 1.5 } }, "port must be an integer, got <class 'float'>"],
  ])('rejects the entry %j with a typed error: %s', async (content, message) => {
    const e = await rejection(conns(file('.json', JSON.stringify(content))).getConnection('CONN_ID'));
    expect(e).toBeInstanceOf(SecretFileError);
    expect(e.message).toContain(message);
  });

  it('fails every connection lookup when any entry of the file is bad, as Airflow builds them all', async () => {
    const b = conns(file('.json', JSON.stringify({ good: 'mysql://h', bad: { nope: 1 } })));
    expect(await rejection(b.getConnection('good'))).toBeInstanceOf(SecretFileError);
  });

  it('wraps an invalid connection URI into a SecretFileError naming the id and file, not the value', async () => {
    const path = file('.json', JSON.stringify({ c: 'mysql://user:hunter2-pw@host:99999/db' }));
    const e = (await rejection(conns(path).getConnection('c'))) as SecretFileError;
    expect(e).toBeInstanceOf(SecretFileError);
    expect(e.message).toContain("Connection 'c'");
    expect(e.message).toContain(path);
    expect(e.message).not.toContain('hunter2');
  });

  it('keeps "__proto__" an ordinary key and never touches Object.prototype', async () => {
    const b = vars(
      file('.json', '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": 1}}}'),
    );
    expect(JSON.parse((await b.getVariable('__proto__'))!)).toEqual({ polluted: 'yes' });
    expect(await b.getVariable('constructor')).toBe('{"prototype":{"polluted":1}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('local-filesystem: YAML files', () => {
  it.each(['.yaml', '.yml', '.YAML', '.Yml'])('reads %s files the same way', async (ext) => {
    const b = vars(file(ext, 'KEY: AAA\nNESTED:\n  KEY_1:\n    - item1\n    - item2\n'));
    expect(await b.getVariable('KEY')).toBe('AAA');
    expect(JSON.parse((await b.getVariable('NESTED'))!)).toEqual({ KEY_1: ['item1', 'item2'] });
  });

  it('resolves scalars as PyYAML safe_load does (YAML 1.1)', () => {
    const m = loadVariables(
      'a: yes\nb: n\nc: 1e3\nd: 1.5e+3\ne: 0777\nf: 1:20\ng: ~\nh: 0x1f\ni: "yes"\n',
      'yaml',
      'a.yaml',
    );
    expect(Object.fromEntries(m)).toEqual({
      a: 'true',
      b: 'n',
      c: '1e3',
      d: '1500',
      e: '511',
      f: '80',
      h: '31',
      i: 'yes',
    });
  });

  it('lets a later duplicate key win and supports merge keys, like PyYAML', () => {
    const m = loadVariables('base: &b {x: 1}\nk: first\nk: second\nm:\n  <<: *b\n  y: 2\n', 'yaml', 'a.yaml');
    expect(m.get('k')).toBe('second');
    expect(JSON.parse(m.get('m')!)).toEqual({ x: 1, y: 2 });
  });

  it.each([
    ['', 'The file is empty.', 1],
    ['[]', 'The file should contain the object.', 1],
    ['# only a comment\n', 'The file should contain the object.', 1],
    ['key:\n  - item1\n  - item2\ninvalid_yaml: }', 'did not find expected', 4],
    ['a: 1\n---\nb: 2\n', 'expected a single document in the stream', 2],
    ['a: !python/object:os.system x\n', 'could not determine a constructor for the tag', 1],
  ])('reports %j with a syntax error (%s, line %i)', (content, message, line) => {
    let err: SecretFileError | undefined;
    try {
      loadVariables(content, 'yaml', 'a.yaml');
    } catch (e) {
      err = e as SecretFileError;
    }
    expect(err).toBeInstanceOf(SecretFileError);
    expect(err!.parseErrors[0]!.message).toContain(message);
    expect(err!.parseErrors[0]!.line).toBe(line);
  });

  it('builds connections from YAML mappings as Airflow does (no coercion of "None", port as an int)', async () => {
    const b = conns(
      file(
        '.yaml',
        [
          'conn_a: mysql://hosta',
          'conn_b:',
          '   conn_type: scheme',
          '   host: host',
          '   schema: lschema',
          '   login: Login',
          '   password: None',
          '   port: 1234',
          '   extra_dejson:',
          '     arbitrary_dict:',
          '        a: b',
          '     keyfile_dict: \'{"a": "b"}\'',
          '     keyfile_path: asaa',
        ].join('\n'),
      ),
    );
    const a = await b.getConnection('conn_a');
    expect([a?.type, a?.host]).toEqual(['mysql', 'hosta']);
    const c = await b.getConnection('conn_b');
    expect(c).toBeInstanceOf(Connection);
    expect([c?.type, c?.host, c?.schema, c?.login, c?.password, c?.port]).toEqual([
      'scheme',
      'host',
      'lschema',
      'Login',
      'None',
      1234,
    ]);
    expect(c?.extraDejson).toEqual({
      arbitrary_dict: { a: 'b' },
      keyfile_dict: '{"a": "b"}',
      keyfile_path: 'asaa',
    });
  });

  it('rejects a connection listed twice in YAML', async () => {
    const e = await rejection(
      conns(file('.yaml', 'conn_a:\n  - mysql://hosta\n  - mysql://hostb\n')).getConnection('conn_a'),
    );
    expect((e as SecretFileError).airflowError).toBe('ConnectionNotUnique');
  });
});

describe('local-filesystem: configs', () => {
  it('reads configs from every format, unwrapping one-item lists', async () => {
    const env = localFilesystem({
      configsFilePath: file('.env', 'sql_alchemy_conn=sqlite://\n'),
      logger: silentLogger,
    });
    expect(await env.getConfig!('sql_alchemy_conn')).toBe('sqlite://');
    const json = localFilesystem({
      configsFilePath: file('.json', '{"a": ["one"], "b": "two"}'),
      logger: silentLogger,
    });
    expect(await json.getConfig!('a')).toBe('one');
    expect(await json.getConfig!('b')).toBe('two');
    expect(await json.getConfig!('c')).toBeNull();
  });

  it('rejects a JSON config list with more than one item, as Airflow does', () => {
    expect(() => loadConfigs('{"a": ["x", "y"]}', 'json', 'c.json')).toThrow(
      'The "c.json" file contains multiple values for keys: [\'a\']',
    );
  });
});

describe('local-filesystem: files and settings', () => {
  it('returns null for every kind when no file is set, and locate() says why', async () => {
    const b = localFilesystem({ logger: silentLogger });
    expect(await b.getConnection('CONN_A')).toBeNull();
    expect(await b.getVariable('VAR_A')).toBeNull();
    expect(await b.getConfig!('CONF_A')).toBeNull();
    expect(b.locate('connection', 'x')).toEqual({ skip: 'connections_file_path not set' });
    expect(b.locate('variable', 'x')).toEqual({ skip: 'variables_file_path not set' });
    expect(b.locate('config', 'x')).toEqual({ skip: 'configs_file_path not set' });
  });

  it('locate() names the file and the id without reading it', () => {
    const b = localFilesystem({ variablesFilePath: '/does/not/exist.json', logger: silentLogger });
    expect(b.locate('variable', 'k')).toEqual({ name: '/does/not/exist.json#k' });
  });

  it('re-reads the file on every lookup', async () => {
    const path = file('.env', 'K=1\n');
    const b = vars(path);
    expect(await b.getVariable('K')).toBe('1');
    writeFileSync(path, 'K=2\n');
    expect(await b.getVariable('K')).toBe('2');
    writeFileSync(path, 'OTHER=3\n');
    expect(await b.getVariable('K')).toBeNull();
  });

  it.each(['/x/secrets.txt', '/x/.env', '/x/secrets.', '/x/noext'])(
    'rejects the unsupported file name %s with Airflow text',
    async (path) => {
      const e = (await rejection(vars(path).getVariable('k'))) as ConfigurationError;
      expect(e).toBeInstanceOf(ConfigurationError);
      expect(e.setting).toBe('variables_file_path');
      expect(e.message).toBe(
        'Unsupported file format. The file must have one of the following extensions: .env .json .yaml .yml',
      );
    },
  );

  it('maps extensions case-insensitively, as Path.suffix.lower() does', () => {
    expect(secretFileFormat('/a/b.ENV')).toBe('env');
    expect(secretFileFormat('c.Json')).toBe('json');
    expect(secretFileFormat('d.tar.yml')).toBe('yaml');
    expect(secretFileFormat('dir.json/')).toBe('json');
    expect(secretFileFormat('.yaml')).toBeNull();
  });

  it('fails with a typed error naming the missing file (FileNotFoundError in Airflow)', async () => {
    const path = join(dir, 'missing.json');
    const e = (await rejection(conns(path).getConnection('x'))) as BackendError;
    expect(isBackendError(e)).toBe(true);
    expect(e.reason).toBe('failed');
    expect(e.backend).toBe('local-filesystem');
    expect(e.message).toContain(path);
    expect(e.message).toContain('does not exist');
  });

  it('rejects a file that is not UTF-8', async () => {
    const e = (await rejection(
      vars(file('.env', Buffer.from([0x4b, 0x3d, 0xff, 0xfe]))).getVariable('K'),
    )) as SecretFileError;
    expect(e).toBeInstanceOf(SecretFileError);
    expect(e.airflowError).toBe('UnicodeDecodeError');
  });

  it('warns once per file when a secrets file is readable by group or others', async () => {
    const logger = capture();
    const open = file('.env', 'K=secret-value\n', 0o644);
    const b = localFilesystem({ variablesFilePath: open, logger });
    await b.getVariable('K');
    await b.getVariable('K');
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]![1]).toEqual({ file: open, mode: '0644' });
    expect(JSON.stringify(logger.warnings)).not.toContain('secret-value');
  });

  it('does not warn about a private (0600) file', async () => {
    const logger = capture();
    await localFilesystem({ variablesFilePath: file('.env', 'K=v\n', 0o600), logger }).getVariable('K');
    expect(logger.warnings).toEqual([]);
  });

  it('takes Airflow backend_kwargs', async () => {
    const path = file('.env', 'K=v\n');
    const b = fromAirflowKwargs(
      { variables_file_path: path, connections_file_path: null },
      { env: {}, logger: silentLogger },
    );
    expect(await b.getVariable('K')).toBe('v');
    expect(b.locate('connection', 'c')).toEqual({ skip: 'connections_file_path not set' });
  });

  it('rejects a kwarg of the wrong type or an unknown kwarg, naming the setting', () => {
    const ctx = { env: {}, logger: silentLogger };
    expect(() => fromAirflowKwargs({ variables_file_path: 3 }, ctx)).toThrow(
      expect.objectContaining({ setting: 'AIRFLOW__SECRETS__BACKEND_KWARGS.variables_file_path' }),
    );
    expect(() => fromAirflowKwargs({ variables_path: 'x.env' }, ctx)).toThrow(
      expect.objectContaining({ setting: 'AIRFLOW__SECRETS__BACKEND_KWARGS.variables_path' }),
    );
  });
});

// ----- conformance over each format --------------------------------------------------------------

function seedFile(seed: ConformanceSeed, format: 'env' | 'json' | 'yaml'): SecretsBackend {
  const connections: Record<string, unknown> = {};
  for (const [id, text] of Object.entries(seed.connections)) {
    const isJson = text.trim().startsWith('{');
    if (format === 'env') connections[id] = isJson ? Connection.fromJson(text, id).getUri() : text;
    else connections[id] = isJson ? JSON.parse(text) : text;
  }
  const write = (data: Record<string, unknown>) => {
    if (format === 'json') return file('.json', JSON.stringify(data));
    if (format === 'yaml') return file('.yaml', stringify(data, { version: '1.1' }));
    return file(
      '.env',
      Object.entries(data)
        .map(([k, v]) => `${k}=${String(v)}\n`)
        .join(''),
    );
  };
  return localFilesystem({
    connectionsFilePath: write(connections),
    variablesFilePath: write(seed.variables),
    logger: silentLogger,
  });
}

runBackendConformance(
  { describe, it },
  { name: 'local-filesystem (.env)', create: (s) => seedFile(s, 'env'), emptyVariables: false },
);
runBackendConformance(
  { describe, it },
  { name: 'local-filesystem (.json)', create: (s) => seedFile(s, 'json') },
);
runBackendConformance(
  { describe, it },
  { name: 'local-filesystem (.yaml)', create: (s) => seedFile(s, 'yaml') },
);
