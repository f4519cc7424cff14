/**
 * The import graph of our own sources, for the architecture test: a small scanner that finds every
 * module specifier a TypeScript file names (static `import … from`, `import type`, `export … from`,
 * side-effect `import '…'`, and literal `import('…')`, including `typeof import('…')` in types),
 * skipping comments, strings, template literals and regex literals; the graph of `src/**` built
 * from it; a cycle finder that reports each cycle as a path; and a checker for layer rules given as
 * data.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One module specifier as written in a file, with the 1-based line it is on. */
export interface Specifier {
  spec: string;
  line: number;
}

/** file (repo-relative, `/`-separated) → the files of ours it imports. */
export type ImportGraph = Map<string, readonly { to: string; line: number }[]>;

const IDENT = /[\w$]/;
/** After these words a `/` starts a regex literal, not a division. */
const REGEX_AFTER_WORD = new Set([
  ...['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw'],
  ...['case', 'do', 'else', 'yield', 'await'],
]);
/** The statement forms that name a module, tried where the word `import` or `export` starts. */
const STATEMENT_FORMS: readonly RegExp[] = [
  /^import\s*\(\s*(['"])([^'"\n]+)\1\s*\)/,
  /^import\s+[\w$*{}\s,]*?\bfrom\s*(['"])([^'"\n]+)\1/,
  /^import\s*(['"])([^'"\n]+)\1/,
  /^export\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*(['"])([^'"\n]+)\1/,
];

/** Every module specifier `source` names, in order of appearance. */
export function scanSpecifiers(source: string): Specifier[] {
  return new Scanner(source).run();
}

/**
 * A one-pass reader of TypeScript text that knows just enough syntax to tell code from comments,
 * strings, template literals (with nested `${ … }`) and regex literals.
 */
class Scanner {
  private i = 0;
  /** What came last outside comments: decides whether a `/` opens a regex literal. */
  private last = ';';
  /** Brace depth, and the depth at which each open template literal resumes after `${ … }`. */
  private depth = 0;
  private readonly templates: number[] = [];
  private readonly found: Specifier[] = [];

  constructor(private readonly src: string) {}

  run(): Specifier[] {
    const s = this.src;
    while (this.i < s.length) {
      const ch = s[this.i]!;
      const next = s[this.i + 1];
      if (ch === '/' && next === '/') this.skipTo('\n', 0);
      else if (ch === '/' && next === '*') this.skipTo('*/', 2);
      else if (ch === "'" || ch === '"') this.skipString(ch);
      else if (ch === '`') {
        this.i++;
        this.skipTemplateText();
      } else if (ch === '/') this.slash();
      else if (IDENT.test(ch)) this.word();
      else if (/\s/.test(ch)) this.i++;
      else this.punctuation(ch);
    }
    return this.found;
  }

  private skipTo(end: string, keep: number): void {
    const at = this.src.indexOf(end, this.i + 2);
    this.i = at < 0 ? this.src.length : at + keep;
  }

  private skipString(quote: string): void {
    const s = this.src;
    for (this.i++; this.i < s.length && s[this.i] !== quote; this.i++) if (s[this.i] === '\\') this.i++;
    this.i++;
    this.last = 'string';
  }

  /** Skip template text up to and including the closing backtick, or into a `${`. */
  private skipTemplateText(): void {
    const s = this.src;
    this.last = 'template';
    for (; this.i < s.length; this.i++) {
      if (s[this.i] === '\\') this.i++;
      else if (s[this.i] === '`') return void this.i++;
      else if (s[this.i] === '$' && s[this.i + 1] === '{') {
        this.templates.push(this.depth++);
        this.i += 2;
        return;
      }
    }
  }

  /** A regex literal where an operand may start (after punctuation or a keyword), else a division. */
  private slash(): void {
    const operandNext = IDENT.test(this.last[0]!)
      ? REGEX_AFTER_WORD.has(this.last)
      : !')]}'.includes(this.last);
    if (!operandNext) {
      this.i++;
      this.last = '/';
      return;
    }
    const s = this.src;
    let inClass = false;
    for (this.i++; this.i < s.length; this.i++) {
      const ch = s[this.i];
      if (ch === '\\') this.i++;
      else if (ch === '[') inClass = true;
      else if (ch === ']') inClass = false;
      else if ((ch === '/' && !inClass) || ch === '\n') break; // never run past the line
    }
    for (this.i++; this.i < s.length && IDENT.test(s[this.i]!); this.i++);
    this.last = 'regex';
  }

  /** A word; `import` / `export` (not `x.import`, not `import.meta`) may start a module specifier. */
  private word(): void {
    const s = this.src;
    let end = this.i;
    while (end < s.length && IDENT.test(s[end]!)) end++;
    const word = s.slice(this.i, end);
    if ((word === 'import' || word === 'export') && this.last !== '.') {
      const rest = s.slice(this.i);
      const m = STATEMENT_FORMS.map((form) => form.exec(rest)).find((x) => x !== null);
      if (m) this.found.push({ spec: m[2]!, line: s.slice(0, this.i).split('\n').length });
    }
    this.i = end;
    this.last = word;
  }

  private punctuation(ch: string): void {
    this.i++;
    this.last = ch;
    if (ch === '{') this.depth++;
    if (ch !== '}') return;
    this.depth--;
    if (this.templates.length > 0 && this.templates[this.templates.length - 1] === this.depth) {
      this.templates.pop();
      this.skipTemplateText();
    }
  }
}

/** Every `.ts` file under `dir` (repo-relative to `root`), sorted. */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.ts')) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * The graph of relative imports between `files`. A relative specifier that names no file is
 * returned in `unresolved` (the test fails on it, so a typo cannot hide an edge).
 */
export function buildImportGraph(
  root: string,
  files: readonly string[],
): { graph: ImportGraph; unresolved: string[] } {
  const graph: ImportGraph = new Map();
  const unresolved: string[] = [];
  for (const file of files) {
    const edges: { to: string; line: number }[] = [];
    for (const { spec, line } of scanSpecifiers(readFileSync(path.join(root, file), 'utf8'))) {
      if (!spec.startsWith('.')) continue; // a package or node: builtin
      const base = path.posix.join(path.posix.dirname(file), spec);
      const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`, base];
      const to = candidates.find((c) => existsSync(path.join(root, c)));
      if (to) edges.push({ to, line });
      else unresolved.push(`${file}:${line} imports '${spec}', which names no file`);
    }
    graph.set(file, edges);
  }
  return { graph, unresolved };
}

/**
 * Every import cycle, one per strongly connected component (Tarjan), each as a path that starts
 * and ends at the same file: `a.ts → b.ts → a.ts`. Components are listed in file order.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(v, Math.min(low.get(v)!, index.get(to)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components
    .filter((c) => c.length > 1 || (graph.get(c[0]!) ?? []).some((e) => e.to === c[0]))
    .map((c) => cyclePath(graph, new Set(c)))
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The shortest cycle through the first file (in sort order) of one strongly connected component. */
function cyclePath(graph: ImportGraph, component: ReadonlySet<string>): string[] {
  const start = [...component].sort()[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const { to } of graph.get(v) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const chain: string[] = [];
        for (let w = v; w !== start; w = cameFrom.get(w)!) chain.unshift(w);
        return [start, ...chain, start];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, v);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/**
 * A layer rule: files matching `from` must not import files matching `forbidden`, except files
 * matching `allowed`. With `sameGroupAllowed`, `from` and `forbidden` capture a group name (the
 * first capture) and an import within one group is allowed (e.g. an adapter's own folder).
 */
export interface LayerRule {
  rule: string;
  from: RegExp;
  forbidden: RegExp;
  allowed?: RegExp;
  sameGroupAllowed?: boolean;
}

/** One message per import that breaks a rule: the rule, the importing file and line, and the import. */
export function ruleViolations(graph: ImportGraph, rules: readonly LayerRule[]): string[] {
  const out: string[] = [];
  for (const [file, edges] of graph) {
    for (const r of rules) {
      const source = r.from.exec(file);
      if (!source) continue;
      for (const { to, line } of edges) {
        const target = r.forbidden.exec(to);
        if (!target || r.allowed?.test(to)) continue;
        if (r.sameGroupAllowed && source[1] !== undefined && source[1] === target[1]) continue;
        out.push(`${r.rule}: ${file}:${line} imports ${to}`);
      }
    }
  }
  return out.sort();
}
