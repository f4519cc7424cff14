/**
 * SQLAlchemy URLs in messages: `redactUrl` (used by every metastore error and the CLI) must hide the
 * password even when the URL is written wrongly — an un-escaped `@` in the password, or a missing
 * host so the password lands where the port goes.
 */
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
