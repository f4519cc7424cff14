/**
 * YAML read the way PyYAML's `yaml.safe_load` reads typical secret files: YAML 1.1 with PyYAML's own
 * implicit resolvers (`yes`/`no`/`on`/`off` are booleans but `y`/`n` are strings; `1e3` is a string
 * because PyYAML's float needs a dot; `0777` is octal; `1:20` is base 60; dates are timestamps), `<<`
 * merge keys, duplicate keys allowed (the last wins), one document only, unknown tags refused.
 *
 * A mapping key that is a collection (or an alias to one) is refused, as PyYAML refuses it ("found
 * unhashable key"), before the value is built: the YAML library would print every such key as a
 * string, level by level, which took seconds for a kilobyte of nested `? ` keys. Pairs of `!!omap`
 * and `!!pairs` may have collection keys (PyYAML accepts them: it builds a list of tuples).
 *
 * Known differences from PyYAML: integers beyond 2^53 lose precision; a non-string scalar key
 * becomes its string form (PyYAML keeps `1` an int); error texts are fixed, libyaml-like descriptions with the
 * YAML parser's code (PyYAML's `str(e)` quotes a snippet of the file, which could hold a secret, so
 * it is never reproduced); nesting deeper than {@link MAX_YAML_DEPTH} (counted after aliases are
 * expanded), aliases that would add more than {@link MAX_ALIAS_EXPANSION} nodes and characters
 * (plus ten times the document's own), and recursive
 * aliases (`&a [*a]`, which PyYAML builds as a list containing itself) are refused.
 *
 * Nothing a file holds can crash or hang the process: the depth is read from the YAML parser's own
 * stack while it parses (before the recursive composer runs) and again from the finished syntax
 * tree; aliases are resolved in one pass over the document (the YAML library's own resolution scans
 * every earlier anchor for each alias, quadratic in the number of aliases); any exception left is
 * turned into an error result.
 */
import {
  type Alias,
  Composer,
  type CST,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  Lexer,
  type Node,
  Parser,
  type ScalarTag,
  type Tags,
  YAMLParseError,
} from 'yaml';

export type PythonYamlResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; line: number; column: number };

/**
 * Deepest nesting accepted: open collections (block and flow, however they are spelled: spaces,
 * tabs, compact `- - x`, `? `, implicit keys), counted on the parser's stack, in the syntax tree,
 * and in the value once aliases and merge keys are expanded. The YAML composer recurses per level
 * and V8 can abort the whole process when it runs out of stack at the wrong moment (while it
 * compiles a regular expression, for example), so hostile nesting is refused well before that.
 * PyYAML hits Python's recursion limit at a similar depth.
 */
export const MAX_YAML_DEPTH = 256;
/**
 * Most that aliases (and merge keys) may add once expanded, counting nodes and the characters of
 * scalars, plus ten times the document's own count: the billion-laughs bound (a bomb grows
 * exponentially, in nodes or in long strings; a large file that merges one default mapping into
 * each of its entries grows linearly and stays within it).
 */
export const MAX_ALIAS_EXPANSION = 1_000_000;

const BOOL_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** PyYAML `construct_yaml_int` / `construct_yaml_float`: sign, `_` removed, base 60 for `a:b:c`. */
function sexagesimal(digits: string, parse: (s: string) => number): number {
  let value = 0;
  let base = 1;
  for (const part of digits.split(':').reverse()) {
    value += parse(part) * base;
    base *= 60;
  }
  return value;
}

function constructInt(src: string): number {
  let v = src.replace(/_/g, '');
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '0') return 0;
  if (v.startsWith('0b')) return sign * Number.parseInt(v.slice(2), 2);
  if (v.startsWith('0x')) return sign * Number.parseInt(v.slice(2), 16);
  if (v[0] === '0') return sign * Number.parseInt(v, 8);
  if (v.includes(':')) return sign * sexagesimal(v, (p) => Number.parseInt(p, 10));
  return sign * Number.parseInt(v, 10);
}

function constructFloat(src: string): number {
  let v = src.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '.inf') return sign * Number.POSITIVE_INFINITY;
  if (v === '.nan') return Number.NaN;
  if (v.includes(':')) return sign * sexagesimal(v, Number.parseFloat);
  return sign * Number.parseFloat(v);
}

const scalar = (tag: string, test: RegExp, resolve: (s: string) => unknown): ScalarTag => ({
  tag: `tag:yaml.org,2002:${tag}`,
  default: true,
  test,
  resolve: (s: string) => resolve(s) as never,
  identify: () => false,
});

const PYYAML_SCALARS: ScalarTag[] = [
  scalar('bool', BOOL_TRUE, () => true),
  scalar('bool', BOOL_FALSE, () => false),
  scalar('int', INT, constructInt),
  scalar('float', FLOAT, constructFloat),
];

