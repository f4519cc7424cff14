import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection.js';
import {
  configureMasker,
  isSensitiveName,
  MAX_MASKED_SECRETS,
  maskedSecretCount,
  maskSecret,
  redact,
  redactObject,
  resetMasker,
  SENSITIVE_FIELDS,
} from '../../src/masker.js';

afterEach(() => resetMasker());

describe('isSensitiveName', () => {
  it("has Airflow's default sensitive fields", () => {
    expect([...SENSITIVE_FIELDS].sort()).toEqual(
      [
        'access_token',
        'api_key',
        'apikey',
        'authorization',
        'passphrase',
        'passwd',
        'password',
        'private_key',
        'proxies',
        'secret',
        'token',
        'keyfile_dict',
        'service_account',
      ].sort(),
    );
  });

  it.each([
    ['password', true],
    ['DB_PASSWORD', true],
    [' Secret ', true],
    ['client_secret', true],
    ['X-Api-Key', true], // non-word runs become "_": x_api_key
    ['access-token', true],
    ['my apikey', true],
    ['tokenizer', true], // substring match, as in Airflow
    ['extra__google_cloud_platform__keyfile_dict', true],
    ['host', false],
    ['passw', false],
    ['api key', true],
    ['', false],
  ])('%j → %s', (name, expected) => {
    expect(isSensitiveName(name)).toBe(expected);
  });

  it('is false for a non-string name', () => {
    expect(isSensitiveName(42)).toBe(false);
    expect(isSensitiveName(null)).toBe(false);
  });

  it('can be extended like [core] sensitive_var_conn_names', () => {
    expect(isSensitiveName('my_pin')).toBe(false);
    configureMasker({ sensitiveFields: ['PIN'] });
    expect(isSensitiveName('my_pin')).toBe(true);
  });
});

describe('maskSecret and redact', () => {
  it('replaces a registered value everywhere in a line', () => {
    maskSecret('s3cr3t-value');
    expect(redact('a s3cr3t-value b s3cr3t-value')).toBe('a *** b ***');
  });

  it('registers nothing shorter than 5 characters, nor "airflow"', () => {
    maskSecret('abcd');
    maskSecret('airflow');
    maskSecret('AIRFLOW');
    maskSecret('');
    expect(maskedSecretCount()).toBe(0);
    expect(redact('abcd airflow')).toBe('abcd airflow');
  });

  it('registers a named value only when the name is sensitive', () => {
    maskSecret('visible-host', 'host');
    maskSecret('hidden-value', 'db_password');
    expect(redact('visible-host hidden-value')).toBe('visible-host ***');
  });

  it('walks objects: values under sensitive keys, at any depth', () => {
    maskSecret({
      host: 'hostname-value',
      password: 'pw-value-1',
      nested: { api_key: 'key-value-1', list: [{ token: 'tok-value-1' }] },
      secret: { plain: 'under-secret-1', deeper: ['under-secret-2'] },
      proxies: ['proxy-value-1'],
      n: 12345,
    });
    expect(
      redact('hostname-value pw-value-1 key-value-1 tok-value-1 under-secret-1 under-secret-2 proxy-value-1'),
    ).toBe('hostname-value *** *** *** *** *** ***');
  });

  it('also registers the %-quoted forms, so URIs are redacted', () => {
    maskSecret('p@ss word/x');
    expect(redact('//u:p%40ss%20word%2Fx@h')).toBe('//u:***@h');
    expect(redact('//u:p%40ss%20word/x@h')).toBe('//u:***@h');
  });

  it('replaces the longest match first', () => {
    maskSecret('abcde');
    maskSecret('abcdefgh');
    expect(redact('[abcdefgh] [abcde]')).toBe('[***] [***]');
  });

  it('treats regex metacharacters literally', () => {
    maskSecret('a.b*c(d)|e');
    expect(redact('aXb*c(d)|e')).toBe('aXb*c(d)|e');
    expect(redact('<a.b*c(d)|e>')).toBe('<***>');
  });

  it('sees values registered after an earlier redact (the combined pattern is rebuilt)', () => {
    maskSecret('first-secret');
    expect(redact('first-secret second-secret')).toBe('*** second-secret');
    maskSecret('second-secret');
    expect(redact('first-secret second-secret')).toBe('*** ***');
  });

  it('keeps at most maxSecrets values, evicting the oldest', () => {
    configureMasker({ maxSecrets: 3 });
    for (const s of ['secret-one', 'secret-two', 'secret-three', 'secret-four']) maskSecret(s);
    expect(maskedSecretCount()).toBe(3);
    expect(redact('secret-one secret-four')).toBe('secret-one ***');
  });

  it(`is bounded at ${MAX_MASKED_SECRETS} by default and still redacts with that many`, () => {
    for (let i = 0; i < MAX_MASKED_SECRETS + 50; i++) maskSecret(`bulk-secret-${i}`);
    expect(maskedSecretCount()).toBe(MAX_MASKED_SECRETS);
    const line = `x bulk-secret-${MAX_MASKED_SECRETS + 49} y bulk-secret-3 z`;
    expect(redact(line)).toBe('x *** y bulk-secret-3 z');
  });

  it('forgets everything on resetMasker', () => {
    maskSecret('to-forget-1');
    resetMasker();
    expect(redact('to-forget-1')).toBe('to-forget-1');
  });
});

describe('redactObject', () => {
  it('masks every leaf under a sensitive key and redacts registered values elsewhere', () => {
    maskSecret('registered-1');
    expect(
      redactObject({
        password: 12345,
        nested: { token: { a: 'x', b: [1, null] } },
        list: [{ secret: 's' }],
        msg: 'has registered-1 inside',
        port: 5432,
      }),
    ).toEqual({
      password: '***',
      nested: { token: { a: '***', b: ['***', null] } },
      list: [{ secret: '***' }],
      msg: 'has *** inside',
      port: 5432,
    });
  });

  it('masks everything when the name itself is sensitive', () => {
    expect(redactObject('value', 'api_key')).toBe('***');
  });
});

describe('Connections register their secrets, as in Airflow', () => {
  it('registers the password (and its URI form) on construction', () => {
    const c = new Connection({ id: 'm', type: 'postgres', host: 'h', login: 'u', password: 'pa ss/w0rd' });
    expect(redact(`uri=${c.getUri()} raw=pa ss/w0rd`)).toBe('uri=postgres://u:***@h raw=***');
  });

  it('registers sensitive extra values when extraDejson is read', () => {
    const c = Connection.fromUri('http://h/?api_key=extra-key-123&region=eu-west-1', 'x');
    expect(redact('extra-key-123 eu-west-1')).toBe('extra-key-123 eu-west-1');
    void c.extraDejson;
    expect(redact('extra-key-123 eu-west-1')).toBe('*** eu-west-1');
  });
});
