/**
 * SQLAlchemy URLs in messages: `redactUrl` (used by every metastore error and the CLI) must hide the
 * password even when the URL is written wrongly — an un-escaped `@` in the password, or a missing
 * host so the password lands where the port goes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { parseSqlAlchemyUrl, redactUrl } from '../../src/metastore/url.js';

const PW_TAIL = 'tailOfPassw0rd';

describe('redactUrl hides passwords of malformed URLs', () => {
  it('an un-escaped @ in the password: nothing before the last @ of the authority is shown', () => {
    const url = `postgresql://airflow:p4ss@${PW_TAIL}@db.internal:5432/airflow`;
    const r = redactUrl(url);
    expect(r).not.toContain(PW_TAIL);
    expect(r).not.toContain('p4ss');
    expect(r).toBe('postgresql://airflow:***@db.internal:5432/airflow');
  });

  it('a missing host (the password parsed as a port): the port is masked and the error names the setting', () => {
    const url = `postgresql://airflow:${PW_TAIL}`;
    expect(redactUrl(url)).not.toContain(PW_TAIL);
    let err: unknown;
    try {
      parseSqlAlchemyUrl(url, 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    expect(String(err)).not.toContain(PW_TAIL);
  });

  it('a missing host with a database path: the port part is masked', () => {
    const r = redactUrl(`mysql://airflow:${PW_TAIL}/airflow`);
    expect(r).not.toContain(PW_TAIL);
    expect(r).toBe('mysql://airflow:***/airflow');
  });

  it('well-formed URLs keep their shape (numeric port, escaped password, secret query values)', () => {
    expect(redactUrl('postgresql://u:p%40ss@h:5432/db?sslpassword=zz&x=1')).toBe(
      'postgresql://u:***@h:5432/db?sslpassword=***&x=1',
    );
    expect(redactUrl('sqlite:////tmp/airflow.db')).toBe('sqlite:////tmp/airflow.db');
    expect(redactUrl('mysql://u@h/db')).toBe('mysql://u@h/db');
  });
});

describe('redactUrl masks everything between scheme:// and the host, whatever the characters (property)', () => {
  const tail = '@db.internal:5432/airflow?sslmode=require';
  const shownParts = `postgresql+psycopg2://${tail}`;
  it('random user names and passwords (un-escaped @ / ? # : included) never show', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 24, unit: 'grapheme' }),
        fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' }),
        fc.constantFrom('postgresql+psycopg2', 'mysql', 'mysql+pymysql', 'postgres'),
        (user, password, scheme) => {
          const r = redactUrl(`${scheme}://${user}:${password}${tail}`);
          // The host and what follows it are kept exactly.
          expect(r.endsWith(tail)).toBe(true);
          const credentials = r.slice(`${scheme}://`.length, r.length - tail.length);
          // Only `***` or `plainuser:***` may stand where the credentials were, the user name being
          // what precedes the first `:` (a user name holding `:` shows only its plain head, if any).
          const shownUser = `${user}:${password}`.split(':')[0]!;
          expect(credentials === '***' || credentials === `${shownUser}:***`).toBe(true);
          if (credentials !== '***') expect(shownUser).toMatch(/^[^:/?#@\s]*$/u);
          if (!`${scheme}://${shownParts}***${shownUser}`.includes(password))
            expect(r).not.toContain(password);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the reported cases: an @ before / or ?, and a user name holding /', () => {
    expect(redactUrl('postgresql://airflow:Pa@ss/Tail5ecret@127.0.0.1:1/airflow')).toBe(
      'postgresql://airflow:***@127.0.0.1:1/airflow',
    );
    expect(redactUrl('postgresql://airflow:Pa@ss?Tail5ecret@127.0.0.1:1/airflow')).toBe(
      'postgresql://airflow:***@127.0.0.1:1/airflow',
    );
    expect(redactUrl('postgresql://team/airflow:Tail5ecret@127.0.0.1:1/airflow')).toBe(
      'postgresql://***@127.0.0.1:1/airflow',
    );
    expect(
      parseSqlAlchemyUrl('postgresql://airflow:Pa@ss/Tail5ecret@127.0.0.1:1/airflow').redacted,
    ).not.toContain('Tail5ecret');
  });
});
