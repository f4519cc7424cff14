import { Fernet, fernetFromSetting } from '../../dist/metastore/fernet.js';
import { typed } from './_check.mjs';

const KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const fixed = new Fernet(KEY);
const NOW = Date.UTC(2026, 0, 1);

/** Fernet tokens against a fixed key (with and without a TTL), and key settings (text before a NUL). */
export function fuzz(data) {
  const text = data.toString('latin1');
  const nul = text.indexOf('\0');
  const token = nul >= 0 ? text.slice(nul + 1) : text;
  typed(() => fixed.decrypt(token), ['InvalidTokenError']);
  typed(() => fixed.decrypt(token, { ttlSec: 60, now: NOW }), ['InvalidTokenError']);
  typed(() => fixed.decrypt(data), ['InvalidTokenError']);
  if (nul >= 0) {
    const multi = typed(() => fernetFromSetting(text.slice(0, nul)));
    if (multi) typed(() => multi.decrypt(token), ['InvalidTokenError']);
  }
}
