import { Connection } from '../../dist/connection.js';
import { typed } from './_check.mjs';

/**
 * `Connection.fromUri`, then its masked and real forms and a round trip of `getUri()`. (Every
 * `util.inspect` option is covered by test/unit/connection-inspect.test.ts; here it only cost time.)
 */
export function fuzz(data) {
  const c = typed(() => Connection.fromUri(data.toString('utf8'), 'fuzz'));
  if (!c) return;
  String(c);
  JSON.stringify(c);
  const uri = typed(() => c.getUri());
  if (uri !== undefined) typed(() => Connection.fromUri(uri, 'fuzz'));
}
