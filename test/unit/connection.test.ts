import { Console } from 'node:console';
import { Writable } from 'node:stream';
import util from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Connection, deserializeConnection } from '../../src/connection.js';
import { InvalidConnectionError } from '../../src/errors.js';
import { resetMasker } from '../../src/masker.js';

afterEach(() => {
  vi.restoreAllMocks();
  resetMasker();
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('Connection constructor', () => {
  it("rejects a uri mixed with a truthy field, with Airflow's message", () => {
    const e = thrown(() => new Connection({ id: 'TEST_ID', uri: 'mysql://', schema: 'AAA' }));
    expect(e).toBeInstanceOf(InvalidConnectionError);
    expect(e.message).toBe(
      'You must create an object using the URI or individual values (conn_type, host, login, password, schema, port or extra).' +
        "You can't mix these two ways to create this object.",
    );
  });

  it('accepts a uri together with a description, a port of 0 or an empty extra object', () => {
    const c = new Connection({ id: 'x', uri: 'mysql://h', description: 'd', port: 0, extra: {} });
    expect([c.type, c.host, c.description, c.port]).toEqual(['mysql', 'h', 'd', null]);
  });

  it('serialises an object extra like Python json.dumps (separators, \\u escapes, key order)', () => {
    const c = new Connection({ extra: { b: 1, a: 'x', n: 1.5, l: [1, 'two', null], e: 'é😀', t: true } });
    expect(c.extra).toBe(
      '{"b": 1, "a": "x", "n": 1.5, "l": [1, "two", null], "e": "\\u00e9\\ud83d\\ude00", "t": true}',
    );
  });

  it('turns an empty extra object into null', () => {
    expect(new Connection({ extra: {} }).extra).toBeNull();
  });

  it('stores an empty password as null (the ORM setter ignores falsy values)', () => {
    const c = new Connection({ password: '' });
    expect(c.password).toBeNull();
    c.password = 'x';
    c.password = '';
    expect(c.password).toBeNull();
  });

  it('rejects non-JSON extra text naming the id, never quoting the text', () => {
    const e = thrown(() => new Connection({ id: 'my_id', extra: 'hunter2-secret-text' }));
    expect(e).toBeInstanceOf(InvalidConnectionError);
    expect(e.message).toBe("Encountered non-JSON in `extra` field for connection 'my_id'.");
    expect(String(e.cause)).not.toContain('hunter2');
  });

  it('rejects extra JSON that is not an object', () => {
    const e = thrown(() => new Connection({ id: 'my_id', extra: '["hunter2-secret"]' }));
    expect(e.message).toContain('does not parse as a dictionary in connection');
    expect(e.message).not.toContain('hunter2');
  });

  it.each([[1.5], [-1], [65536], [Number.NaN]])('rejects port %s', (port) => {
    expect(() => new Connection({ id: 'p', port })).toThrow(InvalidConnectionError);
  });

  it('accepts ports 0 and 65535', () => {
    expect(new Connection({ port: 0 }).port).toBe(0);
    expect(new Connection({ port: 65535 }).port).toBe(65535);
  });

  it('rejects a non-string field from untyped callers', () => {
    const fields = { id: 'x', host: 42 } as unknown as ConstructorParameters<typeof Connection>[0];
    expect(() => new Connection(fields)).toThrow(/Expected a string for `host`/);
  });

  it('does not normalise conn_type in the plain constructor', () => {
    expect(new Connection({ type: 'postgresql' }).type).toBe('postgresql');
  });
});

describe('Connection.fromUri', () => {
  it('parses every field, percent-decoding each', () => {
    const c = Connection.fromUri(
      'postgres://app%20user:p%40ss%2Fw%3Ard@db.example.com:5432/app%2Fdb?sslmode=require',
      'id1',
    );
    expect([c.id, c.type, c.login, c.password, c.host, c.port, c.schema]).toEqual([
      'id1',
      'postgres',
      'app user',
      'p@ss/w:rd',
      'db.example.com',
      5432,
      'app/db',
    ]);
    expect(c.extraDejson).toEqual({ sslmode: 'require' });
  });

  it('splits the userinfo at the last @', () => {
    const c = Connection.fromUri('postgres://user:p@ss@host:1');
    expect([c.login, c.password, c.host]).toEqual(['user', 'p@ss', 'host']);
  });

  it('gives login "user" and password null for user:@host (core; the raw parse and the SDK give "")', () => {
    const c = Connection.fromUri('http://user:@host:80/database');
    expect([c.login, c.password]).toEqual(['user', null]);
  });

  it('lower-cases the host unless it contains a /', () => {
    expect(Connection.fromUri('mysql://MyHost:1234/Db').host).toBe('myhost');
    expect(Connection.fromUri('scheme://%2FTmP%2F:1234').host).toBe('/TmP/');
  });

  it('strips IPv6 brackets and writes the address back %-encoded', () => {
    const c = Connection.fromUri('postgres://u:pw@[2001:DB8::1]:5432/db');
    expect([c.host, c.port]).toEqual(['2001:db8::1', 5432]);
    expect(c.getUri()).toBe('postgres://u:pw@2001%3Adb8%3A%3A1:5432/db');
    expect(Connection.fromUri(c.getUri()).host).toBe('2001:db8::1');
  });

  it('keeps a protocol in the host (http://https://host)', () => {
    const c = Connection.fromUri('http://https://user:pw@host:443/path?x=1');
    expect([c.type, c.host, c.login, c.password, c.port, c.schema]).toEqual([
      'http',
      'https://host',
      'user',
      'pw',
      443,
      'path',
    ]);
    expect(c.getUri()).toBe('http://https://user:pw@host:443/path?x=1');
  });

  it('round-trips a host whose protocol equals the type (newer get_uri rule)', () => {
    const c = new Connection({ type: 'http', host: 'http://Host' });
    expect(c.getUri()).toBe('http://http%3A%2F%2FHost');
    expect(Connection.fromUri(c.getUri()).host).toBe('http://Host');
  });

  it('loses the host of http://http://host, as Airflow does (str.replace removes both prefixes)', () => {
    const c = Connection.fromUri('http://http://host');
    expect([c.host, c.schema]).toEqual(['', 'ost']);
  });

  it('cannot read back a protocol that ends with the type (ftp + sftp://h), as in Airflow', () => {
    const uri = new Connection({ type: 'ftp', host: 'sftp://h', port: 21 }).getUri();
    expect(uri).toBe('ftp://sftp://h:21');
    expect(() => Connection.fromUri(uri)).toThrow(InvalidConnectionError);
  });

  it('normalises the type: postgresql → postgres, - → _, scheme lower-cased', () => {
    expect(Connection.fromUri('postgresql://h').type).toBe('postgres');
    expect(Connection.fromUri('google-cloud-platform://').type).toBe('google_cloud_platform');
    expect(Connection.fromUri('MYSQL://h').type).toBe('mysql');
  });

  it('parses the query with parse_qsl semantics: + is a space, blanks kept, the last duplicate wins', () => {
    const c = Connection.fromUri('aws://?a=1&a=2&b&c=x+y%2B');
    expect(c.extra).toBe('{"a": "2", "b": "", "c": "x y+"}');
  });

  it('uses __extra__ verbatim and validates it as a JSON object', () => {
    expect(Connection.fromUri('aws://?__extra__=%7B%22a%22%3A+1%7D&b=2').extraDejson).toEqual({ a: 1 });
    const e = thrown(() => Connection.fromUri('aws://?__extra__=notjsonSECRET', 'c1'));
    expect(e).toBeInstanceOf(InvalidConnectionError);
    expect(e.message).not.toContain('SECRET');
  });

  it.each([
    ['postgres://host:abc', 'Port could not be cast to integer value'],
    ['postgres://host:99999', 'Port out of range 0-65535'],
    ['a://b://c://d://e', "more than two '://'"],
    ['type://user:pass@protocol://host:port?param=value', "must not contain '@' or ':'"],
    ['postgres://[::1/x', 'Invalid IPv6 URL'],
  ])('rejects %s naming the id, never the URI', (uri, why) => {
    const e = thrown(() => Connection.fromUri(uri, 'my_conn'));
    expect(e).toBeInstanceOf(InvalidConnectionError);
    expect((e as InvalidConnectionError).connId).toBe('my_conn');
    expect(e.message).toContain("Invalid connection string for conn_id 'my_conn'");
    expect(e.message).toContain(why);
    expect(e.message).not.toContain(uri);
  });

  it('does not leak a password that an unencoded / turned into the "port"', () => {
    const e = thrown(() => Connection.fromUri('postgres://user:Hunter2Secret/x@host', 'db'));
    expect(e.message).not.toContain('Hunter2Secret');
    expect(String(e.cause)).not.toContain('Hunter2Secret');
  });

  it('treats an empty string like no URI at all', () => {
    const c = Connection.fromUri('');
    expect([c.type, c.host, c.schema]).toEqual([null, null, null]);
    expect(c.getUri()).toBe('//');
  });
});

describe('Connection.getUri and asJson', () => {
  it('falls back to __extra__ for non-string extra values (the spec example)', () => {
    const c = new Connection({
      type: 'type',
      host: 'host',
      extra: { bool_param: true, int_param: 123, float_param: 1.5, list_param: [1, 2] },
    });
    expect(c.getUri()).toBe(
      'type://host/?__extra__=%7B%22bool_param%22%3A+true%2C+%22int_param%22%3A+123%2C+%22float_param%22%3A+1.5%2C+%22list_param%22%3A+%5B1%2C+2%5D%7D',
    );
  });

  it('writes flat string extras with quote_plus, after "?" or "/?"', () => {
    expect(new Connection({ type: 't', host: 'h', schema: 's', extra: { a: 'x y/z' } }).getUri()).toBe(
      't://h/s?a=x+y%2Fz',
    );
    expect(new Connection({ type: 't', host: 'h', extra: { a: 'x' } }).getUri()).toBe('t://h/?a=x');
  });

  it('writes "@:port" when there is neither host nor auth, and drops port 0', () => {
    expect(new Connection({ port: 5432 }).getUri()).toBe('//@:5432');
    expect(new Connection({ type: 't', host: 'h', port: 0 }).getUri()).toBe('t://h');
  });

  it('writes the type lower-cased with _ as -', () => {
    expect(new Connection({ type: 'Google_Cloud' }).getUri()).toBe('google-cloud://');
  });

  it('refuses to write a lone surrogate, naming the id only', () => {
    const c = new Connection({ id: 'sur', type: 't', password: 'a\ud800b' });
    expect(() => c.getUri()).toThrow(InvalidConnectionError);
  });

  it('writes as_json without conn_id, nulls or an empty extra; floats stay floats when the extra text says so', () => {
    const c = new Connection({ id: 'x', type: 't', host: 'h', port: 1, extra: '{"f": 1.0, "i": 2}' });
    expect(c.asJson()).toBe('{"conn_type": "t", "host": "h", "port": 1, "extra": {"f": 1.0, "i": 2}}');
    expect(new Connection({ id: 'x', extra: '{}' }).asJson()).toBe('{}');
  });

  it('cannot tell 1.0 from 1 in a JS extra object (documented limitation)', () => {
    expect(new Connection({ extra: { f: 1.0 } }).extra).toBe('{"f": 1}');
  });
});

describe('Connection.fromJson', () => {
  it('reads every field and normalises conn_type', () => {
    const c = Connection.fromJson(
      '{"conn_type": "postgresql", "host": "h", "login": "u", "password": "p", "schema": "s", "port": 5432, "extra": {"a": 1}, "description": "d"}',
      'j1',
    );
    expect([c.id, c.type, c.host, c.login, c.password, c.schema, c.port, c.description, c.extra]).toEqual([
      'j1',
      'postgres',
      'h',
      'u',
      'p',
      's',
      5432,
      'd',
      '{"a": 1}',
    ]);
  });

  it.each([
    ['"5432"', 5432],
    ['" 54_32 "', 5432],
    ['"\u0665\u0664\u0663\u0662"', 5432],
    ['1.9', 1],
    ['true', 1],
    ['0', 0], // issue 12: the newest core keeps port 0 (older cores gave None)
    ['""', null],
    ['null', null],
  ])('coerces port %s with Python int() semantics → %s', (json, port) => {
    expect(Connection.fromJson(`{"port": ${json}}`).port).toBe(port);
  });

  it.each([['"abc"'], ['"1.5"'], ['NaN'], ['[1]'], ['{"a": 1}']])('rejects port %s', (json) => {
    const e = thrown(() => Connection.fromJson(`{"port": ${json}}`, 'pj'));
    expect(e).toBeInstanceOf(InvalidConnectionError);
    expect(e.message).toMatch(/^Expected integer value for `port`, but got .* instead\.$/);
  });

  it('names the kind of a bad string port but never its text (issue 11 item 9; Airflow quotes it)', () => {
    const e = thrown(() => Connection.fromJson('{"port": "hunter2"}', 'pj'));
    expect(e.message).toBe(
      'Expected integer value for `port`, but got a string that is not a whole number instead.',
    );
    expect(util.inspect(e, { depth: Infinity })).not.toContain('hunter2');
  });

  it('counts unknown keys but never quotes them or their values (issue 11 item 9)', () => {
    const e = thrown(() =>
      Connection.fromJson('{"user": "secretUserValue", "database": "db1", "conn_id": "x"}', 'k'),
    );
    expect(e).toBeInstanceOf(InvalidConnectionError);
    expect(e.message).toBe(
      "Connection 'k' has 3 keys that are not connection parameters " +
        '(allowed: conn_type, description, host, login, password, schema, port, extra, uri).',
    );
    for (const text of ['user', 'database', 'conn_id', 'secretUserValue', 'db1']) {
      expect(e.message).not.toContain(text);
    }
    const one = thrown(() => Connection.fromJson(`{"${'k'.repeat(64)}": 1}`, 'k1'));
    expect(one.message).toMatch(/^Connection 'k1' has a key that is not a connection parameter \(allowed: /);
  });

  it('rejects invalid JSON without quoting it, with a cause that carries no message', () => {
    const e = thrown(() => Connection.fromJson('{"password": "hunter2secret"', 'bad'));
    expect(e).toBeInstanceOf(InvalidConnectionError);
    expect(e.message).toBe("Connection 'bad' is not valid JSON.");
    expect(util.inspect(e, { depth: Infinity })).not.toContain('hunter2secret');
  });

  it('accepts "uri" alone or with a description, and rejects it with another truthy field', () => {
    expect(Connection.fromJson('{"uri": "postgres://u:p@h:1/s", "description": "d"}').host).toBe('h');
    expect(Connection.fromJson('{"uri": "postgres://h", "port": 0, "host": ""}').host).toBe('h');
    expect(() => Connection.fromJson('{"uri": "postgres://h", "host": "x"}')).toThrow(/can't mix/);
  });

  it('keeps a string extra, serialises an object one and drops falsy ones', () => {
    expect(Connection.fromJson('{"extra": "{\\"yo\\": \\"hi\\"}"}').extra).toBe('{"yo": "hi"}');
    expect(Connection.fromJson('{"extra": {"yo": "hi"}}').extra).toBe('{"yo": "hi"}');
    for (const falsy of ['null', '{}', '""', '[]', '0', 'false']) {
      expect(Connection.fromJson(`{"extra": ${falsy}}`).extra).toBeNull();
    }
    expect(() => Connection.fromJson('{"extra": [1]}')).toThrow(InvalidConnectionError);
  });

  it('rejects a non-object document and non-string fields', () => {
    expect(() => Connection.fromJson('[]')).toThrow(/must be a JSON object/);
    expect(() => Connection.fromJson('{"host": 1}')).toThrow(/Expected a string for `host`/);
  });

  it('round-trips as_json → from_json', () => {
    const c = new Connection({
      type: 'http',
      host: 'https://h',
      login: 'l',
      password: 'p w',
      port: 8080,
      extra: { a: [1] },
    });
    const back = Connection.fromJson(c.asJson());
    expect(back.asJson()).toBe(c.asJson());
    expect(back.password).toBe('p w');
  });
});

describe('deserializeConnection', () => {
  it('reads JSON when the stripped value starts with {, otherwise a URI', () => {
    expect(deserializeConnection('a', '  {"conn_type": "x"}\n').type).toBe('x');
    expect(deserializeConnection('a', '\n postgres://h \t').host).toBe('h');
  });

  it('names the id in errors, never the value', () => {
    const e = thrown(() => deserializeConnection('my_id', '{"password": "s3cretValue", '));
    expect((e as InvalidConnectionError).connId).toBe('my_id');
    expect(e.message).not.toContain('s3cretValue');
  });
});

describe('Connection.extraDejson', () => {
  it('returns {} without extra', () => {
    expect(new Connection({}).extraDejson).toEqual({});
  });

  it('keeps a __proto__ key as data without touching prototypes', () => {
    const d = new Connection({ extra: '{"__proto__": {"polluted": "yes"}}' }).extraDejson;
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.hasOwn(d, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives {} and logs an error naming the id only when extra was set to invalid text', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const c = new Connection({ id: 'broken_extra' });
    c.extra = '{"api_key": "topSecretValue"';
    expect(c.extraDejson).toEqual({});
    expect(spy).toHaveBeenCalledTimes(1);
    const line = spy.mock.calls.flat().join(' ');
    expect(line).toContain('broken_extra');
    expect(line).not.toContain('topSecretValue');
  });
});

describe('a Connection never shows its password or sensitive extras', () => {
  const PASSWORD = 'p@ss w0rd!/Secret';
  const make = () =>
    new Connection({
      id: 'my_db',
      type: 'postgres',
      host: 'db.example.com',
      login: 'app',
      password: PASSWORD,
      port: 5432,
      schema: 'db',
      extra: {
        api_key: 'ApiKeyValue123',
        nested: { client_secret: 'NestedSecretValue', deeper: { token: ['TokenInList99'] } },
        region: 'eu-west-1',
      },
    });
  const SECRETS = [
    PASSWORD,
    encodeURIComponent(PASSWORD),
    'p%40ss%20w0rd%21%2FSecret',
    'ApiKeyValue123',
    'NestedSecretValue',
    'TokenInList99',
  ];

  function consoleLogOutput(...args: unknown[]): string {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    });
    new Console(sink, sink).log(...args);
    return out;
  }

  function renderings(c: Connection): Record<string, string> {
    return {
      'JSON.stringify': JSON.stringify(c),
      'JSON.stringify nested': JSON.stringify({ list: [c] }),
      'String()': String(c),
      template: `${c}`,
      concat: '' + c,
      inspect: util.inspect(c),
      'inspect showHidden depth Infinity': util.inspect(c, { showHidden: true, depth: Infinity }),
      'inspect nested': util.inspect({ a: { b: [c] } }, { depth: Infinity, showHidden: true }),
      'inspect getters': util.inspect(c, { getters: true, depth: Infinity }),
      'inspect customInspect:false showHidden': util.inspect(c, {
        customInspect: false,
        showHidden: true,
        depth: Infinity,
      }),
      'util.format': util.format('%s %o %O %j %d', c, c, c, c, c),
      'console.log': consoleLogOutput(c, { c }, [c]),
      spread: util.inspect({ ...c }, { showHidden: true, depth: Infinity }),
      'Object.entries': JSON.stringify(Object.entries(c)),
      'Object.getOwnPropertyNames': JSON.stringify(Object.getOwnPropertyNames(c).map((k) => (c as never)[k])),
      structuredClone: util.inspect(structuredClone(c), { showHidden: true, depth: Infinity }),
    };
  }

  it('in every printable form', () => {
    const c = make();
    for (const [how, text] of Object.entries(renderings(c))) {
      expect(text, `${how} shows the connection`).toContain('my_db');
      for (const s of SECRETS) expect(text, `${how} leaked ${s.length}-char secret`).not.toContain(s);
    }
  });

  it('while getUri, asJson and the accessors still give the real values', () => {
    const c = make();
    expect(c.password).toBe(PASSWORD);
    expect(c.getUri()).toContain('p%40ss%20w0rd%21%2FSecret');
    expect(c.asJson()).toContain('"password": "p@ss w0rd!/Secret"');
    expect(c.extraDejson).toMatchObject({ api_key: 'ApiKeyValue123' });
  });

  it('shows the masked shape in toJSON and toString', () => {
    const c = make();
    expect(c.toJSON()).toEqual({
      id: 'my_db',
      type: 'postgres',
      description: null,
      host: 'db.example.com',
      login: 'app',
      password: '***',
      schema: 'db',
      port: 5432,
      extra:
        '{"api_key": "***", "nested": {"client_secret": "***", "deeper": {"token": ["***"]}}, "region": "eu-west-1"}',
    });
    expect(
      String(
        new Connection({
          id: 'my_db',
          type: 'postgres',
          login: 'user',
          password: 'pw',
          host: 'host',
          port: 5432,
          schema: 'db',
        }),
      ),
    ).toBe('Connection<my_db postgres://user:***@host:5432/db>');
    expect(String(c)).toBe(
      'Connection<my_db postgres://app:***@db.example.com:5432/db?__extra__=%7B%22api_key%22%3A+%22***%22%2C+%22nested%22%3A+%7B%22client_secret%22%3A+%22***%22%2C+%22deeper%22%3A+%7B%22token%22%3A+%5B%22***%22%5D%7D%7D%2C+%22region%22%3A+%22eu-west-1%22%7D>',
    );
  });

  it('masks a flat sensitive extra in toString without hiding the other keys', () => {
    const c = Connection.fromUri('postgres://u:pw12345@h/db?api_key=KEYVALUE123&region=eu', 'x');
    expect(String(c)).toBe('Connection<x postgres://u:***@h/db?api_key=***&region=eu>');
  });

  it('masks an unparseable extra entirely', () => {
    const c = new Connection({ id: 'x' });
    c.extra = 'not json SECRETSTUFF';
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(JSON.stringify(c)).not.toContain('SECRETSTUFF');
    expect(String(c)).not.toContain('SECRETSTUFF');
  });
});

describe('the examples in docs/connection-formats.md', () => {
  it.each([
    [
      {
        type: 'postgres',
        login: 'app user',
        password: 'p@ss/w:rd+1 x',
        host: 'db.example.com',
        port: 5432,
        schema: 'app/db',
      },
      'postgres://app%20user:p%40ss%2Fw%3Ard%2B1%20x@db.example.com:5432/app%2Fdb',
    ],
    [
      {
        type: 'mysql',
        login: 'dom/user@corp',
        password: 'pa:ss',
        host: '/var/run/mysqld/mysqld.sock',
        schema: 'shop',
      },
      'mysql://dom%2Fuser%40corp:pa%3Ass@%2Fvar%2Frun%2Fmysqld%2Fmysqld.sock/shop',
    ],
    [
      { type: 'aws', extra: { region_name: 'eu-west-1', role_arn: 'arn:aws:iam::123:role/x' } },
      'aws:///?region_name=eu-west-1&role_arn=arn%3Aaws%3Aiam%3A%3A123%3Arole%2Fx',
    ],
    [{ port: 5432 }, '//@:5432'],
    [{ type: 'http', host: 'http://api.example.com' }, 'http://http%3A%2F%2Fapi.example.com'],
    [
      {
        type: 'http',
        host: 'https://api.example.com',
        login: 'u',
        password: 'p',
        port: 443,
        extra: { timeout: '30' },
      },
      'http://https://u:p@api.example.com:443/?timeout=30',
    ],
  ])('%j is written as %s and read back', (fields, uri) => {
    const c = new Connection(fields);
    expect(c.getUri()).toBe(uri);
    const back = Connection.fromUri(uri);
    expect([back.login, back.password, back.host, back.schema, back.extra]).toEqual([
      c.login ?? (uri === '//@:5432' ? '' : null),
      c.password,
      c.host ?? '',
      c.schema ?? '',
      c.extra,
    ]);
  });

  it('reads hand-written URIs with unencoded @ in the password, : in the password and / in the schema', () => {
    const c = Connection.fromUri('postgres://user:p@ss:w0rd@DB.Example.COM/app/db');
    expect([c.login, c.password, c.host, c.schema]).toEqual([
      'user',
      'p@ss:w0rd',
      'db.example.com',
      'app/db',
    ]);
    expect(Connection.fromUri('postgres://My%20Host').host).toBe('my Host');
  });

  it('reads + as a space only in the query', () => {
    const c = Connection.fromUri('t://u:a+b@h/s+t?k=a+b%2Bc');
    expect([c.password, c.schema, c.extraDejson]).toEqual(['a+b', 's+t', { k: 'a b+c' }]);
  });
});

describe('Connection.clone()', () => {
  it('gives an independent copy with the same fields, password and extra', () => {
    const a = Connection.fromUri('postgres://u:p%40ss@h:5432/s?sslmode=require', 'db');
    a.description = 'primary';
    const b = a.clone();
    expect([b.id, b.type, b.host, b.login, b.password, b.port, b.schema, b.description]).toEqual([
      'db',
      'postgres',
      'h',
      'u',
      'p@ss',
      5432,
      's',
      'primary',
    ]);
    expect(b.extraDejson).toEqual({ sslmode: 'require' });
    b.password = 'changed';
    b.host = 'other';
    expect(a.password).toBe('p@ss');
    expect(a.host).toBe('h');
  });
});
