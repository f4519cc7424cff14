/**
 * Fernet (https://github.com/fernet/spec) on `node:crypto`, and Airflow's use of it: a
 * comma-separated `AIRFLOW__CORE__FERNET_KEY` is a `MultiFernet` — the first key encrypts, every key
 * is tried to decrypt (key rotation).
 *
 * Token: 0x80 ‖ timestamp (u64 BE seconds) ‖ IV (16) ‖ AES-128-CBC(PKCS#7) ciphertext ‖
 * HMAC-SHA256(signing key, everything before it). Key: url-safe base64 of 32 bytes
 * (signing key ‖ encryption key). The MAC is checked in constant time before anything is decrypted.
 * Base64 is decoded strictly (the spec's "invalid" vectors); Python's decoder is lenient, but the
 * tokens it produces are always canonical.
 *
 * Key material lives in private fields only, so it never appears in `util.inspect` or JSON, and no
 * error message quotes a key, a token or a plaintext.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '../errors.js';

/** The setting Airflow reads the keys from; named by configuration errors. */
export const FERNET_KEY_SETTING = 'AIRFLOW__CORE__FERNET_KEY';

const VERSION = 0x80;
const HEADER = 1 + 8 + 16;
const MAC_LEN = 32;
/** Python `cryptography`'s `_MAX_CLOCK_SKEW`: tokens from the future are accepted up to this (TTL only). */
const MAX_CLOCK_SKEW_SEC = 60;

/** A token that is malformed, was made with another key, or (with a TTL) has expired. Says nothing more. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError' as const;
  constructor() {
    super('Fernet token is invalid, was not made with any configured key, or has expired');
  }
}

export interface DecryptOptions {
  /** Reject tokens older than this many seconds (Airflow decrypts without a TTL). */
  ttlSec?: number | undefined;
  /** The current time, for tests. Default `Date.now()`. */
  now?: Date | number | undefined;
}

export interface EncryptOptions {
  /** The token's timestamp, for tests. Default now. */
  now?: Date | number | undefined;
  /** The 16-byte IV, for tests. Default random. */
  iv?: Uint8Array | undefined;
}

/** One Fernet key. */
export class Fernet {
  readonly #signingKey: Buffer;
  readonly #encryptionKey: Buffer;

  /** `key` is 32 bytes, url-safe (or standard) base64. A bad key throws a `ConfigurationError` that never quotes it. */
  constructor(key: string, setting: string = FERNET_KEY_SETTING) {
    const raw = decodeKey(key);
    if (raw === null) {
      throw new ConfigurationError(
        setting,
        `${setting} is not a valid Fernet key: each key must be 32 url-safe base64-encoded bytes`,
      );
    }
    this.#signingKey = raw.subarray(0, 16);
    this.#encryptionKey = raw.subarray(16);
  }

  /** Generate a fresh random key, encoded as Airflow and `Fernet.generate_key()` encode it. */
  static generateKey(): string {
    return randomBytes(32).toString('base64url') + '=';
  }

  encrypt(plaintext: string | Uint8Array, options: EncryptOptions = {}): string {
    const iv = options.iv === undefined ? randomBytes(16) : Buffer.from(options.iv);
    if (iv.length !== 16) throw new RangeError('Fernet IV must be 16 bytes');
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv);
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const header = Buffer.alloc(9);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(seconds(options.now)), 1);
    const body = Buffer.concat([header, iv, ciphertext]);
    const mac = createHmac('sha256', this.#signingKey).update(body).digest();
    return toUrlSafeBase64(Buffer.concat([body, mac]));
  }

  /** The plaintext bytes, or throws `InvalidTokenError`. */
  decrypt(token: string | Uint8Array, options: DecryptOptions = {}): Buffer {
    const data = decodeToken(token);
    return this.decryptDecoded(data, options);
  }

  /** @internal Decrypt an already-decoded token (lets `MultiFernet` decode once). */
  decryptDecoded(data: Buffer, options: DecryptOptions): Buffer {
    const body = data.subarray(0, data.length - MAC_LEN);
    const expected = createHmac('sha256', this.#signingKey).update(body).digest();
    if (!timingSafeEqual(expected, data.subarray(data.length - MAC_LEN))) throw new InvalidTokenError();
    if (options.ttlSec !== undefined) {
      const ts = Number(data.readBigUInt64BE(1));
      const now = seconds(options.now);
      if (ts + options.ttlSec < now || now + MAX_CLOCK_SKEW_SEC < ts) throw new InvalidTokenError();
    }
    const iv = data.subarray(9, HEADER);
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, iv);
      return Buffer.concat([decipher.update(body.subarray(HEADER)), decipher.final()]);
    } catch {
      throw new InvalidTokenError();
    }
  }

  toJSON(): string {
    return '[Fernet]';
  }
}

