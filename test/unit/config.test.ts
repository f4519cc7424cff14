import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { memory } from '../../src/backends/memory.js';
import {
  airflowHome,
  backendFromClassPath,
  cacheFromEnv,
  knownBackends,
  registerBackend,
  resolverFromEnv,
  shlexSplit,
} from '../../src/config/index.js';
import { ConfigurationError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  return { lines, debug: push, warn: push, error: push };
}

function scratch(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'af-config-'));
}

/** An environment with AIRFLOW_HOME in an empty scratch dir (so the default metastore finds no DB). */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { AIRFLOW_HOME: scratch(), ...extra };
}

describe('resolverFromEnv: the chain Airflow builds', () => {
  it('is environment then metastore when no custom backend is set', async () => {
    const r = await resolverFromEnv(baseEnv({ AIRFLOW_VAR_GREETING: 'hi' }));
    expect(r.backends.map((b) => b.name)).toEqual(['environment', 'metastore']);
    expect(await r.getVariable('greeting')).toBe('hi');
    expect(await r.getVariable('missing')).toBeNull();
    await r.close();
  });

  it('puts the custom backend first, built from its class path and snake_case kwargs', async () => {
    const dir = scratch();
    const file = path.join(dir, 'variables.json');
    writeFileSync(file, JSON.stringify({ greeting: 'from-file' }), { mode: 0o600 });
    const r = await resolverFromEnv(
      baseEnv({
        AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ variables_file_path: file }),
        AIRFLOW_VAR_GREETING: 'from-env',
      }),
    );
    expect(r.backends.map((b) => b.name)).toEqual(['local-filesystem', 'environment', 'metastore']);
    expect(await r.getVariable('greeting')).toBe('from-file');
    await r.close();
  });

  it('rejects an unknown backend class path with a ConfigurationError listing the known ones', async () => {
    const err = await resolverFromEnv(
      baseEnv({ AIRFLOW__SECRETS__BACKEND: 'my.company.SecretsBackend' }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe('AIRFLOW__SECRETS__BACKEND');
    expect((err as Error).message).toContain('my.company.SecretsBackend');
    expect((err as Error).message).toContain('airflow.providers.hashicorp.secrets.vault.VaultBackend');
  });

  it('warns and uses no kwargs when BACKEND_KWARGS is not JSON, and still builds the backend', async () => {
    const log = capture();
    registerBackend('test.KwargsEcho', (kwargs) => memory({ name: `echo:${Object.keys(kwargs).length}` }));
    const r = await resolverFromEnv(
      baseEnv({
        AIRFLOW__SECRETS__BACKEND: 'test.KwargsEcho',
        AIRFLOW__SECRETS__BACKEND_KWARGS: '{not json',
      }),
      { logger: log },
    );
    expect(r.backends[0]?.name).toBe('echo:0');
    expect(log.lines.join('\n')).toContain('AIRFLOW__SECRETS__BACKEND_KWARGS');
    expect(log.lines.join('\n')).toContain('as JSON');
    const log2 = capture();
    await resolverFromEnv(
      baseEnv({ AIRFLOW__SECRETS__BACKEND: 'test.KwargsEcho', AIRFLOW__SECRETS__BACKEND_KWARGS: '[1, 2]' }),
      { logger: log2 },
    );
    expect(log2.lines.join('\n')).toContain('into a dict');
  });

  it('passes kwargs through as plain data, __proto__ keys included', async () => {
    let seen: Record<string, unknown> = {};
    registerBackend('test.Capture', (kwargs) => {
      seen = kwargs;
      return memory();
    });
    await resolverFromEnv(
      baseEnv({
        AIRFLOW__SECRETS__BACKEND: 'test.Capture',
        AIRFLOW__SECRETS__BACKEND_KWARGS: '{"__proto__": {"polluted": true}, "a": 1}',
      }),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(seen.a).toBe(1);
    expect(Object.keys(seen)).toContain('__proto__');
  });

  it('runs a _CMD variant of a sensitive setting (shlex-split, no shell)', async () => {
    let seen: Record<string, unknown> = {};
    registerBackend('test.Cmd', (kwargs) => {
      seen = kwargs;
      return memory();
    });
    await resolverFromEnv(
      baseEnv({
        AIRFLOW__SECRETS__BACKEND: 'test.Cmd',
        AIRFLOW__SECRETS__BACKEND_KWARGS_CMD: `printf '%s\\n' '{"from": "cmd"}'`,
      }),
    );
    expect(seen).toEqual({ from: 'cmd' });
  });

  it('reports a failing _CMD by setting and exit code, never its output', async () => {
    const err = await resolverFromEnv(
      baseEnv({
        AIRFLOW__SECRETS__BACKEND: 'test.Cmd',
        AIRFLOW__SECRETS__BACKEND_KWARGS_CMD: `sh -c 'echo topsecret; exit 3'`,
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toContain('AIRFLOW__SECRETS__BACKEND_KWARGS_CMD');
    expect((err as Error).message).toContain('3');
    expect((err as Error).message).not.toContain('topsecret');
  });

  it('ignores _CMD for settings Airflow does not mark sensitive', async () => {
    const r = await resolverFromEnv(baseEnv({ AIRFLOW__SECRETS__BACKEND_CMD: 'echo nope' }));
    expect(r.backends.map((b) => b.name)).toEqual(['environment', 'metastore']);
  });

  it('resolves a _SECRET variant through the custom backend get_config', async () => {
    const asked: string[] = [];
    registerBackend('test.Config', () => {
      const b: SecretsBackend = memory({ name: 'cfg' });
      return {
        ...b,
        async getConfig(key: string) {
          asked.push(key);
          return key === 'fernet' ? 'not-a-valid-key-but-read' : null;
        },
      };
    });
    const r = await resolverFromEnv(
      baseEnv({ AIRFLOW__SECRETS__BACKEND: 'test.Config', AIRFLOW__CORE__FERNET_KEY_SECRET: 'fernet' }),
    ).catch((e: unknown) => e);
    expect(asked).toEqual(['fernet']);
    // The value was read through the backend; whatever the metastore makes of it, it never shows it.
    expect(String((r as Error).message ?? '')).not.toContain('not-a-valid-key-but-read');
  });

  it('accepts the short names too', async () => {
    const b = await backendFromClassPath(
      'environment',
      {},
      { env: { AIRFLOW_VAR_X: '1' }, logger: capture() },
    );
    expect(await b.getVariable('x')).toBe('1');
    expect(knownBackends()).toContain('aws-secrets-manager');
    expect(knownBackends()).toContain(
      'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
    );
  });

  it('honours AIRFLOW__SECRETS__BACKENDS_ORDER and rejects bad values', async () => {
    const r = await resolverFromEnv(
      baseEnv({ AIRFLOW__SECRETS__BACKENDS_ORDER: 'metastore,environment_variable' }),
    );
    expect(r.backends.map((b) => b.name)).toEqual(['metastore', 'environment']);
    await expect(
      resolverFromEnv(baseEnv({ AIRFLOW__SECRETS__BACKENDS_ORDER: 'custom,vault' })),
    ).rejects.toThrow(/unsupported: \[vault\]/);
    await expect(
      resolverFromEnv(baseEnv({ AIRFLOW__SECRETS__BACKENDS_ORDER: 'custom,metastore' })),
    ).rejects.toThrow(/missing: \[environment_variable\]/);
  });
});

describe('cache settings', () => {
  it('is off unless AIRFLOW__SECRETS__USE_CACHE is true; TTL defaults to 900 s', () => {
    expect(cacheFromEnv({})).toBe(false);
    expect(cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'False' })).toBe(false);
    expect(cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'True' })).toEqual({ ttl: 900 });
    expect(
      cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: '1', AIRFLOW__SECRETS__CACHE_TTL_SECONDS: '60' }),
    ).toEqual({
      ttl: 60,
    });
  });

  it('rejects nonsense with a ConfigurationError naming the setting', () => {
    expect(() => cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'sometimes' })).toThrow(
      /AIRFLOW__SECRETS__USE_CACHE/,
    );
    for (const bad of ['-5', 'ten', '1.5', '1e3']) {
      expect(() =>
        cacheFromEnv({ AIRFLOW__SECRETS__USE_CACHE: 'true', AIRFLOW__SECRETS__CACHE_TTL_SECONDS: bad }),
      ).toThrow(/AIRFLOW__SECRETS__CACHE_TTL_SECONDS/);
    }
  });
});

