/**
 * Airflow's secrets masker (`airflow_shared.secrets_masker`), for users' log pipelines: register
 * values with {@link maskSecret}, then pass log text through {@link redact}.
 *
 * Like Airflow, a `Connection` registers its password (and its %-quoted forms) when it is built, and
 * `extraDejson` registers the extra's values under sensitive keys. The registry is process-wide and
 * bounded: at most {@link MAX_MASKED_SECRETS} values, the oldest registered evicted first.
 */
import { quote } from './pyurl.js';

/** Airflow's default sensitive names (`DEFAULT_SENSITIVE_FIELDS`, 2.x / 3.0–3.1). */
export const SENSITIVE_FIELDS: readonly string[] = Object.freeze([
  'access_token',
  'api_key',
  'apikey',
  'authorization',
  'passphrase',
  'passwd',
  'password',
  'private_key',
  'proxies',
  'secret',
  'token',
  'keyfile_dict',
  'service_account',
]);

/** Upper bound on registered secrets; past it the oldest registration is dropped. */
export const MAX_MASKED_SECRETS = 10_000;
/** Airflow's `[logging] min_length_masked_secret` default: shorter values are never registered. */
export const MIN_LENGTH_MASKED_SECRET = 5;
/** Airflow's `SECRETS_TO_SKIP_MASKING`. */
const SKIP = new Set(['airflow']);
const REPLACEMENT = '***';

let extraFields: string[] = [];
let minLength = MIN_LENGTH_MASKED_SECRET;
let maxSecrets = MAX_MASKED_SECRETS;
const secrets = new Map<string, true>();
/**
 * The registered secrets, indexed for `redact`: those of at least {@link KEY} code units by their
 * first {@link KEY} (each bucket longest first), shorter ones in one set per length. `redact` looks
 * up the candidates at each position of the text instead of running one alternation of every
 * secret: that regular expression had to be recompiled after every registration, about 2 s at the
 * 10,000-secret cap (found by fuzzing `Connection`), and matching it cost 20 ms per call.
 */
const KEY = 8;
const long = new Map<string, string[]>();
const short = new Map<number, Set<string>>();
/** The lengths present in `short`, longest first. */
let shortLengths: number[] = [];

function indexAdd(s: string): void {
  if (s.length < KEY) {
    const set = short.get(s.length);
    if (set) set.add(s);
    else {
      short.set(s.length, new Set([s]));
      shortLengths = [...short.keys()].sort((a, b) => b - a);
    }
    return;
  }
  const key = s.slice(0, KEY);
  const bucket = long.get(key);
  if (!bucket) {
    long.set(key, [s]);
    return;
  }
  let i = 0;
  while (i < bucket.length && bucket[i]!.length >= s.length) i++;
  bucket.splice(i, 0, s);
}

function indexRemove(s: string): void {
  if (s.length < KEY) {
    const set = short.get(s.length);
    set?.delete(s);
    if (set?.size === 0) {
      short.delete(s.length);
      shortLengths = [...short.keys()].sort((a, b) => b - a);
    }
    return;
  }
  const key = s.slice(0, KEY);
  const bucket = long.get(key);
  if (!bucket) return;
  const i = bucket.indexOf(s);
  if (i >= 0) bucket.splice(i, 1);
  if (bucket.length === 0) long.delete(key);
}

export interface MaskerOptions {
  /** More sensitive names (Airflow's `[core] sensitive_var_conn_names`), added to the defaults. */
  sensitiveFields?: readonly string[] | undefined;
  /** Shortest value that is registered. Default {@link MIN_LENGTH_MASKED_SECRET} (5). */
  minLength?: number | undefined;
  /** Most values kept. Default {@link MAX_MASKED_SECRETS} (10,000). */
  maxSecrets?: number | undefined;
}

/** Change the masker's settings (process-wide). Unset options keep their current value. */
export function configureMasker(options: MaskerOptions): void {
  if (options.sensitiveFields) {
    extraFields = options.sensitiveFields.map((f) => f.trim().toLowerCase()).filter(Boolean);
  }
  if (options.minLength !== undefined) minLength = options.minLength;
  if (options.maxSecrets !== undefined) {
    maxSecrets = Math.max(1, Math.floor(options.maxSecrets));
    evict();
  }
}

/**
 * The patterns with Unicode property escapes, each built on first use and then shared (the global
 * ones only by `replace`, which starts from 0).
 * Built on first use, not written as a literal: V8 checks a literal's Unicode property escapes
 * (`\p{…}`) while it compiles the file, 70–280 µs each even inside a function never called, and
 * that is paid by every import of the package root (bench: "importing the package root").
 */
