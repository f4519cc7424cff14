/**
 * How the resolver shares a connection (issue 15 item 5): every caller gets a frozen object; a
 * backend's own object is copied before it is frozen, so the backend's copy stays its own; one a
 * backend made for this answer alone (`markUnshared`, as every raw-string backend's parse does) is
 * frozen in place, saving a copy per uncached lookup. Either way the masker learns the secrets.
 */
import { describe, expect, it } from 'vitest';
import type { SecretsBackend } from '../../src/backend.js';
import { rawBackend } from '../../src/backends/base.js';
import { Connection, markUnshared } from '../../src/connection.js';
import { silentLogger } from '../../src/logger.js';
import { redact, resetMasker } from '../../src/masker.js';
import { createResolver } from '../../src/resolver/index.js';

const URI = 'postgres://u:pw-shared-1@h:5432/db?api_key=extra-secret-42&sslmode=require';

function handing(make: () => Connection): SecretsBackend & { handed: Connection[] } {
  const handed: Connection[] = [];
  return {
    name: 'handing',
    handed,
    locate: (_kind, id) => ({ name: id }),
    getConnection: async () => {
      const c = make();
      handed.push(c);
      return c;
    },
    getVariable: async () => null,
  };
}

describe('shared connections', () => {
  it("copies a backend's own object before freezing it: the backend's stays unfrozen", async () => {
    const own = Connection.fromUri(URI, 'c');
    const b = handing(() => own);
    const r = createResolver({ backends: [b], logger: silentLogger, cache: false });
    const got = await r.getConnection('c');
    expect(got).not.toBe(own);
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(own)).toBe(false);
    expect(got?.getUri()).toBe(own.getUri());
  });

  it('freezes in place a connection the backend marked as made for this answer alone', async () => {
    const b = handing(() => markUnshared(Connection.fromUri(URI, 'c')));
    const r = createResolver({ backends: [b], logger: silentLogger, cache: false });
    const got = await r.getConnection('c');
    expect(got).toBe(b.handed[0]);
    expect(Object.isFrozen(got)).toBe(true);
  });

  it("a raw-string backend's parsed connection is frozen in place, and its password and sensitive extras are masked", async () => {
    resetMasker();
    const seen: Connection[] = [];
    const inner = rawBackend({
      name: 'raw',
      locate: (_kind, id) => ({ name: id }),
      fetch: async () => URI,
    });
    const b: SecretsBackend = {
      ...inner,
      getConnection: async (id, o) => {
        const c = (await inner.getConnection(id, o))!;
        seen.push(c);
        return c;
      },
    };
    const r = createResolver({ backends: [b], logger: silentLogger, cache: false });
    const got = await r.getConnection('c');
    expect(got).toBe(seen[0]);
    expect(Object.isFrozen(got)).toBe(true);
    expect(redact('a pw-shared-1 b extra-secret-42 c')).toBe('a *** b *** c');
  });
});