/** Several keys: encrypt with the first, decrypt with whichever key made the token. */
export class MultiFernet {
  readonly #keys: readonly Fernet[];

  constructor(keys: readonly Fernet[]) {
    if (keys.length === 0) throw new RangeError('MultiFernet needs at least one key');
    this.#keys = [...keys];
  }

  /** How many keys are configured. */
  get size(): number {
    return this.#keys.length;
  }

  encrypt(plaintext: string | Uint8Array, options?: EncryptOptions): string {
    return this.#keys[0]!.encrypt(plaintext, options);
  }

  decrypt(token: string | Uint8Array, options: DecryptOptions = {}): Buffer {
    const data = decodeToken(token);
    for (const key of this.#keys) {
      try {
        return key.decryptDecoded(data, options);
      } catch (e) {
        if (!(e instanceof InvalidTokenError)) throw e;
      }
    }
    throw new InvalidTokenError();
  }

  /** Decrypt to UTF-8 text (Airflow's `.decode()`); invalid UTF-8 is an `InvalidTokenError` too. */
  decryptText(token: string, options?: DecryptOptions): string {
    const bytes = this.decrypt(token, options);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new InvalidTokenError();
    }
  }

  /** Re-encrypt a token under the first key, keeping its plaintext (Airflow's `rotate`). */
  rotate(token: string): string {
    return this.encrypt(this.decrypt(token));
  }

  toJSON(): string {
    return `[MultiFernet: ${this.#keys.length} key(s)]`;
  }
}

/**
 * Airflow's `get_fernet()`: empty/unset → `null` (values stored and read in plain text); otherwise
 * `MultiFernet` over `value.split(",")`. Each part is trimmed (Python's base64 decoder skips
 * whitespace). An empty or malformed part is a `ConfigurationError` naming the setting (and
 * `source`, where the keys came from, when that is not the setting itself) and the key's position,
 * never the key.
 */
export function fernetFromSetting(
  value: string | null | undefined,
  setting: string = FERNET_KEY_SETTING,
  source: string = setting,
): MultiFernet | null {
  if (value === null || value === undefined || value === '') return null;
  const parts = value.split(',');
  const keys = parts.map((part, i) => {
    try {
      return new Fernet(part.trim(), setting);
    } catch {
      const which = parts.length > 1 ? ` (key ${i + 1} of ${parts.length})` : '';
      throw new ConfigurationError(
        setting,
        `${setting}${which} is not a valid Fernet key: each key must be 32 url-safe base64-encoded bytes${source === setting ? '' : ` (from ${source})`}`,
      );
    }
  });
  return new MultiFernet(keys);
}

function seconds(now: Date | number | undefined): number {
  const ms = now === undefined ? Date.now() : typeof now === 'number' ? now : now.getTime();
  return Math.floor(ms / 1000);
}

function toUrlSafeBase64(b: Buffer): string {
  return b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

const TOKEN_RE = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict url-safe base64 (canonical, padded or not) → token bytes with a valid framing, or throws. */
function decodeToken(token: string | Uint8Array): Buffer {
  const text = typeof token === 'string' ? token : Buffer.from(token).toString('latin1');
  if (!TOKEN_RE.test(text) || text.length % 4 === 1) throw new InvalidTokenError();
  const data = Buffer.from(text, 'base64url');
  // Canonical only: re-encoding must give back the input (rejects stray bits and bad padding).
  const canonical = data.toString('base64url');
  const unpadded = text.replace(/=+$/, '');
  if (canonical !== unpadded) throw new InvalidTokenError();
  if (text.length !== unpadded.length && text.length % 4 !== 0) throw new InvalidTokenError();
  if (data.length < HEADER + 16 + MAC_LEN || data[0] !== VERSION) throw new InvalidTokenError();
  if ((data.length - HEADER - MAC_LEN) % 16 !== 0) throw new InvalidTokenError();
  return data;
}

/** Decode a key as Python's `urlsafe_b64decode` would for well-formed input; `null` unless 32 bytes. */
function decodeKey(key: string): Buffer | null {
  if (!/^[A-Za-z0-9_+/-]*={0,2}$/.test(key) || key.length % 4 !== 0) return null;
  const raw = Buffer.from(key.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return raw.length === 32 ? raw : null;
}
