/**
 * Issue 11 item 1: no YAML file can kill or hang the process. Every hostile text is looked up
 * through a real resolver and local-filesystem backend in a child process (a V8 abort there fails
 * this test instead of killing the runner), at many caller stack depths, and must end in a typed
 * SecretFileError. On the code before the fix, `-\t` × 1,000 aborted Node ("RegExpCompiler
 * Allocation failed") and `k: &a [*a]` ended in a TypeError.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { Alias } from 'yaml';
import { loadVariables } from '../../src/backends/local-filesystem/index.js';
import { SecretFileError } from '../../src/errors.js';
import { MAX_YAML_DEPTH, parsePythonYaml } from '../../src/python-yaml.js';

const CHILD = fileURLToPath(new URL('./child/yaml-files.ts', import.meta.url));

function runChild(
  texts: string[],
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code, signal) => resolve({ code, signal, out, err: err.slice(-2000) }));
    child.stdin.end(JSON.stringify(texts));
  });
}

const letters = (i: number) => `n${i}`;

/** Ten anchors, each 40 levels deep around an alias to the previous one: 400 levels once expanded. */
function deepThroughAliases(): string {
  const lines = [`${letters(0)}: &${letters(0)} x`];
  for (let i = 1; i < 10; i++)
    lines.push(`${letters(i)}: &${letters(i)} ${'['.repeat(40)}*${letters(i - 1)}${']'.repeat(40)}`);
  return lines.join('\n');
}

/** Merge keys and aliases doubling at every level (a billion-laughs spelled with `<<`). */
function mergeBomb(): string {
  const lines = ['m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}'];
  for (let i = 1; i < 12; i++)
    lines.push(`m${i}: &m${i} {<<: *m${i - 1}, x: [${`*m${i - 1}, `.repeat(10)}]}`);
  return lines.join('\n');
}

/**
 * Found by the fuzzer: few nodes, but every alias expands to a 200-character string, so the value
 * printed as JSON is about 90 MB (the YAML library's alias count let it through).
 */
function longStringLaughs(): string {
  const lines = [`d: &d "${'\\0'.repeat(200)}"`];
  const spec: [string, string, number][] = [
    ['e', 'd', 10],
    ['f', 'e', 10],
    ['g', 'f', 10],
    ['h', 'g', 4],
    ['i', 'h', 10],
    ['j', 'i', 10],
  ];
  for (const [me, prev, n] of spec) lines.push(`${me}: &${me} [${`*${prev}, `.repeat(n)}]`);
  return lines.join('\n');
}

/**
 * Found by the audit: collection keys nested `depth` deep (`? ? … [x0, …]`). The YAML library prints
 * every collection key as a string, level by level: 1.4 KB took 6.6 s, 11 KB 37 s, 35 KB over 100 s,
 * blocking the process (a lookup's deadline could not fire). PyYAML refuses such a key at once
 * ("found unhashable key").
 */
function collectionKeys(depth: number, width: number): string {
  return `${'? '.repeat(depth)}[${Array.from({ length: width }, (_, i) => `x${i}`).join(',')}]`;
}

