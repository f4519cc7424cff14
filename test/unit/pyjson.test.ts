/**
 * The Python-compatibility helpers against values computed with CPython 3.11.7's urllib.parse and
 * json modules (pasted here; no Python needed at run time).
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_DEPTH,
  type PyDict,
  PyJsonDecodeError,
  PyValueError,
  parsePythonJson,
  pyFloatRepr,
  pyJsonDumps,
  pyJsonLoads,
  pyStr,
} from '../../src/pyjson.js';
import {
  hostname,
  parseQsl,
  port,
  quote,
  quotePlus,
  unquote,
  urlencode,
  urlsplit,
  userinfo,
} from '../../src/pyurl.js';

interface SplitRow {
  in: string;
  error?: string;
  scheme?: string;
  netloc?: string;
  path?: string;
  query?: string;
  fragment?: string;
  username?: string | null;
  password?: string | null;
  hostname?: string | null;
  port?: number | null;
  portError?: string;
}

const V: {
  split: SplitRow[];
  quote: { in: string; quote: string; quoteDefault: string; quotePlus: string }[];
  unquote: { in: string; out: string }[];
  parseQsl: { in: string; out: [string, string][]; outNoBlank: [string, string][] }[];
  floats: { in: number; repr: string }[];
  json: { in: string; dumps: string }[];
  badJson: string[];
  str: { in: string; str: string }[];
  urlencode: { in: [string, string][]; out: string }[];
} = {
  split: [
    {
      in: '//MyHost:1234/Db',
      scheme: '',
      netloc: 'MyHost:1234',
      path: '/Db',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'myhost',
      port: 1234,
    },
    {
      in: '//host:abc',
      scheme: '',
      netloc: 'host:abc',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'host',
      portError: 'Port could not be cast to integer value',
    },
    {
      in: '//host:99999',
      scheme: '',
      netloc: 'host:99999',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'host',
      portError: 'Port out of range 0-65535',
    },
    {
      in: '//host:',
      scheme: '',
      netloc: 'host:',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'host',
      port: null,
    },
    {
      in: '//host:0',
      scheme: '',
      netloc: 'host:0',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'host',
      port: 0,
    },
    {
      in: '//user:p@ss@host:1',
      scheme: '',
      netloc: 'user:p@ss@host:1',
      path: '',
      query: '',
      fragment: '',
      username: 'user',
      password: 'p@ss',
      hostname: 'host',
      port: 1,
    },
    {
      in: '//[::1]:80/x',
      scheme: '',
      netloc: '[::1]:80',
      path: '/x',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: '::1',
      port: 80,
    },
    {
      in: 'http://u:p@Example.COM:8080/p/a/t/h?q=1&r=2#frag',
      scheme: 'http',
      netloc: 'u:p@Example.COM:8080',
      path: '/p/a/t/h',
      query: 'q=1&r=2',
      fragment: 'frag',
      username: 'u',
      password: 'p',
      hostname: 'example.com',
      port: 8080,
    },
    {
      in: 'HTTP://x',
      scheme: 'http',
      netloc: 'x',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'x',
      port: null,
    },
    {
      in: 'a1+-.://h',
      scheme: 'a1+-.',
      netloc: 'h',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      port: null,
    },
    {
      in: '1a://h',
      scheme: '',
      netloc: '',
      path: '1a://h',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '-a://h',
      scheme: '',
      netloc: '',
      path: '-a://h',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: 'a_b://h',
      scheme: '',
      netloc: '',
      path: 'a_b://h',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: 'mailto:x@y',
      scheme: 'mailto',
      netloc: '',
      path: 'x@y',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '//[::1',
      error: 'Invalid IPv6 URL',
    },
    {
      in: '//::1]',
      error: 'Invalid IPv6 URL',
    },
    {
      in: '//[1.2.3.4]',
      error: 'An IPv4 address cannot be in brackets',
    },
    {
      in: '//[v1.x]',
      scheme: '',
      netloc: '[v1.x]',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'v1.x',
      port: null,
    },
    {
      in: '//[vz]',
      error: 'IPvFuture address is invalid',
    },
    {
      in: '//[::ffff:1.2.3.4]:9',
      scheme: '',
      netloc: '[::ffff:1.2.3.4]:9',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: '::ffff:1.2.3.4',
      port: 9,
    },
    {
      in: '//[fe80::1%eTH0]',
      scheme: '',
      netloc: '[fe80::1%eTH0]',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'fe80::1%eTH0',
      port: null,
    },
    {
      in: '//[1:2:3:4:5:6:7:8]',
      scheme: '',
      netloc: '[1:2:3:4:5:6:7:8]',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: '1:2:3:4:5:6:7:8',
      port: null,
    },
    {
      in: '//[1:2:3:4:5:6:7:8:9]',
      error: '',
    },
    {
      in: '//[1::2::3]',
      error: '',
    },
    {
      in: '//[:1::]',
      error: '',
    },
    {
      in: '//[::]',
      scheme: '',
      netloc: '[::]',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: '::',
      port: null,
    },
    {
      in: '//[1:2:3:4:5:6:7::]',
      scheme: '',
      netloc: '[1:2:3:4:5:6:7::]',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: '1:2:3:4:5:6:7::',
      port: null,
    },
    {
      in: '//[12345::]',
      error: '',
    },
    {
      in: '//[::1.2.3]',
      error: '',
    },
    {
      in: '//[::01.2.3.4]',
      error: '',
    },
    {
      in: '//[]',
      error: '',
    },
    {
      in: '//[g::]',
      error: '',
    },
    {
      in: '//[::1]x:5',
      scheme: '',
      netloc: '[::1]x:5',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: '::1',
      port: 5,
    },
    {
      in: '//h\u2100st',
      error: 'netloc ',
    },
    {
      in: '//h\u00e9st',
      scheme: '',
      netloc: 'h\u00e9st',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h\u00e9st',
      port: null,
    },
    {
      in: '//h\uff0fst',
      error: 'netloc ',
    },
    {
      in: '  \u0001//h\t\n\r',
      scheme: '',
      netloc: 'h',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      port: null,
    },
    {
      in: '//h?q#f?g',
      scheme: '',
      netloc: 'h',
      path: '',
      query: 'q',
      fragment: 'f?g',
      username: null,
      password: null,
      hostname: 'h',
      port: null,
    },
    {
      in: '//h#f?q',
      scheme: '',
      netloc: 'h',
      path: '',
      query: '',
      fragment: 'f?q',
      username: null,
      password: null,
      hostname: 'h',
      port: null,
    },
    {
      in: '//@',
      scheme: '',
      netloc: '@',
      path: '',
      query: '',
      fragment: '',
      username: '',
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '//:@',
      scheme: '',
      netloc: ':@',
      path: '',
      query: '',
      fragment: '',
      username: '',
      password: '',
      hostname: null,
      port: null,
    },
    {
      in: '//:',
      scheme: '',
      netloc: ':',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '//a:b:c@h:1',
      scheme: '',
      netloc: 'a:b:c@h:1',
      path: '',
      query: '',
      fragment: '',
      username: 'a',
      password: 'b:c',
      hostname: 'h',
      port: 1,
    },
    {
      in: 'x://',
      scheme: 'x',
      netloc: '',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '//h/%2F',
      scheme: '',
      netloc: 'h',
      path: '/%2F',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      port: null,
    },
    {
      in: '//h:+1',
      scheme: '',
      netloc: 'h:+1',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      portError: 'Port could not be cast to integer value',
    },
    {
      in: '//h:1_0',
      scheme: '',
      netloc: 'h:1_0',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      portError: 'Port could not be cast to integer value',
    },
    {
      in: '//h: 1',
      scheme: '',
      netloc: 'h: 1',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      portError: 'Port could not be cast to integer value',
    },
    {
      in: '//h:\u0661',
      scheme: '',
      netloc: 'h:\u0661',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      portError: 'Port could not be cast to integer value',
    },
    {
      in: '//H%41:1',
      scheme: '',
      netloc: 'H%41:1',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h%41',
      port: 1,
    },
    {
      in: 'path?only',
      scheme: '',
      netloc: '',
      path: 'path',
      query: 'only',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '?q',
      scheme: '',
      netloc: '',
      path: '',
      query: 'q',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '#f',
      scheme: '',
      netloc: '',
      path: '',
      query: '',
      fragment: 'f',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '',
      scheme: '',
      netloc: '',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: ':x',
      scheme: '',
      netloc: '',
      path: ':x',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: null,
      port: null,
    },
    {
      in: '//user@[::1]:80',
      scheme: '',
      netloc: 'user@[::1]:80',
      path: '',
      query: '',
      fragment: '',
      username: 'user',
      password: null,
      hostname: '::1',
      port: 80,
    },
    {
      in: '//h:65535',
      scheme: '',
      netloc: 'h:65535',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      port: 65535,
    },
    {
      in: '//h:65536',
      scheme: '',
      netloc: 'h:65536',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      portError: 'Port out of range 0-65535',
    },
    {
      in: '//h:00000000000000000000001',
      scheme: '',
      netloc: 'h:00000000000000000000001',
      path: '',
      query: '',
      fragment: '',
      username: null,
      password: null,
      hostname: 'h',
      port: 1,
    },
  ],
  quote: [
    {
      in: "a b/c:@!$&'()*+,;=~._-",
      quote: 'a%20b%2Fc%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D~._-',
      quoteDefault: 'a%20b/c%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D~._-',
      quotePlus: 'a+b%2Fc%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D~._-',
    },
    {
      in: '',
      quote: '',
      quoteDefault: '',
      quotePlus: '',
    },
    {
      in: 'abc',
      quote: 'abc',
      quoteDefault: 'abc',
      quotePlus: 'abc',
    },
    {
      in: '\u00e9\ud83d\ude00',
      quote: '%C3%A9%F0%9F%98%80',
      quoteDefault: '%C3%A9%F0%9F%98%80',
      quotePlus: '%C3%A9%F0%9F%98%80',
    },
    {
      in: '\u0000\u007f',
      quote: '%00%7F',
      quoteDefault: '%00%7F',
      quotePlus: '%00%7F',
    },
    {
      in: '~_.-',
      quote: '~_.-',
      quoteDefault: '~_.-',
      quotePlus: '~_.-',
    },
    {
      in: '%',
      quote: '%25',
      quoteDefault: '%25',
      quotePlus: '%25',
    },
    {
      in: '+ +',
      quote: '%2B%20%2B',
      quoteDefault: '%2B%20%2B',
      quotePlus: '%2B+%2B',
    },
    {
      in: 'A-Z\u0100',
      quote: 'A-Z%C4%80',
      quoteDefault: 'A-Z%C4%80',
      quotePlus: 'A-Z%C4%80',
    },
  ],
  unquote: [
    {
      in: '%41%42',
      out: 'AB',
    },
    {
      in: '%e2%82%ac',
      out: '\u20ac',
    },
    {
      in: '%E2%82',
      out: '\ufffd',
    },
    {
      in: '%E2%82%ACx',
      out: '\u20acx',
    },
    {
      in: '%zz%4',
      out: '%zz%4',
    },
    {
      in: '\u00e9%41',
      out: '\u00e9A',
    },
    {
      in: '%C3%A9\u00e9%C3',
      out: '\u00e9\u00e9\ufffd',
    },
    {
      in: '%ED%A0%80',
      out: '\ufffd\ufffd\ufffd',
    },
    {
      in: '%F4%90%80%80',
      out: '\ufffd\ufffd\ufffd\ufffd',
    },
    {
      in: '%C0%80',
      out: '\ufffd\ufffd',
    },
    {
      in: '%EF%BB%BFbom',
      out: '\ufeffbom',
    },
    {
      in: '%F0%9F%98',
      out: '\ufffd',
    },
    {
      in: '%80%80',
      out: '\ufffd\ufffd',
    },
    {
      in: 'plain',
      out: 'plain',
    },
    {
      in: '%%41',
      out: '%A',
    },
  ],
  parseQsl: [
    {
      in: 'a=1&b=2',
      out: [
        ['a', '1'],
        ['b', '2'],
      ],
      outNoBlank: [
        ['a', '1'],
        ['b', '2'],
      ],
    },
    {
      in: 'a=1&a=2',
      out: [
        ['a', '1'],
        ['a', '2'],
      ],
      outNoBlank: [
        ['a', '1'],
        ['a', '2'],
      ],
    },
    {
      in: 'a',
      out: [['a', '']],
      outNoBlank: [],
    },
    {
      in: 'a=',
      out: [['a', '']],
      outNoBlank: [],
    },
    {
      in: '=b',
      out: [['', 'b']],
      outNoBlank: [['', 'b']],
    },
    {
      in: '&&a=1&&',
      out: [['a', '1']],
      outNoBlank: [['a', '1']],
    },
    {
      in: 'a+b=c+d',
      out: [['a b', 'c d']],
      outNoBlank: [['a b', 'c d']],
    },
    {
      in: 'a=%2B',
      out: [['a', '+']],
      outNoBlank: [['a', '+']],
    },
    {
      in: 'a=1;b=2',
      out: [['a', '1;b=2']],
      outNoBlank: [['a', '1;b=2']],
    },
    {
      in: 'a==b',
      out: [['a', '=b']],
      outNoBlank: [['a', '=b']],
    },
    {
      in: '%E2%82%AC=1',
      out: [['\u20ac', '1']],
      outNoBlank: [['\u20ac', '1']],
    },
    {
      in: 'k=%e2%82',
      out: [['k', '\ufffd']],
      outNoBlank: [['k', '\ufffd']],
    },
  ],
  floats: [
    {
      in: 1.0,
      repr: '1.0',
    },
    {
      in: 1.5,
      repr: '1.5',
    },
    {
      in: 0.1,
      repr: '0.1',
    },
    {
      in: -0.0,
      repr: '-0.0',
    },
    {
      in: 0.0,
      repr: '0.0',
    },
    {
      in: 1e16,
      repr: '1e+16',
    },
    {
      in: 1000000000000000.0,
      repr: '1000000000000000.0',
    },
    {
      in: 1.2345678901234568e17,
      repr: '1.2345678901234568e+17',
    },
    {
      in: 0.0001,
      repr: '0.0001',
    },
    {
      in: 1e-5,
      repr: '1e-05',
    },
    {
      in: 1.5e-7,
      repr: '1.5e-07',
    },
    {
      in: 5e-324,
      repr: '5e-324',
    },
    {
      in: 1.7976931348623157e308,
      repr: '1.7976931348623157e+308',
    },
    {
      in: 100.0,
      repr: '100.0',
    },
    {
      in: 2.5e21,
      repr: '2.5e+21',
    },
    {
      in: 1e22,
      repr: '1e+22',
    },
    {
      in: -3.25,
      repr: '-3.25',
    },
    {
      in: 0.30000000000000004,
      repr: '0.30000000000000004',
    },
    {
      in: 12345.678,
      repr: '12345.678',
    },
  ],
  json: [
    {
      in: '{"a": 1, "b": [1, 2.0, "x"], "c": null, "d": true}',
      dumps: '{"a": 1, "b": [1, 2.0, "x"], "c": null, "d": true}',
    },
    {
      in: '{"\u00e9": "\ud83d\ude00\\ud800"}',
      dumps: '{"\\u00e9": "\\ud83d\\ude00\\ud800"}',
    },
    {
      in: '{"z":1,"a":2,"1":3}',
      dumps: '{"z": 1, "a": 2, "1": 3}',
    },
    {
      in: '[1e400, -1e400, NaN]',
      dumps: '[Infinity, -Infinity, NaN]',
    },
    {
      in: '"\\u0000\\u001f\\u007f\\u0080"',
      dumps: '"\\u0000\\u001f\\u007f\\u0080"',
    },
    {
      in: '{"k": "\\"\\\\\\/\\b\\f\\n\\r\\t"}',
      dumps: '{"k": "\\"\\\\/\\b\\f\\n\\r\\t"}',
    },
    {
      in: ' { "a" : [ ] , "b" : { } } ',
      dumps: '{"a": [], "b": {}}',
    },
    {
      in: '12345678901234567890123',
      dumps: '12345678901234567890123',
    },
    {
      in: '-0',
      dumps: '0',
    },
    {
      in: '-0.0',
      dumps: '-0.0',
    },
    {
      in: '1E5',
      dumps: '100000.0',
    },
    {
      in: '1e-07',
      dumps: '1e-07',
    },
    {
      in: '0.5',
      dumps: '0.5',
    },
    {
      in: '{"a": 1, "a": 2, "b": 3}',
      dumps: '{"a": 2, "b": 3}',
    },
  ],
  badJson: [
    '{',
    '{"a" 1}',
    "{'a': 1}",
    '[1,]',
    '01',
    '1.',
    '.5',
    '+1',
    'nan',
    'infinity',
    '"\u0001"',
    '"\\x"',
    '"\\u12"',
    '{"a":1}x',
    'tru',
    '\ufeff{}',
    '',
    ' ',
  ],
  str: [
    {
      in: 'null',
      str: 'None',
    },
    {
      in: 'true',
      str: 'True',
    },
    {
      in: 'false',
      str: 'False',
    },
    {
      in: '1',
      str: '1',
    },
    {
      in: '1.0',
      str: '1.0',
    },
    {
      in: '"x"',
      str: 'x',
    },
    {
      in: '"it\'s"',
      str: "it's",
    },
    {
      in: '"say \\"hi\\""',
      str: 'say "hi"',
    },
    {
      in: '"both \' \\""',
      str: 'both \' "',
    },
    {
      in: '[1, "a", null, [true]]',
      str: "[1, 'a', None, [True]]",
    },
    {
      in: '{"a": [1.5, {"b": null}]}',
      str: "{'a': [1.5, {'b': None}]}",
    },
    {
      in: '"\\t\\n\\u0000\\u007f\\u00e9\\u200b\\ud83d\\ude00\\u2028\\u00a0\\u00ad"',
      str: '\t\n\u0000\u007f\u00e9\u200b\ud83d\ude00\u2028\u00a0\u00ad',
    },
    {
      in: '"\\\\"',
      str: '\\',
    },
    {
      in: '["\\t\\n\\u0000\\u007f\\u00e9\\u200b\\ud83d\\ude00\\u2028\\u00a0\\u00ad\\ud800\\udb40\\udc01\'", "\\\\"]',
      str: "[\"\\t\\n\\x00\\x7f\u00e9\\u200b\ud83d\ude00\\u2028\\xa0\\xad\\ud800\\U000e0001'\", '\\\\']",
    },
  ],
  urlencode: [
    {
      in: [
        ['a', 'b c'],
        ['x/y', '1+1=2'],
      ],
      out: 'a=b+c&x%2Fy=1%2B1%3D2',
    },
    {
      in: [
        ['k', '\u00e9'],
        ['', ''],
      ],
      out: 'k=%C3%A9&=',
    },
  ],
};

describe('urlsplit and the SplitResult properties behave like CPython 3.11', () => {
  it.each(V.split.map((r) => [r.in, r] as const))('splits %j', (_in, row) => {
    if (row.error !== undefined) {
      let caught: unknown;
      try {
        urlsplit(row.in);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(PyValueError);
      if (row.error) expect((caught as Error).message.startsWith(row.error.trim())).toBe(true);
      return;
    }
    const p = urlsplit(row.in);
    expect({
      scheme: p.scheme,
      netloc: p.netloc,
      path: p.path,
      query: p.query,
      fragment: p.fragment,
    }).toEqual({
      scheme: row.scheme,
      netloc: row.netloc,
      path: row.path,
      query: row.query,
      fragment: row.fragment,
    });
    expect(userinfo(p.netloc)).toEqual({ username: row.username, password: row.password });
    expect(hostname(p.netloc)).toBe(row.hostname);
    if (row.portError) expect(() => port(p.netloc)).toThrow(row.portError);
    else expect(port(p.netloc)).toBe(row.port);
  });

  it('never puts the port text into the port error (it may be part of a password)', () => {
    expect(() => port('user:pass/word')).toThrow(/^Port could not be cast to integer value$/);
  });
});

describe('quote, quote_plus, unquote, parse_qsl and urlencode behave like CPython', () => {
  it('quotes the spec example with safe=""', () => {
    expect(quote("a b/c:@!$&'()*+,;=~._-", '')).toBe('a%20b%2Fc%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D~._-');
  });

  it.each(V.quote.map((r) => [r.in, r] as const))('quotes %j', (_in, row) => {
    expect(quote(row.in, '')).toBe(row.quote);
    expect(quote(row.in)).toBe(row.quoteDefault);
    expect(quotePlus(row.in)).toBe(row.quotePlus);
  });

  it('refuses to quote a lone surrogate, as UTF-8 encoding does in Python', () => {
    expect(() => quote('a\ud800b', '')).toThrow(PyValueError);
    expect(quote('\ud83d\ude00', '')).toBe('%F0%9F%98%80');
  });

  it.each(V.unquote.map((r) => [r.in, r] as const))('unquotes %j', (_in, row) => {
    expect(unquote(row.in)).toBe(row.out);
  });

  it.each(V.parseQsl.map((r) => [r.in, r] as const))('parse_qsl %j', (_in, row) => {
    expect(parseQsl(row.in, true)).toEqual(row.out);
    expect(parseQsl(row.in, false)).toEqual(row.outNoBlank);
  });

  it.each(V.urlencode.map((r) => [JSON.stringify(r.in), r] as const))('urlencode %s', (_in, row) => {
    expect(urlencode(row.in)).toBe(row.out);
  });

  it('urlencode str()s non-string values like Python', () => {
    const d = pyJsonLoads('{"b": true, "n": null, "i": 1, "f": 1.0, "l": [1, 2]}');
    expect(urlencode(d as Map<string, never>)).toBe('b=True&n=None&i=1&f=1.0&l=%5B1%2C+2%5D');
  });
});

describe('json.loads / json.dumps behave like CPython', () => {
  it.each(V.json.map((r) => [r.in, r] as const))('round-trips %j', (_in, row) => {
    expect(pyJsonDumps(pyJsonLoads(row.in))).toBe(row.dumps);
  });

  it.each(V.badJson.map((t) => [t] as const))('rejects %j without quoting it', (text) => {
    let caught: unknown;
    try {
      pyJsonLoads(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PyValueError);
    if (text.trim().length > 2) expect((caught as Error).message).not.toContain(text.trim());
  });

  it('keeps integers exact and integer-like keys in insertion order', () => {
    const v = pyJsonLoads('{"2": 12345678901234567890, "1": 1.0}') as PyDict;
    expect([...v.keys()]).toEqual(['2', '1']);
    expect(v.get('2')).toBe(12345678901234567890n);
    expect(pyJsonDumps(v)).toBe('{"2": 12345678901234567890, "1": 1.0}');
  });

  it('refuses integers longer than CPython int_max_str_digits (4300)', () => {
    expect(() => pyJsonLoads('1'.repeat(4301))).toThrow(PyValueError);
    expect(pyJsonDumps(pyJsonLoads('1'.repeat(4300)))).toBe('1'.repeat(4300));
  });

  it('bounds nesting depth instead of overflowing the stack', () => {
    expect(() => pyJsonLoads('['.repeat(100_000))).toThrow(PyValueError);
    const deepest = `${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`;
    expect(pyJsonDumps(pyJsonLoads(deepest))).toBe(deepest);
    expect(() => pyJsonLoads(`[${deepest}]`)).toThrow(
      /^Maximum nesting depth exceeded: line 1 column 1001 \(char 1000\)$/,
    );
  });

  it("reports CPython's JSONDecodeError msg, pos, lineno and colno", () => {
    let caught: unknown;
    try {
      pyJsonLoads('{\n  "a": 1\n  "b": 2}');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PyJsonDecodeError);
    const e = caught as PyJsonDecodeError;
    expect([e.msg, e.pos, e.lineno, e.colno]).toEqual(["Expecting ',' delimiter", 13, 3, 3]);
    expect(e.message).toBe("Expecting ',' delimiter: line 3 column 3 (char 13)");
    expect(() => pyJsonLoads('\n')).toThrow(/^Expecting value: line 2 column 1 \(char 1\)$/);
    expect(() => pyJsonLoads('\ufeff{}')).toThrow(
      /^Unexpected UTF-8 BOM \(decode using utf-8-sig\): line 1 column 1/,
    );
  });
});

describe('parsePythonJson: the plain-JS view of json.loads', () => {
  it('gives own-property objects, so "__proto__" is an ordinary key', () => {
    const r = parsePythonJson('{"__proto__": {"polluted": "yes"}, "n": 12345678901234567890, "x": NaN}');
    expect(r.ok).toBe(true);
    const v = (r as { value: Record<string, unknown> }).value;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'n', 'x']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(v.n).toBe(Number(12345678901234567890n));
    expect(v.x).toBeNaN();
  });

  it('answers a bad text with the message and line instead of throwing', () => {
    expect(parsePythonJson('{"a": 1}\n x')).toEqual({
      ok: false,
      message: 'Extra data',
      position: 10,
      line: 2,
    });
    expect(parsePythonJson('1'.repeat(4301))).toMatchObject({ ok: false, position: 0, line: 1 });
  });

  it.each(V.floats.map((r) => [r.repr, r] as const))('repr(float) %s', (_r, row) => {
    expect(pyFloatRepr(row.in)).toBe(row.repr);
  });

  it.each(V.str.map((r) => [r.in, r] as const))('str(%s)', (_in, row) => {
    expect(pyStr(pyJsonLoads(row.in))).toBe(row.str);
  });
});