const UNICODE = (() => {
  const lazy = (source: string, flags: string) => {
    let re: RegExp | undefined;
    return (): RegExp => (re ??= new RegExp(source, flags));
  };
  return {
    /** Runs of characters that are not letters, digits or `_` (a name's separators). */
    notWord: lazy(String.raw`[^\p{L}\p{N}_]+`, 'gu'),
    /** Control, format and line/paragraph separator characters. */
    control: lazy(String.raw`[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+`, 'gu'),
    /** Quoted text: from the first quote to the last of its kind, or to the end (a `'` in a word is no quote). */
    quoted: lazy(
      String.raw`"[\s\S]*"|"[\s\S]*$|(?<![\p{L}\p{N}])'[\s\S]*'|(?<![\p{L}\p{N}])'[\s\S]*$|` +
        '`[\\s\\S]*`|`[\\s\\S]*$',
      'gu',
    ),
    /** A letter or a digit. */
    readable: lazy(String.raw`[\p{L}\p{N}]`, 'u'),
  };
})();

/**
 * Airflow's `should_hide_value_for_key`: the name, stripped, lower-cased and with every run of
 * non-word characters turned into `_`, CONTAINS one of the sensitive fields (`db_password`,
 * `X-Api-Key`, `secret_access_token` are all sensitive).
 */
export function isSensitiveName(name: unknown): boolean {
  if (typeof name !== 'string') return false;
  const normalized = name.trim().toLowerCase().replace(UNICODE.notWord(), '_');
  return (
    SENSITIVE_FIELDS.some((f) => normalized.includes(f)) || extraFields.some((f) => normalized.includes(f))
  );
}

/**
 * Airflow's `mask_secret(value, name)`: register strings to be redacted. With a `name`, a string
 * is registered only when the name is sensitive. Objects (and Maps) are walked: each value is
 * registered under its own key; arrays keep the name they were under. Strings shorter than 5
 * characters and `"airflow"` are never registered. The %-quoted forms of a value (Python
 * `quote(v)` and `quote(v, safe="")`) are registered with it, so URIs are redacted too.
 *
 * One deliberate difference: below a sensitive key every string is registered, however deeply
 * nested (Airflow re-checks each nested dict key and may skip them).
 */
export function maskSecret(value: unknown, name?: string | null): void {
  add(value, name ?? null, false, 0);
}

