/**
 * Issue 11 item 10: caller-provided text (ids, keys, file names) never forges or disguises a line
 * of log, error or CLI output. Messages are escaped once, where they are built (the error base
 * class) and where they are written (consoleLogger, the CLI); structured fields keep the raw value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { localFilesystem } from '../../src/backends/local-filesystem/index.js';
import { memory } from '../../src/backends/memory.js';
import { main } from '../../src/cli/main.js';
import { resolverFromEnv } from '../../src/config/index.js';
import {
  BackendTimeoutError,
  ConfigurationError,
  ConnectionNotFoundError,
  escapeText,
  SecretFileError,
  VariableNotFoundError,
} from '../../src/errors.js';
import { consoleLogger, escapingLogger, formatLogLine, type Logger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { withFaults } from '../../src/testing/faults.js';

/** A newline that forges a line, ANSI colour, a bidi override, U+2028, a C1 control, a lone surrogate. */
const HOSTILE = 'id\nairflow-secrets: FORGED admin login\r\x1b[31mred\x1b[0m\u202egnp.exe\u2028x\x85y\ud800z';
const RAW = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])/;

afterEach(() => vi.restoreAllMocks());

describe('escapeText', () => {
  it('writes every dangerous character as a visible escape and leaves the rest alone', () => {
    expect(escapeText(HOSTILE)).toBe(
      'id\\nairflow-secrets: FORGED admin login\\r\\x1b[31mred\\x1b[0m\\u202egnp.exe\\u2028x\\x85y\\ud800z',
    );
    expect(escapeText('C:\\path\\to é 中文 😀 \t')).toBe('C:\\path\\to é 中文 😀 \\t');
    expect(escapeText('a\nb', { keepNewlines: true })).toBe('a\nb');
    expect(JSON.parse(`"${escapeText('\u2028\x85\u202e', { json: true })}"`)).toBe('\u2028\x85\u202e');
  });
});

