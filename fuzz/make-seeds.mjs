/**
 * Writes the hostile seed corpus (fuzz/seeds/<target>/): realistic inputs of every parser plus the
 * worst cases found by review and earlier runs. Re-run after editing; the files are committed.
 * Usage: node fuzz/make-seeds.mjs
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), 'seeds');
const deep = (open, close, n) => open.repeat(n) + close.repeat(n);

/** A real Fernet token for the fuzz target's fixed key (fixed time and IV, so the seed is stable). */
function fernetToken(plaintext) {
  const key = Buffer.from('cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=', 'base64url');
  const iv = Buffer.alloc(16, 7);
  const header = Buffer.alloc(9);
  header[0] = 0x80;
  header.writeBigUInt64BE(BigInt(Date.UTC(2026, 0, 1) / 1000 - 30), 1);
  const c = createCipheriv('aes-128-cbc', key.subarray(16), iv);
  const body = Buffer.concat([header, iv, c.update(plaintext), c.final()]);
  const mac = createHmac('sha256', key.subarray(0, 16)).update(body).digest();
  return Buffer.concat([body, mac]).toString('base64url') + '=';
}

const seeds = {
  'connection-uri': [
    'postgres://user:p%40ss@host:5432/db?sslmode=require',
    'mysql://u:pw@[::1]:3306/schema?__extra__=%7B%22a%22%3A+1%7D',
    'http://https://host.example:443/path',
    'aws://AKIA:secret@/?region_name=eu-west-1&role_arn=arn',
    'google-cloud-platform://?extra__google_cloud_platform__keyfile_dict=%7B%7D',
    'scheme://user:pass@host:notaport/db',
    'a://[v1.x]/',
    'a://[127.0.0.1]/',
    'x://\uFF03@host',
    '://://://',
    `mysql://u:p@h/db?${'k=v&'.repeat(200)}`,
  ],
  pyjson: [
    '{"conn_type": "postgres", "host": "h", "port": "5432", "extra": {"a": [1, 2.5, null, true]}}',
    '[NaN, Infinity, -Infinity, 1e400, -0.0, 12345678901234567890]',
    '"\\ud800\\udc00\\ud800"',
    '{"__proto__": {"polluted": 1}}',
    deep('[', ']', 999),
    deep('[', ']', 1001),
    '{"a": 1, "a": 2}',
    '  \t\n{}',
    '"\\u00e9\\x"',
  ],
  yaml: [
    'conn:\n  conn_type: mysql\n  host: h\n  port: 3306\n  extra_dejson: {a: 1}\n',
    'base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\nl: [*b, *b]\n',
    'a: yes\nb: n\nc: 1e3\nd: 0777\ne: 1:20\nf: 2001-12-14t21:59:43.10-05:00\ng: !!binary aGVsbG8=\n',
    `${'-\t'.repeat(1000)}x`,
    `${'- '.repeat(300)}x`,
    `a: ${deep('[', ']', 300)}`,
    `${'? '.repeat(300)}x`,
    'k: &a [*a]',
    'k: &a {x: *a}',
    '<<: [*missing]',
    'a: &a 1\n<<: *a\n',
    [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${`*${String.fromCharCode(97 + i)}, `.repeat(10)}]`,
      ),
    ].join('\n'),
    '? [a, b]\n: c\n',
    '!!set {a, b}\n',
    '!!omap [a: 1, b: 2]\n',
    'a: 1\n---\nb: 2\n',
    'x: !python/object:os.system y\n',
  ],
  'secret-files': [
    '\x00CONN=mysql://u:p@h/db\n# comment\nOTHER=postgres://h\n',
    '\x01{"c": "mysql://h", "d": {"conn_type": "http", "host": "h", "port": 80}}',
    '\x02c:\n  conn_type: http\n  login: l\n  password: "12345"\n  extra_dejson: {k: v}\n',
    '\x03A=1\nA=2\n',
    '\x04{"v": {"nested": [1, 2]}, "n": null}',
    '\x05k: [1, 2]\n',
    '\x06K=1\n',
    '\x07{"k": ["one"]}',
    '\x08k: one\n',
    '\x02c: {conn_id: other}\n',
    '\x02c: {bad_key: 1}\n',
    `\x02${'-\t'.repeat(1000)}x`,
    '\x02k: &a [*a]\n',
  ],
  'env-file': [
    'export A=1\nB="two\\nlines"\nC=\'x\' # c\n# comment\n',
    'bad line\n',
    '1A=x\n',
    'A\u2028B=1\n',
  ],
  'airflow-cfg': [
    '[core]\nfernet_key = abc\nsql_alchemy_conn = sqlite:////$AIRFLOW_HOME/airflow.db\n[secrets]\nbackend_kwargs = {"a":\n  1}\n',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: airflow.cfg text, not a template
    '[s]\nk: %(other)s\nother = ${HOME}/x\n',
    'no section = x\n',
    '[a]\n[b]\n  continuation\n',
  ],
  'sqlalchemy-url': [
    'postgresql+psycopg2://airflow:p%40ss@127.0.0.1:5432/airflow?sslmode=require',
    'mysql://u:p@[::1]:3306/db?ssl_ca=/ca.pem',
    'sqlite:////tmp/airflow.db',
    'sqlite://',
    'sqlite:///:memory:',
    'postgresql://airflow:***@ss/Tail5ecret@127.0.0.1:1/airflow',
    'postgresql://us/er:pw@h/db',
    'oracle://x',
    'postgresql://h:99999/db',
    'postgresql://h:abc/db',
  ],
  fernet: [
    fernetToken('postgres://user:secret@host/db'),
    `cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,${'A'.repeat(43)}=\0${fernetToken('')}`,
    ',\0',
    'a,b\0x',
    '====',
    '',
  ],
  'backend-kwargs': [
    '\x00{"connections_file_path": "/nonexistent/c.json", "variables_file_path": null}',
    '\x01{"url": "http://127.0.0.1:8200", "token": "t", "mount_point": "secret", "kv_engine_version": 2}',
    '\x02{"connections_prefix": "airflow/connections", "region_name": "eu-west-1", "full_url_mode": false}',
    '\x03{"variables_prefix": null, "profile_name": "p"}',
    '\x00[]',
    '\x00null',
    '\x00{"__proto__": {"x": 1}}',
    '\x01{"auth_type": "approle", "role_id": "r", "secret_id": "s"}',
    '\x00not json',
  ],
  'cli-argv': [
    'connections\nget\nc1',
    'connections\nget\nc1\n--output\njson',
    'variables\nget\nj1\n--json',
    'explain\nconnection\nc1',
    'explain\nvariable\nv1\n--json',
    '--env-file\nx\nvariables\nget\nfrom_file',
    'connections\nadd\nnew\n--conn-uri\nmysql://h',
    'variables\nset\nk\nv',
    '--strict\nconnections\nget\nmissing',
    '-h',
    '',
    'connections\nget\na\x1b[31m\nb',
    'variables\nget\nline\nbreak',
  ],
};

rmSync(root, { recursive: true, force: true });
for (const [target, list] of Object.entries(seeds)) {
  const dir = join(root, target);
  mkdirSync(dir, { recursive: true });
  list.forEach((text, i) => {
    writeFileSync(join(dir, `seed-${String(i).padStart(3, '0')}`), text);
  });
}
console.log(`wrote ${Object.values(seeds).flat().length} seeds to ${root}`);
