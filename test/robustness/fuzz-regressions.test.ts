/**
 * Every input the fuzz campaign (`npm run fuzz`, fuzz/) reported is kept in fuzz/regressions/<target>/
 * and replayed here through the same checks, in the test suite. The findings and their fixes are
 * listed in docs/reliability.md ("Fuzzing"); each also has a focused test (yaml-limits, masker-scale).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection.js';
import { isAirflowSecretsError } from '../../src/errors.js';
import { maskSecret, resetMasker } from '../../src/masker.js';
import { parseSqlAlchemyUrl } from '../../src/metastore/url.js';
import { parsePythonYaml } from '../../src/python-yaml.js';

const root = path.resolve(import.meta.dirname, '../../fuzz/regressions');
const inputs = (target: string) =>
  readdirSync(path.join(root, target)).map((f) => [f, readFileSync(path.join(root, target, f))] as const);

describe('fuzz findings stay fixed', () => {
  it.each(inputs('yaml'))('yaml %s: a result, and a value of bounded size', (_name, data) => {
    const r = parsePythonYaml(data.toString('utf8'));
    if (r.ok) expect(JSON.stringify(r.value).length).toBeLessThan(50_000_000);
    else expect(r.message).toMatch(/\([A-Z_]+\)$/);
  });

  it.each(inputs('connection-uri'))(
    'connection-uri %s: printed at once with a full masker registry',
    (_name, data) => {
      resetMasker();
      for (let i = 0; i < 10_000; i++) maskSecret(`registered-${i}-${(i * 7919) % 10007}-secret`);
      for (let round = 0; round < 50; round++) {
        let c: Connection | undefined;
        try {
          c = Connection.fromUri(`${data.toString('utf8')}${round}`, 'fuzz');
        } catch (e) {
          expect(isAirflowSecretsError(e)).toBe(true);
          continue;
        }
        String(c);
        JSON.stringify(c);
      }
      resetMasker();
    },
  );

  it.each(inputs('sqlalchemy-url'))('sqlalchemy-url %s: a URL or a typed error', (_name, data) => {
    try {
      parseSqlAlchemyUrl(data.toString('utf8'), 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', '/tmp');
    } catch (e) {
      expect(isAirflowSecretsError(e)).toBe(true);
    }
  });

  it('a query key named like an Object.prototype member is an ordinary key', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const url = parseSqlAlchemyUrl(`postgresql://h/db?${key}=1&sslmode=require`, 'S', '/tmp');
      expect(url.dialect).toBe('postgresql');
      expect(url.query[key]).toEqual(['1']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });
});
