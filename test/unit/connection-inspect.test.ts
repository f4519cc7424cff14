/**
 * Issue 11 item 3: no combination of `util.inspect` / `console.dir` / `console.log` options shows a
 * connection's password, `extra` or `extraDejson` secrets. Before the fix,
 * `util.inspect(conn, { showHidden: true, getters: true, customInspect: false })` called the
 * prototype getters and printed all three.
 *
 * The option space: every combination of `showHidden`, `getters` (false/true/'get'/'set'),
 * `customInspect`, `showProxy`, `depth` (0, 2, Infinity, null), `compact`, `sorted`, `colors`; through
 * `util.inspect`, `util.formatWithOptions` (`%o %O %s %j`), `console.dir` with options, a `Console`
 * built with `inspectOptions`, and `console.log` under `util.inspect.defaultOptions`; of the
 * connection, of the connection inside other values, of a Proxy around it, and of its prototypes.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import util, { type InspectOptions } from 'node:util';
import v8 from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection.js';
import { resetMasker } from '../../src/masker.js';

const PASSWORD = 'Pw-inspect-7731-planted';
const TOKEN = 'Tok-inspect-4419-planted';
const NESTED = 'Nested-inspect-2260-planted';
const SECRETS = [PASSWORD, encodeURIComponent(PASSWORD), TOKEN, NESTED];

const make = () =>
  new Connection({
    id: 'insp',
    type: 'postgres',
    host: 'db.internal',
    login: 'svc',
    password: PASSWORD,
    extra: { token: TOKEN, region: 'eu', nested: { private_key: NESTED } },
  });

function optionSpace(): InspectOptions[] {
  const out: InspectOptions[] = [];
  for (const showHidden of [false, true])
    for (const getters of [false, true, 'get', 'set'] as const)
      for (const customInspect of [true, false])
        for (const showProxy of [false, true])
          for (const depth of [0, 2, Number.POSITIVE_INFINITY, null])
            for (const compact of [false, 3, true])
              for (const sorted of [false, true])
                out.push({
                  showHidden,
                  getters,
                  customInspect,
                  showProxy,
                  depth,
                  compact,
                  sorted,
                  colors: sorted,
                });
  return out;
}

function sinkConsole(options?: InspectOptions): { console: Console; text: () => string } {
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  });
  const c = options
    ? new Console({ stdout: sink, stderr: sink, inspectOptions: options })
    : new Console(sink, sink);
  return { console: c, text: () => out };
}

afterEach(() => resetMasker());

describe('no inspect or console option shows a secret (issue 11 item 3)', () => {
  it(`across the whole option space (${optionSpace().length} option sets × 5 printers × 5 values)`, () => {
    const conn = make();
    const proto = Object.getPrototypeOf(conn) as object;
    const values: [string, unknown][] = [
      ['the connection', conn],
      ['nested in objects, arrays and maps', { a: [conn], m: new Map([['k', conn]]), s: new Set([conn]) }],
      ['a Proxy around it', new Proxy(conn, {})],
      ['its prototype', proto],
      ['its prototype’s prototype', Object.getPrototypeOf(proto)],
    ];
    const saved = { ...util.inspect.defaultOptions };
    let checked = 0;
    try {
      for (const [what, value] of values) {
        for (const options of optionSpace()) {
          const dir = sinkConsole();
          dir.console.dir(value, options);
          const built = sinkConsole(options);
          built.console.log(value);
          built.console.log('%o %O %s', value, value, value);
          Object.assign(util.inspect.defaultOptions, options);
          const logged = sinkConsole();
          logged.console.log(value);
          Object.assign(util.inspect.defaultOptions, saved);
          const outputs = {
            'util.inspect': util.inspect(value, options),
            'util.formatWithOptions': util.formatWithOptions(
              options,
              '%o %O %s %j',
              value,
              value,
              value,
              value,
            ),
            'console.dir': dir.text(),
            'Console inspectOptions': built.text(),
            'console.log under defaultOptions': logged.text(),
          };
          for (const [how, text] of Object.entries(outputs)) {
            for (const s of SECRETS) {
              if (text.includes(s)) {
                throw new Error(`${how} of ${what} with ${JSON.stringify(options)} showed a secret`);
              }
            }
            checked++;
          }
        }
      }
    } finally {
      Object.assign(util.inspect.defaultOptions, saved);
    }
    expect(checked).toBe(optionSpace().length * values.length * 5);
  }, 120_000);

  it('and the other ways of looking at an object carry no secret either', () => {
    const conn = make();
    const outputs: Record<string, string> = {
      'Object.getOwnPropertyDescriptors': util.inspect(Object.getOwnPropertyDescriptors(conn), {
        showHidden: true,
        getters: true,
        depth: Infinity,
      }),
      'prototype descriptors': util.inspect(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(conn)), {
        getters: true,
        depth: Infinity,
      }),
      structuredClone: util.inspect(structuredClone(conn), {
        showHidden: true,
        getters: true,
        depth: Infinity,
      }),
      'JSON.stringify': JSON.stringify(conn),
      spread: JSON.stringify({ ...conn }),
      'Object.entries': JSON.stringify(Object.entries(conn)),
      'for…in': JSON.stringify(
        (() => {
          const seen: [string, unknown][] = [];
          for (const k in conn) seen.push([k, (conn as unknown as Record<string, unknown>)[k]]);
          return seen;
        })(),
      ),
      'String()': String(conn),
      template: `${conn}`,
      'v8.serialize': v8.serialize(conn).toString('latin1'),
      'v8 round trip': util.inspect(v8.deserialize(v8.serialize(conn)), { showHidden: true, getters: true }),
    };
    for (const [how, text] of Object.entries(outputs)) {
      expect(text.length, how).toBeGreaterThan(0);
      for (const s of SECRETS) expect(text, `${how} showed a secret`).not.toContain(s);
    }
  });

  it('while password, extra, extraDejson, getUri() and asJson() still give the values', () => {
    const conn = make();
    expect(conn.password).toBe(PASSWORD);
    expect(conn.extra).toContain(TOKEN);
    expect(conn.extraDejson).toEqual({ token: TOKEN, region: 'eu', nested: { private_key: NESTED } });
    expect(conn.getUri()).toContain(encodeURIComponent(PASSWORD));
    expect(conn.asJson()).toContain(PASSWORD);
    conn.password = 'Changed-9917';
    conn.extra = '{"a": 1}';
    expect([conn.password, conn.extra]).toEqual(['Changed-9917', '{"a": 1}']);
    expect(conn).toBeInstanceOf(Connection);
    expect(conn.constructor).toBe(Connection);
    expect('password' in conn && 'extra' in conn && 'extraDejson' in conn).toBe(true);
    class Sub extends Connection {
      override get password(): string | null {
        return `sub:${super.password}`;
      }
      override set password(v: string | null) {
        super.password = v;
      }
    }
    expect(new Sub({ password: 'abcdefgh' }).password).toBe('sub:abcdefgh');
  });
});
