/**
 * Uncached metastore lookups per second, with Fernet decryption, from SQLite (a file) and from
 * PostgreSQL 15 over loopback (a throwaway server started here), plus MariaDB when installed.
 * 1,000 encrypted connections and 1,000 encrypted variables per database; every lookup hits the
 * database (no resolver, no cache) and decrypts.
 *
 *   node --import tsx bench/metastore.bench.ts          (markdown table; JSON in .bench-out/)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bench } from 'tinybench';
import { type MetastoreBackend, metastore } from '../src/backends/metastore.js';
import { Connection } from '../src/connection.js';
import { Fernet, MultiFernet } from '../src/metastore/fernet.js';
import { type RunningServer, startMariadb, startPostgres } from '../test/helpers/db-servers.js';

const ROWS = 1000;
const CONCURRENCY = 16;
const KEYS = `${Fernet.generateKey()},${Fernet.generateKey()}`;
const silent = { debug() {}, warn() {}, error() {} };

interface Row {
  name: string;
  opsPerSec: number;
  meanMs: number;
  p99Ms: number;
  samples: number;
}

async function seed(b: MetastoreBackend): Promise<void> {
  await b.ensureSchema();
  for (let i = 0; i < ROWS; i++) {
    await b.setVariable(`var_${i}`, `value number ${i} `.repeat(4));
    await b.setConnection(
      new Connection({
        id: `conn_${i}`,
        type: 'postgres',
        host: `db${i}.example.com`,
        login: 'app',
        password: `pw-${i}-${'x'.repeat(20)}`,
        port: 5432,
        schema: 'app',
        extra: JSON.stringify({ sslmode: 'require', application_name: `svc${i}` }),
      }),
    );
  }
}

async function main(): Promise<void> {
  const servers: RunningServer[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-bench-'));
  const backends: MetastoreBackend[] = [];
  try {
    const targets: [string, string][] = [['SQLite (file)', `sqlite:///${path.join(dir, 'airflow.db')}`]];
    const pg = await startPostgres();
    servers.push(pg);
    targets.push(['PostgreSQL 15 (loopback)', pg.url]);
    try {
      const maria = await startMariadb();
      servers.push(maria);
      const { openDriver } = await import('../src/metastore/drivers.js');
      const { parseSqlAlchemyUrl } = await import('../src/metastore/url.js');
      const admin = await openDriver(parseSqlAlchemyUrl(maria.url), { poolSize: 1, timeoutMs: 10_000 });
      await admin.run('CREATE DATABASE airflow CHARACTER SET utf8mb4');
      await admin.close();
      targets.push(['MariaDB 10.11 (loopback)', `${maria.url}/airflow`]);
    } catch (e) {
      console.error(`MariaDB skipped in the benchmark: ${(e as Error).message.split('\n')[0]}`);
    }

    const bench = new Bench({ time: 1500, warmupTime: 300 });
    const fernet = new MultiFernet(KEYS.split(',').map((k) => new Fernet(k)));
    const token = fernet.encrypt('value number 1 '.repeat(4));
    bench.add('Fernet decrypt only (reference)', () => {
      fernet.decryptText(token);
    });
    for (const [label, url] of targets) {
      const b = metastore({ url, fernetKey: KEYS, logger: silent, poolSize: 4 });
      backends.push(b);
      await seed(b);
      let i = 0;
      const next = () => (i = (i + 7919) % ROWS);
      bench.add(`${label}: getVariable`, async () => {
        if ((await b.getVariable(`var_${next()}`)) === null) throw new Error('missing');
      });
      bench.add(`${label}: getConnection`, async () => {
        if ((await b.getConnection(`conn_${next()}`)) === null) throw new Error('missing');
      });
      bench.add(`${label}: getVariable x${CONCURRENCY} concurrent`, async () => {
        await Promise.all(Array.from({ length: CONCURRENCY }, () => b.getVariable(`var_${next()}`)));
      });
    }
    await bench.run();

    const rows: Row[] = bench.tasks.map((t) => {
      const r = t.result as unknown as { period?: number; latency?: { p99?: number }; samplesCount?: number };
      const per = t.name.includes('concurrent') ? CONCURRENCY : 1;
      const period = r.period ?? Number.NaN;
      return {
        name: t.name,
        opsPerSec: Math.round((1000 / period) * per),
        meanMs: Number((period / per).toFixed(4)),
        p99Ms: Number((r.latency?.p99 ?? Number.NaN).toFixed(3)),
        samples: r.samplesCount ?? 0,
      };
    });
    console.log(
      `\nUncached metastore lookups with Fernet decryption (${ROWS} rows each, pool 4, Node ${process.version})\n`,
    );
    console.log('| lookup | lookups/s | mean ms/lookup | p99 ms/iteration |');
    console.log('|---|---:|---:|---:|');
    for (const r of rows)
      console.log(`| ${r.name} | ${r.opsPerSec.toLocaleString('en-US')} | ${r.meanMs} | ${r.p99Ms} |`);
    mkdirSync('.bench-out', { recursive: true });
    writeFileSync(
      '.bench-out/metastore.json',
      `${JSON.stringify({ node: process.version, rows }, null, 2)}\n`,
    );
  } finally {
    await Promise.all(backends.map((b) => b.close()));
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