function add(value: unknown, name: string | null, forced: boolean, depth: number): void {
  if (depth > 100 || value === null || value === undefined) return;
  if (typeof value === 'string') {
    if (!forced && name && !isSensitiveName(name)) return;
    registerString(value);
    return;
  }
  if (typeof value !== 'object') return;
  const under = forced || (name !== null && isSensitiveName(name));
  if (Array.isArray(value)) {
    for (const v of value) add(v, name, under, depth + 1);
  } else if (value instanceof Map) {
    for (const [k, v] of value) add(v, typeof k === 'string' ? k : null, under, depth + 1);
  } else if (value instanceof Set) {
    for (const v of value) add(v, name, under, depth + 1);
  } else {
    for (const [k, v] of Object.entries(value)) add(v, k, under, depth + 1);
  }
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function registerString(s: string): void {
  if (!s || SKIP.has(s.toLowerCase()) || codePoints(s) < minLength) return;
  const forms = new Set([s]);
  try {
    forms.add(quote(s));
    forms.add(quote(s, ''));
  } catch {
    // a lone surrogate cannot be %-encoded (nor appear in a URI we produce)
  }
  for (const f of forms) {
    if (codePoints(f) < minLength || SKIP.has(f.toLowerCase())) continue;
    if (secrets.has(f)) {
      secrets.delete(f); // refresh its place as newest; the index is unchanged
      secrets.set(f, true);
      continue;
    }
    secrets.set(f, true);
    indexAdd(f);
  }
  evict();
}

function evict(): void {
  while (secrets.size > maxSecrets) {
    const oldest = secrets.keys().next().value as string;
    secrets.delete(oldest);
    indexRemove(oldest);
  }
}

/** The longest registered secret that starts at `text[i]`, or undefined. */
function secretAt(text: string, i: number): string | undefined {
  if (long.size > 0 && text.length - i >= KEY) {
    const bucket = long.get(text.slice(i, i + KEY));
    if (bucket) for (const s of bucket) if (text.startsWith(s, i)) return s;
  }
  for (const n of shortLengths) {
    if (n > text.length - i) continue;
    const candidate = text.slice(i, i + n);
    if (short.get(n)!.has(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Replace every registered secret in `text` with `***`: left to right, at each position the longest
 * secret that starts there (as one alternation of all secrets, longest first, would).
 */
export function redact(text: string): string {
  if (secrets.size === 0 || !text) return text;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; ) {
    const s = secretAt(text, i);
    if (s === undefined) {
      i++;
      continue;
    }
    out += text.slice(from, i) + REPLACEMENT;
    i += s.length;
    from = i;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * Airflow's `redact(item, name)` for structured values: under a sensitive name every leaf (except
 * `null`) becomes `***`; otherwise objects and arrays are walked (keys checked at every depth) and
 * strings have registered secrets replaced. Returns a new value; the input is not changed.
 */
export function redactObject(value: unknown, name?: string | null): unknown {
  return walk(value, name ?? null, false, 0);
}

function walk(value: unknown, name: string | null, forced: boolean, depth: number): unknown {
  const hide = forced || (name !== null && isSensitiveName(name));
  if (depth > 100) return REPLACEMENT;
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, null, hide, depth + 1));
  if (value instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of value) m.set(k, walk(v, typeof k === 'string' ? k : null, hide, depth + 1));
    return m;
  }
  if (typeof value === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(o, k, {
        value: walk(v, k, hide, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return o;
  }
  if (hide) return REPLACEMENT;
  if (typeof value === 'string') return redact(value);
  return value;
}

/** How many values are registered (for tests and diagnostics; never the values). */
export function maskedSecretCount(): number {
  return secrets.size;
}

/** Forget every registered secret and restore the default settings (tests). */
export function resetMasker(): void {
  secrets.clear();
  long.clear();
  short.clear();
  shortLengths = [];
  extraFields = [];
  minLength = MIN_LENGTH_MASKED_SECRET;
  maxSecrets = MAX_MASKED_SECRETS;
}

/** The longest piece of server-provided text kept in a message (see {@link serverText}). */
export const MAX_SERVER_TEXT = 80;

/** Words after which the next word is a value to hide (`token s.abc`, `password=…`, `secret_id: …`). */
const VALUE_AFTER =
  /\b((?:[a-z_-]*?(?:token|secret|password|passwd|passphrase|credential|api[_-]?key|private[_-]?key|authorization|bearer|jwt|signature|session))(?:[_-]?id)?s?)(?![A-Za-z])(\s*[:=]\s*|\s+(?:(?:is|of|for)\s+)?)([^\s,;)]+)/giu;
/** Token-like strings anywhere: known prefixes (Vault, AWS, GitHub, Slack, JWTs) and long random runs. */
const TOKEN_LIKE = [
  /\b(?:hv[sbr]|s|b|r)\.[A-Za-z0-9_-]{8,}/gu,
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{12,}/gu,
  /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/gu,
  /\b(?:gh[pousr]_|github_pat_|xox[abprs]-|sk-|AIza)[A-Za-z0-9_-]{6,}/gu,
  // 20+ key characters with both a letter and a digit (keys, base64, hex), not plain words or paths.
  /(?<![A-Za-z0-9+/=_.~-])(?=[A-Za-z0-9+/=_.~-]*\d)(?=[A-Za-z0-9+/=_.~-]*[A-Za-z])[A-Za-z0-9+/=_.~-]{20,}/gu,
];

/**
 * Text a server (or proxy, or plugin) sent, made fit for an error message: one line; quoted
 * text and JSON/array fragments replaced by `***` (a server that echoes the request shows
 * values there); the word after a credential-like word (`token …`, `password=…`) and token-like
 * strings (Vault/AWS/GitHub tokens, JWTs, any run of 20+ key characters) replaced by `***`; every
 * registered secret {@link redact}ed; control characters dropped; at most {@link MAX_SERVER_TEXT}
 * characters. Returns `''` when nothing readable is left.
 */
export function serverText(text: unknown, max = MAX_SERVER_TEXT): string {
  if (typeof text !== 'string' || text === '') return '';
  // Bound the work before any pattern runs: only the start of a long text can be kept anyway.
  let s = redact(text.slice(0, 4 * max + 400));
  s = s.replace(/<[^<>]{0,200}>/gu, ' ').replace(UNICODE.control(), ' ');
  // Quoted text, greedily from the first quote to the last of its kind (or to the end when there
  // is only one), so stray quotes cannot shift the pairing (a `'` inside a word, as in "can't", is
  // no quote).
  s = s.replace(UNICODE.quoted(), '***');
  // JSON or array fragments, greedily from the first opening bracket to the last closing one.
  s = s.replace(/[{[][\s\S]*[}\]]|[{[][\s\S]*$/u, '*** ');
  s = s.replace(VALUE_AFTER, (m, word: string, sep: string, value: string) =>
    /[^A-Za-z]/u.test(value) || value.length >= 8 ? `${word}${sep}***` : m,
  );
  for (const re of TOKEN_LIKE) s = s.replace(re, '***');
  s = s
    .replace(/(?:\*\*\*[\s,:;=]*){2,}/gu, '*** ')
    .replace(/\s+/gu, ' ')
    .trim();
  if (!UNICODE.readable().test(s.replace(/\*\*\*/gu, ''))) return '';
  return s.length > max ? `${s.slice(0, max - 1).trimEnd()}…` : s;
}
