/**
 * Property tests: round-trips through the URI and JSON forms, and parser robustness on arbitrary
 * input. The round-trip guarantee and its documented limits are in docs/connection-formats.md.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection, deserializeConnection } from '../../src/connection.js';
import { InvalidConnectionError } from '../../src/errors.js';

const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const typeArb = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);
const portArb = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: null });
const flatExtra = fc.dictionary(
  anyText.filter((k) => k !== '__extra__'),
  anyText,
  { maxKeys: 5 },
);

/** Python `_normalize_conn_type`. */
const normalize = (t: string) => (t === 'postgresql' ? 'postgres' : t.replaceAll('-', '_'));

/**
 * What Python's `SplitResult.hostname` does to our %-encoded host: it lower-cases only the part
 * before the first `%` (an IPv6 zone rule), i.e. the host's leading run of unescaped characters.
 * A host whose decoded form contains `/` is taken from the netloc unchanged.
 */
function expectedHost(host: string | null): string {
  if (!host) return '';
  if (host.includes('/')) return host;
  const m = /^[A-Za-z0-9_.~-]*/.exec(host)![0];
  return m.toLowerCase() + host.slice(m.length);
}

describe('Connection.fromUri(c.getUri()) round-trips', () => {
  it('for any fields within the documented guarantee', () => {
    fc.assert(
      fc.property(
        typeArb,
        fc.option(
          anyText.filter((h) => !h.includes('://')),
          { nil: null },
        ),
        fc.option(anyText, { nil: null }),
        fc.option(anyText, { nil: null }),
        fc.option(anyText, { nil: null }),
        portArb,
        fc.option(flatExtra, { nil: null }),
        (type, host, login, password, schema, port, extra) => {
          const c = new Connection({ id: 'p', type, host, login, password, schema, port, extra });
          const back = Connection.fromUri(c.getUri(), 'p');
          const pw = password || null;
          const auth = Boolean(login) || pw !== null; // the userinfo Airflow writes is non-empty
          expect(back.type).toBe(normalize(type));
          expect(back.host).toBe(expectedHost(host));
          expect(back.login).toBe(auth ? (login ?? '') : !host && port ? '' : null);
          expect(back.password).toBe(pw);
          expect(back.port).toBe(port);
          expect(back.schema).toBe(schema ?? '');
          expect(back.extra).toBe(c.extra);
          expect(back.extraDejson).toEqual(c.extraDejson);
          // and the URI is stable from then on
          expect(Connection.fromUri(back.getUri()).getUri()).toBe(back.getUri());
        },
      ),
      { numRuns: 400 },
    );
  });

  it('for hosts that carry a protocol (spark://k8s://…, http://http://…)', () => {
    fc.assert(
      fc.property(
        typeArb,
        fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/),
        anyText,
        portArb,
        (type, proto, rest, port) => {
          // Outside the guarantee: a protocol ending in the type (`ftp` + `sftp://`), whose `ftp://`
          // Airflow's str.replace also removes.
          fc.pre(proto === type || !proto.endsWith(type));
          const host = `${proto}://${rest.replaceAll('://', '')}`;
          const c = new Connection({ type, host, port, login: 'u', password: 'pw' });
          const back = Connection.fromUri(c.getUri());
          if (proto === type) {
            expect(back.host).toBe(host); // whole host %-encoded, found again through the "/" rule
          } else {
            const h = rest.replaceAll('://', '');
            expect(back.host).toBe(h ? `${proto}://${expectedHost(h)}` : '');
          }
          expect([back.login, back.password, back.port]).toEqual(['u', 'pw', port]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Connection.fromJson(c.asJson()) round-trips', () => {
  it('for any fields and any JSON extra', () => {
    fc.assert(
      fc.property(
        fc.option(anyText, { nil: null }),
        fc.option(anyText, { nil: null }),
        fc.option(anyText, { nil: null }),
        fc.option(anyText, { nil: null }),
        fc.option(anyText, { nil: null }),
        fc.option(anyText, { nil: null }),
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }),
        fc.option(fc.dictionary(anyText, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), { nil: null }),
        (type, description, host, login, password, schema, port, extra) => {
          const c = new Connection({
            id: 'j',
            type,
            description,
            host,
            login,
            password,
            schema,
            port,
            extra,
          });
          const back = Connection.fromJson(c.asJson(), 'j');
          expect(back.type).toBe(type ? normalize(type) : null);
          expect([back.description, back.host, back.login, back.schema]).toEqual([
            description,
            host,
            login,
            schema,
          ]);
          expect(back.password).toBe(password || null);
          expect(back.port).toBe(port); // issue 12: port 0 stays 0 (newest core)
          expect(back.extra).toBe(c.extra);
          // `"conn_type": ""` is written but dropped when read (falsy), as in Airflow
          if (type !== '') expect(back.asJson()).toBe(c.asJson());
        },
      ),
      { numRuns: 400 },
    );
  });
});

function onlyInvalidConnectionErrors(input: string): void {
  for (const parse of [
    () => Connection.fromUri(input, 'fuzz'),
    () => Connection.fromJson(input, 'fuzz'),
    () => deserializeConnection('fuzz', input),
  ]) {
    let c: Connection | undefined;
    try {
      c = parse();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidConnectionError);
      if (input.length >= 12) expect((e as Error).message).not.toContain(input);
      continue;
    }
    // whatever parsed must also serialise and print without a foreign error
    for (const use of [
      () => c.getUri(),
      () => c.asJson(),
      () => String(c),
      () => JSON.stringify(c),
      () => c.extraDejson,
    ]) {
      try {
        use();
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidConnectionError);
      }
    }
  }
}

describe('the parsers throw only InvalidConnectionError', () => {
  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), onlyInvalidConnectionErrors), {
      numRuns: 1000,
    });
  });

  it('on strings made of URI and JSON punctuation', () => {
    const piece = fc.constantFrom(
      ':',
      '/',
      '//',
      '://',
      '@',
      '?',
      '#',
      '[',
      ']',
      '%',
      '%2',
      '%41',
      '%E2%82',
      '&',
      '=',
      '+',
      ' ',
      '\t',
      '{',
      '}',
      '"',
      ':',
      ',',
      '\\',
      'a',
      'A',
      '1',
      '0',
      '65536',
      'é',
      '℀',
      '＠',
      '\ud800',
      'v1.',
      '::1',
      '1.2.3.4',
      '__extra__',
      'http',
      'null',
      'true',
      'NaN',
      'port',
      'extra',
      'uri',
      'conn_type',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => onlyInvalidConnectionErrors(parts.join(''))),
      { numRuns: 2000 },
    );
  });

  it('on 100,000-character inputs, finishing', () => {
    const n = 100_000;
    const big = [
      '%'.repeat(n),
      '%E2'.repeat(n / 3),
      '['.repeat(n),
      '{'.repeat(n),
      '{"a":'.repeat(n / 5),
      `{"extra": "${'x'.repeat(n)}"}`,
      `{"port": "${'٣'.repeat(n)}"}`,
      `a://${'@'.repeat(n)}`,
      `a://${':'.repeat(n)}`,
      `a://[${':'.repeat(n)}]`,
      `a://h:${'9'.repeat(n)}`,
      `a://h?${'a=b&'.repeat(n / 4)}`,
      `a://h?${'a=%F0%9F%98%80&'.repeat(n / 15)}`,
      `a://${'é'.repeat(n)}/x`,
      `a://${'℀'.repeat(n)}`,
      `a://${'x'.repeat(n)}:1/${'y'.repeat(n)}`,
      '://'.repeat(n / 3),
      ' '.repeat(n),
    ];
    for (const input of big) onlyInvalidConnectionErrors(input);
  });
});
