/**
 * The settings object (src/config/settings.ts): read once, deeply frozen, every value with where it
 * came from; sensitive values hidden; errors that name the source; and `origin` on the backends
 * the chain is built from.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { memory } from '../../src/backends/memory.js';
import {
  metastoreSettingsFromEnv,
  readSettings,
  registerBackend,
  resolverFromEnv,
  type Settings,
} from '../../src/config/index.js';
import { ConfigurationError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { Fernet } from '../../src/metastore/fernet.js';
import { rejection } from '../helpers/assertions.js';

const scratch = () => mkdtempSync(path.join(os.tmpdir(), 'af-settings-'));

/** An AIRFLOW_HOME holding this airflow.cfg (none when `cfg` is undefined). */
function home(cfg?: string): string {
  const dir = scratch();
  if (cfg !== undefined) writeFileSync(path.join(dir, 'airflow.cfg'), cfg);
  return dir;
}

async function settingsOf(env: Record<string, string>, cfg?: string): Promise<Settings> {
  const { settings, customBackend } = await readSettings(
    { AIRFLOW_HOME: home(cfg), ...env },
    { logger: silentLogger },
  );
  await customBackend?.close?.();
  return settings;
}

/** A registered backend whose get_config answers from `configs` (for `_SECRET` variants). */
function configBackend(classPath: string, configs: Record<string, string>): void {
  registerBackend(classPath, () => memory({ name: 'cfg-source', configs }));
}