describe('helpers', () => {
  it('splits commands like Python shlex.split', () => {
    expect(shlexSplit(`cat "/etc/my file" 'a b' c\\ d`)).toEqual(['cat', '/etc/my file', 'a b', 'c d']);
    expect(shlexSplit(`echo "a\\"b" ''`)).toEqual(['echo', 'a"b', '']);
    expect(() => shlexSplit(`echo "open`)).toThrow();
  });

  it('defaults AIRFLOW_HOME to ~/airflow', () => {
    expect(airflowHome({})).toBe(path.join(os.homedir(), 'airflow'));
    expect(airflowHome({ AIRFLOW_HOME: '/opt/airflow' })).toBe('/opt/airflow');
  });
});

describe('masker settings', () => {
  it('honours [core] sensitive_var_conn_names and [logging] min_length_masked_secret', async () => {
    const { redact, resetMasker } = await import('../../src/masker.js');
    try {
      const r = await resolverFromEnv(
        baseEnv({
          AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES: 'pin_code',
          AIRFLOW__LOGGING__MIN_LENGTH_MASKED_SECRET: '3',
          AIRFLOW_VAR_PIN_CODE: '4321',
          AIRFLOW_VAR_COLOR: 'turquoise',
        }),
      );
      expect(await r.getVariable('pin_code')).toBe('4321');
      expect(await r.getVariable('color')).toBe('turquoise');
      expect(redact('pin 4321, color turquoise')).toBe('pin ***, color turquoise');
      await expect(
        resolverFromEnv(baseEnv({ AIRFLOW__LOGGING__MIN_LENGTH_MASKED_SECRET: 'x' })),
      ).rejects.toThrow(/MIN_LENGTH_MASKED_SECRET/);
    } finally {
      resetMasker();
    }
  });
});
