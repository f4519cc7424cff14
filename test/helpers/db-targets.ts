/**
 * Fresh, empty databases for the metastore tests, one per call: a SQLite file in a temp dir, or a
 * new database on the throwaway PostgreSQL / MariaDB servers started by global setup. Each comes
 * with a raw SQL handle (for seeding rows as Airflow wrote them and checking what we wrote) and
 * `drop()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject, type TestContext } from 'vitest';
import { openDriver, type SqlDriver, type SqlValue } from '../../src/metastore/drivers.js';
import { createTableStatements, quoteIdent } from '../../src/metastore/schema.js';
import { type Dialect, parseSqlAlchemyUrl } from '../../src/metastore/url.js';
import './db-servers.js';

export type TargetName = 'sqlite' | 'postgres' | 'mariadb';

export interface TestDatabase {
  /** SQLAlchemy URL of the database (with a password for servers). */
  url: string;
  /** The password in `url`, to check it never leaks (null for SQLite). */
  password: string | null;
  dialect: Dialect;
  raw: SqlDriver;
  /** Create Airflow's two tables. */
  createTables(): Promise<void>;
  /** Insert one row given as column → value. */
  insert(table: 'connection' | 'variable', row: Record<string, SqlValue>): Promise<void>;
  drop(): Promise<void>;
}

let counter = 0;
const uniqueName = () => `t_${process.pid}_${Date.now().toString(36)}_${++counter}`;

/** The admin URL of a server target, or a thrown error saying why the server is not available. */
export function serverUrl(target: Exclude<TargetName, 'sqlite'>): string {
  const dbs = inject('metastoreDbs');
  const url = target === 'postgres' ? dbs.postgres : dbs.mysql;
  if (!url) {
    const why = dbs.errors[target] ?? dbs.errors.all ?? 'not started';
    throw new Error(`The ${target} test server is not available: ${why}`);
  }
  return url;
}

/**
 * In a test or a `beforeEach`: skip when the target's server is not installed (outside CI only; the
 * reason was printed once by global setup). Under `CI=true` global setup has failed the run already,
 * and this throws. A server that is installed but failed to start is not skipped: its tests fail.
 */
export function skipWithoutServer(ctx: TestContext, target: TargetName): void {
  const why = missingServer(target);
  if (why === null) return;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI=true: ${why}`);
  ctx.skip(`the ${target} test server is not installed`);
}

/** Why the target's server is not installed, or null (SQLite needs none). */
export function missingServer(target: TargetName): string | null {
  if (target === 'sqlite') return null;
  return inject('metastoreDbs').missing?.[target] ?? null;
}

export async function createTestDatabase(target: TargetName): Promise<TestDatabase> {
  let url: string;
  let password: string | null = null;
  let cleanup: () => Promise<void>;
  if (target === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'airflow-secrets-sqlite-'));
    url = `sqlite:///${path.join(dir, 'airflow.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const admin = serverUrl(target);
    const adminUrl = parseSqlAlchemyUrl(admin);
    password = adminUrl.password;
    const name = uniqueName();
    const adminDriver = await openDriver(adminUrl, { poolSize: 1, timeoutMs: 20_000 });
    try {
      await adminDriver.run(
        target === 'postgres' ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} CHARACTER SET utf8mb4`,
      );
    } finally {
      await adminDriver.close();
    }
    url = target === 'postgres' ? admin.replace(/\/postgres$/, `/${name}`) : `${admin}/${name}`;
    cleanup = async () => {
      const d = await openDriver(adminUrl, { poolSize: 1, timeoutMs: 20_000 });
      try {
        await d.run(
          target === 'postgres'
            ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`
            : `DROP DATABASE IF EXISTS ${name}`,
        );
      } finally {
        await d.close();
      }
    };
  }
  const parsed = parseSqlAlchemyUrl(url);
  const raw = await openDriver(parsed, { poolSize: 2, timeoutMs: 20_000, create: true });
  const q = (n: string) => quoteIdent(parsed.dialect, n);
  return {
    url,
    password,
    dialect: parsed.dialect,
    raw,
    async createTables() {
      for (const stmt of createTableStatements(parsed.dialect)) await raw.run(stmt);
    },
    async insert(table, row) {
      const cols = Object.keys(row);
      await raw.run(
        `INSERT INTO ${q(table)} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        Object.values(row),
      );
    },
    async drop() {
      await raw.close();
      await cleanup();
    },
  };
}
