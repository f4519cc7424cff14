/**
 * Comparing connections without printing them: which fields differ (names only, never values),
 * and what a connection becomes once written in a stored form and read back by Airflow's own
 * parser (`get_uri()` → `Connection(uri=…)`, `as_json()` → `from_json`).
 *
 * Two connections are the same when every field a hook reads is: `conn_type`, `host`, `schema`,
 * `login`, `password` and `port` (an empty string and no value are the same, as Airflow's hooks
 * treat them), and `extra` as a JSON document (key order and spacing aside; `{}` and none alike).
 * `description` is compared only when asked: the URI form cannot carry it.
 */
import { Connection, deserializeConnection } from '../connection.js';
import { type PyDict, type PyValue, pyJsonDumps, pyJsonLoads } from '../pyjson.js';

export type ConnectionField =
  | 'conn_type'
  | 'host'
  | 'schema'
  | 'login'
  | 'password'
  | 'port'
  | 'extra'
  | 'description';

/** The fields in which `a` and `b` differ, in a fixed order. */
export function connectionDifferences(
  a: Connection,
  b: Connection,
  options: { description?: boolean } = {},
): ConnectionField[] {
  const text = (v: string | null) => (v === null || v === '' ? null : v);
  const out: ConnectionField[] = [];
  const pairs: [ConnectionField, unknown, unknown][] = [
    ['conn_type', text(a.type), text(b.type)],
    ['host', text(a.host), text(b.host)],
    ['schema', text(a.schema), text(b.schema)],
    ['login', text(a.login), text(b.login)],
    ['password', text(a.password), text(b.password)],
    ['port', a.port, b.port],
    ['extra', canonicalExtra(a.extra), canonicalExtra(b.extra)],
  ];
  if (options.description) pairs.push(['description', text(a.description), text(b.description)]);
  for (const [field, x, y] of pairs) if (x !== y) out.push(field);
  return out;
}

/**
 * What `c` reads back as after being stored as a URI (`get_uri()`, parsed by `Connection(uri=…)`)
 * or as JSON (`as_json()`, parsed by `from_json`), with the same id.
 */
export function afterRoundTrip(c: Connection, format: 'uri' | 'json'): Connection {
  const id = c.id ?? '';
  return format === 'json' ? deserializeConnection(id, c.asJson()) : Connection.fromUri(c.getUri(), id);
}

/** `extra` as one canonical text: keys sorted at every level, Python's `json.dumps` for the rest. */
function canonicalExtra(extra: string | null): string {
  if (extra === null || extra.trim() === '') return '{}';
  let v: PyValue;
  try {
    v = pyJsonLoads(extra);
  } catch {
    return `raw:${extra}`;
  }
  return pyJsonDumps(sorted(v));
}

function sorted(v: PyValue): PyValue {
  if (Array.isArray(v)) return v.map(sorted);
  if (!(v instanceof Map)) return v;
  const out: PyDict = new Map();
  for (const k of [...v.keys()].sort()) out.set(k, sorted(v.get(k) as PyValue));
  return out;
}
