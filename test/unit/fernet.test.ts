import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import {
  FERNET_KEY_SETTING,
  Fernet,
  fernetFromSetting,
  InvalidTokenError,
  MultiFernet,
} from '../../src/metastore/fernet.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/metastore/${name}`, import.meta.url), 'utf8'));

interface GenerateCase {
  token: string;
  now: string;
  iv: number[];
  src: string;
  secret: string;
}
interface VerifyCase {
  token: string;
  now: string;
  ttl_sec: number;
  src: string;
  secret: string;
}
interface InvalidCase {
  desc: string;
  token: string;
  now: string;
  ttl_sec: number;
  secret: string;
}
interface PythonFixture {
  keys: { old: string; new: string; other: string };
  fernetKeySetting: string;
  tokens: { plaintext: string; key: 'old' | 'new'; token: string }[];
}

const generate: GenerateCase[] = fixture('fernet-spec/generate.json');
const verify: VerifyCase[] = fixture('fernet-spec/verify.json');
const invalid: InvalidCase[] = fixture('fernet-spec/invalid.json');
const py: PythonFixture = fixture('fernet-python.json');

describe('Fernet spec vectors', () => {
  it.each(generate)('generate: produces the exact token for $src', (c) => {
    const token = new Fernet(c.secret).encrypt(c.src, { now: new Date(c.now), iv: Uint8Array.from(c.iv) });
    expect(token).toBe(c.token);
  });

  it.each(verify)('verify: decrypts the token to $src within the TTL', (c) => {
    const out = new Fernet(c.secret).decrypt(c.token, { now: new Date(c.now), ttlSec: c.ttl_sec });
    expect(out.toString('utf8')).toBe(c.src);
  });

  it.each(invalid)('invalid: rejects "$desc"', (c) => {
    const f = new Fernet(c.secret);
    expect(() => f.decrypt(c.token, { now: new Date(c.now), ttlSec: c.ttl_sec })).toThrow(InvalidTokenError);
  });

  it('accepts an old token without a TTL, as Airflow decrypts', () => {
    const c = verify[0]!;
    expect(new Fernet(c.secret).decrypt(c.token).toString()).toBe(c.src);
  });
});

describe('Fernet and tokens from Python cryptography', () => {
  const multi = fernetFromSetting(py.fernetKeySetting)!;

  it.each(py.tokens.map((t, i) => ({ ...t, i, len: t.plaintext.length })))(
    'decrypts Python token #$i (key $key, $len chars)',
    (t) => {
      expect(multi.decryptText(t.token)).toBe(t.plaintext);
    },
  );

  it('decrypts tokens of the rotated-out key only while that key is still listed', () => {
    const oldToken = py.tokens.find((t) => t.key === 'old')!;
    expect(() => fernetFromSetting(py.keys.new)!.decrypt(oldToken.token)).toThrow(InvalidTokenError);
    expect(fernetFromSetting(`${py.keys.new},${py.keys.old}`)!.decryptText(oldToken.token)).toBe(
      oldToken.plaintext,
    );
  });

  it('encrypts with the first key only', () => {
    const token = multi.encrypt('first');
    expect(new Fernet(py.keys.new).decrypt(token).toString()).toBe('first');
    expect(() => new Fernet(py.keys.old).decrypt(token)).toThrow(InvalidTokenError);
  });

  it('rotate re-encrypts an old-key token under the first key', () => {
    const oldToken = py.tokens.find((t) => t.key === 'old' && t.plaintext === 'hello')!;
    const rotated = multi.rotate(oldToken.token);
    expect(new Fernet(py.keys.new).decrypt(rotated).toString()).toBe('hello');
  });

  it('Python cryptography decrypts a token this implementation made (live python3)', () => {
    const plaintext = 'from node: żółć 🚀 pa$$';
    const token = multi.encrypt(plaintext);
    const script =
      'import sys\nfrom cryptography.fernet import Fernet, MultiFernet\n' +
      'keys, token = sys.stdin.read().split("\\n")[:2]\n' +
      'f = MultiFernet([Fernet(k) for k in keys.split(",")])\n' +
      'sys.stdout.write(f.decrypt(token.encode()).decode())\n';
    const r = spawnSync('python3', ['-c', script], {
      input: `${py.fernetKeySetting}\n${token}\n`,
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (r.error || r.status !== 0) {
      throw new Error(
        `python3 with the 'cryptography' package is required for this test (pip install cryptography): ` +
          `${r.error?.message ?? r.stderr}`,
      );
    }
    expect(r.stdout).toBe(plaintext);
  });
});

describe('Fernet keys from AIRFLOW__CORE__FERNET_KEY', () => {
  it('returns null for an unset or empty setting (plain-text mode)', () => {
    expect(fernetFromSetting(undefined)).toBeNull();
    expect(fernetFromSetting('')).toBeNull();
  });

  it('accepts whitespace around comma-separated keys, as Python does', () => {
    const f = fernetFromSetting(` ${py.keys.new} , ${py.keys.old}\n`)!;
    expect(f.size).toBe(2);
  });

  it.each([
    ['too short', 'c2hvcnQ='],
    ['not base64', 'not a key at all!!'],
    ['an empty part', `${py.keys.new},`],
  ])('rejects %s with a ConfigurationError naming the setting, never the key', (_d, value) => {
    let err: unknown;
    try {
      fernetFromSetting(value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    const ce = err as ConfigurationError;
    expect(ce.setting).toBe(FERNET_KEY_SETTING);
    expect(ce.message).toContain(FERNET_KEY_SETTING);
    expect(ce.message).not.toContain(value.trim().split(',')[0]);
    expect(ce.message).not.toContain(py.keys.new);
  });

  it('names which key of several is malformed', () => {
    expect(() => fernetFromSetting(`${py.keys.new},bad`)).toThrow(/key 2 of 2/);
  });

  it('never shows key material in inspect or JSON', () => {
    const f = fernetFromSetting(py.fernetKeySetting)!;
    const single = new Fernet(py.keys.new);
    for (const text of [
      inspect(f, { depth: 5, showHidden: true }),
      JSON.stringify({ f, single }),
      inspect(single),
    ]) {
      expect(text).not.toContain(py.keys.new);
      expect(text).not.toContain(py.keys.old);
    }
  });

  it('generateKey makes a key that round-trips', () => {
    const key = Fernet.generateKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    const f = new MultiFernet([new Fernet(key)]);
    expect(f.decryptText(f.encrypt('x'))).toBe('x');
  });

  it('rejects tokens with non-canonical base64 or a wrong version byte', () => {
    const f = new Fernet(py.keys.new);
    const token = f.encrypt('hello');
    expect(() => f.decrypt(`${token}=`)).toThrow(InvalidTokenError);
    expect(() => f.decrypt(` ${token}`)).toThrow(InvalidTokenError);
    const bytes = Buffer.from(token, 'base64url');
    bytes[0] = 0x81;
    expect(() => f.decrypt(bytes.toString('base64url'))).toThrow(InvalidTokenError);
  });

  it('an InvalidTokenError message quotes neither token nor plaintext', () => {
    const f = new Fernet(py.keys.new);
    const token = new Fernet(py.keys.old).encrypt('top secret');
    try {
      f.decrypt(token);
      expect.unreachable();
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(token.slice(0, 20));
      expect(String((e as Error).message)).not.toContain('top secret');
    }
  });
});
