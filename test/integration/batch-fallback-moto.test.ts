/**
 * Issue 12 item 8 against moto (a second AWS opinion): with moto's IAM enforcement on, a user allowed
 * `secretsmanager:GetSecretValue` but not `BatchGetSecretValue` gets an HTTP 403 whose body is an XML
 * `AccessDenied` (not the `AccessDeniedException` AWS itself sends). The adapter must fall back to
 * single reads. moto_server runs on 127.0.0.1 for this file only; boto3 sets the user up.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import { silentLogger } from '../../src/logger.js';

let moto: ChildProcess | undefined;
let url = '';
let keys: { AccessKeyId: string; SecretAccessKey: string };

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const SETUP = `
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='AKIAROOTROOTROOTROOT', aws_secret_access_key='x')
iam = boto3.client('iam', **kw)
iam.create_user(UserName='airflow')
k = iam.create_access_key(UserName='airflow')['AccessKey']
iam.put_user_policy(UserName='airflow', PolicyName='read-one', PolicyDocument=json.dumps({"Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
sm = boto3.client('secretsmanager', **kw)
sm.create_secret(Name='airflow/variables/a', SecretString='x')
print(json.dumps({"AccessKeyId": k['AccessKeyId'], "SecretAccessKey": k['SecretAccessKey']}))
`;

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // The first 5 actions (the setup below) run without auth; every later one is checked against IAM.
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: '5' },
    stdio: 'ignore',
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/moto-api/`)).ok) break;
    } catch {
      if (i > 200) throw new Error('moto_server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  keys = JSON.parse(execFileSync('python3', ['-c', SETUP, url], { encoding: 'utf8' }));
}, 60_000);
afterAll(() => {
  moto?.kill();
});

describe('BatchGetSecretValue denied by moto (HTTP 403, XML AccessDenied)', () => {
  it('falls back to GetSecretValue one by one', async () => {
    const b = awsSecretsManager({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: keys.AccessKeyId, secretAccessKey: keys.SecretAccessKey },
      logger: silentLogger,
    });
    try {
      expect(Object.fromEntries(await b.getMany!('variable', ['a', 'b']))).toEqual({ a: 'x', b: null });
    } finally {
      await b.close?.();
    }
  });
});