const HOSTILE: Record<string, string> = {
  'dash-tab × 1,000 (the reported crash)': `${'-\t'.repeat(1000)}x`,
  'dash-space × 50,000': `${'- '.repeat(50_000)}x`,
  'dash-tab-dash-space mixed': `${'-\t- '.repeat(20_000)}x`,
  'explicit keys × 10,000': `${'? '.repeat(10_000)}x`,
  'implicit keys on one line × 10,000': `${'a: '.repeat(10_000)}x`,
  'flow sequences × 100,000': '['.repeat(100_000),
  'flow mappings × 100,000': `k: ${'{a: '.repeat(100_000)}`,
  'flow mixed with tabs': `k:\t${'[\t{\t'.repeat(20_000)}`,
  'block mappings indented 1,000 deep': `${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} x`,
  'block sequences indented 1,000 deep': `${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i * 2)}-`).join('\n')} x`,
  'self-referencing alias in a flow sequence': 'k: &a [*a]\n',
  'self-referencing alias in a flow mapping': 'k: &a {x: *a}\n',
  'self-referencing alias in a block sequence': 'k: &a\n  - *a\n',
  'self-referencing merge key': 'k: &a {<<: *a}\n',
  'billion laughs with aliases': [
    'a: &a [x, x, x, x, x, x, x, x, x, x]',
    ...Array.from({ length: 9 }, (_, i) => {
      const [me, prev] = [String.fromCharCode(98 + i), String.fromCharCode(97 + i)];
      return `${me}: &${me} [${`*${prev}, `.repeat(10)}]`;
    }),
  ].join('\n'),
  'nesting built from aliases (400 levels expanded)': deepThroughAliases(),
  'billion laughs with merge keys': mergeBomb(),
  'billion laughs with a long string (fuzz finding)': longStringLaughs(),
  'collection keys nested 250 deep (1.4 KB, audit finding)': collectionKeys(250, 200),
};

/** The SecretFileError loading `text` as a variables file throws (the test fails if it throws none). */
function refusal(text: string): SecretFileError {
  let err: unknown;
  try {
    loadVariables(text, 'yaml', 'f.yaml');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SecretFileError);
  return err as SecretFileError;
}

describe('no YAML file can kill or hang the process (issue 11 item 1)', () => {
  it('ends every hostile file in a SecretFileError, through a resolver, at any caller stack depth', async () => {
    const names = Object.keys(HOSTILE);
    const r = await runChild(Object.values(HOSTILE));
    expect(r.err).toBe('');
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { i: number; lookup: unknown; depths: unknown[] });
    expect(lines.map((l) => names[l.i])).toEqual(names);
    const typed = { name: 'SecretFileError', malformed: true };
    for (const l of lines) {
      expect({ file: names[l.i], lookup: l.lookup, depths: l.depths }).toEqual({
        file: names[l.i],
        lookup: typed,
        depths: [typed],
      });
    }
  }, 120_000);

  it('names the problem without quoting the file', () => {
    const cases: [string, RegExp][] = [
      [HOSTILE['dash-tab × 1,000 (the reported crash)']!, /RESOURCE_EXHAUSTION|TAB_AS_INDENT/],
      ['k: &a [*a]\n', /RECURSIVE_ALIAS/],
      [deepThroughAliases(), /RESOURCE_EXHAUSTION/],
      [mergeBomb(), /RESOURCE_EXHAUSTION/],
      [longStringLaughs(), /RESOURCE_EXHAUSTION/],
      ['a: &a 1\nb: {<<: *a}\n', /BAD_MERGE/],
      [collectionKeys(250, 200), /UNHASHABLE_KEY/],
      ['a: &a [1]\n? *a\n: x\n', /UNHASHABLE_KEY/],
    ];
    for (const [text, code] of cases) {
      const e = refusal(text);
      expect(e.parseErrors[0]!.message).toMatch(code);
      expect(e.message).not.toContain('*a');
    }
  });

  it(`accepts nesting up to ${MAX_YAML_DEPTH} levels, in compact, block and flow spellings`, () => {
    const n = MAX_YAML_DEPTH - 1;
    const block = Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    for (const text of [`${'- '.repeat(n)}x`, `${block} x`, `k: ${'['.repeat(n - 1)}x${']'.repeat(n - 1)}`]) {
      const r = parsePythonYaml(text);
      expect(r.ok, JSON.stringify(r).slice(0, 200)).toBe(true);
    }
    expect(parsePythonYaml(`${'- '.repeat(MAX_YAML_DEPTH + 1)}x`).ok).toBe(false);
  });

  it('resolves aliases in one pass (the library scans every earlier anchor per alias: quadratic)', () => {
    const spy = vi.spyOn(Alias.prototype, 'resolve');
    try {
      const lines: string[] = [];
      for (let i = 0; i < 2000; i++) lines.push(`a${i}: &a${i} v${i}`, `b${i}: *a${i}`);
      const r = parsePythonYaml(lines.join('\n'));
      expect(r.ok && (r.value as Record<string, string>).b1999).toBe('v1999');
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
    const big: string[] = [];
    for (let i = 0; i < 20_000; i++) big.push(`a${i}: &a${i} v`, `b${i}: *a${i}`);
    expect(parsePythonYaml(big.join('\n')).ok).toBe(true); // quadratic before: about 6 s, and 4x that per doubling
  }, 60_000);

  // The bound is the test's timeout: before the fix the 35 KB file alone took over 100 s.
  it('refuses nested collection keys (1.4 KB and 35 KB) with a SecretFileError, in linear time', () => {
    for (const text of [collectionKeys(250, 200), collectionKeys(250, 6000)]) {
      const e = refusal(text);
      expect(e.airflowError).toBe('AirflowFileParseException');
      expect(e.parseErrors[0]!.message).toMatch(/found unhashable key .*\(UNHASHABLE_KEY\)/);
      expect(e.message).not.toContain('x0');
    }
    expect(collectionKeys(250, 6000).length).toBeGreaterThan(35_000);
  }, 20_000);

  // Checked against PyYAML 6.0.3's `yaml.safe_load`: "ERR" is its ConstructorError "found unhashable key".
  it('refuses a collection key exactly where PyYAML does', () => {
    const cases: [string, unknown][] = [
      ['? [a]\n: v\n', 'ERR'],
      ['{[a]: 1}\n', 'ERR'],
      ['{{a: 1}: x}\n', 'ERR'],
      ['? []\n: x\n', 'ERR'],
      ['? {}\n: x\n', 'ERR'],
      ['? !!set {a}\n: x\n', 'ERR'],
      ['? !!omap [a: 1]\n: x\n', 'ERR'],
      ['? !!pairs [a: 1]\n: x\n', 'ERR'],
      ['- [a]: 1\n', 'ERR'],
      ['[[a]: 1]\n', 'ERR'],
      ['!!set {[a]}\n', 'ERR'],
      ['a: &a [1]\n? *a\n: x\n', 'ERR'],
      ['a: &a {b: 1}\n? *a\n: x\n', 'ERR'],
      ['a: &a [1]\nb: {*a : x}\n', 'ERR'],
      ['a: &m {? [x]: 1}\nb: {<<: *m}\n', 'ERR'],
      ['<<: {? [a]: 1}\n', 'ERR'],
      ['<<: [{? [a]: 1}]\n', 'ERR'],
      ['k: {<<: {a: 1}, [b]: 2}\n', 'ERR'],
      ['a: &a {b: 1}\n<<: *a\n? *a\n: z\n', 'ERR'],
      ['? [<<]\n: x\n', 'ERR'],
      ['a: &a x\n? *a\n: y\n', { a: 'x', x: 'y' }],
      ['a: &m {k: 1}\n? <<\n: *m\n', { a: { k: 1 }, k: 1 }],
      ['{? a: b}\n', { a: 'b' }],
      ['x: [? a : b]\n', { x: [{ a: 'b' }] }],
      ['? \n: x\n', { '': 'x' }],
    ];
    for (const [text, want] of cases) {
      const r = parsePythonYaml(text);
      const got = r.ok ? r.value : /\(UNHASHABLE_KEY\)$/.test(r.message) ? 'ERR' : r.message;
      expect({ text, got }).toEqual({ text, got: want });
    }
    // PyYAML builds !!omap and !!pairs as lists of tuples and never hashes their keys.
    expect(parsePythonYaml('!!pairs [[a]: 1]\n').ok).toBe(true);
    expect(parsePythonYaml('!!omap [[a]: 1]\n').ok).toBe(true);
  });

  it('keeps PyYAML behaviour for ordinary aliases and merge keys, with no 100-alias limit', () => {
    const lines = ['defaults: &d {conn_type: postgres, port: 5432}'];
    for (let i = 0; i < 150; i++) lines.push(`c${i}: {<<: *d, host: h${i}}`, `l${i}: [*d]`);
    const r = parsePythonYaml(lines.join('\n'));
    expect(r.ok).toBe(true);
    const v = (r as { value: Record<string, unknown> }).value;
    expect(v.c149).toEqual({ conn_type: 'postgres', port: 5432, host: 'h149' });
    expect(v.l0).toEqual([{ conn_type: 'postgres', port: 5432 }]);
  });
});
