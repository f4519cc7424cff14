/**
 * The Vault auth types that need a cloud's credentials (issue 12 item 6), on the wire against the
 * Vault fake, which checks each login as Vault's auth method would: aws_iam (the replayed STS
 * GetCallerIdentity request and its Signature V4), gcp (the service account's RS256 JWT from IAM
 * signJwt, through google-auth-library), azure (an Entra ID token from @azure/identity). The aws_iam
 * body and the gcp claims are also compared with vectors from a re-implementation of hvac's and
 * Airflow's code (test/fixtures/vault/make_vault_auth_vectors.py).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsIamLoginBody, gcpJwtPayload } from '../../src/backends/hashicorp-vault/cloud-auth.js';
import { fromAirflowKwargs, hashicorpVault } from '../../src/backends/hashicorp-vault/index.js';
import { AccessDeniedError, ConfigurationError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { startVaultFake, type VaultFake } from '../fakes/vault-fake.js';
import { rejection } from '../helpers/assertions.js';
import { type AzureFixture, startAzureFixture } from '../helpers/azure-fixture.js';

const V = JSON.parse(
  readFileSync(new URL('../fixtures/vault/vault-auth-vectors.json', import.meta.url), 'utf8'),
) as {
  aws_iam: {
    access_key: string;
    secret_key: string;
    session_token: string | null;
    region: string;
    role: string | null;
    timestamp: string;
    login: Record<string, string | null>;
  }[];
  gcp: { email: string; role: string; now: number; payload: string }[];
};

let fake: VaultFake;
let aws: AwsFake;
let az: AzureFixture;
let tmp: string;
beforeAll(async () => {
  [fake, aws, az] = await Promise.all([
    startVaultFake(),
    startAwsFake(),
    startAzureFixture({
      tenantId: 'tenant-1',
      clientId: 'app-1',
      clientSecret: 'app-s3cret',
      staticToken: 'x',
    }),
  ]);
  tmp = mkdtempSync(path.join(tmpdir(), 'vault-auth-'));
});
afterAll(async () => {
  await Promise.all([fake.close(), aws.close(), az.close()]);
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  fake.reset();
  fake.credentials.aws.keys.clear();
  fake.credentials.azure.tokens.clear();
  fake.put('secret', 'variables/region', { value: 'eu-west-1' });
});

const decodeHeaders = (b64: string) => JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
const fromDate = (ts: string) =>
  new Date(
    Date.UTC(
      +ts.slice(0, 4),
      +ts.slice(4, 6) - 1,
      +ts.slice(6, 8),
      +ts.slice(9, 11),
      +ts.slice(11, 13),
      +ts.slice(13, 15),
    ),
  );

describe('aws_iam', () => {
  it.each(V.aws_iam.map((v) => [v.access_key, v] as const))(
    'the login body for %s is the one hvac builds (same signature)',
    async (_, v) => {
      const creds = {
        accessKeyId: v.access_key,
        secretAccessKey: v.secret_key,
        ...(v.session_token ? { sessionToken: v.session_token } : {}),
      };
      const got = await awsIamLoginBody(creds, v.region, v.role ?? undefined, fromDate(v.timestamp));
      const { iam_request_headers: ours, ...rest } = got;
      const { iam_request_headers: theirs, role, ...expected } = v.login;
      expect(rest).toEqual({ ...expected, ...(role !== null ? { role } : {}) });
      const lower = (h: Record<string, string[]>) =>
        Object.fromEntries(Object.entries(h).map(([k, x]) => [k.toLowerCase(), x]));
      expect(lower(decodeHeaders(ours!))).toEqual(lower(decodeHeaders(theirs!)));
    },
  );

  it('logs in with key_id/secret_id, role_id and region; the fake verifies the signed request', async () => {
    fake.credentials.aws.keys.set('AKIDVAULT', { secret: 'vault-aws-s3cret' });
    const b = fromAirflowKwargs(
      {
        url: fake.url,
        auth_type: 'aws_iam',
        key_id: 'AKIDVAULT',
        secret_id: 'vault-aws-s3cret',
        role_id: 'airflow',
        region: 'eu-central-1',
      },
      { env: {}, logger: silentLogger },
    );
    expect(await b.getVariable('region')).toBe('eu-west-1');
    const [login] = fake.awsLogins;
    expect(login!.refused).toBeNull();
    expect(login!.role).toBe('airflow');
    expect(
      decodeHeaders(Buffer.from(JSON.stringify(login!.headers)).toString('base64')).authorization[0],
    ).toContain('/eu-central-1/sts/aws4_request');
    expect(fake.logins().map((r) => r.path)).toEqual(['auth/aws/login']);
  });

  it('signs with AssumeRole credentials from assume_role_kwargs (STS fake), session token included', async () => {
    const assumed = aws.assumedCredentials;
    fake.credentials.aws.keys.set(assumed.accessKeyId, {
      secret: assumed.secretAccessKey,
      token: assumed.sessionToken,
    });
    const b = fromAirflowKwargs(
      {
        url: fake.url,
        auth_type: 'aws_iam',
        role_id: 'airflow',
        auth_mount_point: 'aws',
        assume_role_kwargs: {
          RoleArn: 'arn:aws:iam::123456789012:role/vault',
          RoleSessionName: 'airflow-vault',
        },
      },
      {
        env: {
          AWS_ACCESS_KEY_ID: 'AKIDBASE',
          AWS_SECRET_ACCESS_KEY: 'base',
          AWS_REGION: 'us-west-2',
          AWS_ENDPOINT_URL_STS: aws.url,
        },
        logger: silentLogger,
      },
    );
    expect(await b.getVariable('region')).toBe('eu-west-1');
    expect(aws.requestsFor('AssumeRole')).toHaveLength(1);
    expect(aws.requestsFor('AssumeRole')[0]!.body.RoleSessionName).toBe('airflow-vault');
    expect(fake.awsLogins[0]!.refused).toBeNull();
    expect(
      fake.awsLogins[0]!.headers['x-amz-security-token'] ??
        fake.awsLogins[0]!.headers['X-Amz-Security-Token'],
    ).toEqual([assumed.sessionToken]);
  });

  it('the default chain: credentials from the environment given', async () => {
    fake.credentials.aws.keys.set('AKIDENV', { secret: 'env-secret', token: 'env-token' });
    const b = fromAirflowKwargs(
      { url: fake.url, auth_type: 'aws_iam', role_id: 'airflow' },
      {
        env: {
          AWS_ACCESS_KEY_ID: 'AKIDENV',
          AWS_SECRET_ACCESS_KEY: 'env-secret',
          AWS_SESSION_TOKEN: 'env-token',
        },
        logger: silentLogger,
      },
    );
    expect(await b.getVariable('region')).toBe('eu-west-1');
  });

  it('a wrong secret: Vault refuses the login, AccessDeniedError without the secret in it', async () => {
    fake.credentials.aws.keys.set('AKIDVAULT', { secret: 'right' });
    const b = fromAirflowKwargs(
      {
        url: fake.url,
        auth_type: 'aws_iam',
        key_id: 'AKIDVAULT',
        secret_id: 'wrong-s3cret-value',
        role_id: 'airflow',
      },
      { env: {}, logger: silentLogger },
    );
    const err = await rejection(b.getVariable('region'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(fake.awsLogins[0]!.refused).toBe('signature does not match');
    expect(`${err.message} ${String(err.cause)}`).not.toContain('wrong-s3cret-value');
  });
});

describe('gcp', () => {
  it.each(V.gcp.map((v) => [v.email, v] as const))(
    'the signJwt claims for %s are the ones Airflow builds',
    (_, v) => {
      expect(gcpJwtPayload(v.email, v.role, v.now)).toBe(v.payload);
    },
  );

  const keyFile = () => {
    const file = path.join(tmp, 'sa.json');
    writeFileSync(file, JSON.stringify(fake.gcpKey()), { mode: 0o600 });
    return file;
  };

  it('logs in with a JWT signed by IAM signJwt for the service account of gcp_key_path', async () => {
    const b = hashicorpVault({
      url: fake.url,
      authType: 'gcp',
      roleId: 'airflow',
      gcpKeyPath: keyFile(),
      gcpScopes: 'https://www.googleapis.com/auth/cloud-platform',
      gcpIamEndpoint: `${fake.url}/google/iam`,
      // google-auth-library's token exchange has a fixed URL: a self-signed JWT keeps it on loopback.
      gcpUseJwtAccessWithScope: true,
      logger: silentLogger,
    });
    expect(await b.getVariable('region')).toBe('eu-west-1');
    const claims = JSON.parse(fake.signJwtPayloads[0]!);
    expect(claims).toMatchObject({ sub: fake.credentials.gcp.email, aud: 'vault/airflow' });
    expect(claims.exp - claims.iat).toBe(900);
    expect(fake.logins().map((r) => [r.path, r.body?.role])).toEqual([['auth/gcp/login', 'airflow']]);
  });

  it.each([
    [{ auth_type: 'gcp', role_id: 'r' }, 'gcp_scopes'],
    [{ auth_type: 'gcp', gcp_scopes: 's' }, 'role_id'],
    [{ auth_type: 'azure', azure_tenant_id: 't', role_id: 'r' }, 'azure_resource'],
    [{ auth_type: 'azure', azure_resource: 'https://vault', role_id: 'r' }, 'azure_tenant_id'],
    [{ auth_type: 'azure', azure_resource: 'https://vault', azure_tenant_id: 't' }, 'role_id'],
    [{ auth_type: 'radius', radius_host: 'h', radius_secret: 's' }, 'auth_type'],
  ])('missing settings %j: ConfigurationError naming %s, before any call', (kw, key) => {
    let err: unknown;
    try {
      fromAirflowKwargs({ url: fake.url, ...kw }, { env: {}, logger: silentLogger });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).setting).toBe(`AIRFLOW__SECRETS__BACKEND_KWARGS.${key}`);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('azure', () => {
  const azureOptions = (extra: Record<string, unknown> = {}) =>
    hashicorpVault({
      url: fake.url,
      authType: 'azure',
      roleId: 'airflow',
      azureTenantId: 'tenant-1',
      azureResource: 'https://management.azure.com/',
      keyId: 'app-1',
      secretId: 'app-s3cret',
      azureCredentialOptions: az.credentialOptions(),
      logger: silentLogger,
      ...extra,
    });

  it('logs in with a client-credential token for azure_resource (key_id / secret_id in azure_tenant_id)', async () => {
    // The tokens the fake Entra ID issues are the ones the fake Vault's azure method accepts.
    (fake.credentials.azure as { tokens: Set<string> }).tokens = az.vault.tokens;
    az.entra.tokenRequests.length = 0;
    const b = azureOptions();
    expect(await b.getVariable('region')).toBe('eu-west-1');
    expect(az.entra.tokenRequests.map((r) => [r.tenant, r.clientId, r.scope, r.secretOk])).toEqual([
      ['tenant-1', 'app-1', 'https://management.azure.com/.default', true],
    ]);
    expect(fake.logins().map((r) => [r.path, r.body?.role, typeof r.body?.jwt])).toEqual([
      ['auth/azure/login', 'airflow', 'string'],
    ]);
  });

  it('a refused client secret: AccessDeniedError, no Vault login sent', async () => {
    const err = await rejection(azureOptions({ secretId: 'wrong-app-s3cret' }).getVariable('region'));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(err.message).not.toContain('wrong-app-s3cret');
    expect(fake.logins()).toHaveLength(0);
  });
});
