/**
 * Hostile input across the library: environment names and values, `.env`/JSON/YAML files, kwargs
 * objects, extras and JSON secrets. Whatever comes in, the answer is a value or one of our typed
 * errors; no key can reach `Object.prototype`; no error quotes a secret; very long inputs finish
 * (the per-test timeout is the bound); ids longer than Airflow's limit never reach a backend.
 */

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { environmentVariables, envVarName } from '../../src/backends/environment.js';
import {
  loadConfigs,
  loadConnections,
  loadVariables,
  localFilesystem,
} from '../../src/backends/local-filesystem/index.js';
import { memory } from '../../src/backends/memory.js';
import { compileLookupPattern } from '../../src/backends/naming.js';
import { backendFromClassPath, knownBackends, resolverFromEnv } from '../../src/config/index.js';
import { Connection, deserializeConnection } from '../../src/connection.js';
import { isAirflowSecretsError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { parsePythonJson } from '../../src/pyjson.js';
import { parsePythonYaml } from '../../src/python-yaml.js';
import { createResolver, MAX_ID_LENGTH } from '../../src/resolver/index.js';
import { recordCalls } from '../../src/testing/index.js';
import { adapterEntries } from '../helpers/adapter-entries.js';

const FORMATS = ['env', 'json', 'yaml'] as const;
const MB = 1 << 20;
const anyText = fc.string({ unit: 'binary', maxLength: 200 });

// ---- prototype pollution guard -----------------------------------------------------------------

const protoKeys = Reflect.ownKeys(Object.prototype);
function assertPrototypeUntouched(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Reflect.ownKeys(Object.prototype)).toEqual(protoKeys);
}
beforeEach(assertPrototypeUntouched);
afterEach(assertPrototypeUntouched);

/** Run `fn`; it may return or throw, but a throw must be one of our typed errors. */
function typedOrValue<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    expect(isAirflowSecretsError(e), `untyped error: ${String(e)}`).toBe(true);
    return undefined;
  }
}
async function typedOrValueAsync<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    expect(isAirflowSecretsError(e), `untyped error: ${String(e)}`).toBe(true);
    return undefined;
  }
}

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'polluted'];
/** Objects whose keys are often the dangerous ones, nested a few levels. */
const hostileObject = fc.letrec((tie) => ({
  node: fc.dictionary(
    fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 8 })),
    fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), tie('node')),
    { maxKeys: 5 },
  ),
})).node;
/** JSON text of an object that has `__proto__`/`constructor` keys as real keys (JSON.stringify drops `__proto__`). */
const hostileJson = hostileObject.map(
  (o) =>
    `{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "rest": ${JSON.stringify(o)}}`,
);

// ---- environment names ---------------------------------------------------------------------------

