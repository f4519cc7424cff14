/**
 * Listing and writing for the local-filesystem backend (`.env`, `.json`, `.yaml`), the environment
 * backend's listing and the memory backend: one entry edited, every other entry (and, in `.env`
 * and YAML files, the comments) left as it was, the new text parsed back by Airflow's rules before
 * it atomically replaces the file, the file's mode kept (0600 for a new file).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { environmentVariables } from '../../src/backends/environment.js';
import { localFilesystem } from '../../src/backends/local-filesystem/index.js';
import { yamlString } from '../../src/backends/local-filesystem/write.js';
import { memory } from '../../src/backends/memory.js';
import { Connection } from '../../src/connection.js';
import { BackendError, ConfigurationError, SecretExistsError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { emitCases } from '../fixtures/local-files/emit-write-texts.js';
import { runWriteSuite } from '../helpers/write-suite.js';

const VECTORS = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../fixtures/local-files/write-vectors.json'), 'utf8'),
) as { cases: { name: string; text: string; expected: unknown; python: unknown }[] };

const dir = mkdtempSync(path.join(tmpdir(), 'af-write-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (ext: string) => {
  const base = path.join(dir, `case${++n}`);
  return localFilesystem({
    connectionsFilePath: `${base}-connections.${ext}`,
    variablesFilePath: `${base}-variables.${ext}`,
    logger: silentLogger,
  });
};
const file = (name: string, text: string, mode = 0o600) => {
  const p = path.join(dir, name);
  writeFileSync(p, text, { mode });
  return p;
};

runWriteSuite({ name: 'local-filesystem .json', create: () => fresh('json') });
runWriteSuite({ name: 'local-filesystem .yaml', create: () => fresh('yaml') });
runWriteSuite({
  name: 'local-filesystem .env',
  create: () => fresh('env'),
  json: false,
  multilineValues: false,
});
runWriteSuite({ name: 'memory', create: () => memory(), json: false });

describe('local-filesystem writes', () => {
  it('edits one line of a .env file, keeping comments, other keys and their order', async () => {
    const p = file('keep.env', '# connections\nA=mysql://a\nB=mysql://b\n\n# end\n');
    const b = localFilesystem({ connectionsFilePath: p, logger: silentLogger });
    await b.put!('connection', 'A', 'postgres://new', { overwrite: true });
    await b.put!('connection', 'C', 'redis://c');
    expect(readFileSync(p, 'utf8')).toBe(
      '# connections\nA=postgres://new\nB=mysql://b\n\n# end\nC=redis://c\n',
    );
    expect(await b.delete!('connection', 'B')).toBe(true);
    expect(readFileSync(p, 'utf8')).toBe('# connections\nA=postgres://new\n\n# end\nC=redis://c\n');
  });

  it('refuses what a .env file cannot hold, naming the id and never the value', async () => {
    const b = localFilesystem({
      variablesFilePath: file('refuse.env', ''),
      connectionsFilePath: file('refuse-c.env', ''),
    });
    expect(b.locateWrite!('variable', 'a=b')).toEqual({ skip: "a .env key cannot hold '='" });
    expect(b.locateWrite!('variable', ' #x')).toEqual({ skip: "a .env key cannot start with '#'" });
    const err = await b.put!('variable', 'k', 'secret\nvalue').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(String(err)).toMatch(/variable 'k'.*line break/);
    expect(String(err)).not.toContain('secret');
    await expect(b.put!('variable', 'k', '')).rejects.toThrow(/cannot be empty/);
    await expect(
      b.put!('connection', 'c', new Connection({ type: 'x', host: 'h' }), { format: 'json' }),
    ).rejects.toThrow(/holds URIs only/);
  });

  it('re-emits a JSON file one entry per line, other values exactly as Python parsed them', async () => {
    const p = file('keep.json', '{"n": 12345678901234567890, "f": 1.0, "s": "x", "o": {"k": "v"}}');
    const b = localFilesystem({ variablesFilePath: p, logger: silentLogger });
    await b.put!('variable', 'new', 'ü');
    expect(readFileSync(p, 'utf8')).toBe(
      '{\n  "n": 12345678901234567890,\n  "f": 1.0,\n  "s": "x",\n  "o": {"k": "v"},\n  "new": "\\u00fc"\n}\n',
    );
    expect(await b.getVariable('new')).toBe('ü');
  });

  it('writes connection fields to JSON and YAML with format json, extra as its text', async () => {
    const c = new Connection({
      type: 'http',
      host: 'API.Example',
      port: 443,
      extra: { a: [1] },
      description: 'd',
    });
    for (const ext of ['json', 'yaml']) {
      const p = path.join(dir, `fields.${ext}`);
      const b = localFilesystem({ connectionsFilePath: p, logger: silentLogger });
      await b.put!('connection', 'api', c, { format: 'json' });
      const back = await b.getConnection('api');
      expect(back!.host).toBe('API.Example');
      expect(back!.description).toBe('d');
      expect(back!.extra).toBe('{"a": [1]}');
    }
    expect(readFileSync(path.join(dir, 'fields.yaml'), 'utf8')).toBe(
      '"api":\n  "conn_type": "http"\n  "description": "d"\n  "host": "API.Example"\n  "port": 443\n  "extra": "{\\"a\\": [1]}"\n',
    );
  });

  it('edits a YAML block mapping by entries, keeping comments and the other entries as written', async () => {
    const text =
      '# my file\nkeep: plain value   # a comment\nreplace: old\nnested:\n  conn_type: mysql\n  host: h\n';
    const p = file('keep.yaml', text);
    const b = localFilesystem({
      connectionsFilePath: file('c.yaml', '{}\n'),
      variablesFilePath: p,
      logger: silentLogger,
    });
    await b.put!('variable', 'replace', 'new', { overwrite: true });
    expect(readFileSync(p, 'utf8')).toBe(
      '# my file\nkeep: plain value   # a comment\n"replace": "new"\nnested:\n  conn_type: mysql\n  host: h\n',
    );
    await b.delete!('variable', 'keep');
    await b.delete!('variable', 'replace');
    await b.delete!('variable', 'nested');
    expect(readFileSync(p, 'utf8')).toBe('# my file\n{}\n');
    expect((await b.list!('variable')).entries).toEqual([]);
    await b.put!('variable', 'again', 'x');
    expect(await b.getVariable('again')).toBe('x');
  });

  it('will not edit a YAML file that is not a block mapping of entries', async () => {
    const p = file('flow.yaml', '{a: 1, b: 2}\n');
    const b = localFilesystem({ variablesFilePath: p, logger: silentLogger });
    const err = await b.put!('variable', 'c', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(String(err)).toMatch(/will not edit .*flow\.yaml.*not a block mapping/);
    expect(readFileSync(p, 'utf8')).toBe('{a: 1, b: 2}\n');
  });

  it('replaces the file atomically: mode kept, a new file 0600, no temporary file left', async () => {
    const p = file('mode.json', '{}', 0o640);
    const b = localFilesystem({ variablesFilePath: p, logger: silentLogger });
    await b.put!('variable', 'k', 'v');
    expect(statSync(p).mode & 0o777).toBe(0o640);
    const q = path.join(dir, 'brand-new.yaml');
    await localFilesystem({ variablesFilePath: q, logger: silentLogger }).put!('variable', 'k', 'v');
    expect(statSync(q).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('lists the ids of a file in its order; no file path set lists nothing', async () => {
    const p = file('list.json', '{"b": "x://h", "a": "y://h"}');
    const b = localFilesystem({ connectionsFilePath: p, logger: silentLogger });
    expect(await b.list!('connection')).toEqual({
      entries: [
        { id: 'b', secretName: `${p}#b` },
        { id: 'a', secretName: `${p}#a` },
      ],
      truncated: false,
    });
    expect((await b.list!('variable')).entries).toEqual([]);
    await expect(b.put!('variable', 'x', 'y')).rejects.toThrow(/variables_file_path is not set/);
    await expect(b.put!('connection', 'b', 'z://h')).rejects.toBeInstanceOf(SecretExistsError);
  });

  it('YAML strings are double-quoted with everything but printable ASCII escaped', () => {
    expect(yamlString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(yamlString('tab\tnl\nü🔑\u2028\u0085')).toBe(
      '"tab\\u0009nl\\u000aü\\U0001f511\\u2028\\u0085"'.replace('ü', '\\u00fc'),
    );
    expect(() => yamlString('\ud800')).toThrow(ConfigurationError);
  });
});

describe('files written for Airflow read the same in Python', () => {
  it('our writer still produces the committed texts', async () => {
    const now = await emitCases();
    expect(now.map((c) => [c.name, c.text])).toEqual(VECTORS.cases.map((c) => [c.name, c.text]));
  });
  for (const c of VECTORS.cases) {
    it(`${c.name}: yaml.safe_load / json.loads of the text is the mapping meant`, () => {
      expect(c.python).toEqual(c.expected);
    });
  }
});

describe('environment listing', () => {
  it('lists AIRFLOW_CONN_* / AIRFLOW_VAR_* with the id in lower case; what no lookup reads has no id', async () => {
    const env = {
      AIRFLOW_CONN_MY_DB: 'postgres://h',
      AIRFLOW_CONN_EMPTY: '',
      AIRFLOW_CONN_Mixed: 'x://h',
      AIRFLOW_VAR_FLAG: '',
      AIRFLOW_CONN_: 'x://h',
      OTHER: '1',
    };
    const b = environmentVariables({ env });
    expect(await b.list!('connection')).toEqual({
      entries: [
        { id: null, secretName: 'AIRFLOW_CONN_EMPTY', note: 'empty value: Airflow reads it as not found' },
        { id: 'my_db', secretName: 'AIRFLOW_CONN_MY_DB' },
        {
          id: null,
          secretName: 'AIRFLOW_CONN_Mixed',
          note: "a lookup of 'mixed' asks for 'AIRFLOW_CONN_MIXED' instead",
        },
      ],
      truncated: false,
    });
    expect((await b.list!('variable')).entries).toEqual([{ id: 'flag', secretName: 'AIRFLOW_VAR_FLAG' }]);
    expect((await b.list!('config')).entries).toEqual([]);
    expect(await b.list!('connection', { limit: 1 })).toMatchObject({ truncated: true });
  });
});
