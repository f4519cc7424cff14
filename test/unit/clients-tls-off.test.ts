/**
 * TLS extras that change nothing because TLS is off (PostgresHook hands sslcert & co. to libpq,
 * which uses them only when it negotiates TLS; RedisHook's and MySqlHook's clients likewise) are
 * named — keys only, never their values — in a warning that says why.
 */
import { describe, expect, it } from 'vitest';
import { mysqlConfig, pgConfig, redisOptions } from '../../src/clients/index.js';
import { Connection } from '../../src/connection.js';
import { type Logger, silentLogger } from '../../src/logger.js';

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f ?? {})}`) };
}

/** Paths that do not exist: a builder that read them would throw. */
const FILES = { cert: '/nonexistent/secret-cert-path.pem', key: '/nonexistent/secret-key-path.pem' };

function expectNoValues(log: { warnings: string[] }): void {
  const text = log.warnings.join('\n');
  for (const v of Object.values(FILES)) expect(text).not.toContain(v);
  expect(text).not.toContain('keypass-secret');
}

describe('pgConfig', () => {
  const conn = (extra: Record<string, unknown>) =>
    new Connection({
      id: 'pg',
      type: 'postgres',
      host: 'h',
      extra: { sslcert: FILES.cert, sslkey: FILES.key, sslrootcert: FILES.cert, ...extra },
    });

  it('names sslcert, sslkey, sslrootcert as ignored without an sslmode', () => {
    const log = recorder();
    const cfg = pgConfig(conn({}), { logger: log });
    expect(cfg).toEqual({ host: 'h', port: 5432 });
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(
      /^pgConfig: extras ignored because TLS is off \(no sslmode\): sslrootcert, sslcert, sslkey /,
    );
    expect(log.warnings[0]).toContain('"keys":["sslrootcert","sslcert","sslkey"]');
    expectNoValues(log);
  });

  for (const mode of ['disable', 'allow', 'prefer']) {
    it(`names them as ignored with sslmode ${mode}`, () => {
      const log = recorder();
      const cfg = pgConfig(conn({ sslmode: mode, sslpassword: 'keypass-secret' }), { logger: log });
      expect(cfg.ssl).toBe(false);
      expect(log.warnings).toHaveLength(1);
      expect(log.warnings[0]).toContain(
        `TLS is off (sslmode '${mode}'): sslrootcert, sslcert, sslkey, sslpassword`,
      );
      expectNoValues(log);
    });
  }

  it('does not warn when TLS is on and the files are used, nor about empty ones', () => {
    const log = recorder();
    pgConfig(new Connection({ type: 'postgres', host: 'h', extra: { sslmode: 'require', sslcert: '' } }), {
      logger: log,
    });
    pgConfig(new Connection({ type: 'postgres', host: 'h', extra: { sslcert: '', sslkey: null } }), {
      logger: log,
    });
    expect(log.warnings).toEqual([]);
  });
});

describe('redisOptions', () => {
  it('names the ssl_* extras as ignored when ssl is off', () => {
    for (const ssl of [undefined, false, 0, '']) {
      const log = recorder();
      const o = redisOptions(
        new Connection({
          id: 'r',
          type: 'redis',
          host: 'h',
          extra: { ...(ssl === undefined ? {} : { ssl }), ssl_certfile: FILES.cert, ssl_cert_reqs: 'none' },
        }),
        { logger: log },
      );
      expect(o.tls).toBeUndefined();
      expect(log.warnings).toHaveLength(1);
      expect(log.warnings[0]).toMatch(
        /^redisOptions: extras ignored because TLS is off \(ssl is not set, or false\): ssl_cert_reqs, ssl_certfile /,
      );
      expectNoValues(log);
    }
  });
});

describe('mysqlConfig', () => {
  it('names the ssl dict as ignored with ssl_mode DISABLED', () => {
    const log = recorder();
    const cfg = mysqlConfig(
      new Connection({
        id: 'm',
        type: 'mysql',
        host: 'h',
        extra: { ssl_mode: 'disabled', ssl: { ca: FILES.cert, key: FILES.key } },
      }),
      { logger: log },
    );
    expect(cfg.ssl).toBeUndefined();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain(
      "mysqlConfig: extras ignored because TLS is off (ssl_mode 'DISABLED'): ssl ",
    );
    expectNoValues(log);
  });

  it('names the keys of the ssl dict that mysql2 cannot express', () => {
    const log = recorder();
    mysqlConfig(
      new Connection({
        type: 'mysql',
        host: 'h',
        extra: { ssl_mode: 'REQUIRED', ssl: { capath: FILES.cert, check_hostname: false } },
      }),
      { logger: log },
    );
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(/^mysqlConfig: extras not used: ssl\.capath /);
    expectNoValues(log);
  });

  it('names the ssl_* extras as ignored with ssl_disabled (mysql-connector-python)', () => {
    const log = recorder();
    const cfg = mysqlConfig(
      new Connection({
        type: 'mysql',
        host: 'h',
        extra: {
          client: 'mysql-connector-python',
          ssl_disabled: true,
          ssl_ca: FILES.cert,
          ssl_key: FILES.key,
        },
      }),
      { logger: log },
    );
    expect(cfg.ssl).toBeUndefined();
    expect(log.warnings).toEqual([expect.stringContaining('TLS is off (ssl_disabled): ssl_ca, ssl_key ')]);
    expectNoValues(log);
  });
});