describe('environment backend with arbitrary ids and values', () => {
  it('answers null for any id it does not have, and locate() is pure', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (id) => {
        const b = environmentVariables({ env: {} });
        expect(await b.getConnection(id)).toBeNull();
        expect(await b.getVariable(id)).toBeNull();
        expect(b.locate('connection', id)).toEqual({ name: envVarName('connection', id) });
      }),
      { numRuns: 300 },
    );
  });

  it('turns any stored connection value into a Connection or a typed error that does not quote it', async () => {
    const marker = 'Zq9SecretMarker';
    await fc.assert(
      fc.asyncProperty(anyText, anyText, anyText, async (id, before, after) => {
        const value = `${before}${marker}${after}`;
        const b = environmentVariables({ env: { [envVarName('connection', id)]: value } });
        try {
          const c = await b.getConnection(id);
          expect(c === null || c instanceof Connection).toBe(true);
        } catch (e) {
          expect(isAirflowSecretsError(e)).toBe(true);
          expect((e as Error).message).not.toContain(marker);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('returns variable values byte for byte, whatever they hold', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, anyText, async (id, value) => {
        const b = environmentVariables({ env: { [envVarName('variable', id)]: value } });
        expect(await b.getVariable(id)).toBe(value);
      }),
      { numRuns: 300 },
    );
  });
});

// ---- secret files --------------------------------------------------------------------------------

describe('.env, JSON and YAML files with arbitrary content', () => {
  it.each(FORMATS)('parses any %s text into values or a typed error', (format) => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.json(), hostileJson), (text) => {
        for (const load of [loadVariables, loadConfigs, loadConnections]) {
          typedOrValue(() => load(text, format, `fuzz.${format}`));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('reads any valid JSON exactly as JSON.parse does (CPython json agrees on valid JSON)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), hostileJson), (text) => {
        const r = parsePythonJson(text);
        expect(r).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: 500 },
    );
  });

  it('rejects exactly what JSON.parse rejects (apart from NaN/Infinity, which CPython accepts)', () => {
    const mutated = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', '{', '}', '[', ']', ',', ':', '"', '\\', '\n', 'x', '\u0001', '-'),
      )
      .map(
        ([t, at, ch]) => t.slice(0, at % (t.length + 1)) + ch + t.slice((at % (t.length + 1)) + (ch ? 0 : 1)),
      );
    fc.assert(
      fc.property(fc.oneof(mutated, anyText), (text) => {
        fc.pre(!/NaN|Infinity/.test(text));
        let jsOk = true;
        try {
          JSON.parse(text);
        } catch {
          jsOk = false;
        }
        expect(parsePythonJson(text).ok).toBe(jsOk);
      }),
      { numRuns: 1000 },
    );
  });

  it('never quotes a variable value in a parse error, in any format', () => {
    const marker = 'Zq9SecretMarker';
    const file = fc.constantFrom(
      `{"api_key": "${marker}", "other": [1, 2]}`,
      `api_key: ${marker}\nother:\n  - 1\n  - 2\n`,
      `api_key: "${marker}"\n`,
      `API_KEY=${marker}\nOTHER=1\n`,
    );
    const corrupt = fc
      .tuple(
        file,
        fc.nat(),
        fc.constantFrom(
          '{',
          '}',
          '[',
          ']',
          ',',
          ':',
          '"',
          "'",
          '\n',
          '=',
          '\t',
          '&',
          '*',
          '!',
          '%',
          '@',
          '`',
        ),
      )
      .map(([t, at, ch]) => t.slice(0, at % t.length) + ch + t.slice(at % t.length));
    fc.assert(
      fc.property(corrupt, (text) => {
        for (const format of FORMATS) {
          try {
            loadVariables(text, format, `f.${format}`);
          } catch (e) {
            expect(isAirflowSecretsError(e)).toBe(true);
            expect((e as Error).message).not.toContain(marker);
            expect(JSON.stringify(e)).not.toContain(marker);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps dangerous keys as ordinary keys in JSON and YAML files', () => {
    fc.assert(
      fc.property(hostileObject, (o) => {
        const json = `{"__proto__": ${JSON.stringify(o)}, "constructor": {"prototype": {"polluted": 1}}}`;
        const yamlText = `__proto__: {polluted: 1}\nconstructor:\n  prototype: {polluted: 1}\nmerged:\n  <<: {__proto__: {polluted: 1}}\nrest: ${JSON.stringify(stringify(o))}\n`;
        const vars = loadVariables(json, 'json', 'p.json');
        expect([...vars.keys()]).toEqual(['__proto__', 'constructor']);
        const y = typedOrValue(() => loadVariables(yamlText, 'yaml', 'p.yaml'));
        if (y) expect(y.get('__proto__')).toBe('{"polluted":1}');
        typedOrValue(() => loadConnections(json, 'json', 'p.json'));
        assertPrototypeUntouched();
      }),
      { numRuns: 200 },
    );
  });
});

// ---- kwargs, extras, JSON secrets ---------------------------------------------------------------

describe('prototype pollution through kwargs, extras and JSON secrets', () => {
  const kwargsJson =
    '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "prototype": {"polluted": "yes"}}';

  it('no adapter lets backend_kwargs keys reach Object.prototype', async () => {
    const names = knownBackends().filter((n) => !n.includes('.') && n in adapterEntries());
    expect(names).toContain('local-filesystem');
    for (const name of names) {
      const kwargs = JSON.parse(kwargsJson) as Record<string, unknown>;
      const b = await typedOrValueAsync(() =>
        backendFromClassPath(name, kwargs, { env: {}, logger: silentLogger }),
      );
      await b?.close?.();
      assertPrototypeUntouched();
    }
  });

  it('AIRFLOW__SECRETS__BACKEND_KWARGS with __proto__ keys cannot pollute', async () => {
    const r = await typedOrValueAsync(() =>
      resolverFromEnv(
        {
          AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
          AIRFLOW__SECRETS__BACKEND_KWARGS: kwargsJson,
          AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'sqlite:////nonexistent/airflow.db',
        },
        { logger: silentLogger },
      ),
    );
    await r?.close();
  });

  it('extras with dangerous keys stay ordinary keys (URI query, JSON, object)', () => {
    fc.assert(
      fc.property(hostileObject, fc.constantFrom(...HOSTILE_KEYS), anyText, (extra, key, value) => {
        const fromUri = typedOrValue(() =>
          Connection.fromUri(
            `mysql://h/db?${encodeURIComponent(key)}=${encodeURIComponent(value)}&__proto__=x`,
          ),
        );
        if (fromUri) expect(Object.getPrototypeOf(fromUri.extraDejson)).toBe(Object.prototype);
        const json = `{"conn_type": "mysql", "extra": {"__proto__": {"polluted": 1}, "x": ${JSON.stringify(extra)}}}`;
        const fromJson = typedOrValue(() => Connection.fromJson(json, 'c'));
        if (fromJson) expect(Object.hasOwn(fromJson.extraDejson, '__proto__')).toBe(true);
        typedOrValue(
          () => new Connection({ id: 'c', extra: JSON.parse(`{"__proto__": ${JSON.stringify(extra)}}`) }),
        );
        typedOrValue(() => deserializeConnection('c', json));
        assertPrototypeUntouched();
      }),
      { numRuns: 300 },
    );
  });

  it('JSON variables with dangerous keys decode to ordinary objects', async () => {
    const r = createResolver({ backends: [memory({ variables: { v: kwargsJson } })], logger: silentLogger });
    const v = await r.getVariable<Record<string, unknown>>('v', { deserializeJson: true });
    expect(Object.keys(v!)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });
});

// ---- very long inputs ------------------------------------------------------------------------------

describe('very long inputs finish', () => {
  const long = 'x'.repeat(MB);
  it('1 MB .env, JSON and YAML values and files', () => {
    expect(loadVariables(`K=${long}\n`, 'env', 'a.env').get('K')).toHaveLength(MB);
    const many = Array.from({ length: 100_000 }, (_, i) => `K${i}=v`).join('\n');
    expect(loadVariables(many, 'env', 'a.env').size).toBe(100_000);
    expect(() => loadVariables('A=1\n'.repeat(MB / 4), 'env', 'a.env')).toThrow(
      "multiple values for keys: ['A']",
    );
    expect(loadVariables(`{"k": "${long}"}`, 'json', 'a.json').get('k')).toHaveLength(MB);
    expect(loadVariables(`k: ${long}\n`, 'yaml', 'a.yaml').get('k')).toHaveLength(MB);
    for (const format of FORMATS) {
      for (const text of [
        '['.repeat(MB),
        '{'.repeat(MB),
        ' '.repeat(MB),
        `"${long}`,
        '- '.repeat(MB / 2),
        '\n'.repeat(MB),
      ]) {
        typedOrValue(() => loadVariables(text, format, `a.${format}`));
      }
    }
  }, 60_000);

  it('refuses hostile nesting instead of overflowing the stack', () => {
    expect(parsePythonJson('['.repeat(100_000)).ok).toBe(false);
    expect(parsePythonYaml(`a: ${'['.repeat(100_000)}`).ok).toBe(false);
    expect(parsePythonYaml('- '.repeat(100_000)).ok).toBe(false);
    const anchors = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 10; i++)
      anchors.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${`*${String.fromCharCode(97 + i)}, `.repeat(10)}]`,
      );
    expect(parsePythonYaml(anchors.join('\n')).ok).toBe(false);
  }, 60_000);

  it('1 MB connection URIs and JSON connections', () => {
    typedOrValue(() => Connection.fromUri(`mysql://${long}@host/db`));
    typedOrValue(() => Connection.fromUri(`mysql://user:pw@host/db?${'k=v&'.repeat(MB / 4)}`));
    typedOrValue(() => Connection.fromUri(`mysql://${':'.repeat(MB)}`));
    typedOrValue(() => Connection.fromUri('://'.repeat(MB / 3)));
    typedOrValue(() => deserializeConnection('c', `{"conn_type": "x", "password": "${long}"}`));
    typedOrValue(() => deserializeConnection('c', '{'.repeat(MB)));
  }, 60_000);

  it('a 1 MB value in an environment variable', async () => {
    const b = environmentVariables({
      env: { AIRFLOW_CONN_BIG: `postgres://u:${long}@h/db`, AIRFLOW_VAR_BIG: long },
    });
    await typedOrValueAsync(() => b.getConnection('big'));
    expect(await b.getVariable('big')).toHaveLength(MB);
  }, 60_000);

  it('a 1 MB file through the local-filesystem backend', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'airflow-secrets-big-'));
    try {
      const path = join(dir, 'v.json');
      writeFileSync(path, `{"k": "${long}"}`, { mode: 0o600 });
      expect(
        await localFilesystem({ variablesFilePath: path, logger: silentLogger }).getVariable('k'),
      ).toHaveLength(MB);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

// ---- ids and lookup patterns ---------------------------------------------------------------------

describe('attacker-influenced ids', () => {
  it(`never asks a backend for an id longer than ${MAX_ID_LENGTH} characters (Airflow's conn_id limit)`, async () => {
    const spy = recordCalls(memory({ variables: { ['k'.repeat(MAX_ID_LENGTH + 1)]: 'v' } }));
    const r = createResolver({ backends: [spy], logger: silentLogger });
    expect(await r.getVariable('k'.repeat(MAX_ID_LENGTH + 1))).toBeNull();
    expect(await r.getConnection('c'.repeat(MB))).toBeNull();
    expect(spy.calls).toEqual([]);
    await r.getVariable('k'.repeat(MAX_ID_LENGTH));
    expect(spy.calls).toHaveLength(1);
  });

  it('typical lookup patterns answer quickly for hostile ids up to the id limit', () => {
    const patterns = [
      '^(?!aws_default$).*$', // the MWAA default
      '^(prod|stage)_[a-z0-9_]+$',
      '(?P<env>prod|dev)_(?P=env)_.*',
      '.*_secret$',
    ];
    const matchers = patterns.map((p) => compileLookupPattern(p, 'pattern')!);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: MAX_ID_LENGTH }), (id) => {
        for (const m of matchers) expect(typeof m(id)).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
