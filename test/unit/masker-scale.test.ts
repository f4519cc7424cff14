/**
 * Fuzz finding (connection-uri target): with the masker's registry full (10,000 secrets), every new
 * registration made the next `redact` recompile one regular expression of all secrets — about 2 s
 * each — so `String(conn)` of a new connection took seconds and the fuzzer timed out. `redact` now
 * looks secrets up by their first characters; this checks it replaces exactly what the old
 * longest-first alternation replaced, and that registration and redaction stay cheap at the cap
 * (the per-test timeout is the bound: 2,000 rounds took over an hour before).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection.js';
import {
  configureMasker,
  MAX_MASKED_SECRETS,
  maskedSecretCount,
  maskSecret,
  redact,
  resetMasker,
} from '../../src/masker.js';

afterEach(() => resetMasker());

/** The previous implementation: one alternation of every registered form, longest first. */
function reference(forms: string[], text: string): string {
  if (forms.length === 0) return text;
  const all = [...new Set(forms)].sort((a, b) => b.length - a.length);
  const re = new RegExp(all.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return text.replace(re, '***');
}

describe('redact at scale', () => {
  it('replaces exactly what a longest-first alternation of the secrets replaces', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', 'ab', '\u00e9', '😀', '%', '.', '*');
    const piece = fc.array(alphabet, { minLength: 1, maxLength: 8 }).map((a) => a.join(''));
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.array(alphabet, { maxLength: 60 }),
        (secrets, chars) => {
          resetMasker();
          configureMasker({ minLength: 1 });
          for (const s of secrets) maskSecret(s);
          const text = chars.join('');
          // maskSecret also registers the %-quoted forms; the reference gets the same set
          const forms: string[] = [];
          for (const s of secrets) {
            forms.push(
              s,
              encodeURIComponent(s).replace(
                /[!'()*]/g,
                (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
              ),
            );
            forms.push(
              encodeURIComponent(s)
                .replace(/%2F/g, '/')
                .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
            );
          }
          expect(redact(text)).toBe(reference(forms, text));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it(`stays cheap with ${MAX_MASKED_SECRETS} secrets registered: 2,000 new connections printed`, () => {
    for (let i = 0; i < MAX_MASKED_SECRETS; i++) maskSecret(`registered-secret-${i}-${(i * 7919) % 10007}`);
    expect(maskedSecretCount()).toBe(MAX_MASKED_SECRETS);
    for (let i = 0; i < 2000; i++) {
      const c = Connection.fromUri(`mysql://u:fresh-password-${i}@h/db?token=tok-${i}-value`, `c${i}`);
      expect(String(c)).not.toContain(`fresh-password-${i}`);
      expect(
        redact(`log line with fresh-password-${i} and registered-secret-9999-${(9999 * 7919) % 10007}`),
      ).toBe('log line with *** and ***');
    }
  }, 60_000);
});