const REPLACED = new Set(['tag:yaml.org,2002:bool', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float']);

function pyyamlTags(tags: Tags): Tags {
  const kept = tags.filter((t) => typeof t === 'string' || !REPLACED.has(t.tag));
  return [...PYYAML_SCALARS, ...kept];
}

/** libyaml-style descriptions of the YAML parser's error codes (never quoting the input). */
const DESCRIPTIONS: Record<string, string> = {
  ALIAS_PROPS: 'anchors and tags are not allowed on an alias',
  BAD_ALIAS: 'found undefined alias',
  BAD_COLLECTION_TYPE: 'the tag does not match the collection type',
  BAD_DIRECTIVE: 'found unknown directive',
  BAD_DQ_ESCAPE: 'found unknown escape character while parsing a quoted scalar',
  BAD_INDENT: 'did not find expected key (bad indentation)',
  BAD_MERGE: 'expected a mapping or list of mappings for merging',
  BAD_PROP_ORDER: 'did not find expected node content (anchor or tag out of place)',
  BAD_SCALAR_START: 'found character that cannot start any token',
  BLOCK_AS_IMPLICIT_KEY: 'mapping values are not allowed in this context',
  BLOCK_IN_FLOW: 'block collections are not allowed inside a flow collection',
  DUPLICATE_KEY: 'found duplicate key',
  KEY_OVER_1024_CHARS: "could not find expected ':' (an implicit key is longer than 1024 characters)",
  MISSING_CHAR: "did not find expected ',' or ':' or closing bracket",
  MULTILINE_IMPLICIT_KEY: "could not find expected ':' (an implicit key must be on one line)",
  MULTIPLE_ANCHORS: 'found more than one anchor on a node',
  MULTIPLE_DOCS: 'expected a single document in the stream',
  MULTIPLE_TAGS: 'found more than one tag on a node',
  NON_STRING_KEY: 'found a key that is not a string',
  RECURSIVE_ALIAS: 'found an alias inside the node its anchor names (a recursive structure)',
  RESOURCE_EXHAUSTION: 'the document is too deeply nested or expands too many aliases (resource exhaustion)',
  TAB_AS_INDENT: 'found a tab character that violates indentation',
  TAG_RESOLVE_FAILED: 'could not determine a constructor for the tag',
  UNHASHABLE_KEY: 'found unhashable key (a mapping key that is a collection)',
  UNEXPECTED_TOKEN: 'did not find expected node content (unexpected token)',
  CONSTRUCTOR_FAILED: 'could not construct a value from the document',
};

function describe(code: string): string {
  return `${DESCRIPTIONS[code] ?? 'YAML syntax error'} (${code})`;
}

function linePos(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

type Failure = { ok: false; message: string; line: number; column: number };

function failure(text: string, code: string, offset = 0): Failure {
  return { ok: false, message: describe(code), ...linePos(text, Math.max(0, Math.min(offset, text.length))) };
}

/**
 * Lex and parse into syntax-tree tokens, reading the nesting off the parser's own stack after every
 * lexeme: nothing deeper than {@link MAX_YAML_DEPTH} is ever built (the parser's closing of levels
 * recurses too, so the bound protects it as well as the composer).
 */
function parseTokens(text: string): CST.Token[] | number {
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    // stack[0] is the document; every other entry is an open node
    if (parser.stack.length > MAX_YAML_DEPTH + 1) return parser.offset;
  }
  for (const token of parser.end()) tokens.push(token);
  return tokens;
}

/** The deepest nesting of typed tokens in the syntax tree (iterative: it must not recurse itself). */
function cstDepth(tokens: CST.Token[]): { depth: number; offset: number } {
  const todo: [unknown, number][] = tokens.map((t) => [t, 1]);
  let deepest = { depth: 0, offset: 0 };
  while (todo.length > 0) {
    const [v, d] = todo.pop()!;
    if (Array.isArray(v)) {
      for (const x of v) todo.push([x, d]);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const typed = typeof (v as { type?: unknown }).type === 'string';
    const depth = typed ? d + 1 : d;
    if (depth > deepest.depth) deepest = { depth, offset: (v as { offset?: number }).offset ?? 0 };
    if (deepest.depth > MAX_YAML_DEPTH + 2) break;
    for (const x of Object.values(v)) if (typeof x === 'object' && x !== null) todo.push([x, depth]);
  }
  return deepest;
}

type Measure = { size: number; depth: number };

/**
 * PyYAML's "found unhashable key": a pair of a mapping (or `!!set`) whose key is a collection, or an
 * alias to one (`anchors` holds every anchor defined before the key). Pairs directly in a sequence
 * (`!!omap`, `!!pairs`) are not checked: PyYAML builds those as lists of tuples, never hashing a key.
 */
function unhashableKey(parent: unknown, node: unknown, anchors: Map<string, Node>): boolean {
  if (!isMap(parent) || !isPair(node)) return false;
  const key = node.key;
  if (isAlias(key)) return isCollection(anchors.get(key.source));
  return isCollection(key);
}

/**
 * A node's own weight: one, plus the length of a scalar's text (a short alias to a long string must
 * count as that string wherever it is expanded: output size, not only node count, is bounded).
 */
function weight(node: unknown): number {
  if (isPair(node)) return 0;
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v === 'string') return 1 + v.length;
  if (v instanceof Uint8Array) return 1 + v.byteLength;
  return 1;
}

/**
 * One pass over the document in the order the YAML library resolves anchors (pre-order, a pair's
 * key before its value): binds every alias to the anchor it names, and measures each node's size
 * (nodes plus scalar characters, see {@link weight}) and depth with aliases expanded. A recursive
 * alias, an alias to no anchor, a mapping key that is a collection or an alias to one (see
 * {@link unhashableKey}), too deep a value or too large an expansion is a failure (with the
 * offending node's offset).
 */
function bindAliases(doc: Document): { code: string; offset: number } | Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const measured = new Map<unknown, Measure>();
  const open = new Set<unknown>();
  const bound = new Map<Alias, Node>();
  let own = 0;
  type Frame = { node: unknown; children: unknown[]; next: number };
  const frames: Frame[] = [];
  const enter = (node: unknown, parent: unknown): { code: string; offset: number } | null => {
    const offset = (node as { range?: number[] }).range?.[0] ?? 0;
    if (unhashableKey(parent, node, anchors)) {
      const key = (node as { key: { range?: number[] } }).key;
      return { code: 'UNHASHABLE_KEY', offset: key.range?.[0] ?? offset };
    }
    if (isAlias(node)) {
      own++;
      const target = anchors.get(node.source);
      if (!target) return { code: 'BAD_ALIAS', offset };
      if (open.has(target)) return { code: 'RECURSIVE_ALIAS', offset };
      bound.set(node, target);
      measured.set(node, measured.get(target)!);
      return null;
    }
    own += weight(node);
    if (isNode(node)) {
      if (node.anchor) anchors.set(node.anchor, node);
    }
    const children = isPair(node) ? [node.key, node.value] : isCollection(node) ? [...node.items] : [];
    open.add(node);
    frames.push({ node, children: children.filter((c) => isNode(c) || isPair(c)), next: 0 });
    return null;
  };
  const leave = (f: Frame): Measure => {
    let size = weight(f.node);
    let depth = 0;
    for (const c of f.children) {
      const m = measured.get(c)!;
      size += m.size;
      depth = Math.max(depth, m.depth);
    }
    open.delete(f.node);
    const m = { size, depth: isPair(f.node) ? depth : depth + 1 };
    measured.set(f.node, m);
    return m;
  };
  if (doc.contents === null) return bound;
  const bad = enter(doc.contents, doc);
  if (bad) return bad;
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    if (f.next < f.children.length) {
      const problem = enter(f.children[f.next++], f.node);
      if (problem) return problem;
      continue;
    }
    frames.pop();
    const m = leave(f);
    const offset = (f.node as { range?: number[] }).range?.[0] ?? 0;
    if (m.depth > MAX_YAML_DEPTH || m.size - own > MAX_ALIAS_EXPANSION + 10 * own) {
      return { code: 'RESOURCE_EXHAUSTION', offset };
    }
  }
  return bound;
}

