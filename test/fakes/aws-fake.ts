/**
 * A wire-level fake of AWS Secrets Manager, SSM Parameter Store (awsJson1_1: `POST /` with
 * `x-amz-target`, JSON bodies, `__type` errors) and STS AssumeRole (query protocol: form body, XML
 * answer), on 127.0.0.1. The real SDK clients talk to it. It does not check signatures, but it logs
 * the access key id each request was signed with, so tests can see which credentials were used.
 *
 * Faults can be injected per target and per secret name: throttling, 5xx, access denied, a hang
 * (never answers), a malformed body, or any `__type`.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type AwsFault =
  | { kind: 'throttling' }
  | { kind: 'server-error'; status?: number }
  | { kind: 'access-denied' }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'error'; status: number; type: string; message?: string };

export interface AwsFaultOptions {
  /** Only for this target, e.g. `secretsmanager.GetSecretValue`, `AmazonSSM.GetParameter`, `AssumeRole`. */
  target?: string;
  /** Only for requests about this secret id / parameter name. */
  name?: string;
  /** How many requests it applies to (default: all). */
  times?: number;
}

export interface AwsRequestRecord {
  /** `secretsmanager.GetSecretValue`, `AmazonSSM.GetParameter`, …, or `AssumeRole` for STS. */
  target: string;
  /** Parsed JSON body (for STS: the form fields). */
  body: Record<string, unknown>;
  /** The access key id from the SigV4 `authorization` header. */
  accessKeyId: string | undefined;
  /** The region the request was signed for (SigV4 credential scope). */
  region: string | undefined;
  /** `x-amz-security-token`, when the credentials had a session token. */
  sessionToken: string | undefined;
  /** `amz-sdk-request`, e.g. `attempt=2; max=3`. */
  attempt: string | undefined;
  /** `amz-sdk-invocation-id`: one id shared by all attempts of a call. */
  invocationId: string | undefined;
}

export interface SsmParameter {
  value: string;
  type?: 'String' | 'SecureString' | 'StringList';
  /** As PutParameter set them. */
  keyId?: string;
  tier?: string;
  tags?: Record<string, string>;
  version?: number;
}

/** What CreateSecret set besides the value. */
export interface SecretMeta {
  kmsKeyId?: string;
  tags?: Record<string, string>;
}

export interface AwsFake {
  readonly url: string;
  /** Secrets Manager: secret id → SecretString (or SecretBinary bytes). */
  readonly secrets: Map<string, string | Uint8Array>;
  /** Secret ids the caller may not read: GetSecretValue is denied, a batch lists them in `Errors`. */
  readonly deniedSecrets: Set<string>;
  /** KMS key and tags CreateSecret was given, per secret. */
  readonly secretMeta: Map<string, SecretMeta>;
  /** Secrets DeleteSecret scheduled for deletion (hidden from reads and listings). */
  readonly deletedSecrets: Set<string>;
  /** SSM: parameter name (with its leading `/`) → value. */
  readonly parameters: Map<string, SsmParameter>;
  readonly requests: AwsRequestRecord[];
  /** Credentials handed out by AssumeRole. */
  readonly assumedCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  /** Requests of one target, in order. */
  requestsFor(target: string): AwsRequestRecord[];
  fail(fault: AwsFault, options?: AwsFaultOptions): void;
  clearFaults(): void;
  /** Forget secrets, parameters, faults and the request log. */
  reset(): void;
  close(): Promise<void>;
}

interface FaultRule extends AwsFaultOptions {
  fault: AwsFault;
  left: number;
}

/** Text inside every malformed body, so tests can check it never reaches an error or a log. */
export const MALFORMED_MARKER = 'leaky-malformed-body-s3cr3t';

const NOT_FOUND_SM = {
  __type: 'ResourceNotFoundException',
  Message: "Secrets Manager can't find the specified secret.",
};

