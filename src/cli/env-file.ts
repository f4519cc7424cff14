/**
 * Reads an Astro-style `.env` file (as `docker compose` reads it): `KEY=value` lines, `#` comments,
 * an optional `export ` prefix, and one pair of surrounding single or double quotes removed.
 */
import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../errors.js';

export function parseEnvFile(text: string, file: string, flag = '--env'): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const body = t.startsWith('export ') ? t.slice(7).trimStart() : t;
    const eq = body.indexOf('=');
    if (eq <= 0) {
      throw new ConfigurationError(flag, `${file}:${i + 1}: expected KEY=VALUE`);
    }
    const key = body.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
      throw new ConfigurationError(
        flag,
        `${file}:${i + 1}: the name before '=' is not a valid variable name`,
      );
    }
    let value = body.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash).trimEnd();
    }
    out[key] = value;
  });
  return out;
}

export function readEnvFile(file: string, flag = '--env'): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigurationError(
      flag,
      `Cannot read the env file ${file} (${(e as { code?: string }).code ?? 'error'})`,
    );
  }
  return parseEnvFile(text, file, flag);
}
