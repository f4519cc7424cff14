/**
 * YAML read the way PyYAML's `yaml.safe_load` reads typical secret files: YAML 1.1 with PyYAML's own
 * implicit resolvers (`yes`/`no`/`on`/`off` are booleans but `y`/`n` are strings; `1e3` is a string
 * because PyYAML's float needs a dot; `0777` is octal; `1:20` is base 60; dates are timestamps), `<<`
 * merge keys, duplicate keys allowed (the last wins), one document only, unknown tags refused.
 *
 * Known differences from PyYAML: integers beyond 2^53 lose precision; a non-string key becomes its
 * string form (PyYAML keeps `1` an int); at most 100 alias expansions (PyYAML has no limit); error
 * texts are fixed, libyaml-like descriptions with the YAML parser's code (PyYAML's `str(e)` quotes a
 * snippet of the file, which could hold a secret, so it is never reproduced).
 */
import { parseDocument, type ScalarTag, type Tags } from 'yaml';

export type PythonYamlResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; line: number; column: number };

const MAX_ALIAS_COUNT = 100;
/**
 * Deepest nesting accepted (block levels plus flow brackets, estimated before parsing). The YAML
 * composer recurses per level; near the stack limit V8 can abort the whole process (seen when a
 * source-map hook formats the stack overflow), so hostile nesting is refused up front. PyYAML would
 * hit Python's recursion limit at a similar depth.
 */
export const MAX_YAML_DEPTH = 256;

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
  RESOURCE_EXHAUSTION: 'the document is too deeply nested or expands too many aliases (resource exhaustion)',
  TAB_AS_INDENT: 'found a tab character that violates indentation',
  TAG_RESOLVE_FAILED: 'could not determine a constructor for the tag',
  UNEXPECTED_TOKEN: 'did not find expected node content (unexpected token)',
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

/**
 * An upper-bound estimate of the nesting depth: the deepest run of unclosed `[`/`{` (quotes are not
 * considered, so brackets inside strings count too) plus the deepest stack of block indentation
 * levels (each compact `- ` or `? ` indicator counting one more).
 */
function nestingEstimate(text: string): number {
  let flow = 0;
  let maxFlow = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++flow > maxFlow) maxFlow = flow;
    } else if ((c === 0x5d || c === 0x7d) && flow > 0) flow--;
  }
  const indents: number[] = [];
  let maxBlock = 0;
  for (const line of text.split('\n')) {
    let i = 0;
    while (line[i] === ' ') i++;
    if (i === line.length || line[i] === '#') continue;
    while (indents.length > 0 && indents[indents.length - 1]! >= i) indents.pop();
    indents.push(i);
    let compact = 0;
    for (let j = i; (line[j] === '-' || line[j] === '?') && line[j + 1] === ' '; j += 2) {
      compact++;
      while (line[j + 2] === ' ') j++;
    }
    maxBlock = Math.max(maxBlock, indents.length + compact);
  }
  return maxFlow + maxBlock;
}

/** Parse `text` as PyYAML's `safe_load` would (see the module comment). Never throws for bad input. */
export function parsePythonYaml(text: string): PythonYamlResult {
  if (nestingEstimate(text) > MAX_YAML_DEPTH) {
    return { ok: false, message: describe('RESOURCE_EXHAUSTION'), line: 1, column: 1 };
  }
  const doc = parseDocument(text, {
    version: '1.1',
    customTags: pyyamlTags,
    uniqueKeys: false,
    prettyErrors: false,
    merge: true,
    strict: false,
  });
  const problem =
    doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED' || w.code === 'BAD_ALIAS');
  if (problem) {
    const at = linePos(text, problem.pos[0]);
    return { ok: false, message: describe(problem.code), ...at };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (e) {
    // toJS throws a ReferenceError for an alias bomb or an alias to a missing anchor.
    const code = /resource exhaustion/i.test(e instanceof Error ? e.message : '')
      ? 'RESOURCE_EXHAUSTION'
      : 'BAD_ALIAS';
    return { ok: false, message: describe(code), line: 1, column: 1 };
  }
}
