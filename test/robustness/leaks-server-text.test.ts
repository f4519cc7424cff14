/**
 * Server-provided text never reaches a message unfiltered (issue 11 item 6). A Vault, a plugin or a
 * proxy that echoes request data or a token shows it in its error text; the adapters keep a
 * classified reason and the status code, and any server text kept goes through `serverText`
 * (capped, token-like strings, quoted/JSON fragments and registered secrets masked). Checked in
 * error messages, `explain` details and the CLI's output, against the real SDKs and the fakes.
 */
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsSecretsManager } from '../../src/backends/aws-secrets-manager/index.js';
import {
  hashicorpVault,
  fromAirflowKwargs as vaultFromKwargs,
} from '../../src/backends/hashicorp-vault/index.js';
import { main } from '../../src/cli/main.js';
import { describeError, safeCause } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { MAX_SERVER_TEXT, maskSecret, resetMasker, serverText } from '../../src/masker.js';
import { createResolver } from '../../src/resolver/index.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';
import { rejection } from '../helpers/assertions.js';

describe('serverText', () => {
  it.each([
    ['permission denied for token root-token-XYZ', 'root-token-XYZ'],
    ['decoding secret {"password":"hunter2"} failed', 'hunter2'],
    ["unexpected value 'hunter2-but-longer' in field", 'hunter2-but-longer'],
    ['bad token hvs.CAESIJ1234567890abcdefgh', 'hvs.CAESIJ1234567890abcdefgh'],
    ['signature for AKIAIOSFODNN7EXAMPLE is wrong', 'AKIAIOSFODNN7EXAMPLE'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln rejected', 'eyJhbGciOiJIUzI1NiJ9'],
    ['password=hunter2 secret_id: 1234-5678', 'hunter2'],
    ['key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked', 'wJalrXUtnFEMI/K7MDENG'],
  ])('%s → hides the value', (text, value) => {
    const out = serverText(text);
    expect(out).not.toContain(value);
    expect(out).toContain('***');
  });

  it('keeps plain words, drops markup and line breaks, caps the length', () => {
    expect(serverText('1 error occurred:\n\t* permission denied\n\n')).toBe(
      '1 error occurred: * permission denied',
    );
    expect(serverText('<html><body><h1>502 Bad Gateway</h1></body></html>')).toBe('502 Bad Gateway');
    expect(serverText('invalid role or secret ID')).toBe('invalid role or secret ID');
    expect(serverText("Secrets Manager can't find the specified secret.")).toBe(
      "Secrets Manager can't find the specified secret.",
    );
    expect(serverText('x'.repeat(1000)).length).toBeLessThanOrEqual(MAX_SERVER_TEXT);
    expect(serverText('"only a quoted value"')).toBe('');
  });

  it('masks every registered secret', () => {
    resetMasker();
    maskSecret('Tail5ecretValue');
    expect(serverText('the value Tail5ecretValue was rejected')).toBe('the value *** was rejected');
    resetMasker();
  });

  it('never returns a quoted, JSON or registered value, whatever the text around it (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 60 }),
        fc.string({ minLength: 6, maxLength: 30 }).filter((v) => /^[\w.-]+$/.test(v) && /\d/.test(v)),
        fc.string({ maxLength: 60 }),
        fc.constantFrom('"%s"', "'%s'", '{"password":"%s"}', 'token %s', 'secret=%s', '[%s]'),
        (before, value, after, shape) => {
          const out = serverText(`${before} ${shape.replace('%s', value)} ${after}`);
          expect(out.length).toBeLessThanOrEqual(MAX_SERVER_TEXT);
          if (!before.includes(value) && !after.includes(value)) expect(out).not.toContain(value);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('safeCause and describeError: a foreign error name or code is server text', () => {
  it('masks a token in an SDK error name (an STS <Code>) and in its code, keeps plain ones', () => {
    const sdk = Object.assign(new Error('the body echoing hvs.CAESIJleakedtoken1234'), {
      name: 'permission denied for token hvs.CAESIJleakedtoken1234',
      code: 'AKIAABCDEFGHIJKLMNOP',
      statusCode: 403,
    });
    const cause = safeCause(sdk) as Error & { code?: string; statusCode?: number };
    for (const text of [describeError(sdk), cause.name, cause.message, String(cause.code), inspect(cause)]) {
      expect(text).not.toContain('CAESIJleakedtoken1234');
      expect(text).not.toContain('AKIAABCDEFGHIJKLMNOP');
    }
    expect(cause.statusCode).toBe(403);
    const plain = Object.assign(new Error('x'), { name: 'ThrottlingException', code: 'ECONNRESET' });
    expect(describeError(plain)).toBe('ThrottlingException (ECONNRESET)');
    expect((safeCause(plain) as Error).name).toBe('ThrottlingException');
  });
});

describe('hashicorp-vault: what Vault says is filtered', () => {
  let fake: VaultFake;
  beforeAll(async () => {
    fake = await startVaultFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());
  const make = () => hashicorpVault({ url: fake.url, token: fake.rootToken, logger: silentLogger });

  it('a 403 echoing the token keeps "permission denied" and the status, not the token', async () => {
    fake.fail({ kind: 'status', status: 403, errors: ['permission denied for token root-token-XYZ'] });
    const err = await rejection(make().getVariable('k'));
    expect(err.message).toMatch(
      /^hashicorp-vault: permission denied \(HTTP 403\) reading 'secret\/variables\/k'/,
    );
    expect(err.message).not.toContain('root-token-XYZ');
    expect(JSON.stringify(err)).not.toContain('root-token-XYZ');
  });

  it('a 500 echoing the secret body keeps the status, not the body, in errors and explain', async () => {
    fake.fail({
      kind: 'status',
      status: 500,
      errors: ['decoding secret {"password":"hunter2-s3cret"} failed'],
    });
    const r = createResolver({ backends: [make()], logger: silentLogger });
    const x = await r.explain('variable', 'k');
    const step = x.steps[0]!;
    expect(step.detail).toMatch(/Vault server error \(HTTP 500\)/);
    expect(step.detail).not.toContain('hunter2-s3cret');
    expect(step.detail).toContain('Vault said: decoding secret *** failed');
    await r.close();
  });

  it('a registered secret in the text is masked', async () => {
    resetMasker();
    maskSecret('registered-Value-42');
    fake.fail({ kind: 'status', status: 400, errors: ['cannot parse registered-Value-42 here'] });
    const err = await rejection(make().getVariable('k'));
    expect(err.message).not.toContain('registered-Value-42');
    resetMasker();
  });

  it('the CLI prints neither', async () => {
    fake.fail({ kind: 'status', status: 403, errors: ['permission denied for token root-token-XYZ'] });
    const out: string[] = [];
    const env = {
      AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ url: fake.url, token: fake.rootToken }),
      AIRFLOW_HOME: '/nonexistent-airflow-home',
    };
    await main(['explain', 'variable', 'k'], { out: (t) => out.push(t), err: (t) => out.push(t), env });
    await main(['--strict', 'variables', 'get', 'k'], {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      env,
    });
    expect(out.join('\n')).toContain('permission denied');
    expect(out.join('\n')).not.toContain('root-token-XYZ');
  });
});

describe('aws-secrets-manager: error names from the wire are filtered', () => {
  let fake: AwsFake;
  beforeAll(async () => {
    fake = await startAwsFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('an unknown __type carrying a token is not copied, and the message is never used', async () => {
    fake.fail({
      kind: 'error',
      status: 400,
      type: 'Rejected_AKIAIOSFODNN7EXAMPLE',
      message: 'your password hunter2-s3cret is wrong',
    });
    const b = awsSecretsManager({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
      maxAttempts: 1,
      logger: silentLogger,
    });
    const err = await rejection(b.getVariable('k'));
    expect(err.message).toMatch(/reading 'airflow\/variables\/k' failed/);
    expect(err.message).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(err.message).not.toContain('hunter2');
    await b.close?.();
  });
});

describe('hashicorp-vault aws_iam: what STS says is filtered', () => {
  let vault: VaultFake;
  let sts: AwsFake;
  beforeAll(async () => {
    [vault, sts] = await Promise.all([startVaultFake(), startAwsFake()]);
  });
  afterAll(() => Promise.all([vault.close(), sts.close()]));

  it('an AssumeRole error whose <Code> carries a token: masked in the error, explain and the log', async () => {
    sts.fail(
      {
        kind: 'error',
        status: 403,
        type: 'permission denied for token root-token-XYZ',
        message: 'decoding secret {"password":"hunter2-s3cret"} failed',
      },
      { target: 'AssumeRole' },
    );
    const lines: string[] = [];
    const logger = {
      debug: (m: string, f?: unknown) => lines.push(`${m} ${JSON.stringify(f ?? {})}`),
      info: (m: string, f?: unknown) => lines.push(`${m} ${JSON.stringify(f ?? {})}`),
      warn: (m: string, f?: unknown) => lines.push(`${m} ${JSON.stringify(f ?? {})}`),
      error: (m: string, f?: unknown) => lines.push(`${m} ${JSON.stringify(f ?? {})}`),
    };
    const b = vaultFromKwargs(
      {
        url: vault.url,
        auth_type: 'aws_iam',
        role_id: 'r',
        assume_role_kwargs: { RoleArn: 'arn:aws:iam::123456789012:role/x', RoleSessionName: 's' },
      },
      {
        env: {
          AWS_ACCESS_KEY_ID: 'AKIDTEST',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_MAX_ATTEMPTS: '1',
          AWS_ENDPOINT_URL_STS: sts.url,
        },
        logger: silentLogger,
      },
    );
    const err = await rejection(b.getVariable('k'));
    expect(err.message).toMatch(
      /no AWS credentials for the aws_iam login \(permission denied for token \*\*\*/,
    );
    const r = createResolver({ backends: [b], logger });
    const x = await r.explain('variable', 'k');
    const seen = [
      err.message,
      String(err.cause),
      inspect(err, { depth: 5 }),
      x.steps[0]!.detail,
      ...lines,
    ].join('\n');
    expect(seen).not.toContain('root-token-XYZ');
    expect(seen).not.toContain('hunter2');
    expect(sts.requestsFor('AssumeRole').length).toBeGreaterThan(0);
    await r.close();
  });
});
