/**
 * Which KV paths the Vault adapter reads, in order, and what it returns, against vectors computed by
 * re-implementing the merged hashicorp provider (apache/airflow `secrets/vault.py` at 1091f38d, see
 * test/fixtures/vault/make_vault_path_vectors.py): the two-step split of ids starting with `/` when
 * `mount_point` is null or `""`, path lists (PR #70006), `global_secrets_path` as one more base path
 * for every kind, and multi-team paths `<base>/<team>` with no fallback (PR #65493). The first path
 * holding a secret ends the lookup. Real node-vault, fake Vault.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromAirflowKwargs } from '../../src/backends/hashicorp-vault/index.js';
import { ConfigurationError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { silentLogger } from '../../src/logger.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';

interface Vector {
  kwargs: Record<string, unknown>;
  kind: 'connection' | 'variable' | 'config';
  id: string;
  team: string | null;
  multi_team: boolean;
  store?: Record<string, Record<string, unknown>>;
  reads: string[];
  result: string | null;
}
const VECTORS = (
  JSON.parse(readFileSync(new URL('../fixtures/vault/vault-path-vectors.json', import.meta.url), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;

let fake: VaultFake;
beforeAll(async () => {
  fake = await startVaultFake();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const build = (v: Vector, logger: Logger = silentLogger) =>
  fromAirflowKwargs(
    { url: fake.url, token: fake.rootToken, ...v.kwargs },
    { env: {}, logger, multiTeam: v.multi_team, ...(v.team !== null ? { team: v.team } : {}) },
  );

const lookup = (b: ReturnType<typeof build>, v: Vector) =>
  v.kind === 'connection'
    ? b.getConnection(v.id)
    : v.kind === 'variable'
      ? b.getVariable(v.id)
      : b.getConfig!(v.id);

/** The stored value as the adapter hands it over: a connection's URI (the vectors store `conn_uri`s). */
const got = async (b: ReturnType<typeof build>, v: Vector) => {
  const r = await lookup(b, v);
  return r !== null && typeof r === 'object' ? (r as { getUri(): string }).getUri() : r;
};

describe('Vault paths as the merged provider reads them', () => {
  it.each(
    VECTORS.filter((v) => !v.store).map(
      (v) => [JSON.stringify([v.kwargs, v.kind, v.id, v.team, v.multi_team]), v] as const,
    ),
  )('%s', async (_, v) => {
    expect(await lookup(build(v), v)).toBeNull();
    expect(fake.reads()).toEqual(v.reads);
    const where = build(v).locate(v.kind, v.id);
    if (v.reads.length) expect(where).toEqual({ name: expect.any(String) });
    else expect(where).toEqual({ skip: expect.any(String) });
  });

  it.each(
    VECTORS.filter((v) => v.store).map(
      (v) => [JSON.stringify([v.kwargs, v.kind, v.team, v.store]), v] as const,
    ),
  )('the first path holding a secret ends the lookup: %s', async (_, v) => {
    for (const [read, data] of Object.entries(v.store!)) {
      const [mount, , ...rest] = read.split('/');
      fake.put(mount!, rest.join('/'), data);
    }
    const value = await got(build(v), v);
    if (v.kind === 'connection' && v.result !== null) expect(value).toMatch(new URL(v.result).host);
    else expect(value).toBe(v.result);
    expect(fake.reads()).toEqual(v.reads);
  });

  it("id '/lead' with mount_point null reads mount 'connections', path 'lead'", async () => {
    fake.mount('connections', 2);
    fake.put('connections', 'lead', { conn_uri: 'mysql://lead-host/x' });
    const b = fromAirflowKwargs(
      { url: fake.url, token: fake.rootToken, mount_point: null },
      { env: {}, logger: silentLogger },
    );
    expect((await b.getConnection('/lead'))?.host).toBe('lead-host');
    expect(b.locate('connection', '/lead')).toEqual({ name: 'connections/lead' });
  });

  it('global_secrets_path is deprecated upstream: a warning says so', () => {
    const lines: string[] = [];
    const logger: Logger = { debug() {}, error() {}, warn: (m) => lines.push(m) };
    fromAirflowKwargs({ url: fake.url, token: 't', global_secrets_path: 'g' }, { env: {}, logger });
    expect(lines.some((m) => m.includes('global_secrets_path is deprecated'))).toBe(true);
  });

  it.each([
    [{ connections_path: [1] }, 'connections_path'],
    [{ variables_path: { a: 1 } }, 'variables_path'],
    [{ use_team_secrets_path: 'yes' }, 'use_team_secrets_path'],
    [{ global_secrets_path: 3 }, 'global_secrets_path'],
  ])('bad kwargs %j: ConfigurationError naming %s', (kw, key) => {
    let err: unknown;
    try {
      fromAirflowKwargs({ url: fake.url, token: 't', ...kw }, { env: {}, logger: silentLogger });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
  });
});
