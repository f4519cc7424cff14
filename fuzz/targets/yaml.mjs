import { parsePythonYaml } from '../../dist/python-yaml.js';

const replacer = (_k, v) =>
  v instanceof Map ? Object.fromEntries(v) : v instanceof Set ? [...v] : v instanceof Uint8Array ? '' : v;

/** PyYAML-compatible YAML: a result object, never a throw; a value serialises (no cycle, bounded). */
export function fuzz(data) {
  const r = parsePythonYaml(data.toString('utf8'));
  if (typeof r !== 'object' || r === null) throw new Error('no result');
  if (r.ok) JSON.stringify(r.value, replacer);
  else if (/[\n\r]/.test(r.message)) throw new Error('multi-line YAML error text');
}
