/**
 * Expected values computed with CPython 3.11.7 running Airflow core's Connection logic
 * (`_parse_from_uri`, `get_uri` with the newer `protocol == conn_type` rule, `as_json`, `from_json`),
 * pasted here so the tests need no Python. Error rows name the kind of failure only.
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection.js';
import { InvalidConnectionError } from '../../src/errors.js';

interface Fields {
  conn_type: string | null;
  host: string | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  port: number | null;
  extra: string | null;
  description?: string | null;
}

function fieldsOf(c: Connection, withDescription = false): Fields {
  const f: Fields = {
    conn_type: c.type,
    host: c.host,
    schema: c.schema,
    login: c.login,
    password: c.password,
    port: c.port,
    extra: c.extra,
  };
  if (withDescription) f.description = c.description;
  return f;
}

function expectInvalid(fn: () => unknown, secretText: string) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidConnectionError);
  if (secretText.length > 8) expect((caught as Error).message).not.toContain(secretText);
}

// Airflow core accepts any int from from_json; we require 0..65535 (documented difference).
const OUT_OF_RANGE_PORT_JSON = new Set(['{"port": 99999}']);

const V: {
  parse: { uri: string; fields?: Fields; getUri?: string; asJson?: string; error?: string }[];
  build: {
    fields: Record<string, string | number | null>;
    getUri?: string;
    asJson: string;
    reparsed?: Fields;
    reparseError?: string;
  }[];
  json: { json: string; fields?: Fields; asJson?: string; getUri?: string; error?: string }[];
} = {
  parse: [
    {
      uri: 'type://user:pass@host:100/schema',
      fields: {
        conn_type: 'type',
        host: 'host',
        schema: 'schema',
        login: 'user',
        password: 'pass',
        port: 100,
        extra: null,
      },
      getUri: 'type://user:pass@host:100/schema',
      asJson:
        '{"conn_type": "type", "host": "host", "login": "user", "password": "pass", "schema": "schema", "port": 100}',
    },
    {
      uri: 'type://user:pass@host/schema?param1=val1&param2=val2',
      fields: {
        conn_type: 'type',
        host: 'host',
        schema: 'schema',
        login: 'user',
        password: 'pass',
        port: null,
        extra: '{"param1": "val1", "param2": "val2"}',
      },
      getUri: 'type://user:pass@host/schema?param1=val1&param2=val2',
      asJson:
        '{"conn_type": "type", "host": "host", "login": "user", "password": "pass", "schema": "schema", "extra": {"param1": "val1", "param2": "val2"}}',
    },
    {
      uri: 'type://host',
      fields: {
        conn_type: 'type',
        host: 'host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'type://host',
      asJson: '{"conn_type": "type", "host": "host", "schema": ""}',
    },
    {
      uri: 'spark://mysparkcluster.com:80?deploy-mode=cluster&spark_binary=command&namespace=kube+namespace',
      fields: {
        conn_type: 'spark',
        host: 'mysparkcluster.com',
        schema: '',
        login: null,
        password: null,
        port: 80,
        extra: '{"deploy-mode": "cluster", "spark_binary": "command", "namespace": "kube namespace"}',
      },
      getUri:
        'spark://mysparkcluster.com:80/?deploy-mode=cluster&spark_binary=command&namespace=kube+namespace',
      asJson:
        '{"conn_type": "spark", "host": "mysparkcluster.com", "schema": "", "port": 80, "extra": {"deploy-mode": "cluster", "spark_binary": "command", "namespace": "kube namespace"}}',
    },
    {
      uri: 'spark://k8s://100.68.0.1:443?deploy-mode=cluster',
      fields: {
        conn_type: 'spark',
        host: 'k8s://100.68.0.1',
        schema: '',
        login: null,
        password: null,
        port: 443,
        extra: '{"deploy-mode": "cluster"}',
      },
      getUri: 'spark://k8s://100.68.0.1:443/?deploy-mode=cluster',
      asJson:
        '{"conn_type": "spark", "host": "k8s://100.68.0.1", "schema": "", "port": 443, "extra": {"deploy-mode": "cluster"}}',
    },
    {
      uri: 'type://protocol://user:pass@host:123?param=value',
      fields: {
        conn_type: 'type',
        host: 'protocol://host',
        schema: '',
        login: 'user',
        password: 'pass',
        port: 123,
        extra: '{"param": "value"}',
      },
      getUri: 'type://protocol://user:pass@host:123/?param=value',
      asJson:
        '{"conn_type": "type", "host": "protocol://host", "login": "user", "password": "pass", "schema": "", "port": 123, "extra": {"param": "value"}}',
    },
    {
      uri: 'type://user:pass@protocol://host:port?param=value',
      error: 'proto',
    },
    {
      uri: 'scheme://user:password@host%2Flocation:1234/schema',
      fields: {
        conn_type: 'scheme',
        host: 'host/location',
        schema: 'schema',
        login: 'user',
        password: 'password',
        port: 1234,
        extra: null,
      },
      getUri: 'scheme://user:password@host%2Flocation:1234/schema',
      asJson:
        '{"conn_type": "scheme", "host": "host/location", "login": "user", "password": "password", "schema": "schema", "port": 1234}',
    },
    {
      uri: 'scheme://user:password@host%2Flocation:1234/schema?extra1=a%20value&extra2=%2Fpath%2F',
      fields: {
        conn_type: 'scheme',
        host: 'host/location',
        schema: 'schema',
        login: 'user',
        password: 'password',
        port: 1234,
        extra: '{"extra1": "a value", "extra2": "/path/"}',
      },
      getUri: 'scheme://user:password@host%2Flocation:1234/schema?extra1=a+value&extra2=%2Fpath%2F',
      asJson:
        '{"conn_type": "scheme", "host": "host/location", "login": "user", "password": "password", "schema": "schema", "port": 1234, "extra": {"extra1": "a value", "extra2": "/path/"}}',
    },
    {
      uri: 'scheme://user:password@host%2Flocation:1234/schema?__extra__=%7B%22my_val%22%3A+%5B%22list%22%2C+%22of%22%2C+%22values%22%5D%2C+%22extra%22%3A+%7B%22nested%22%3A+%7B%22json%22%3A+%22val%22%7D%7D%7D',
      fields: {
        conn_type: 'scheme',
        host: 'host/location',
        schema: 'schema',
        login: 'user',
        password: 'password',
        port: 1234,
        extra: '{"my_val": ["list", "of", "values"], "extra": {"nested": {"json": "val"}}}',
      },
      getUri:
        'scheme://user:password@host%2Flocation:1234/schema?__extra__=%7B%22my_val%22%3A+%5B%22list%22%2C+%22of%22%2C+%22values%22%5D%2C+%22extra%22%3A+%7B%22nested%22%3A+%7B%22json%22%3A+%22val%22%7D%7D%7D',
      asJson:
        '{"conn_type": "scheme", "host": "host/location", "login": "user", "password": "password", "schema": "schema", "port": 1234, "extra": {"my_val": ["list", "of", "values"], "extra": {"nested": {"json": "val"}}}}',
    },
    {
      uri: 'scheme://user:password@host%2Flocation:1234/schema?extra1=a%20value&extra2=',
      fields: {
        conn_type: 'scheme',
        host: 'host/location',
        schema: 'schema',
        login: 'user',
        password: 'password',
        port: 1234,
        extra: '{"extra1": "a value", "extra2": ""}',
      },
      getUri: 'scheme://user:password@host%2Flocation:1234/schema?extra1=a+value&extra2=',
      asJson:
        '{"conn_type": "scheme", "host": "host/location", "login": "user", "password": "password", "schema": "schema", "port": 1234, "extra": {"extra1": "a value", "extra2": ""}}',
    },
    {
      uri: 'scheme://user:password@host%2Flocation%3Ax%3Ay:1234/schema?extra1=a%20value&extra2=%2Fpath%2F',
      fields: {
        conn_type: 'scheme',
        host: 'host/location:x:y',
        schema: 'schema',
        login: 'user',
        password: 'password',
        port: 1234,
        extra: '{"extra1": "a value", "extra2": "/path/"}',
      },
      getUri: 'scheme://user:password@host%2Flocation%3Ax%3Ay:1234/schema?extra1=a+value&extra2=%2Fpath%2F',
      asJson:
        '{"conn_type": "scheme", "host": "host/location:x:y", "login": "user", "password": "password", "schema": "schema", "port": 1234, "extra": {"extra1": "a value", "extra2": "/path/"}}',
    },
    {
      uri: 'scheme://user:password%20with%20space@host%2Flocation%3Ax%3Ay:1234/schema',
      fields: {
        conn_type: 'scheme',
        host: 'host/location:x:y',
        schema: 'schema',
        login: 'user',
        password: 'password with space',
        port: 1234,
        extra: null,
      },
      getUri: 'scheme://user:password%20with%20space@host%2Flocation%3Ax%3Ay:1234/schema',
      asJson:
        '{"conn_type": "scheme", "host": "host/location:x:y", "login": "user", "password": "password with space", "schema": "schema", "port": 1234}',
    },
    {
      uri: 'scheme://domain%2Fuser:password@host%2Flocation%3Ax%3Ay:1234/schema',
      fields: {
        conn_type: 'scheme',
        host: 'host/location:x:y',
        schema: 'schema',
        login: 'domain/user',
        password: 'password',
        port: 1234,
        extra: null,
      },
      getUri: 'scheme://domain%2Fuser:password@host%2Flocation%3Ax%3Ay:1234/schema',
      asJson:
        '{"conn_type": "scheme", "host": "host/location:x:y", "login": "domain/user", "password": "password", "schema": "schema", "port": 1234}',
    },
    {
      uri: 'scheme://user:password%20with%20space@host:1234/schema%2Ftest',
      fields: {
        conn_type: 'scheme',
        host: 'host',
        schema: 'schema/test',
        login: 'user',
        password: 'password with space',
        port: 1234,
        extra: null,
      },
      getUri: 'scheme://user:password%20with%20space@host:1234/schema%2Ftest',
      asJson:
        '{"conn_type": "scheme", "host": "host", "login": "user", "password": "password with space", "schema": "schema/test", "port": 1234}',
    },
    {
      uri: 'google-cloud-platform://?key_path=%2Fkeys%2Fkey.json&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform&project=airflow',
      fields: {
        conn_type: 'google_cloud_platform',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra:
          '{"key_path": "/keys/key.json", "scope": "https://www.googleapis.com/auth/cloud-platform", "project": "airflow"}',
      },
      getUri:
        'google-cloud-platform:///?key_path=%2Fkeys%2Fkey.json&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform&project=airflow',
      asJson:
        '{"conn_type": "google_cloud_platform", "host": "", "schema": "", "extra": {"key_path": "/keys/key.json", "scope": "https://www.googleapis.com/auth/cloud-platform", "project": "airflow"}}',
    },
    {
      uri: 'scheme://%2FTmP%2F:1234',
      fields: {
        conn_type: 'scheme',
        host: '/TmP/',
        schema: '',
        login: null,
        password: null,
        port: 1234,
        extra: null,
      },
      getUri: 'scheme://%2FTmP%2F:1234',
      asJson: '{"conn_type": "scheme", "host": "/TmP/", "schema": "", "port": 1234}',
    },
    {
      uri: 'scheme:///airflow',
      fields: {
        conn_type: 'scheme',
        host: '',
        schema: 'airflow',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'scheme:///airflow',
      asJson: '{"conn_type": "scheme", "host": "", "schema": "airflow"}',
    },
    {
      uri: 'scheme://@:1234',
      fields: {
        conn_type: 'scheme',
        host: '',
        schema: '',
        login: '',
        password: null,
        port: 1234,
        extra: null,
      },
      getUri: 'scheme://@:1234',
      asJson: '{"conn_type": "scheme", "host": "", "login": "", "schema": "", "port": 1234}',
    },
    {
      uri: 'scheme://:password%2F%21%40%23%24%25%5E%26%2A%28%29%7B%7D@',
      fields: {
        conn_type: 'scheme',
        host: '',
        schema: '',
        login: '',
        password: 'password/!@#$%^&*(){}',
        port: null,
        extra: null,
      },
      getUri: 'scheme://:password%2F%21%40%23%24%25%5E%26%2A%28%29%7B%7D@',
      asJson:
        '{"conn_type": "scheme", "host": "", "login": "", "password": "password/!@#$%^&*(){}", "schema": ""}',
    },
    {
      uri: 'scheme://login%2F%21%40%23%24%25%5E%26%2A%28%29%7B%7D@',
      fields: {
        conn_type: 'scheme',
        host: '',
        schema: '',
        login: 'login/!@#$%^&*(){}',
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'scheme://login%2F%21%40%23%24%25%5E%26%2A%28%29%7B%7D@',
      asJson: '{"conn_type": "scheme", "host": "", "login": "login/!@#$%^&*(){}", "schema": ""}',
    },
    {
      uri: 'http://:password@host:80/database',
      fields: {
        conn_type: 'http',
        host: 'host',
        schema: 'database',
        login: '',
        password: 'password',
        port: 80,
        extra: null,
      },
      getUri: 'http://:password@host:80/database',
      asJson:
        '{"conn_type": "http", "host": "host", "login": "", "password": "password", "schema": "database", "port": 80}',
    },
    {
      uri: 'http://user:@host:80/database',
      fields: {
        conn_type: 'http',
        host: 'host',
        schema: 'database',
        login: 'user',
        password: null,
        port: 80,
        extra: null,
      },
      getUri: 'http://user@host:80/database',
      asJson: '{"conn_type": "http", "host": "host", "login": "user", "schema": "database", "port": 80}',
    },
    {
      uri: 'http://user:password@/database',
      fields: {
        conn_type: 'http',
        host: '',
        schema: 'database',
        login: 'user',
        password: 'password',
        port: null,
        extra: null,
      },
      getUri: 'http://user:password@/database',
      asJson:
        '{"conn_type": "http", "host": "", "login": "user", "password": "password", "schema": "database"}',
    },
    {
      uri: 'http://user:password@host:80/',
      fields: {
        conn_type: 'http',
        host: 'host',
        schema: '',
        login: 'user',
        password: 'password',
        port: 80,
        extra: null,
      },
      getUri: 'http://user:password@host:80',
      asJson:
        '{"conn_type": "http", "host": "host", "login": "user", "password": "password", "schema": "", "port": 80}',
    },
    {
      uri: 'http://user:password@/',
      fields: {
        conn_type: 'http',
        host: '',
        schema: '',
        login: 'user',
        password: 'password',
        port: null,
        extra: null,
      },
      getUri: 'http://user:password@',
      asJson: '{"conn_type": "http", "host": "", "login": "user", "password": "password", "schema": ""}',
    },
    {
      uri: 'postgresql://user:password@%2Ftmp%2Fz6rqdzqh%2Fexample%3Awest1%3Atestdb/testdb',
      fields: {
        conn_type: 'postgres',
        host: '/tmp/z6rqdzqh/example:west1:testdb',
        schema: 'testdb',
        login: 'user',
        password: 'password',
        port: null,
        extra: null,
      },
      getUri: 'postgres://user:password@%2Ftmp%2Fz6rqdzqh%2Fexample%3Awest1%3Atestdb/testdb',
      asJson:
        '{"conn_type": "postgres", "host": "/tmp/z6rqdzqh/example:west1:testdb", "login": "user", "password": "password", "schema": "testdb"}',
    },
    {
      uri: 'postgresql://user@%2Ftmp%2Fz6rqdzqh%2Fexample%3Aeurope-west1%3Atestdb/testdb',
      fields: {
        conn_type: 'postgres',
        host: '/tmp/z6rqdzqh/example:europe-west1:testdb',
        schema: 'testdb',
        login: 'user',
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'postgres://user@%2Ftmp%2Fz6rqdzqh%2Fexample%3Aeurope-west1%3Atestdb/testdb',
      asJson:
        '{"conn_type": "postgres", "host": "/tmp/z6rqdzqh/example:europe-west1:testdb", "login": "user", "schema": "testdb"}',
    },
    {
      uri: 'spark://k8s%3a%2F%2F100.68.0.1:443?deploy-mode=cluster',
      fields: {
        conn_type: 'spark',
        host: 'k8s://100.68.0.1',
        schema: '',
        login: null,
        password: null,
        port: 443,
        extra: '{"deploy-mode": "cluster"}',
      },
      getUri: 'spark://k8s://100.68.0.1:443/?deploy-mode=cluster',
      asJson:
        '{"conn_type": "spark", "host": "k8s://100.68.0.1", "schema": "", "port": 443, "extra": {"deploy-mode": "cluster"}}',
    },
    {
      uri: 'spark://user@k8s%3a%2F%2F100.68.0.1:443?deploy-mode=cluster',
      fields: {
        conn_type: 'spark',
        host: 'k8s://100.68.0.1',
        schema: '',
        login: 'user',
        password: null,
        port: 443,
        extra: '{"deploy-mode": "cluster"}',
      },
      getUri: 'spark://k8s://user@100.68.0.1:443/?deploy-mode=cluster',
      asJson:
        '{"conn_type": "spark", "host": "k8s://100.68.0.1", "login": "user", "schema": "", "port": 443, "extra": {"deploy-mode": "cluster"}}',
    },
    {
      uri: '//abc',
      fields: {
        conn_type: '',
        host: 'abc',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: '//abc',
      asJson: '{"conn_type": "", "host": "abc", "schema": ""}',
    },
    {
      uri: 'mysql://MyHost:1234/Db',
      fields: {
        conn_type: 'mysql',
        host: 'myhost',
        schema: 'Db',
        login: null,
        password: null,
        port: 1234,
        extra: null,
      },
      getUri: 'mysql://myhost:1234/Db',
      asJson: '{"conn_type": "mysql", "host": "myhost", "schema": "Db", "port": 1234}',
    },
    {
      uri: 'MYSQL://user:pw@Host/db',
      fields: {
        conn_type: 'mysql',
        host: 'host',
        schema: 'db',
        login: 'user',
        password: 'pw',
        port: null,
        extra: null,
      },
      getUri: 'mysql://user:pw@host/db',
      asJson: '{"conn_type": "mysql", "host": "host", "login": "user", "password": "pw", "schema": "db"}',
    },
    {
      uri: 'postgres://host:abc',
      error: 'value:Port could not be cast to integer value',
    },
    {
      uri: 'postgres://host:99999',
      error: 'value:Port out of range 0-65535',
    },
    {
      uri: 'postgres://host:',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'postgres://host',
      asJson: '{"conn_type": "postgres", "host": "host", "schema": ""}',
    },
    {
      uri: 'postgres://host:0',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: '',
        login: null,
        password: null,
        port: 0,
        extra: null,
      },
      getUri: 'postgres://host',
      asJson: '{"conn_type": "postgres", "host": "host", "schema": "", "port": 0}',
    },
    {
      uri: 'postgres://host:00080/x',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: 'x',
        login: null,
        password: null,
        port: 80,
        extra: null,
      },
      getUri: 'postgres://host:80/x',
      asJson: '{"conn_type": "postgres", "host": "host", "schema": "x", "port": 80}',
    },
    {
      uri: 'postgres://user:p@ss@host:1',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: '',
        login: 'user',
        password: 'p@ss',
        port: 1,
        extra: null,
      },
      getUri: 'postgres://user:p%40ss@host:1',
      asJson:
        '{"conn_type": "postgres", "host": "host", "login": "user", "password": "p@ss", "schema": "", "port": 1}',
    },
    {
      uri: 'postgres://[::1]:80/x',
      fields: {
        conn_type: 'postgres',
        host: '::1',
        schema: 'x',
        login: null,
        password: null,
        port: 80,
        extra: null,
      },
      getUri: 'postgres://%3A%3A1:80/x',
      asJson: '{"conn_type": "postgres", "host": "::1", "schema": "x", "port": 80}',
    },
    {
      uri: 'postgres://user:pw@[2001:db8::1]:5432/db',
      fields: {
        conn_type: 'postgres',
        host: '2001:db8::1',
        schema: 'db',
        login: 'user',
        password: 'pw',
        port: 5432,
        extra: null,
      },
      getUri: 'postgres://user:pw@2001%3Adb8%3A%3A1:5432/db',
      asJson:
        '{"conn_type": "postgres", "host": "2001:db8::1", "login": "user", "password": "pw", "schema": "db", "port": 5432}',
    },
    {
      uri: 'postgres://[fe80::1%25eth0]/x',
      fields: {
        conn_type: 'postgres',
        host: 'fe80::1%eth0',
        schema: 'x',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'postgres://fe80%3A%3A1%25eth0/x',
      asJson: '{"conn_type": "postgres", "host": "fe80::1%eth0", "schema": "x"}',
    },
    {
      uri: 'postgres://[::1/x',
      error: 'value:Invalid IPv6 URL',
    },
    {
      uri: 'postgres://[1.2.3.4]/x',
      error: 'value:An IPv4 address cannot be in brackets',
    },
    {
      uri: 'postgres://[vz]/x',
      error: 'value:IPvFuture address is invalid',
    },
    {
      uri: 'a://b://c://d://e',
      error: 'count',
    },
    {
      uri: 'http://https://host',
      fields: {
        conn_type: 'http',
        host: 'https://host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'http://https://host',
      asJson: '{"conn_type": "http", "host": "https://host", "schema": ""}',
    },
    {
      uri: 'http://http://host',
      fields: {
        conn_type: 'http',
        host: '',
        schema: 'ost',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'http:///ost',
      asJson: '{"conn_type": "http", "host": "", "schema": "ost"}',
    },
    {
      uri: 'http://https://user:pw@host:443/path?x=1',
      fields: {
        conn_type: 'http',
        host: 'https://host',
        schema: 'path',
        login: 'user',
        password: 'pw',
        port: 443,
        extra: '{"x": "1"}',
      },
      getUri: 'http://https://user:pw@host:443/path?x=1',
      asJson:
        '{"conn_type": "http", "host": "https://host", "login": "user", "password": "pw", "schema": "path", "port": 443, "extra": {"x": "1"}}',
    },
    {
      uri: 'http://us:er@https://host',
      error: 'proto',
    },
    {
      uri: 'my-conn-type://host',
      fields: {
        conn_type: 'my_conn_type',
        host: 'host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'my-conn-type://host',
      asJson: '{"conn_type": "my_conn_type", "host": "host", "schema": ""}',
    },
    {
      uri: 'postgresql://host',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'postgres://host',
      asJson: '{"conn_type": "postgres", "host": "host", "schema": ""}',
    },
    {
      uri: 'aws://?region_name=eu-west-1&role_arn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx',
      fields: {
        conn_type: 'aws',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"region_name": "eu-west-1", "role_arn": "arn:aws:iam::1:role/x"}',
      },
      getUri: 'aws:///?region_name=eu-west-1&role_arn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx',
      asJson:
        '{"conn_type": "aws", "host": "", "schema": "", "extra": {"region_name": "eu-west-1", "role_arn": "arn:aws:iam::1:role/x"}}',
    },
    {
      uri: 'aws://@/?a=1&a=2&b',
      fields: {
        conn_type: 'aws',
        host: '',
        schema: '',
        login: '',
        password: null,
        port: null,
        extra: '{"a": "2", "b": ""}',
      },
      getUri: 'aws:///?a=2&b=',
      asJson: '{"conn_type": "aws", "host": "", "login": "", "schema": "", "extra": {"a": "2", "b": ""}}',
    },
    {
      uri: 'aws://?a+b=c+d&%E2%82%AC=%F0%9F%98%80',
      fields: {
        conn_type: 'aws',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"a b": "c d", "\\u20ac": "\\ud83d\\ude00"}',
      },
      getUri: 'aws:///?a+b=c+d&%E2%82%AC=%F0%9F%98%80',
      asJson:
        '{"conn_type": "aws", "host": "", "schema": "", "extra": {"a b": "c d", "\\u20ac": "\\ud83d\\ude00"}}',
    },
    {
      uri: 'aws://?x=%ZZ&y=%e2%82&z=%C3%28',
      fields: {
        conn_type: 'aws',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"x": "%ZZ", "y": "\\ufffd", "z": "\\ufffd("}',
      },
      getUri: 'aws:///?x=%25ZZ&y=%EF%BF%BD&z=%EF%BF%BD%28',
      asJson:
        '{"conn_type": "aws", "host": "", "schema": "", "extra": {"x": "%ZZ", "y": "\\ufffd", "z": "\\ufffd("}}',
    },
    {
      uri: 'aws://?__extra__=%7B%22a%22%3A+1%7D&b=2',
      fields: {
        conn_type: 'aws',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"a": 1}',
      },
      getUri: 'aws:///?__extra__=%7B%22a%22%3A+1%7D',
      asJson: '{"conn_type": "aws", "host": "", "schema": "", "extra": {"a": 1}}',
    },
    {
      uri: 'aws://?__extra__=',
      fields: {
        conn_type: 'aws',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '',
      },
      getUri: 'aws://',
      asJson: '{"conn_type": "aws", "host": "", "schema": ""}',
    },
    {
      uri: 'aws://?__extra__=%5B1%5D',
      error: 'not-dict',
    },
    {
      uri: 'aws://?__extra__=notjson',
      error: 'non-json',
    },
    {
      uri: 'aws://?#frag',
      fields: {
        conn_type: 'aws',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'aws://',
      asJson: '{"conn_type": "aws", "host": "", "schema": ""}',
    },
    {
      uri: 'aws://host/db?x=1#frag',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: 'db',
        login: null,
        password: null,
        port: null,
        extra: '{"x": "1"}',
      },
      getUri: 'aws://host/db?x=1',
      asJson: '{"conn_type": "aws", "host": "host", "schema": "db", "extra": {"x": "1"}}',
    },
    {
      uri: 'aws://host/db/with/slashes',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: 'db/with/slashes',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'aws://host/db%2Fwith%2Fslashes',
      asJson: '{"conn_type": "aws", "host": "host", "schema": "db/with/slashes"}',
    },
    {
      uri: 'aws://host//db',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: '/db',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'aws://host/%2Fdb',
      asJson: '{"conn_type": "aws", "host": "host", "schema": "/db"}',
    },
    {
      uri: 'aws://host/%2Fabs',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: '/abs',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'aws://host/%2Fabs',
      asJson: '{"conn_type": "aws", "host": "host", "schema": "/abs"}',
    },
    {
      uri: 'aws://user%3Aname:pa%3Ass@host',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: '',
        login: 'user:name',
        password: 'pa:ss',
        port: null,
        extra: null,
      },
      getUri: 'aws://user%3Aname:pa%3Ass@host',
      asJson: '{"conn_type": "aws", "host": "host", "login": "user:name", "password": "pa:ss", "schema": ""}',
    },
    {
      uri: 'aws://us%40er:p%40ss@host',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: '',
        login: 'us@er',
        password: 'p@ss',
        port: null,
        extra: null,
      },
      getUri: 'aws://us%40er:p%40ss@host',
      asJson: '{"conn_type": "aws", "host": "host", "login": "us@er", "password": "p@ss", "schema": ""}',
    },
    {
      uri: 'aws://user:pass/word@host',
      error: 'value:Port could not be cast to integer value',
    },
    {
      uri: 'aws://ho%20st:1/a%20b',
      fields: {
        conn_type: 'aws',
        host: 'ho st',
        schema: 'a b',
        login: null,
        password: null,
        port: 1,
        extra: null,
      },
      getUri: 'aws://ho%20st:1/a%20b',
      asJson: '{"conn_type": "aws", "host": "ho st", "schema": "a b", "port": 1}',
    },
    {
      uri: 'aws://h\u00e9st\u00e8:1/\u00e9',
      fields: {
        conn_type: 'aws',
        host: 'h\u00e9st\u00e8',
        schema: '\u00e9',
        login: null,
        password: null,
        port: 1,
        extra: null,
      },
      getUri: 'aws://h%C3%A9st%C3%A8:1/%C3%A9',
      asJson: '{"conn_type": "aws", "host": "h\\u00e9st\\u00e8", "schema": "\\u00e9", "port": 1}',
    },
    {
      uri: 'aws://\u2100host/x',
      error: "value:netloc '\u2100host' contains invalid characters under NFKC normalization",
    },
    {
      uri: '  aws://host\t/x\n',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: 'x',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'aws://host/x',
      asJson: '{"conn_type": "aws", "host": "host", "schema": "x"}',
    },
    {
      uri: 'aws:host/x',
      fields: {
        conn_type: 'aws',
        host: '',
        schema: 'ost/x',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'aws:///ost%2Fx',
      asJson: '{"conn_type": "aws", "host": "", "schema": "ost/x"}',
    },
    {
      uri: '1aws://host',
      fields: {
        conn_type: '',
        host: '',
        schema: 'aws//host',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: '///aws%2F%2Fhost',
      asJson: '{"conn_type": "", "host": "", "schema": "aws//host"}',
    },
    {
      uri: 'aws://user:pw@host?q=%2B+%20',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: '',
        login: 'user',
        password: 'pw',
        port: null,
        extra: '{"q": "+  "}',
      },
      getUri: 'aws://user:pw@host/?q=%2B++',
      asJson:
        '{"conn_type": "aws", "host": "host", "login": "user", "password": "pw", "schema": "", "extra": {"q": "+  "}}',
    },
    {
      uri: 'aws://host?a=1;b=2',
      fields: {
        conn_type: 'aws',
        host: 'host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"a": "1;b=2"}',
      },
      getUri: 'aws://host/?a=1%3Bb%3D2',
      asJson: '{"conn_type": "aws", "host": "host", "schema": "", "extra": {"a": "1;b=2"}}',
    },
    {
      uri: 'postgres://user:%F0%9F%94%91@host/d%C3%A9b',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: 'd\u00e9b',
        login: 'user',
        password: '\ud83d\udd11',
        port: null,
        extra: null,
      },
      getUri: 'postgres://user:%F0%9F%94%91@host/d%C3%A9b',
      asJson:
        '{"conn_type": "postgres", "host": "host", "login": "user", "password": "\\ud83d\\udd11", "schema": "d\\u00e9b"}',
    },
    {
      uri: 'postgres://user:%ED%A0%80@host',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: '',
        login: 'user',
        password: '\ufffd\ufffd\ufffd',
        port: null,
        extra: null,
      },
      getUri: 'postgres://user:%EF%BF%BD%EF%BF%BD%EF%BF%BD@host',
      asJson:
        '{"conn_type": "postgres", "host": "host", "login": "user", "password": "\\ufffd\\ufffd\\ufffd", "schema": ""}',
    },
    {
      uri: '',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: '//',
      asJson: '{}',
    },
    {
      uri: 'noscheme',
      fields: {
        conn_type: '',
        host: '',
        schema: 'oscheme',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: '///oscheme',
      asJson: '{"conn_type": "", "host": "", "schema": "oscheme"}',
    },
    {
      uri: 'sqlite:///tmp/x.db',
      fields: {
        conn_type: 'sqlite',
        host: '',
        schema: 'tmp/x.db',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'sqlite:///tmp%2Fx.db',
      asJson: '{"conn_type": "sqlite", "host": "", "schema": "tmp/x.db"}',
    },
    {
      uri: 'sqlite:////tmp/x.db',
      fields: {
        conn_type: 'sqlite',
        host: '',
        schema: '/tmp/x.db',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'sqlite:///%2Ftmp%2Fx.db',
      asJson: '{"conn_type": "sqlite", "host": "", "schema": "/tmp/x.db"}',
    },
    {
      uri: 'postgres://host:12a',
      error: 'value:Port could not be cast to integer value',
    },
    {
      uri: 'postgres://host:+12',
      error: 'value:Port could not be cast to integer value',
    },
    {
      uri: 'postgres://host:-1',
      error: 'value:Port could not be cast to integer value',
    },
    {
      uri: 'postgres://:@host',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: '',
        login: '',
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'postgres://host',
      asJson: '{"conn_type": "postgres", "host": "host", "login": "", "schema": ""}',
    },
    {
      uri: 'postgres://@host',
      fields: {
        conn_type: 'postgres',
        host: 'host',
        schema: '',
        login: '',
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'postgres://host',
      asJson: '{"conn_type": "postgres", "host": "host", "login": "", "schema": ""}',
    },
    {
      uri: 'postgres://user@',
      fields: {
        conn_type: 'postgres',
        host: '',
        schema: '',
        login: 'user',
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'postgres://user@',
      asJson: '{"conn_type": "postgres", "host": "", "login": "user", "schema": ""}',
    },
    {
      uri: 'postgres://:pw@:5',
      fields: {
        conn_type: 'postgres',
        host: '',
        schema: '',
        login: '',
        password: 'pw',
        port: 5,
        extra: null,
      },
      getUri: 'postgres://:pw@:5',
      asJson: '{"conn_type": "postgres", "host": "", "login": "", "password": "pw", "schema": "", "port": 5}',
    },
    {
      uri: 'http://ftp://host:21',
      fields: {
        conn_type: 'http',
        host: 'ftp://host',
        schema: '',
        login: null,
        password: null,
        port: 21,
        extra: null,
      },
      getUri: 'http://ftp://host:21',
      asJson: '{"conn_type": "http", "host": "ftp://host", "schema": "", "port": 21}',
    },
    {
      uri: 'HTTP://https://host',
      fields: {
        conn_type: 'http',
        host: 'http://https',
        schema: '/host',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'http://http%3A%2F%2Fhttps/%2Fhost',
      asJson: '{"conn_type": "http", "host": "http://https", "schema": "/host"}',
    },
    {
      uri: 'http://HTTPS://Host',
      fields: {
        conn_type: 'http',
        host: 'https://host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
      getUri: 'http://https://host',
      asJson: '{"conn_type": "http", "host": "https://host", "schema": ""}',
    },
    {
      uri: 'http://a@b://host',
      error: 'proto',
    },
    {
      uri: 'ssh://host?private_key=-----BEGIN+KEY-----%0Aabc%0A-----END+KEY-----',
      fields: {
        conn_type: 'ssh',
        host: 'host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"private_key": "-----BEGIN KEY-----\\nabc\\n-----END KEY-----"}',
      },
      getUri: 'ssh://host/?private_key=-----BEGIN+KEY-----%0Aabc%0A-----END+KEY-----',
      asJson:
        '{"conn_type": "ssh", "host": "host", "schema": "", "extra": {"private_key": "-----BEGIN KEY-----\\nabc\\n-----END KEY-----"}}',
    },
  ],
  build: [
    {
      fields: {
        conn_type: 'type',
        login: 'user',
        password: 'pass',
        host: 'host',
        port: 100,
        schema: 'schema',
        extra: '{"param1": "val1", "param2": "val2"}',
      },
      getUri: 'type://user:pass@host:100/schema?param1=val1&param2=val2',
      asJson:
        '{"conn_type": "type", "host": "host", "login": "user", "password": "pass", "schema": "schema", "port": 100, "extra": {"param1": "val1", "param2": "val2"}}',
      reparsed: {
        conn_type: 'type',
        host: 'host',
        schema: 'schema',
        login: 'user',
        password: 'pass',
        port: 100,
        extra: '{"param1": "val1", "param2": "val2"}',
      },
    },
    {
      fields: {
        conn_type: 'type',
        host: 'protocol://host',
        port: 100,
        schema: 'schema',
        extra: '{"param1": "val1", "param2": "val2"}',
      },
      getUri: 'type://protocol://host:100/schema?param1=val1&param2=val2',
      asJson:
        '{"conn_type": "type", "host": "protocol://host", "schema": "schema", "port": 100, "extra": {"param1": "val1", "param2": "val2"}}',
      reparsed: {
        conn_type: 'type',
        host: 'protocol://host',
        schema: 'schema',
        login: null,
        password: null,
        port: 100,
        extra: '{"param1": "val1", "param2": "val2"}',
      },
    },
    {
      fields: {
        conn_type: 'type',
        login: 'user',
        password: 'pass',
        host: 'protocol://host',
        port: 100,
        schema: 'schema',
      },
      getUri: 'type://protocol://user:pass@host:100/schema',
      asJson:
        '{"conn_type": "type", "host": "protocol://host", "login": "user", "password": "pass", "schema": "schema", "port": 100}',
      reparsed: {
        conn_type: 'type',
        host: 'protocol://host',
        schema: 'schema',
        login: 'user',
        password: 'pass',
        port: 100,
        extra: null,
      },
    },
    {
      fields: {
        conn_type: 'http',
        host: 'http://host',
      },
      getUri: 'http://http%3A%2F%2Fhost',
      asJson: '{"conn_type": "http", "host": "http://host"}',
      reparsed: {
        conn_type: 'http',
        host: 'http://host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
    },
    {
      fields: {
        conn_type: 'spark',
        host: 'k8s://100.68.0.1:443',
      },
      getUri: 'spark://k8s://100.68.0.1%3A443',
      asJson: '{"conn_type": "spark", "host": "k8s://100.68.0.1:443"}',
      reparsed: {
        conn_type: 'spark',
        host: 'k8s://100.68.0.1:443',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
    },
    {
      fields: {
        conn_type: 'type',
        host: 'host',
        extra: '{"bool_param": true, "int_param": 123, "float_param": 1.5, "list_param": [1, 2]}',
      },
      getUri:
        'type://host/?__extra__=%7B%22bool_param%22%3A+true%2C+%22int_param%22%3A+123%2C+%22float_param%22%3A+1.5%2C+%22list_param%22%3A+%5B1%2C+2%5D%7D',
      asJson:
        '{"conn_type": "type", "host": "host", "extra": {"bool_param": true, "int_param": 123, "float_param": 1.5, "list_param": [1, 2]}}',
      reparsed: {
        conn_type: 'type',
        host: 'host',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"bool_param": true, "int_param": 123, "float_param": 1.5, "list_param": [1, 2]}',
      },
    },
    {
      fields: {
        conn_type: 'google_cloud_platform',
        extra: '{"project": "p", "scope": "a b"}',
      },
      getUri: 'google-cloud-platform:///?project=p&scope=a+b',
      asJson: '{"conn_type": "google_cloud_platform", "extra": {"project": "p", "scope": "a b"}}',
      reparsed: {
        conn_type: 'google_cloud_platform',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"project": "p", "scope": "a b"}',
      },
    },
    {
      fields: {},
      getUri: '//',
      asJson: '{}',
      reparsed: {
        conn_type: '',
        host: '',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
    },
    {
      fields: {
        host: 'abc',
      },
      getUri: '//abc',
      asJson: '{"host": "abc"}',
      reparsed: {
        conn_type: '',
        host: 'abc',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
    },
    {
      fields: {
        port: 5432,
      },
      getUri: '//@:5432',
      asJson: '{"port": 5432}',
      reparsed: {
        conn_type: '',
        host: '',
        schema: '',
        login: '',
        password: null,
        port: 5432,
        extra: null,
      },
    },
    {
      fields: {
        login: '',
        port: 5432,
      },
      getUri: '//@:5432',
      asJson: '{"login": "", "port": 5432}',
      reparsed: {
        conn_type: '',
        host: '',
        schema: '',
        login: '',
        password: null,
        port: 5432,
        extra: null,
      },
    },
    {
      fields: {
        password: 'x',
        port: 5432,
      },
      getUri: '//:x@:5432',
      asJson: '{"password": "x", "port": 5432}',
      reparsed: {
        conn_type: '',
        host: '',
        schema: '',
        login: '',
        password: 'x',
        port: 5432,
        extra: null,
      },
    },
    {
      fields: {
        conn_type: 't',
        port: 0,
        host: 'h',
      },
      getUri: 't://h',
      asJson: '{"conn_type": "t", "host": "h", "port": 0}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
      },
    },
    {
      fields: {
        conn_type: 't',
        login: "a b/c:@!$&'()*+,;=~._-",
        password: "a b/c:@!$&'()*+,;=~._-",
        host: "a b/c:@!$&'()*+,;=~._-",
        schema: "a b/c:@!$&'()*+,;=~._-",
      },
      getUri:
        't://a%20b%2Fc%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D~._-:a%20b%2Fc%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D~._-@a%20b%2Fc%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D~._-/a%20b%2Fc%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D~._-',
      asJson:
        '{"conn_type": "t", "host": "a b/c:@!$&\'()*+,;=~._-", "login": "a b/c:@!$&\'()*+,;=~._-", "password": "a b/c:@!$&\'()*+,;=~._-", "schema": "a b/c:@!$&\'()*+,;=~._-"}',
      reparsed: {
        conn_type: 't',
        host: "a b/c:@!$&'()*+,;=~._-",
        schema: "a b/c:@!$&'()*+,;=~._-",
        login: "a b/c:@!$&'()*+,;=~._-",
        password: "a b/c:@!$&'()*+,;=~._-",
        port: null,
        extra: null,
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{}',
      },
      getUri: 't://h/?__extra__=%7B%7D',
      asJson: '{"conn_type": "t", "host": "h"}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        schema: 's',
        extra: '{"a": ""}',
      },
      getUri: 't://h/s?a=',
      asJson: '{"conn_type": "t", "host": "h", "schema": "s", "extra": {"a": ""}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: 's',
        login: null,
        password: null,
        port: null,
        extra: '{"a": ""}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{"a": null}',
      },
      getUri: 't://h/?__extra__=%7B%22a%22%3A+null%7D',
      asJson: '{"conn_type": "t", "host": "h", "extra": {"a": null}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"a": null}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{"a": "x", "b": 1}',
      },
      getUri: 't://h/?__extra__=%7B%22a%22%3A+%22x%22%2C+%22b%22%3A+1%7D',
      asJson: '{"conn_type": "t", "host": "h", "extra": {"a": "x", "b": 1}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"a": "x", "b": 1}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{"b": "2", "1": "one", "a": "\u00e9\ud83d\ude00"}',
      },
      getUri: 't://h/?b=2&1=one&a=%C3%A9%F0%9F%98%80',
      asJson:
        '{"conn_type": "t", "host": "h", "extra": {"b": "2", "1": "one", "a": "\\u00e9\\ud83d\\ude00"}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"b": "2", "1": "one", "a": "\\u00e9\\ud83d\\ude00"}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{"n": 1.0, "big": 12345678901234567890, "e": 1e16, "s": 1e-5, "neg": -0.0}',
      },
      getUri:
        't://h/?__extra__=%7B%22n%22%3A+1.0%2C+%22big%22%3A+12345678901234567890%2C+%22e%22%3A+1e16%2C+%22s%22%3A+1e-5%2C+%22neg%22%3A+-0.0%7D',
      asJson:
        '{"conn_type": "t", "host": "h", "extra": {"n": 1.0, "big": 12345678901234567890, "e": 1e+16, "s": 1e-05, "neg": -0.0}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"n": 1.0, "big": 12345678901234567890, "e": 1e16, "s": 1e-5, "neg": -0.0}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{"nan": NaN, "inf": Infinity, "ninf": -Infinity}',
      },
      getUri: 't://h/?__extra__=%7B%22nan%22%3A+NaN%2C+%22inf%22%3A+Infinity%2C+%22ninf%22%3A+-Infinity%7D',
      asJson: '{"conn_type": "t", "host": "h", "extra": {"nan": NaN, "inf": Infinity, "ninf": -Infinity}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"nan": NaN, "inf": Infinity, "ninf": -Infinity}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{"dup": "1", "dup": "2"}',
      },
      getUri: 't://h/?dup=2',
      asJson: '{"conn_type": "t", "host": "h", "extra": {"dup": "2"}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"dup": "2"}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{"__extra__": "x"}',
      },
      getUri: 't://h/?__extra__=x',
      asJson: '{"conn_type": "t", "host": "h", "extra": {"__extra__": "x"}}',
      reparseError: 'non-json',
    },
    {
      fields: {
        conn_type: 'T_Y-pe',
        host: 'H\u00e9',
        login: '\u00fcser',
        password: 'p\u00e4ss \ud83d\udd11',
        schema: 'sch/\u00e9ma',
      },
      getUri: 't-y-pe://%C3%BCser:p%C3%A4ss%20%F0%9F%94%91@H%C3%A9/sch%2F%C3%A9ma',
      asJson:
        '{"conn_type": "T_Y-pe", "host": "H\\u00e9", "login": "\\u00fcser", "password": "p\\u00e4ss \\ud83d\\udd11", "schema": "sch/\\u00e9ma"}',
      reparsed: {
        conn_type: 't_y_pe',
        host: 'h\u00e9',
        schema: 'sch/\u00e9ma',
        login: '\u00fcser',
        password: 'p\u00e4ss \ud83d\udd11',
        port: null,
        extra: null,
      },
    },
    {
      fields: {
        conn_type: 't',
        description: 'd\u00e9sc',
        host: 'h',
        extra: '{"nested": {"k": [1, "two", null, true]}}',
      },
      getUri: 't://h/?__extra__=%7B%22nested%22%3A+%7B%22k%22%3A+%5B1%2C+%22two%22%2C+null%2C+true%5D%7D%7D',
      asJson:
        '{"conn_type": "t", "description": "d\\u00e9sc", "host": "h", "extra": {"nested": {"k": [1, "two", null, true]}}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"nested": {"k": [1, "two", null, true]}}',
      },
    },
    {
      fields: {
        conn_type: 't',
        host: 'h',
        extra: '{"k": "a\\nb\\u0000\\u007f\\"q\\\\"}',
      },
      getUri: 't://h/?k=a%0Ab%00%7F%22q%5C',
      asJson: '{"conn_type": "t", "host": "h", "extra": {"k": "a\\nb\\u0000\\u007f\\"q\\\\"}}',
      reparsed: {
        conn_type: 't',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: '{"k": "a\\nb\\u0000\\u007f\\"q\\\\"}',
      },
    },
  ],
  json: [
    {
      json: '{"extra": null}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    {
      json: '{"extra": "hi"}',
      error: 'non-json',
    },
    {
      json: '{"extra": {"yo": "hi"}}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: '{"yo": "hi"}',
        description: null,
      },
      asJson: '{"extra": {"yo": "hi"}}',
      getUri: '///?yo=hi',
    },
    {
      json: '{"extra": "{\\"yo\\": \\"hi\\"}"}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: '{"yo": "hi"}',
        description: null,
      },
      asJson: '{"extra": {"yo": "hi"}}',
      getUri: '///?yo=hi',
    },
    {
      json: '{"conn_type": "abc-abc"}',
      fields: {
        conn_type: 'abc_abc',
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{"conn_type": "abc_abc"}',
      getUri: 'abc-abc://',
    },
    {
      json: '{"conn_type": "abc_abc"}',
      fields: {
        conn_type: 'abc_abc',
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{"conn_type": "abc_abc"}',
      getUri: 'abc-abc://',
    },
    {
      json: '{"conn_type": "postgresql"}',
      fields: {
        conn_type: 'postgres',
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{"conn_type": "postgres"}',
      getUri: 'postgres://',
    },
    {
      json: '{"conn_type": ""}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    {
      json: '{"port": 1}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: 1,
        extra: null,
        description: null,
      },
      asJson: '{"port": 1}',
      getUri: '//@:1',
    },
    {
      json: '{"port": "1"}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: 1,
        extra: null,
        description: null,
      },
      asJson: '{"port": 1}',
      getUri: '//@:1',
    },
    {
      json: '{"port": null}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    // Issue 12: the newest core's `_coerce_port` keeps 0 (these vectors' older core gave None);
    // `as_json` keeps it, `get_uri` drops it (truthiness).
    {
      json: '{"port": 0}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: 0,
        extra: null,
        description: null,
      },
      asJson: '{"port": 0}',
      getUri: '//',
    },
    {
      json: '{"port": 1.5}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: 1,
        extra: null,
        description: null,
      },
      asJson: '{"port": 1}',
      getUri: '//@:1',
    },
    {
      json: '{"port": "5432"}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: 5432,
        extra: null,
        description: null,
      },
      asJson: '{"port": 5432}',
      getUri: '//@:5432',
    },
    {
      json: '{"port": " 54_32 "}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: 5432,
        extra: null,
        description: null,
      },
      asJson: '{"port": 5432}',
      getUri: '//@:5432',
    },
    {
      json: '{"port": "abc"}',
      error: 'port',
    },
    {
      json: '{"port": "1.5"}',
      error: 'port',
    },
    {
      json: '{"port": true}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: 1,
        extra: null,
        description: null,
      },
      asJson: '{"port": 1}',
      getUri: '//@:1',
    },
    {
      json: '{"port": ""}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    {
      json: '{"port": NaN}',
      error: 'port',
    },
    {
      json: '{"password": "pass :/!@#$%^&*(){}\\""}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: 'pass :/!@#$%^&*(){}"',
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{"password": "pass :/!@#$%^&*(){}\\""}',
      getUri: '//:pass%20%3A%2F%21%40%23%24%25%5E%26%2A%28%29%7B%7D%22@',
    },
    {
      json: '{"password": null}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    {
      json: '{"password": ""}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    {
      json: '{"conn_type": "postgres", "host": "h", "login": "u", "password": "p", "schema": "s", "port": 5432, "extra": {"a": 1, "b": [1, 2], "c": {"d": null}}, "description": "x"}',
      fields: {
        conn_type: 'postgres',
        host: 'h',
        schema: 's',
        login: 'u',
        password: 'p',
        port: 5432,
        extra: '{"a": 1, "b": [1, 2], "c": {"d": null}}',
        description: 'x',
      },
      asJson:
        '{"conn_type": "postgres", "description": "x", "host": "h", "login": "u", "password": "p", "schema": "s", "port": 5432, "extra": {"a": 1, "b": [1, 2], "c": {"d": null}}}',
      getUri:
        'postgres://u:p@h:5432/s?__extra__=%7B%22a%22%3A+1%2C+%22b%22%3A+%5B1%2C+2%5D%2C+%22c%22%3A+%7B%22d%22%3A+null%7D%7D',
    },
    {
      json: '{"extra": {}}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    {
      json: '{"extra": ""}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    {
      json: '{"extra": []}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{}',
      getUri: '//',
    },
    {
      json: '{"extra": [1]}',
      error: 'not-dict',
    },
    {
      json: '{"extra": 5}',
      error: 'not-dict',
    },
    {
      json: '{"extra": "[1]"}',
      error: 'not-dict',
    },
    {
      json: '{"extra": "nope"}',
      error: 'non-json',
    },
    {
      json: '{"user": "x"}',
      error: 'keys',
    },
    {
      json: '{"conn_id": "x"}',
      error: 'keys',
    },
    {
      json: '{"uri": "postgres://u:p@h:1/s"}',
      fields: {
        conn_type: 'postgres',
        host: 'h',
        schema: 's',
        login: 'u',
        password: 'p',
        port: 1,
        extra: null,
        description: null,
      },
      asJson:
        '{"conn_type": "postgres", "host": "h", "login": "u", "password": "p", "schema": "s", "port": 1}',
      getUri: 'postgres://u:p@h:1/s',
    },
    {
      json: '{"uri": "postgres://u:p@h:1/s", "description": "d"}',
      fields: {
        conn_type: 'postgres',
        host: 'h',
        schema: 's',
        login: 'u',
        password: 'p',
        port: 1,
        extra: null,
        description: 'd',
      },
      asJson:
        '{"conn_type": "postgres", "description": "d", "host": "h", "login": "u", "password": "p", "schema": "s", "port": 1}',
      getUri: 'postgres://u:p@h:1/s',
    },
    {
      json: '{"uri": "postgres://u:p@h:1/s", "host": "x"}',
      error: 'mix',
    },
    {
      json: '{"uri": "postgres://u:p@h:1/s", "host": ""}',
      fields: {
        conn_type: 'postgres',
        host: 'h',
        schema: 's',
        login: 'u',
        password: 'p',
        port: 1,
        extra: null,
        description: null,
      },
      asJson:
        '{"conn_type": "postgres", "host": "h", "login": "u", "password": "p", "schema": "s", "port": 1}',
      getUri: 'postgres://u:p@h:1/s',
    },
    {
      json: '{"uri": "postgres://h", "port": 0}',
      fields: {
        conn_type: 'postgres',
        host: 'h',
        schema: '',
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{"conn_type": "postgres", "host": "h", "schema": ""}',
      getUri: 'postgres://h',
    },
    {
      json: '[]',
      error: 'TypeError',
    },
    {
      json: '"x"',
      error: 'AttributeError',
    },
    {
      json: '{',
      error: 'JSONDecodeError',
    },
    {
      json: '{"a":1}x',
      error: 'JSONDecodeError',
    },
    {
      json: '{"host": "h", "extra": {"z": "1", "a": "2", "10": "3", "2": "4"}}',
      fields: {
        conn_type: null,
        host: 'h',
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: '{"z": "1", "a": "2", "10": "3", "2": "4"}',
        description: null,
      },
      asJson: '{"host": "h", "extra": {"z": "1", "a": "2", "10": "3", "2": "4"}}',
      getUri: '//h/?z=1&a=2&10=3&2=4',
    },
    {
      json: '{"host": "\\ud83d\\ude00 \\u00e9"}',
      fields: {
        conn_type: null,
        host: '\ud83d\ude00 \u00e9',
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{"host": "\\ud83d\\ude00 \\u00e9"}',
      getUri: '//%F0%9F%98%80%20%C3%A9',
    },
    {
      json: '{"port": 99999}',
      fields: {
        conn_type: null,
        host: null,
        schema: null,
        login: null,
        password: null,
        port: 99999,
        extra: null,
        description: null,
      },
      asJson: '{"port": 99999}',
      getUri: '//@:99999',
    },
    {
      json: '{"conn_type": "My-Type"}',
      fields: {
        conn_type: 'My_Type',
        host: null,
        schema: null,
        login: null,
        password: null,
        port: null,
        extra: null,
        description: null,
      },
      asJson: '{"conn_type": "My_Type"}',
      getUri: 'my-type://',
    },
  ],
};

describe('Connection.fromUri matches Airflow core (CPython-computed vectors)', () => {
  it.each(V.parse.map((r) => [r.uri, r] as const))('parses %j', (_u, row) => {
    if (row.error) {
      expectInvalid(() => Connection.fromUri(row.uri, 'vec'), row.uri);
      return;
    }
    const c = Connection.fromUri(row.uri, 'vec');
    expect(fieldsOf(c)).toEqual(row.fields);
    expect(c.getUri()).toBe(row.getUri);
    expect(c.asJson()).toBe(row.asJson);
  });
});

describe('Connection built from fields matches Airflow core get_uri / as_json', () => {
  it.each(V.build.map((r) => [JSON.stringify(r.fields), r] as const))('serialises %s', (_f, row) => {
    const f = row.fields;
    const c = new Connection({
      id: 'vec',
      type: (f.conn_type as string | undefined) ?? null,
      host: (f.host as string | undefined) ?? null,
      login: (f.login as string | undefined) ?? null,
      password: (f.password as string | undefined) ?? null,
      schema: (f.schema as string | undefined) ?? null,
      port: (f.port as number | undefined) ?? null,
      extra: (f.extra as string | undefined) ?? null,
      description: (f.description as string | undefined) ?? null,
    });
    expect(c.getUri()).toBe(row.getUri);
    expect(c.asJson()).toBe(row.asJson);
    if (row.reparseError) {
      expect(() => Connection.fromUri(c.getUri())).toThrow(InvalidConnectionError);
    } else {
      expect(fieldsOf(Connection.fromUri(c.getUri()))).toEqual(row.reparsed);
    }
  });
});

describe('Connection.fromJson matches Airflow core from_json', () => {
  it.each(V.json.map((r) => [r.json, r] as const))('reads %s', (_j, row) => {
    if (row.error || OUT_OF_RANGE_PORT_JSON.has(row.json)) {
      expectInvalid(() => Connection.fromJson(row.json, 'vec'), '\u0000never');
      return;
    }
    const c = Connection.fromJson(row.json, 'vec');
    expect(fieldsOf(c, true)).toEqual(row.fields);
    expect(c.asJson()).toBe(row.asJson);
    expect(c.getUri()).toBe(row.getUri);
  });
});
