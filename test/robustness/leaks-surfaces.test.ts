/**
 * Leak audit of the printable surfaces other than error causes: the CLI's writes (`connections add`
 * with bad input), `Connection` printing edge cases, and the log lines of failing lookups with debug
 * logging on. No planted secret may appear.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { main } from '../../src/cli/main.js';
import { Connection } from '../../src/connection.js';
import { AccessDeniedError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { createResolver } from '../../src/resolver/index.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';

const PW = 'cli-passw0rd-planted-6620';

describe('CLI connections add never echoes a value', () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(path.join(tmpdir(), 'leaks-cli-'));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const io = {
      env: { AIRFLOW_HOME: home },
      out: (s: string) => lines.push(s),
      err: (s: string) => lines.push(s),
    };
    const code = await main(argv, io);
    return { code, text: lines.join('\n') };
  };

  it('an invalid --conn-uri (bad port, three ://, not a URI) is refused without quoting it', async () => {
    for (const uri of [
      `postgres://user:${PW}/db`,
      `postgres://user:${PW}@h://x://y`,
      `not a uri ${PW}`,
      `postgres://user:${PW}@[::1/db`,
    ]) {
      const r = await run('connections', 'add', 'c1', '--conn-uri', uri);
      expect(r.code).toBe(2);
      expect(r.text).not.toContain(PW);
      expect(r.text).toMatch(/invalid|Invalid/);
    }
  });

  it('--conn-password, --conn-json and --conn-extra values are not printed on success or failure', async () => {
    const ok = await run('connections', 'add', 'c2', '--conn-type', 'postgres', '--conn-password', PW);
    expect(ok.code).toBe(0);
    expect(ok.text).not.toContain(PW);
    const badJson = await run(
      'connections',
      'add',
      'c3',
      '--conn-json',
      `{"conn_type":"x","password":"${PW}"`,
    );
    expect(badJson.code).toBe(2);
    expect(badJson.text).toContain('InvalidConnectionError');
    expect(badJson.text).not.toContain(PW);
    const badExtra = await run(
      'connections',
      'add',
      'c4',
      '--conn-type',
      'x',
      '--conn-extra',
      `{"token": "${PW}"`,
    );
    expect(badExtra.code).toBe(2);
    expect(badExtra.text).not.toContain(PW);
  });
});

describe('Connection printing edge cases', () => {
  const conn = new Connection({
    id: 'c',
    type: 'http',
    host: 'h',
    login: 'alice',
    description: 'the shared api',
    password: PW,
    extra: {
      endpoints: [
        { client_secret: 'extra-s3cret-in-array-1' },
        { name: 'x', aws_secret_access_key: 'AKIAsecret-2' },
      ],
      auth: { token: { nested: 'deep-token-value-3' } },
      keep: 'visible',
    },
  });
  const hidden = [PW, 'extra-s3cret-in-array-1', 'AKIAsecret-2', 'deep-token-value-3'];

  it('no printed form shows the password or sensitive extras nested in arrays and objects', () => {
    const forms = [
      JSON.stringify(conn),
      String(conn),
      inspect(conn, { depth: Infinity, showHidden: true }),
      inspect(conn, { depth: Infinity, showHidden: true, customInspect: false }),
      inspect({ wrapped: [conn] }, { depth: Infinity }),
      JSON.stringify(structuredClone(conn)),
      JSON.stringify({ ...conn }),
    ];
    for (const f of forms) for (const s of hidden) expect(f).not.toContain(s);
    // Login, description and non-sensitive extras are not secrets and stay readable.
    expect(JSON.stringify(conn)).toContain('alice');
    expect(JSON.stringify(conn)).toContain('the shared api');
    expect(JSON.stringify(conn)).toContain('visible');
    expect(conn.getUri()).toContain(PW);
  });
});

describe('log lines of failing lookups, debug on', () => {
  let fake: VaultFake;
  const saved = process.env.AIRFLOW_SECRETS_DEBUG;
  beforeAll(async () => {
    fake = await startVaultFake();
    process.env.AIRFLOW_SECRETS_DEBUG = '1';
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    if (saved === undefined) delete process.env.AIRFLOW_SECRETS_DEBUG;
    else process.env.AIRFLOW_SECRETS_DEBUG = saved;
    await fake.close();
  });

  it('login refused, 403, sealed and bad stored values: warnings name ids and kinds only', async () => {
    const lines: string[] = [];
    const push = (level: string) => (m: string, f?: Record<string, unknown>) =>
      void lines.push(`${level} ${m} ${JSON.stringify(f ?? {})}`);
    const logger: Logger = { debug: push('debug'), warn: push('warn'), error: push('error') };
    const SECRET_ID = 'approle-secret-planted-4410';
    fake.put('secret', 'connections/bad', { conn_uri: `postgres://u:${PW}/db` });
    fake.put('secret', 'variables/ok', { value: 'ok-value-planted-0001' });
    const approle = hashicorpVault({
      url: fake.url,
      authType: 'approle',
      roleId: fake.credentials.approle.roleId,
      secretId: SECRET_ID,
      logger,
    });
    const token = hashicorpVault({ url: fake.url, token: fake.rootToken, logger });
    const r = createResolver({ backends: [approle, token], logger });
    expect(await r.getConnection('bad')).toBeNull();
    expect(await r.getVariable('ok')).toBe('ok-value-planted-0001');
    fake.denied.add('secret/data/variables/denied');
    const strict = createResolver({ backends: [token], logger, onBackendError: 'throw' });
    await expect(strict.getVariable('denied')).rejects.toBeInstanceOf(AccessDeniedError);
    const text = lines.join('\n');
    expect(text).toMatch(/MalformedSecretError.*'bad'|'bad'.*MalformedSecretError/);
    for (const s of [PW, SECRET_ID, fake.rootToken, 'ok-value-planted-0001']) expect(text).not.toContain(s);
  });
});
