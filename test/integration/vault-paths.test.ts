/**
 * Which KV paths the Vault adapter reads, in order, against vectors computed by re-implementing the
 * newest hashicorp provider (test/fixtures/vault/make_vault_path_vectors.py): the two-step split of
 * ids starting with `/` when `mount_point` is null or `""`, path lists (PR #70006), and multi-team
 * paths with `use_team_secrets_path` / `global_secrets_path` (PR #65493). Real node-vault, fake Vault.
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
  reads: string[];
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

describe('Vault paths as the newest provider reads them', () => {
  it.each(VECTORS.map((v) => [JSON.stringify([v.kwargs, v.kind, v.id, v.team, v.multi_team]), v] as const))(
    '%s',
    async (_, v) => {
      expect(await lookup(build(v), v)).toBeNull();
      expect(fake.reads()).toEqual(v.reads);
      const where = build(v).locate(v.kind, v.id);
      if (v.reads.length) expect(where).toEqual({ name: expect.any(String) });
      else expect(where).toEqual({ skip: expect.any(String) });
    },
  );

  it('stops at the first path that has the secret (team path before the global one)', async () => {
    const v = VECTORS.find((x) => x.reads.length === 4)!;
    const [, second] = v.reads;
    const [mount, , ...rest] = second!.split('/');
    fake.put(mount!, rest.join('/'), { conn_uri: 'postgres://found/db' });
    const b = build(v);
    expect((await b.getConnection(v.id))?.host).toBe('found');
    expect(fake.reads()).toEqual(v.reads.slice(0, 2));
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