export async function startAwsFake(options: { tls?: { key: string; cert: string } } = {}): Promise<AwsFake> {
  const secrets = new Map<string, string | Uint8Array>();
  const deniedSecrets = new Set<string>();
  const secretMeta = new Map<string, SecretMeta>();
  const deletedSecrets = new Set<string>();
  const parameters = new Map<string, SsmParameter>();
  const requests: AwsRequestRecord[] = [];
  let rules: FaultRule[] = [];
  const assumedCredentials = {
    accessKeyId: 'ASIAFAKEASSUMED',
    secretAccessKey: 'assumed-secret',
    sessionToken: 'assumed-session-token',
  };

  const takeFault = (target: string, name: string | undefined): AwsFault | undefined => {
    const rule = rules.find(
      (r) => r.left > 0 && (!r.target || r.target === target) && (!r.name || r.name === name),
    );
    if (!rule) return undefined;
    rule.left--;
    return rule.fault;
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const amzTarget = req.headers['x-amz-target'];
      const isQuery = typeof amzTarget !== 'string';
      let body: Record<string, unknown>;
      let target: string;
      if (isQuery) {
        body = Object.fromEntries(new URLSearchParams(text));
        target = String(body.Action ?? 'Unknown');
      } else {
        target = amzTarget;
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = {};
        }
      }
      const auth = String(req.headers.authorization ?? '');
      requests.push({
        target,
        body,
        accessKeyId: /Credential=([^/]+)\//.exec(auth)?.[1],
        region: /Credential=[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1],
        sessionToken: header(req, 'x-amz-security-token'),
        attempt: header(req, 'amz-sdk-request'),
        invocationId: header(req, 'amz-sdk-invocation-id'),
      });
      const name = (body.SecretId ?? body.Name ?? body.RoleArn) as string | undefined;
      const fault = takeFault(target, name);
      if (fault) return sendFault(res, fault, isQuery);
      if (isQuery) return serveSts(res, target, body, assumedCredentials);
      if (serveWrites(res, target, body, { secrets, secretMeta, deletedSecrets, parameters })) return;
      serveJson(res, target, body, secrets, parameters, deniedSecrets, deletedSecrets);
    });
  };

  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    secrets,
    deniedSecrets,
    secretMeta,
    deletedSecrets,
    parameters,
    requests,
    assumedCredentials,
    requestsFor: (target) => requests.filter((r) => r.target === target),
    fail(fault, opts = {}) {
      rules.push({ ...opts, fault, left: opts.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults() {
      rules = [];
    },
    reset() {
      secrets.clear();
      deniedSecrets.clear();
      secretMeta.clear();
      deletedSecrets.clear();
      parameters.clear();
      requests.length = 0;
      rules = [];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': 'fake-request-id',
  });
  res.end(text);
}

function sendXmlError(res: http.ServerResponse, status: number, code: string, message: string): void {
  const xml =
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
    `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`;
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

function sendFault(res: http.ServerResponse, fault: AwsFault, isQuery: boolean) {
  const err = (status: number, type: string, message: string) =>
    isQuery ? sendXmlError(res, status, type, message) : sendJson(res, status, { __type: type, message });
  switch (fault.kind) {
    case 'hang':
      return; // never answer; the socket is destroyed by close()
    case 'throttling':
      return err(400, isQuery ? 'Throttling' : 'ThrottlingException', 'Rate exceeded');
    case 'server-error':
      return err(
        fault.status ?? 500,
        isQuery ? 'InternalFailure' : 'InternalServiceError',
        'Internal failure',
      );
    case 'access-denied':
      return isQuery
        ? sendXmlError(res, 403, 'AccessDenied', 'User is not authorized to perform: sts:AssumeRole')
        : sendJson(res, 400, {
            __type: 'AccessDeniedException',
            Message: 'User is not authorized to perform this action on the resource',
          });
    case 'malformed': {
      const text = `{"SecretString":"${MALFORMED_MARKER}","Parameter":{"Value":"${MALFORMED_MARKER}"`;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(text);
      return;
    }
    case 'error':
      return err(fault.status, fault.type, fault.message ?? `${fault.type} (injected)`);
  }
}

function smEntry(name: string, value: string | Uint8Array): Record<string, unknown> {
  return {
    ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
    Name: name,
    VersionId: '00000000-0000-0000-0000-000000000001',
    ...(typeof value === 'string'
      ? { SecretString: value }
      : { SecretBinary: Buffer.from(value).toString('base64') }),
    VersionStages: ['AWSCURRENT'],
    CreatedDate: 1_700_000_000.5,
  };
}

function ssmEntry(name: string, p: SsmParameter): Record<string, unknown> {
  return {
    Name: name,
    Type: p.type ?? 'SecureString',
    Value: p.value,
    Version: p.version ?? 1,
    LastModifiedDate: 1_700_000_000,
    ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name.startsWith('/') ? '' : '/'}${name}`,
    DataType: 'text',
  };
}

function serveJson(
  res: http.ServerResponse,
  target: string,
  body: Record<string, unknown>,
  secrets: Map<string, string | Uint8Array>,
  parameters: Map<string, SsmParameter>,
  denied: Set<string>,
  deleted: Set<string>,
) {
  const deniedBody = { __type: 'AccessDeniedException', Message: 'not authorized to perform GetSecretValue' };
  switch (target) {
    case 'secretsmanager.GetSecretValue': {
      const id = String(body.SecretId);
      if (denied.has(id)) return sendJson(res, 400, deniedBody);
      if (deleted.has(id)) return sendJson(res, 400, MARKED_FOR_DELETION);
      const v = secrets.get(id);
      return v === undefined ? sendJson(res, 400, NOT_FOUND_SM) : sendJson(res, 200, smEntry(id, v));
    }
    case 'secretsmanager.BatchGetSecretValue': {
      const ids = body.SecretIdList;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > 20) {
        return sendJson(res, 400, {
          __type: 'InvalidParameterException',
          Message: 'SecretIdList must hold 1 to 20 ids',
        });
      }
      const SecretValues: unknown[] = [];
      const Errors: unknown[] = [];
      for (const id of ids as string[]) {
        const v = secrets.get(id);
        if (denied.has(id))
          Errors.push({ SecretId: id, ErrorCode: 'AccessDeniedException', Message: 'not authorized' });
        else if (v === undefined)
          Errors.push({ SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: 'not found' });
        else SecretValues.push(smEntry(id, v));
      }
      return sendJson(res, 200, { SecretValues, Errors });
    }
    case 'AmazonSSM.GetParameter': {
      const name = String(body.Name);
      const p = parameters.get(name);
      if (!p)
        return sendJson(res, 400, { __type: 'ParameterNotFound', message: `Parameter ${name} not found.` });
      return sendJson(res, 200, { Parameter: ssmEntry(name, p) });
    }
    case 'AmazonSSM.GetParameters': {
      const names = body.Names;
      if (!Array.isArray(names) || names.length === 0 || names.length > 10) {
        return sendJson(res, 400, {
          __type: 'ValidationException',
          message: 'Names must hold 1 to 10 names',
        });
      }
      const Parameters: unknown[] = [];
      const InvalidParameters: string[] = [];
      for (const n of names as string[]) {
        const p = parameters.get(n);
        if (p) Parameters.push(ssmEntry(n, p));
        else InvalidParameters.push(n);
      }
      return sendJson(res, 200, { Parameters, InvalidParameters });
    }
    case 'AmazonSSM.GetParametersByPath': {
      const path = String(body.Path).replace(/\/+$/, '');
      const recursive = body.Recursive === true;
      const max = typeof body.MaxResults === 'number' ? body.MaxResults : 10;
      const start = typeof body.NextToken === 'string' ? Number(body.NextToken) : 0;
      const all = [...parameters.keys()]
        .filter((n) => n.startsWith(`${path}/`) && (recursive || !n.slice(path.length + 1).includes('/')))
        .sort();
      const page = all.slice(start, start + max);
      const next = start + max < all.length ? String(start + max) : undefined;
      return sendJson(res, 200, {
        Parameters: page.map((n) => ssmEntry(n, parameters.get(n)!)),
        ...(next ? { NextToken: next } : {}),
      });
    }
    default:
      return sendJson(res, 400, { __type: 'UnknownOperationException', message: `unknown target ${target}` });
  }
}

function serveSts(
  res: http.ServerResponse,
  action: string,
  body: Record<string, unknown>,
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
) {
  if (action !== 'AssumeRole') return sendXmlError(res, 400, 'InvalidAction', `unknown action ${action}`);
  const roleArn = String(body.RoleArn ?? '');
  const session = String(body.RoleSessionName ?? '');
  const xml =
    `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
    `<Credentials><AccessKeyId>${creds.accessKeyId}</AccessKeyId><SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey>` +
    `<SessionToken>${creds.sessionToken}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>` +
    `<AssumedRoleUser><Arn>${roleArn.replace(':role/', ':assumed-role/')}/${session}</Arn>` +
    `<AssumedRoleId>AROAFAKE:${session}</AssumedRoleId></AssumedRoleUser>` +
    `</AssumeRoleResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></AssumeRoleResponse>`;
  res.writeHead(200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

/**
 * A retry strategy with no delays (the SDK's `RetryStrategyV2` shape): `maxAttempts` attempts in
 * total, so throttling is retried and then surfaced within milliseconds.
 */
export function zeroDelayRetry(maxAttempts: number) {
  const token = (count: number) => ({ getRetryCount: () => count, getRetryDelay: () => 0 });
  return {
    mode: 'standard',
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (
      t: { getRetryCount(): number },
      info: { error?: unknown; errorType: string },
    ) => {
      const next = t.getRetryCount() + 1;
      if (next >= maxAttempts || info.errorType === 'CLIENT_ERROR') throw info.error;
      return token(next);
    },
    recordSuccess: () => {},
  };
}

const MARKED_FOR_DELETION = {
  __type: 'InvalidRequestException',
  Message: "You can't perform this operation on the secret because it was marked for deletion.",
};

interface WriteState {
  secrets: Map<string, string | Uint8Array>;
  secretMeta: Map<string, SecretMeta>;
  deletedSecrets: Set<string>;
  parameters: Map<string, SsmParameter>;
}

/**
 * ListSecrets (the `name` filter: a case-sensitive prefix match; pages of `MaxResults`, default
 * 100), CreateSecret, PutSecretValue, DeleteSecret (a recovery window: the secret is then hidden),
 * PutParameter (Overwrite; Tags refused together with Overwrite, as the service does) and
 * DeleteParameter. `false`: not one of these targets.
 */
function serveWrites(
  res: http.ServerResponse,
  target: string,
  body: Record<string, unknown>,
  st: WriteState,
): boolean {
  const name = String(body.SecretId ?? body.Name ?? '');
  const tagsOf = (t: unknown) =>
    Array.isArray(t)
      ? Object.fromEntries((t as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]))
      : undefined;
  const notFoundSsm = { __type: 'ParameterNotFound', message: `Parameter ${name} not found.` };
  switch (target) {
    case 'secretsmanager.ListSecrets': {
      const filters = (body.Filters ?? []) as { Key: string; Values: string[] }[];
      const prefixes = filters.filter((f) => f.Key === 'name').flatMap((f) => f.Values);
      const all = [...st.secrets.keys()].filter(
        (n) => !st.deletedSecrets.has(n) && (prefixes.length === 0 || prefixes.some((p) => n.startsWith(p))),
      );
      const max = typeof body.MaxResults === 'number' ? body.MaxResults : 100;
      if (max < 1 || max > 100) {
        sendJson(res, 400, { __type: 'InvalidParameterException', Message: 'MaxResults must be 1 to 100' });
        return true;
      }
      const start = typeof body.NextToken === 'string' ? Number(body.NextToken) : 0;
      const page = all.slice(start, start + max);
      const next = start + max < all.length ? String(start + max) : undefined;
      sendJson(res, 200, {
        SecretList: page.map((n) => ({ ARN: smEntry(n, '').ARN, Name: n, Tags: [] })),
        ...(next ? { NextToken: next } : {}),
      });
      return true;
    }
    case 'secretsmanager.CreateSecret': {
      if (st.deletedSecrets.has(name)) {
        sendJson(res, 400, {
          __type: 'InvalidRequestException',
          Message:
            "You can't create this secret because a secret with this name is already scheduled for deletion.",
        });
      } else if (st.secrets.has(name)) {
        sendJson(res, 400, {
          __type: 'ResourceExistsException',
          Message: `The operation failed because the secret ${name} already exists.`,
        });
      } else {
        st.secrets.set(name, String(body.SecretString ?? ''));
        const meta: SecretMeta = {};
        if (typeof body.KmsKeyId === 'string') meta.kmsKeyId = body.KmsKeyId;
        const tags = tagsOf(body.Tags);
        if (tags) meta.tags = tags;
        st.secretMeta.set(name, meta);
        sendJson(res, 200, { ARN: smEntry(name, '').ARN, Name: name, VersionId: 'v1' });
      }
      return true;
    }
    case 'secretsmanager.PutSecretValue': {
      if (st.deletedSecrets.has(name)) sendJson(res, 400, MARKED_FOR_DELETION);
      else if (!st.secrets.has(name)) sendJson(res, 400, NOT_FOUND_SM);
      else {
        st.secrets.set(name, String(body.SecretString ?? ''));
        sendJson(res, 200, { ARN: smEntry(name, '').ARN, Name: name, VersionId: 'v2' });
      }
      return true;
    }
    case 'secretsmanager.DeleteSecret': {
      if (st.deletedSecrets.has(name)) sendJson(res, 400, MARKED_FOR_DELETION);
      else if (!st.secrets.has(name)) sendJson(res, 400, NOT_FOUND_SM);
      else {
        st.deletedSecrets.add(name);
        sendJson(res, 200, { ARN: smEntry(name, '').ARN, Name: name, DeletionDate: 1_700_000_000 });
      }
      return true;
    }
    case 'AmazonSSM.PutParameter': {
      const prev = st.parameters.get(name);
      if (prev && body.Overwrite !== true) {
        sendJson(res, 400, { __type: 'ParameterAlreadyExists', message: 'The parameter already exists.' });
      } else if (body.Overwrite === true && body.Tags !== undefined) {
        sendJson(res, 400, {
          __type: 'ValidationException',
          message: "Invalid request: tags and overwrite can't be used together.",
        });
      } else {
        const p: SsmParameter = {
          value: String(body.Value ?? ''),
          type: (body.Type as SsmParameter['type']) ?? prev?.type ?? 'String',
          version: (prev?.version ?? 0) + 1,
        };
        if (typeof body.KeyId === 'string') p.keyId = body.KeyId;
        if (typeof body.Tier === 'string') p.tier = body.Tier;
        const tags = tagsOf(body.Tags) ?? prev?.tags;
        if (tags) p.tags = tags;
        st.parameters.set(name, p);
        sendJson(res, 200, { Version: p.version, Tier: p.tier ?? 'Standard' });
      }
      return true;
    }
    case 'AmazonSSM.DeleteParameter': {
      if (!st.parameters.delete(name)) sendJson(res, 400, notFoundSsm);
      else sendJson(res, 200, {});
      return true;
    }
    default:
      return false;
  }
}
