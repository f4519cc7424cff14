/**
 * Heap per cached entry, in a plain `node --expose-gc` process on the built package: ENTRIES
 * lookups through a resolver whose backend makes each value on the fly (so the cache holds the only
 * copy), heap measured after a full GC before and after. The ids and values alone are measured the
 * same way (kept in an array), so the cache's own overhead per entry can be told apart.
 *
 *   node --expose-gc bench/children/memory.mjs <dist-dir> [entries]      → JSON on stdout
 */
const [dist, entriesArg] = process.argv.slice(2);
const { createResolver } = await import(`${dist}/index.js`);
const { Connection } = await import(`${dist}/index.js`);
const { silentLogger } = await import(`${dist}/index.js`);

const ENTRIES = Number(entriesArg ?? 100_000);
const value = (i) => `value-${String(i).padStart(8, '0')}-${'x'.repeat(18)}`; // 32 characters
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

async function perEntry(kind) {
  const backend = {
    name: 'gen',
    locate: (_k, id) => ({ name: id }),
    getVariable: async (key) => value(Number(key.slice(4))),
    getConnection: async (id) =>
      Connection.fromUri(`postgres://app:${value(Number(id.slice(4)))}@db-${id}.internal:5432/orders`, id),
  };
  const r = createResolver({ backends: [backend], cache: { maxEntries: ENTRIES * 2 }, logger: silentLogger });
  const before = heap();
  for (let i = 0; i < ENTRIES; i++) {
    const id = `key_${i}`;
    if (kind === 'variable') await r.getVariable(id);
    else await r.getConnection(id);
  }
  const after = heap();
  if (r.stats().cache.size !== ENTRIES) throw new Error('not all cached');
  return (after - before) / ENTRIES;
}

async function stringsOnly() {
  const keep = [];
  const before = heap();
  for (let i = 0; i < ENTRIES; i++) keep.push(`key_${i}`, value(i));
  const after = heap();
  const per = (after - before) / ENTRIES;
  if (keep.length !== 2 * ENTRIES) throw new Error('lost');
  return per;
}

const variable = await perEntry('variable');
const connection = await perEntry('connection');
const strings = await stringsOnly();
console.log(
  JSON.stringify({
    entries: ENTRIES,
    variableBytes: variable,
    connectionBytes: connection,
    idAndValueBytes: strings,
  }),
);