describe('error messages are escaped, fields keep the raw value', () => {
  it('for the errors that carry ids, keys and settings', () => {
    const errors = [
      [new ConnectionNotFoundError(HOSTILE), 'connId'],
      [new VariableNotFoundError(HOSTILE), 'key'],
      [new BackendTimeoutError('b', `no answer for '${HOSTILE}'`, { secretName: HOSTILE }), 'secretName'],
      [new ConfigurationError(HOSTILE, `bad ${HOSTILE}`), 'setting'],
    ] as const;
    for (const [e, field] of errors) {
      expect(e.message, e.name).not.toMatch(RAW);
      expect(e.message).toContain('\\nairflow-secrets: FORGED');
      expect((e as unknown as Record<string, unknown>)[field]).toBe(HOSTILE);
    }
  });

  it("keep SecretFileError's Airflow layout on its own lines, with the file name escaped", () => {
    const file = `/tmp/a\nFilename: forged.yaml`;
    const e = new SecretFileError(
      'local-filesystem',
      `Failed to load the secret file.\nFilename: ${file}\n\n${'='.repeat(20)} Parse error   1 ${'='.repeat(20)}\nbad\nLine number:  3`,
      {
        filePath: file,
        airflowError: 'AirflowFileParseException',
        parseErrors: [{ line: 3, message: 'bad' }],
      },
    );
    expect(e.message.split('\n')).toEqual([
      'Failed to load the secret file.',
      'Filename: /tmp/a\\nFilename: forged.yaml',
      '',
      `${'='.repeat(20)} Parse error   1 ${'='.repeat(20)}`,
      'bad',
      'Line number:  3',
    ]);
    expect(e.filePath).toBe(file);
  });

  it('through a real secrets file whose name holds a newline', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'log-injection-'));
    try {
      const file = path.join(dir, 'v\nFORGED.yaml');
      writeFileSync(file, 'a: [unclosed\n', { mode: 0o600 });
      const r = createResolver({
        backends: [localFilesystem({ variablesFilePath: file })],
        onBackendError: 'throw',
        logger: consoleLogger,
      });
      const e = (await r.getVariable('a').catch((x: unknown) => x)) as SecretFileError;
      expect(e).toBeInstanceOf(SecretFileError);
      const lines = e.message.split('\n');
      expect(lines[1]).toBe(`Filename: ${dir}/v\\nFORGED.yaml`);
      expect(lines.some((l) => l.startsWith('FORGED'))).toBe(false);
      expect(e.filePath).toBe(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('log lines', () => {
  it("through a resolver lookup with a hostile id: consoleLogger's warning is one line; fields stay raw", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const failing = withFaults(memory({ name: 'flaky' }), { fault: 'unavailable' });
    const r = createResolver({ backends: [failing, memory({ variables: {} })], logger: consoleLogger });
    expect(await r.getVariable(HOSTILE)).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0]![0]);
    expect(line).not.toMatch(RAW);
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain("variable 'id\\nairflow-secrets: FORGED admin login");
    const json = line.slice(line.indexOf(' {"') + 1);
    expect(JSON.parse(json).id).toBe(HOSTILE);
  });

  it('a custom logger gets the raw id in its fields; escapingLogger escapes its messages', async () => {
    const seen: [string, Record<string, unknown> | undefined][] = [];
    const sink: Logger = {
      debug() {},
      warn: (m, f) => seen.push([m, f]),
      error() {},
    };
    const failing = withFaults(memory({ name: 'flaky' }), { fault: 'throttled' });
    const r = createResolver({ backends: [failing], logger: escapingLogger(sink) });
    await r.getConnection(HOSTILE);
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).not.toMatch(RAW);
    expect(seen[0]![1]!.id).toBe(HOSTILE);
  });

  it("a user's own logger given to createResolver or resolverFromEnv gets escaped messages and raw fields", async () => {
    const seen: [string, Record<string, unknown> | undefined][] = [];
    const sink: Logger = { debug() {}, warn: (m, f) => seen.push([m, f]), error() {} };
    const failing = withFaults(memory({ name: 'flaky' }), { fault: 'throttled' });
    await createResolver({ backends: [failing], logger: sink }).getConnection(HOSTILE);
    const fromEnv = await resolverFromEnv(
      {
        AIRFLOW_HOME: mkdtempSync(path.join(tmpdir(), 'inj-')),
        AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ connections_file_path: '/nonexistent/c.json' }),
      },
      { logger: sink },
    );
    await fromEnv.getConnection(HOSTILE);
    await fromEnv.close();
    expect(seen).toHaveLength(2);
    for (const [message, fields] of seen) {
      expect(message).toContain("connection 'id\\nairflow-secrets: FORGED admin login");
      expect(message).not.toMatch(RAW);
      expect(fields!.id).toBe(HOSTILE);
    }
  });

  it('formatLogLine escapes the message and the JSON of the fields (U+2028, C1, bidi)', () => {
    const line = formatLogLine(`m ${HOSTILE}`, { id: HOSTILE, n: 1n });
    expect(line).not.toMatch(RAW);
    expect(JSON.parse(line.slice(line.indexOf(' {"') + 1))).toEqual({ id: HOSTILE, n: '1' });
  });
});

describe('CLI output', () => {
  const run = async (...argv: string[]) => {
    const err: string[] = [];
    const out: string[] = [];
    const home = mkdtempSync(path.join(tmpdir(), 'log-injection-cli-'));
    try {
      const code = await main(argv, {
        env: { AIRFLOW_HOME: home, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${home}/a.db` },
        out: (s) => out.push(s),
        err: (s) => err.push(s),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };

  it('not-found lines, explain and usage errors never break a line on a hostile id', async () => {
    for (const argv of [
      ['connections', 'get', HOSTILE],
      ['variables', 'get', HOSTILE],
      ['explain', 'variable', HOSTILE],
      ['explain', 'connection', HOSTILE, '--json'],
      ['bogus', HOSTILE],
    ]) {
      const r = await run(...argv);
      for (const text of [r.out, r.err]) {
        expect(text, argv.join(' ')).not.toMatch(/[\r\x1b\u202e\u2028\x85]/);
        expect(text, argv.join(' ')).not.toMatch(/^airflow-secrets: FORGED/m);
      }
    }
  });
});
