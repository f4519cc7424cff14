/**
 * "No function in src/ longer than 80 lines", measured as the project means it: the PHYSICAL span
 * of every function, method, constructor, accessor and arrow function, from its first line to its
 * last, comments and blank lines included (Biome's noExcessiveLinesPerFunction skips comment lines,
 * so it lets a well-commented long function through). A function may be longer only when a comment
 * before it carries the marker `long-table:` followed by why (a long table or switch). Parsed with
 * the TypeScript 5 compiler API (test/helpers/ts-api.ts). The measure is also run on planted
 * sources, so the test can fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TS from 'typescript-api';
import { describe, expect, it } from 'vitest';
import { loadTypeScriptApi, type TsApi } from '../helpers/ts-api.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_LINES = 80;
/** The marker, with at least a few words of why after it. */
const EXEMPT = /long-table:\s*\S.{8,}/;

interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

function isFunctionLike(ts: TsApi, n: TS.Node): n is TS.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isGetAccessorDeclaration(n) ||
    ts.isSetAccessorDeclaration(n)
  );
}

function nameOf(ts: TsApi, n: TS.FunctionLikeDeclaration): string {
  if (n.name) return n.name.getText();
  if (ts.isConstructorDeclaration(n)) return 'constructor';
  const p = n.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p))) {
    return p.name.getText();
  }
  return '<anonymous>';
}

/**
 * The comments before a function: its own leading comments and those of the nodes that start on
 * the same line around it (`export const f = () => {` has its comment before `export`).
 */
function leadingComments(ts: TsApi, sf: TS.SourceFile, n: TS.Node): string[] {
  const text = sf.getFullText();
  const line = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line;
  const startLine = line(n.getStart(sf));
  const out: string[] = [];
  for (let cur: TS.Node | undefined = n; cur && cur.kind !== ts.SyntaxKind.SourceFile; cur = cur.parent) {
    if (line(cur.getStart(sf)) !== startLine) break;
    for (const c of ts.getLeadingCommentRanges(text, cur.getFullStart()) ?? []) {
      out.push(text.slice(c.pos, c.end));
    }
  }
  return out;
}

/** Every function in `text` whose physical span is over `max` lines and that is not exempt. */
function longFunctions(file: string, text: string, max = MAX_LINES): LongFunction[] {
  const ts = loadTypeScriptApi();
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: LongFunction[] = [];
  const visit = (n: TS.Node): void => {
    if (isFunctionLike(ts, n) && n.body) {
      const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max && !leadingComments(ts, sf, n).some((c) => EXEMPT.test(c))) {
        found.push({ file, line: first + 1, name: nameOf(ts, n), lines });
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** A function of `n` physical lines: header, `n - 2` body lines (half of them comments), close. */
function planted(n: number, header = 'export function planted(): number {'): string {
  const body = Array.from({ length: n - 2 }, (_, i) => (i % 2 ? `  // note ${i}` : `  let v${i} = ${i};`));
  return [header, ...body, '}', ''].join('\n');
}

describe('function length in src/', () => {
  it('loads the TypeScript 5 compiler API', () => {
    expect(loadTypeScriptApi().version).toMatch(/^5\./);
  });

  it('measures the physical span, comment lines included, of every kind of function', () => {
    expect(longFunctions('a.ts', planted(80))).toEqual([]);
    expect(longFunctions('a.ts', planted(81))).toEqual([
      { file: 'a.ts', line: 1, name: 'planted', lines: 81 },
    ]);
    // An arrow function in a const, with the comment lines Biome would not count.
    const arrow = `const x = 1;\n${planted(90, 'export const arrow = async () => {')}`;
    expect(longFunctions('b.ts', arrow)).toEqual([{ file: 'b.ts', line: 2, name: 'arrow', lines: 90 }]);
    // A method in an object literal, and a class method.
    const inObject = `const o = {\n${planted(85, '  method() {')}};\n`;
    expect(longFunctions('c.ts', inObject).map((f) => [f.name, f.lines])).toEqual([['method', 85]]);
    const inClass = `class K {\n${planted(82, '  run(): void {')}}\n`;
    expect(longFunctions('d.ts', inClass).map((f) => [f.name, f.lines])).toEqual([['run', 82]]);
  });

  it('lets a long function through only with a `long-table:` comment saying why', () => {
    const why = '/** long-table: one case per SQL dialect, a table split would hide. */\n';
    expect(longFunctions('a.ts', why + planted(120))).toEqual([]);
    // The marker on the statement around an arrow function counts too.
    expect(
      longFunctions(
        'a.ts',
        `// long-table: the error codes, one per line\n${planted(90, 'export const t = () => {')}`,
      ),
    ).toEqual([]);
    // The marker alone, or an unrelated comment, does not.
    expect(longFunctions('a.ts', `// long-table:\n${planted(90)}`)).toHaveLength(1);
    expect(longFunctions('a.ts', `/** does many things */\n${planted(90)}`)).toHaveLength(1);
  });

  it(`has no function over ${MAX_LINES} physical lines in src/**/*.ts`, () => {
    const files = sourceFiles(path.join(ROOT, 'src'));
    expect(files.length).toBeGreaterThan(30);
    const long = files.flatMap((f) =>
      longFunctions(path.relative(ROOT, f).split(path.sep).join('/'), readFileSync(f, 'utf8')),
    );
    const report = long.map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`);
    expect(report, `functions over ${MAX_LINES} lines; split them`).toEqual([]);
  });
});
