/**
 * Airflow's `*_lookup_pattern` kwargs (Secrets Manager, SSM, and the Vault adapter's extension) end
 * to end through the adapters: the answers CPython's `re.match(pattern, id, re.IGNORECASE)` gives
 * (test/fixtures/naming/lookup-pattern-vectors.json, made by make_lookup_pattern_vectors.py), and
 * Airflow's laziness: a pattern compiles on the first lookup of its kind, so a bad one fails only
 * the lookups of that kind, with a ConfigurationError naming the kwarg, logged once.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdapterContext, SecretsBackend } from '../../src/backend.js';
import * as sm from '../../src/backends/aws-secrets-manager/index.js';
import * as ssm from '../../src/backends/aws-ssm/index.js';
import * as vault from '../../src/backends/hashicorp-vault/index.js';
import { ConfigurationError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { rejection } from '../helpers/assertions.js';
import { awsFakeOptions } from '../helpers/aws-fixture.js';

interface Vector {
  pattern: string;
  needs_pyre: boolean;
  needs_pyre_ids: string[];
  error?: string;
  matches?: Record<string, boolean>;
}
const DATA = JSON.parse(
  readFileSync(new URL('../fixtures/naming/lookup-pattern-vectors.json', import.meta.url), 'utf8'),
) as { python: string; vectors: Vector[] };

function logs() {
  const lines: { level: string; message: string }[] = [];
  const logger: Logger = {
    debug: (message) => lines.push({ level: 'debug', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
  };
  return { logger, lines };
}
const ctx = (logger: Logger = logs().logger): AdapterContext => ({ env: {}, logger });

/** Each adapter built from Airflow's kwargs with `variables_lookup_pattern` set. */
const ADAPTERS: [string, (kw: Record<string, unknown>, c: AdapterContext) => SecretsBackend][] = [
  ['SecretsManagerBackend', (kw, c) => sm.fromAirflowKwargs({ region_name: 'us-east-1', ...kw }, c)],
  [
    'SystemsManagerParameterStoreBackend',
    (kw, c) => ssm.fromAirflowKwargs({ region_name: 'us-east-1', ...kw }, c),
  ],
  ['VaultBackend', (kw, c) => vault.fromAirflowKwargs({ token: 't', ...kw }, c)],
];

// Every vector runs through src/pyre (`needs_pyre` marks the constructs a plain JS RegExp gets wrong).
const READY = DATA.vectors;

describe(`lookup patterns as CPython ${DATA.python} matches them`, () => {
  it('the vectors cover the constructs issue 12 names', () => {
    const pending = DATA.vectors.filter((v) => v.needs_pyre).map((v) => v.pattern);
    for (const construct of [
      '(?i)',
      '(?s)',
      '(?x)',
      '(?a)',
      '(?m)',
      '(?i:',
      '\\A',
      '\\Z',
      '{,',
      '(?>',
      '++',
    ]) {
      expect(pending.some((p) => p.includes(construct))).toBe(true);
    }
    expect(READY.filter((v) => v.error).length).toBeGreaterThanOrEqual(3);
  });

  for (const [name, build] of ADAPTERS) {
    for (const v of READY.filter((x) => x.matches)) {
      it(`${name}: ${JSON.stringify(v.pattern)}`, () => {
        const b = build({ variables_lookup_pattern: v.pattern }, ctx());
        const ids = Object.keys(v.matches!);
        const got = Object.fromEntries(ids.map((id) => [id, 'name' in b.locate('variable', id)]));
        expect(got).toEqual(Object.fromEntries(ids.map((id) => [id, v.matches![id]])));
      });
    }
    for (const v of READY.filter((x) => x.error)) {
      it(`${name}: ${JSON.stringify(v.pattern)} fails only variable lookups, lazily`, () => {
        const log = logs();
        const b = build({ variables_lookup_pattern: v.pattern }, ctx(log.logger));
        expect(log.lines).toEqual([]);
        expect('name' in b.locate('connection', 'db')).toBe(true);
        let err: unknown;
        try {
          b.locate('variable', 'db');
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ConfigurationError);
        expect((err as ConfigurationError).setting).toBe(
          'AIRFLOW__SECRETS__BACKEND_KWARGS.variables_lookup_pattern',
        );
        expect(() => b.locate('variable', 'other')).toThrow(ConfigurationError);
        expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(1);
        expect(log.lines[0]!.message).toContain('variables_lookup_pattern');
      });
    }
  }
});

describe('laziness on the wire (Secrets Manager fake)', () => {
  let fake: AwsFake;
  beforeAll(async () => {
    fake = await startAwsFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('an invalid config_lookup_pattern does not break variable or connection lookups', async () => {
    fake.secrets.set('airflow/variables/region', 'eu-west-1');
    fake.secrets.set('airflow/connections/db', 'postgres://h/d');
    fake.secrets.set('airflow/config/sql_alchemy_conn', 'sqlite://');
    const log = logs();
    const b = sm.awsSecretsManager({
      ...awsFakeOptions(fake),
      configLookupPattern: '([',
      logger: log.logger,
    });
    expect(await b.getVariable('region')).toBe('eu-west-1');
    expect((await b.getConnection('db'))?.host).toBe('h');
    const err = await rejection(b.getConfig!('sql_alchemy_conn'));
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(err.message).toContain('config_lookup_pattern');
    expect(err.message).toContain('regular expression');
    await expect(b.getConfig!('other')).rejects.toBeInstanceOf(ConfigurationError);
    expect(fake.requestsFor('secretsmanager.GetSecretValue').map((r) => r.body.SecretId)).toEqual([
      'airflow/variables/region',
      'airflow/connections/db',
    ]);
    expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('a construct with no JavaScript equivalent fails only its kind, naming the construct', () => {
    const b = sm.fromAirflowKwargs(
      {
        region_name: 'us-east-1',
        variables_lookup_pattern: '(a+)\\1',
        connections_lookup_pattern: '(?i)db_',
      },
      ctx(),
    );
    expect(b.locate('connection', 'DB_orders')).toEqual({ name: 'airflow/connections/DB_orders' });
    let err: unknown;
    try {
      b.locate('variable', 'aa');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(
      'AIRFLOW__SECRETS__BACKEND_KWARGS.variables_lookup_pattern',
    );
    expect((err as Error).message).toMatch(
      /backreference to group 1 at position 4 has no JavaScript equivalent/,
    );
  });
});
