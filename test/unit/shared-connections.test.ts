/**
 * How the resolver shares a connection (issue 15 item 5): every caller gets a frozen object, a
 * copy of what the backend handed (so the backend's object stays its own, and the copy has the
 * shape the cache-hit path is fast for), and the masker learns the password and the sensitive
 * extras of every answer.
 */
import { describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { rawBackend } from '../../src/backends/base.js';
import { Connection } from '../../src/connection.js';
import { silentLogger } from '../../src/logger.js';
import { redact, resetMasker } from '../../src/masker.js';
import { createResolver } from '../../src/resolver/index.js';

const URI = 'postgres://u:pw-shared-1@h:5432/db?api_key=extra-secret-42&sslmode=require';

describe('shared connections', () => {
  it("copies a backend's object before freezing it: the backend's stays unfrozen", async () => {
    const own = Connection.fromUri(URI, 'c');
    const b: SecretsBackend = {
      name: 'handing',
      locate: (_kind, id) => ({ name: id }),
      getConnection: async () => own,
      getVariable: async () => null,
    };
    const r = createResolver({ backends: [b], logger: silentLogger, cache: false });
    const got = await r.getConnection('c');
    expect(got).not.toBe(own);
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(own)).toBe(false);
    expect(got?.getUri()).toBe(own.getUri());
  });

  it('hands out a frozen connection from a raw-string backend and masks its password and sensitive extras', async () => {
    resetMasker();
    const b = rawBackend({ name: 'raw', locate: (_kind, id) => ({ name: id }), fetch: async () => URI });
    const r = createResolver({ backends: [b], logger: silentLogger, cache: false });
    const got = await r.getConnection('c');
    expect(Object.isFrozen(got)).toBe(true);
    expect(got?.password).toBe('pw-shared-1');
    expect(redact('a pw-shared-1 b extra-secret-42 c')).toBe('a *** b *** c');
  });
});