/** Compose the syntax tree into one document, as `yaml`'s `parseDocument` does. */
function compose(tokens: CST.Token[], length: number): Document.Parsed {
  const composer = new Composer({
    version: '1.1',
    customTags: pyyamlTags,
    uniqueKeys: false,
    prettyErrors: false,
    merge: true,
    strict: false,
    // The library's warnings go to process.emitWarning and quote the file (a collection used as a
    // key is printed whole): never emit them.
    logLevel: 'error',
  });
  let doc: Document.Parsed | undefined;
  for (const d of composer.compose(tokens, true, length)) {
    if (doc) {
      const [start, end] = d.range;
      doc.errors.push(new YAMLParseError([start, end], 'MULTIPLE_DOCS', 'more than one document'));
      break;
    }
    doc = d;
  }
  return doc!;
}

/** Parse `text` as PyYAML's `safe_load` would (see the module comment). Never throws for bad input. */
export function parsePythonYaml(text: string): PythonYamlResult {
  try {
    const tokens = parseTokens(text);
    if (typeof tokens === 'number') return failure(text, 'RESOURCE_EXHAUSTION', tokens);
    const cst = cstDepth(tokens);
    if (cst.depth > MAX_YAML_DEPTH + 2) return failure(text, 'RESOURCE_EXHAUSTION', cst.offset);
    const doc = compose(tokens, text.length);
    const problem =
      doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED' || w.code === 'BAD_ALIAS');
    if (problem) return failure(text, problem.code, problem.pos[0]);
    const bound = bindAliases(doc);
    if (!(bound instanceof Map)) return failure(text, bound.code, bound.offset);
    for (const [alias, target] of bound) {
      // Resolve in O(1) instead of the library's scan of every earlier anchor (quadratic). The
      // library's own path stays for a target it has not converted yet.
      const resolve = alias.resolve;
      alias.resolve = (d, ctx) =>
        ctx && !ctx.anchors.has(target) ? resolve.call(alias, d, ctx) : (target as never);
    }
    return { ok: true, value: doc.toJS({ maxAliasCount: -1 }) };
  } catch (e) {
    // A merge key whose value is not a mapping (or list of mappings) throws while converting.
    const merge = e instanceof Error && /merge/i.test(e.message);
    return failure(text, merge ? 'BAD_MERGE' : 'CONSTRUCTOR_FAILED');
  }
}