describe('the settings object', () => {
  it('is deeply frozen', async () => {
    const s = await settingsOf({ AIRFLOW__SECRETS__USE_CACHE: 'true' });
    for (const part of [
      s,
      s.cache,
      s.cache.useCache,
      s.cache.ttlSeconds,
      s.backendsOrder,
      s.masker,
      s.metastore,
    ]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(Object.isFrozen(s.backendsOrder.value)).toBe(true);
    expect(() => {
      (s.cache.useCache as { value: boolean }).value = false;
    }).toThrow(TypeError);
    expect(() => {
      (s.backendsOrder.value as string[]).push('custom');
    }).toThrow(TypeError);
    expect(s.cache.useCache.value).toBe(true);
  });

  it('says "default" for everything nobody configured', async () => {
    const s = await settingsOf({});
    expect(s.customBackend).toBeNull();
    expect(s.backendsOrder).toEqual({
      value: ['custom', 'environment_variable', 'metastore'],
      name: 'AIRFLOW__SECRETS__BACKENDS_ORDER',
      source: 'default',
    });
    expect(s.cache.useCache).toMatchObject({ value: false, source: 'default' });
    expect(s.cache.ttlSeconds).toBeNull();
    expect(s.metastore.sqlAlchemyConn.source).toBe('default');
    expect(s.metastore.sqlAlchemyConn.reveal()).toMatch(/^sqlite:\/\/\/.*\/airflow\.db$/);
    expect(s.metastore.fernetKey).toBeNull();
    expect(s.masker).toEqual({ sensitiveVarConnNames: null, minLengthMaskedSecret: null });
    expect((await settingsOf({ AIRFLOW__SECRETS__USE_CACHE: '1' })).cache.ttlSeconds).toEqual({
      value: 900,
      name: 'AIRFLOW__SECRETS__CACHE_TTL_SECONDS',
      source: 'default',
    });
    const { settings } = await readSettings({}, { readAirflowCfg: false });
    expect(settings.airflowHome).toEqual({
      value: path.join(os.homedir(), 'airflow'),
      name: 'AIRFLOW_HOME',
      source: 'default',
    });
    expect(settings.airflowConfig).toBeNull();
  });

  it('names the variable for values from the environment', async () => {
    registerBackend('test.Settings.Env', () => memory());
    const s = await settingsOf({
      AIRFLOW__SECRETS__BACKEND: ' test.Settings.Env ',
      AIRFLOW__SECRETS__BACKEND_KWARGS: '{"a": 1}',
      AIRFLOW__SECRETS__USE_CACHE: 'true',
      AIRFLOW__SECRETS__CACHE_TTL_SECONDS: '60',
      AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES: 'pin,code',
      AIRFLOW__LOGGING__MIN_LENGTH_MASKED_SECRET: '4',
    });
    expect(s.customBackend?.classPath).toEqual({
      value: 'test.Settings.Env',
      name: 'AIRFLOW__SECRETS__BACKEND',
      source: 'AIRFLOW__SECRETS__BACKEND',
    });
    expect(s.customBackend?.kwargs.source).toBe('AIRFLOW__SECRETS__BACKEND_KWARGS');
    expect({ ...s.customBackend?.kwargs.reveal() }).toEqual({ a: 1 });
    expect(s.cache.ttlSeconds).toMatchObject({ value: 60, source: 'AIRFLOW__SECRETS__CACHE_TTL_SECONDS' });
    expect(s.masker.sensitiveVarConnNames).toMatchObject({ value: ['pin', 'code'] });
    expect(s.masker.minLengthMaskedSecret).toMatchObject({
      value: 4,
      source: 'AIRFLOW__LOGGING__MIN_LENGTH_MASKED_SECRET',
    });
  });

  it('names the variable for _CMD and _SECRET variants', async () => {
    configBackend('test.Settings.Secret', { fernet: Fernet.generateKey() });
    const s = await settingsOf({
      AIRFLOW__SECRETS__BACKEND: 'test.Settings.Secret',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: `printf 'sqlite:////tmp/from-cmd.db'`,
      AIRFLOW__CORE__FERNET_KEY_SECRET: 'fernet',
    });
    expect(s.metastore.sqlAlchemyConn.source).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD');
    expect(s.metastore.sqlAlchemyConn.name).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    expect(s.metastore.sqlAlchemyConn.reveal()).toBe('sqlite:////tmp/from-cmd.db');
    expect(s.metastore.fernetKey?.source).toBe('AIRFLOW__CORE__FERNET_KEY_SECRET');
    expect(s.metastore.fernetKey?.reveal()).toHaveLength(44);
  });

  it('names the airflow.cfg key for values from the file, its _cmd and _secret keys too', async () => {
    configBackend('test.Settings.Cfg', { fernet: Fernet.generateKey() });
    const s = await settingsOf(
      {},
      [
        '[secrets]',
        'backend = test.Settings.Cfg',
        `backend_kwargs_cmd = printf '{"b": 2}'`,
        'use_cache = True',
        'cache_ttl_seconds = 30',
        'backends_order = metastore,custom,environment_variable',
        '[database]',
        `sql_alchemy_conn_cmd = printf 'sqlite:////tmp/from-cfg-cmd.db'`,
        '[core]',
        'fernet_key_secret = fernet',
      ].join('\n'),
    );
    expect(s.customBackend?.classPath.source).toBe('airflow.cfg [secrets] backend');
    expect(s.customBackend?.kwargs.source).toBe('airflow.cfg [secrets] backend_kwargs_cmd');
    expect({ ...s.customBackend?.kwargs.reveal() }).toEqual({ b: 2 });
    expect(s.cache.useCache.source).toBe('airflow.cfg [secrets] use_cache');
    expect(s.cache.ttlSeconds).toMatchObject({
      value: 30,
      source: 'airflow.cfg [secrets] cache_ttl_seconds',
    });
    expect(s.backendsOrder).toMatchObject({
      value: ['metastore', 'custom', 'environment_variable'],
      source: 'airflow.cfg [secrets] backends_order',
    });
    expect(s.metastore.sqlAlchemyConn.source).toBe('airflow.cfg [database] sql_alchemy_conn_cmd');
    expect(s.metastore.sqlAlchemyConn.reveal()).toBe('sqlite:////tmp/from-cfg-cmd.db');
    expect(s.metastore.fernetKey?.source).toBe('airflow.cfg [core] fernet_key_secret');
    expect(s.airflowConfig?.value).toMatch(/airflow\.cfg$/);
    expect(s.airflowConfig?.source).toBe('AIRFLOW_HOME');
  });

  it("keeps Airflow's precedence: env > env _CMD > env _SECRET > cfg > cfg _cmd > cfg _secret", async () => {
    configBackend('test.Settings.Order', { env: 'from-env-secret', cfg: 'from-cfg-secret' });
    const all: Record<string, string> = {
      AIRFLOW__CORE__FERNET_KEY: 'from-env',
      AIRFLOW__CORE__FERNET_KEY_CMD: `printf from-env-cmd`,
      AIRFLOW__CORE__FERNET_KEY_SECRET: 'env',
    };
    const cfgLines = [
      'fernet_key = from-cfg',
      `fernet_key_cmd = printf from-cfg-cmd`,
      'fernet_key_secret = cfg',
    ];
    const expected = [
      ['from-env', 'AIRFLOW__CORE__FERNET_KEY'],
      ['from-env-cmd', 'AIRFLOW__CORE__FERNET_KEY_CMD'],
      ['from-env-secret', 'AIRFLOW__CORE__FERNET_KEY_SECRET'],
      ['from-cfg', 'airflow.cfg [core] fernet_key'],
      ['from-cfg-cmd', 'airflow.cfg [core] fernet_key_cmd'],
      ['from-cfg-secret', 'airflow.cfg [core] fernet_key_secret'],
    ];
    const envKeys = Object.keys(all);
    for (let drop = 0; drop < expected.length; drop++) {
      const env = Object.fromEntries(envKeys.slice(drop).map((k) => [k, all[k]!]));
      const cfg = `[core]\n${cfgLines.slice(Math.max(0, drop - 3)).join('\n')}\n`;
      const s = await settingsOf({ AIRFLOW__SECRETS__BACKEND: 'test.Settings.Order', ...env }, cfg);
      expect([s.metastore.fernetKey?.reveal(), s.metastore.fernetKey?.source]).toEqual(expected[drop]);
    }
  });

  it('honours _CMD only for sensitive settings, and reads the legacy [core] sql_alchemy_conn', async () => {
    const s = await settingsOf({
      AIRFLOW__SECRETS__USE_CACHE_CMD: 'printf true',
      AIRFLOW__CORE__SQL_ALCHEMY_CONN: 'sqlite:////tmp/legacy.db',
    });
    expect(s.cache.useCache.source).toBe('default');
    expect(s.metastore.sqlAlchemyConn.name).toBe('AIRFLOW__CORE__SQL_ALCHEMY_CONN');
    expect(s.metastore.sqlAlchemyConn.source).toBe('AIRFLOW__CORE__SQL_ALCHEMY_CONN');
    const blank = await settingsOf({
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: ' ',
      AIRFLOW__CORE__SQL_ALCHEMY_CONN: 'sqlite:////tmp/legacy.db',
    });
    expect(blank.metastore.sqlAlchemyConn.source).toBe('default');
  });

  it('never shows a sensitive value in inspect, JSON or String()', async () => {
    registerBackend('test.Settings.Hidden', () => memory());
    const { settings, customBackend } = await readSettings({
      AIRFLOW_HOME: home(),
      AIRFLOW__SECRETS__BACKEND: 'test.Settings.Hidden',
      AIRFLOW__SECRETS__BACKEND_KWARGS: '{"token": "kw-token-123"}',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql://u:url-pass-456@127.0.0.1/db',
      AIRFLOW__CORE__FERNET_KEY: 'fernet-789',
    });
    await customBackend?.close?.();
    const shown = [
      inspect(settings, { depth: 10, showHidden: true, getters: true }),
      inspect(settings, { depth: 10, customInspect: false }),
      JSON.stringify(settings),
      String(settings.metastore.fernetKey),
      `${settings.metastore.sqlAlchemyConn}`,
    ].join('\n');
    for (const secret of ['kw-token-123', 'url-pass-456', 'fernet-789']) expect(shown).not.toContain(secret);
    expect(shown).toContain('AIRFLOW__CORE__FERNET_KEY');
  });

  it('hands out a fresh copy of the kwargs each time (null prototype, __proto__ kept as data)', async () => {
    registerBackend('test.Settings.Kwargs', () => memory());
    const s = await settingsOf({
      AIRFLOW__SECRETS__BACKEND: 'test.Settings.Kwargs',
      AIRFLOW__SECRETS__BACKEND_KWARGS: '{"__proto__": {"x": 1}, "nested": {"a": 1}}',
    });
    const first = s.customBackend!.kwargs.reveal();
    expect(Object.getPrototypeOf(first)).toBeNull();
    expect(Object.keys(first)).toEqual(['__proto__', 'nested']);
    (first.nested as Record<string, number>).a = 2;
    delete first.nested;
    expect(s.customBackend!.kwargs.reveal().nested).toEqual({ a: 1 });
  });
});

describe('errors name where the setting came from', () => {
  it('cache_ttl_seconds, use_cache and min_length_masked_secret from airflow.cfg', async () => {
    const ttl = await rejection(settingsOf({}, '[secrets]\nuse_cache = true\ncache_ttl_seconds = soon\n'));
    expect(ttl).toBeInstanceOf(ConfigurationError);
    expect((ttl as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__CACHE_TTL_SECONDS');
    expect(ttl.message).toContain('(from airflow.cfg [secrets] cache_ttl_seconds)');
    const use = await rejection(settingsOf({}, '[secrets]\nuse_cache = sometimes\n'));
    expect(use.message).toContain('(from airflow.cfg [secrets] use_cache)');
    const min = await rejection(settingsOf({}, '[logging]\nmin_length_masked_secret = -1\n'));
    expect(min.message).toContain('(from airflow.cfg [logging] min_length_masked_secret)');
  });

  it('says nothing more when the message already names the variable', async () => {
    const err = await rejection(
      settingsOf({ AIRFLOW__SECRETS__USE_CACHE: 'true', AIRFLOW__SECRETS__CACHE_TTL_SECONDS: '-1' }),
    );
    expect(err.message).toBe('AIRFLOW__SECRETS__CACHE_TTL_SECONDS must be a whole number of seconds >= 0');
  });

  it('backends_order and an unknown backend', async () => {
    const order = await rejection(settingsOf({ AIRFLOW__SECRETS__BACKENDS_ORDER: 'custom,vault' }));
    expect(order.message).toContain('unsupported: [vault] (from AIRFLOW__SECRETS__BACKENDS_ORDER)');
    const unknown = await rejection(settingsOf({}, '[secrets]\nbackend = no.such.Backend\n'));
    expect((unknown as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__BACKEND');
    expect(unknown.message).toContain(
      "Unknown secrets backend 'no.such.Backend' in AIRFLOW__SECRETS__BACKEND (from airflow.cfg [secrets] backend)",
    );
  });

  it('a metastore URL from a cfg _cmd key, and a Fernet key from a _CMD variable', async () => {
    const url = await rejection(
      resolverFromEnv({
        AIRFLOW_HOME: home(`[database]\nsql_alchemy_conn_cmd = printf 'oracle://u:pw-1@h/d'\n`),
      }),
    );
    expect((url as ConfigurationError).setting).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    expect(url.message).toContain('(from airflow.cfg [database] sql_alchemy_conn_cmd)');
    expect(url.message).not.toContain('pw-1');
    const file = path.join(scratch(), 'airflow.db');
    const r = await resolverFromEnv(
      {
        AIRFLOW_HOME: home(),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${file}`,
        AIRFLOW__CORE__FERNET_KEY_CMD: 'printf not-a-key',
      },
      { logger: silentLogger, onBackendError: 'throw' },
    );
    const metastore = r.backends.find((b) => b.name === 'metastore') as SecretsBackend & {
      setVariable(k: string, v: string): Promise<void>;
    };
    const key = await rejection(metastore.setVariable('k', 'v'));
    expect((key as ConfigurationError).setting).toBe('AIRFLOW__CORE__FERNET_KEY');
    expect(key.message).toContain('(from AIRFLOW__CORE__FERNET_KEY_CMD)');
    expect(key.message).not.toContain('not-a-key');
    await r.close();
  });
});

describe('origin on the backends of the chain', () => {
  it('says where each backend was configured', async () => {
    registerBackend('test.Origin', () => memory({ name: 'custom' }));
    const r = await resolverFromEnv({
      AIRFLOW_HOME: home(),
      AIRFLOW__SECRETS__BACKEND: 'test.Origin',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${path.join(scratch(), 'a.db')}`,
    });
    expect(r.backends.map((b) => [b.name, b.origin])).toEqual([
      ['custom', 'AIRFLOW__SECRETS__BACKEND'],
      ['environment', 'default chain'],
      ['metastore', 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'],
    ]);
    await r.close();
    const fromCfg = await resolverFromEnv({
      AIRFLOW_HOME: home('[secrets]\nbackend = test.Origin\n'),
      AIRFLOW__CORE__SQL_ALCHEMY_CONN: `sqlite:///${path.join(scratch(), 'b.db')}`,
    });
    expect(fromCfg.backends.map((b) => b.origin)).toEqual([
      'airflow.cfg [secrets] backend',
      'default chain',
      'AIRFLOW__CORE__SQL_ALCHEMY_CONN',
    ]);
    await fromCfg.close();
    const plain = await resolverFromEnv({ AIRFLOW_HOME: home() });
    expect(plain.backends.map((b) => b.origin)).toEqual(['default chain', 'default chain']);
  });

  it("keeps a factory's own origin and leaves a frozen backend as it is", async () => {
    registerBackend('test.OwnOrigin', () => ({ ...memory({ name: 'own' }), origin: 'my factory' }));
    const own = await resolverFromEnv({ AIRFLOW_HOME: home(), AIRFLOW__SECRETS__BACKEND: 'test.OwnOrigin' });
    expect(own.backends[0]?.origin).toBe('my factory');
    registerBackend('test.Frozen', () => Object.freeze(memory({ name: 'frozen' })));
    const frozen = await resolverFromEnv({ AIRFLOW_HOME: home(), AIRFLOW__SECRETS__BACKEND: 'test.Frozen' });
    expect(frozen.backends[0]?.name).toBe('frozen');
    expect(frozen.backends[0]?.origin).toBeUndefined();
  });

  it('closes a custom backend the chain leaves out, or that a later setting makes useless', async () => {
    let closed = 0;
    registerBackend('test.Closed', () => ({
      ...memory({ name: 'closed' }),
      close: async () => void closed++,
    }));
    const r = await resolverFromEnv({
      AIRFLOW_HOME: home(),
      AIRFLOW__SECRETS__BACKEND: 'test.Closed',
      AIRFLOW__SECRETS__BACKENDS_ORDER: 'environment_variable,metastore',
    });
    expect(r.backends.map((b) => b.name)).toEqual(['environment', 'metastore']);
    expect(closed).toBe(1);
    await rejection(
      resolverFromEnv({
        AIRFLOW_HOME: home(),
        AIRFLOW__SECRETS__BACKEND: 'test.Closed',
        AIRFLOW__SECRETS__BACKENDS_ORDER: 'custom',
      }),
    );
    expect(closed).toBe(2);
  });
});

describe('metastoreSettingsFromEnv (the CLI writes)', () => {
  it('reads only the metastore settings: no custom backend, no backend_kwargs command', async () => {
    const marker = path.join(scratch(), 'ran');
    const s = await metastoreSettingsFromEnv({
      AIRFLOW_HOME: home('[database]\nsql_alchemy_conn = sqlite:////tmp/cfg.db\n'),
      AIRFLOW__SECRETS__BACKEND: 'no.such.Backend',
      AIRFLOW__SECRETS__BACKEND_KWARGS_CMD: `touch ${marker}`,
      AIRFLOW__SECRETS__USE_CACHE: 'nonsense',
      AIRFLOW__CORE__FERNET_KEY_CMD: 'printf k',
    });
    expect(existsSync(marker)).toBe(false);
    expect(s).toMatchObject({
      sqlAlchemyConn: 'sqlite:////tmp/cfg.db',
      urlSetting: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN',
      urlSource: 'airflow.cfg [database] sql_alchemy_conn',
      fernetKey: 'k',
      fernetKeySource: 'AIRFLOW__CORE__FERNET_KEY_CMD',
    });
  });
});
