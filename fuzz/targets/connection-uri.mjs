import { inspect } from 'node:util';
import { Connection } from '../../dist/connection.js';
import { typed } from './_check.mjs';

/** `Connection.fromUri`, then every way of printing the result, then a round trip of `getUri()`. */
export function fuzz(data) {
  const c = typed(() => Connection.fromUri(data.toString('utf8'), 'fuzz'));
  if (!c) return;
  String(c);
  JSON.stringify(c);
  inspect(c, { showHidden: true, getters: true });
  typed(() => c.asJson());
  const uri = typed(() => c.getUri());
  if (uri !== undefined) typed(() => Connection.fromUri(uri, 'fuzz'));
}
