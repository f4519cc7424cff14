import { loadConfigs, loadConnections, loadVariables } from '../../dist/backends/local-filesystem/index.js';
import { typed } from './_check.mjs';

const FORMATS = ['env', 'json', 'yaml'];
const LOADERS = [loadConnections, loadVariables, loadConfigs];

/** The local-filesystem backend's parsers: byte 0 picks the format and the loader, the rest is the file. */
export function fuzz(data) {
  if (data.length === 0) return;
  const format = FORMATS[data[0] % 3];
  const load = LOADERS[Math.floor(data[0] / 3) % 3];
  const out = typed(() => load(data.subarray(1).toString('utf8'), format, `fuzz.${format}`));
  if (out) for (const v of out.values()) String(v);
}
