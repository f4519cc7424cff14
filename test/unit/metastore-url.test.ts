import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { parseSqlAlchemyUrl, queryValue, redactUrl } from '../../src/metastore/url.js';

describe('SQLAlchemy URLs', () => {
  it('reads sqlite:////abs/path as an absolute file', () => {
    const u = parseSqlAlchemyUrl('sqlite:////var/lib/airflow/airflow.db');
    expect(u.dialect).toBe('sqlite');
    expect(u.sqlitePath).toBe('/var/lib/airflow/airflow.db');
  });

  it('reads sqlite:///relative relative to the working directory', () => {
    const u = parseSqlAlchemyUrl('sqlite:///data/airflow.db', 'S', '/srv/app');
    expect(u.sqlitePath).toBe(path.resolve('/srv/app', 'data/airflow.db'));
  });

  it('reads sqlite:// and sqlite:///:memory: as an in-memory database', () => {
    expect(parseSqlAlchemyUrl('sqlite://').sqlitePath).toBe(':memory:');
    expect(parseSqlAlchemyUrl('sqlite:///:memory:').sqlitePath).toBe(':memory:');
  });

  it.each([
    ['postgresql://u:p@h:5432/db', 'postgresql', null],
    ['postgresql+psycopg2://u:p@h/db', 'postgresql', 'psycopg2'],
    ['postgres://u:p@h/db', 'postgresql', null],
    ['mysql://u:p@h/db', 'mysql', null],
    ['mysql+mysqldb://u:p@h/db', 'mysql', 'mysqldb'],
    ['mysql+pymysql://u:p@h/db', 'mysql', 'pymysql'],
    ['sqlite+pysqlite:////tmp/a.db', 'sqlite', 'pysqlite'],
  ])('maps %s to the %s dialect', (url, dialect, driver) => {
    const u = parseSqlAlchemyUrl(url);
    expect(u.dialect).toBe(dialect);
    expect(u.driver).toBe(driver);
  });

  it('splits user, percent-decoded password, host, port, database and query like make_url', () => {
    const u = parseSqlAlchemyUrl(
      'postgresql+psycopg2://air%40flow:p%40ss%2Fw%3Ard@db.internal:6432/airflow?sslmode=require&options=-c%20x',
    );
    expect(u).toMatchObject({
      username: 'air@flow',
      password: 'p@ss/w:rd',
      host: 'db.internal',
      port: 6432,
      database: 'airflow',
    });
    expect(queryValue(u, 'sslmode')).toBe('require');
    expect(queryValue(u, 'options')).toBe('-c x');
  });

  it('lets an unencoded password hold / ? # : up to the first @, as SQLAlchemy does', () => {
    const u = parseSqlAlchemyUrl('mysql://root:a/b?c#d:e@localhost:3306/airflow');
    expect(u.password).toBe('a/b?c#d:e');
    expect(u.host).toBe('localhost');
    expect(u.database).toBe('airflow');
  });

  it('reads bracketed IPv6 hosts and URLs without credentials or port', () => {
    expect(parseSqlAlchemyUrl('postgresql://[::1]:5432/db')).toMatchObject({ host: '::1', port: 5432 });
    expect(parseSqlAlchemyUrl('postgresql:///airflow?host=/var/run/postgresql')).toMatchObject({
      host: null,
      username: null,
      password: null,
      database: 'airflow',
    });
  });

  it('rejects an unknown scheme with a ConfigurationError naming the setting, password masked', () => {
    let err: unknown;
    try {
      parseSqlAlchemyUrl('mssql+pyodbc://sa:Sup3rS3cret@host/db', 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    const ce = err as ConfigurationError;
    expect(ce.setting).toBe('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    expect(ce.message).toContain('mssql');
    expect(ce.message).toContain('sa:***@host');
    expect(ce.message).not.toContain('Sup3rS3cret');
  });

  it('rejects text that is not a URL without quoting it', () => {
    expect(() => parseSqlAlchemyUrl('just-a-password-pasted-here')).toThrow(ConfigurationError);
    try {
      parseSqlAlchemyUrl('just-a-password-pasted-here');
    } catch (e) {
      expect((e as Error).message).not.toContain('just-a-password');
    }
  });

  it('rejects a non-numeric port', () => {
    expect(() => parseSqlAlchemyUrl('postgresql://u:p@h:abc/db')).toThrow(/invalid port/);
  });
});

describe('redactUrl', () => {
  it('masks the password and keeps everything else', () => {
    expect(redactUrl('postgresql+psycopg2://airflow:hunter2@db:5432/airflow?sslmode=require')).toBe(
      'postgresql+psycopg2://airflow:***@db:5432/airflow?sslmode=require',
    );
  });

  it('masks passwords holding / and ? and secret-looking query values', () => {
    const r = redactUrl('mysql://root:a/b?c@h/db?password=x1&charset=utf8&auth_token=t0k');
    expect(r).toBe('mysql://root:***@h/db?password=***&charset=utf8&auth_token=***');
  });

  it('leaves URLs without a password alone', () => {
    expect(redactUrl('sqlite:////tmp/airflow.db')).toBe('sqlite:////tmp/airflow.db');
    expect(redactUrl('postgresql://user@h/db')).toBe('postgresql://user@h/db');
  });
});

describe("the driver's view (DatabaseUrl.target), resolved once at parse", () => {
  it('sqlite: the absolute file, or :memory:', () => {
    expect(parseSqlAlchemyUrl('sqlite:////var/a.db').target).toEqual({
      dialect: 'sqlite',
      file: '/var/a.db',
    });
    expect(parseSqlAlchemyUrl('sqlite://').target).toEqual({ dialect: 'sqlite', file: ':memory:' });
  });

  it('postgresql: libpq query options win over the URL parts; defaults as libpq', () => {
    expect(
      parseSqlAlchemyUrl(
        'postgresql://u:p%40w@h:6432/db?host=/run/pg&port=7000&application_name=app&sslmode=verify-ca&sslrootcert=/ca.pem&sslcert=system&sslkey=/k.pem',
      ).target,
    ).toEqual({
      dialect: 'postgresql',
      host: '/run/pg',
      port: 7000,
      database: 'db',
      user: 'u',
      password: 'p@w',
      applicationName: 'app',
      ssl: { mode: 'verify-ca', files: { ca: '/ca.pem', key: '/k.pem' } },
    });
    expect(parseSqlAlchemyUrl('postgresql:///?dbname=d&user=q&password=s').target).toEqual({
      dialect: 'postgresql',
      host: null,
      port: 5432,
      database: 'd',
      user: 'q',
      password: 's',
      applicationName: undefined,
      ssl: { mode: 'prefer', files: {} },
    });
    expect(parseSqlAlchemyUrl('postgresql://owner@h').target).toMatchObject({ database: 'owner' });
  });

  it('mysql: charset upper-cased, unix_socket, and TLS only when the ssl_* options ask for it', () => {
    expect(parseSqlAlchemyUrl('mysql+pymysql://u:p@h/db?charset=latin1&unix_socket=/s.sock').target).toEqual({
      dialect: 'mysql',
      host: 'h',
      port: 3306,
      user: 'u',
      password: 'p',
      database: 'db',
      charset: 'LATIN1',
      socketPath: '/s.sock',
      ssl: null,
    });
    expect(parseSqlAlchemyUrl('mysql://h/db?ssl_mode=PREFERRED').target).toMatchObject({ ssl: null });
    expect(parseSqlAlchemyUrl('mysql://h/db?ssl_mode=required').target).toMatchObject({
      charset: 'UTF8MB4',
      ssl: { files: {}, rejectUnauthorized: false },
    });
    expect(parseSqlAlchemyUrl('mysql://h/db?ssl_ca=/ca.pem&ssl_check_hostname=false').target).toMatchObject({
      ssl: { files: { ca: '/ca.pem' }, rejectUnauthorized: false },
    });
    expect(parseSqlAlchemyUrl('mysql://h/db?ssl_ca=/ca.pem').target).toMatchObject({
      ssl: { files: { ca: '/ca.pem' }, rejectUnauthorized: true },
    });
  });

  it('names where the URL came from when that is not the setting itself', () => {
    expect(() =>
      parseSqlAlchemyUrl(
        'oracle://h/db',
        'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN',
        '/',
        'airflow.cfg [database] sql_alchemy_conn',
      ),
    ).toThrow(/\(from airflow\.cfg \[database\] sql_alchemy_conn\)$/);
    expect(() => parseSqlAlchemyUrl('oracle://h/db')).toThrow(/oracle:\/\/h\/db$/);
  });
});
