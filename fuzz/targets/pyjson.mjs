import { deserializeConnection } from '../../dist/connection.js';
import { parsePythonJson, pyJsonDumps, pyJsonLoads } from '../../dist/pyjson.js';
import { typed } from './_check.mjs';

/** CPython's `json.loads` port: results or `PyJsonDecodeError`; `dumps` of a result; JSON connections. */
export function fuzz(data) {
  const text = data.toString('utf8');
  const r = parsePythonJson(text);
  if (typeof r !== 'object' || r === null) throw new Error('no result');
  const v = typed(() => pyJsonLoads(text), ['PyJsonDecodeError']);
  if (v !== undefined) pyJsonDumps(v);
  typed(() => deserializeConnection('fuzz', `{${text}`));
}
