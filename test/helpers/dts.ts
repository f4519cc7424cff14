/**
 * A small reader of emitted declaration files (`.d.ts`), for the packaging tests: the optional
 * fields of the public options types, and whether each one accepts `undefined` — what a caller
 * with `exactOptionalPropertyTypes` needs to pass `{ field: maybeUndefined }`.
 */

/** Inputs: what callers pass in. Outputs that are handed to other libraries are left as they are. */
const OPTIONS_TYPE = /^(?:\w+Options|FaultSpec|ConnectionFields)$/;
const OUTPUT_TYPES = new Set([
  // Objects we return for another library's constructor: `| undefined` there would not type-check
  // against that library's own options under exactOptionalPropertyTypes.
  'HttpOptions',
  'HttpTlsOptions',
  'MysqlTlsOptions',
  'PgTlsOptions',
  'RedisTlsOptions',
  'IoredisOptions',
  'NodeRedisOptions',
  'GoogleCredentialsOptions',
]);

/** Blank out comments and string literals, keeping offsets. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length))
    .replace(/'(?:[^'\\\n]|\\.)*'/g, (m) => `'${' '.repeat(m.length - 2)}'`);
}

/** The body of the block opening at `open` (the index of its `{`). */
function block(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Each top-level `name?: type;` of an interface body. */
function optionalFields(body: string): { name: string; type: string }[] {
  const out: { name: string; type: string }[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if ('{([<'.includes(c)) depth++;
    else if ('})]'.includes(c) || (c === '>' && body[i - 1] !== '=')) depth--;
    else if (c === ';' && depth === 0) {
      const m = /^\s*(?:readonly\s+)?([\w$]+)\?\s*:\s*([\s\S]*)$/.exec(body.slice(start, i));
      if (m) out.push({ name: m[1]!, type: m[2]!.trim() });
      start = i + 1;
    }
  }
  return out;
}

export function optionalFieldsWithoutUndefined(files: Record<string, string>): {
  checked: number;
  missing: string[];
} {
  let checked = 0;
  const missing: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const c = code(text);
    for (const m of c.matchAll(/\binterface\s+(\w+)(<[^{]*>)?(?:\s+extends\s+[^{]+)?\s*\{/g)) {
      const name = m[1]!;
      if (!OPTIONS_TYPE.test(name) || OUTPUT_TYPES.has(name)) continue;
      // A field typed by the interface's own type parameter takes whatever the caller gives.
      const params = new Set([...(m[2] ?? '').matchAll(/[<,]\s*(\w+)/g)].map((p) => p[1]));
      for (const f of optionalFields(block(c, m.index + m[0].length - 1))) {
        if (params.has(f.type)) continue;
        checked++;
        if (!/\|\s*undefined$/.test(f.type)) missing.push(`${file} ${name}.${f.name}: ${f.type}`);
      }
    }
  }
  return { checked, missing };
}

/** Every optional field name of `name` and the interfaces it extends, read from TypeScript sources. */
export function optionalFieldNames(files: Record<string, string>, name: string): string[] {
  const interfaces = new Map<string, { extends: string[]; fields: string[] }>();
  for (const text of Object.values(files)) {
    const c = code(text);
    for (const m of c.matchAll(/\binterface\s+(\w+)(?:<[^{]*>)?(?:\s+extends\s+([^{]+))?\s*\{/g)) {
      const parents = (m[2] ?? '')
        .split(',')
        .map((p) => p.trim().replace(/<.*$/, ''))
        .filter(Boolean);
      const fields = optionalFields(block(c, m.index + m[0].length - 1)).map((f) => f.name);
      interfaces.set(m[1]!, { extends: parents, fields });
    }
  }
  const out = new Set<string>();
  const visit = (n: string) => {
    const i = interfaces.get(n);
    if (!i) throw new Error(`interface ${n} not found`);
    for (const f of i.fields) out.add(f);
    for (const p of i.extends) if (p !== 'Omit' && interfaces.has(p)) visit(p);
  };
  visit(name);
  return [...out];
}
