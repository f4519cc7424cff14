/**
 * A wire-level fake of HashiCorp Vault on 127.0.0.1 for the real node-vault client: KV v1 and v2
 * reads (404 `{"errors":[]}`, soft-deleted v2 versions), token checks (403 permission denied),
 * a sealed state (503), auth login endpoints (approle, userpass, ldap, kubernetes, jwt, github, and
 * aws / gcp / azure, each checked as Vault's auth method checks it: the aws method replays the
 * signed STS GetCallerIdentity request, so the fake re-verifies its Signature V4; the gcp method
 * verifies the service account's RS256 JWT and its claims; the azure method takes an Entra token),
 * Google's OAuth token and IAM `signJwt` endpoints under `/google/` (for the gcp login),
  };

 * reads (404 `{"errors":[]}`, soft-deleted v2 versions), the `LIST` verb (node's HTTP parser has no
 * such method: a small front on the listening socket turns it into `LINK` before the parser sees
 * it; `GET ?list=true` works too), KV writes (check-and-set on v2), metadata reads and deletes,
 * token checks (403 permission denied),
 * a sealed state (503), auth login endpoints (approle, userpass, ldap, kubernetes, jwt, github),
 * token lookup-self, `X-Vault-Namespace` capture, fault injection, and optional TLS (with client
 * certificates) using throwaway certificates made with `openssl` at test time.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import tlsModule from 'node:tls';

export type VaultFault =
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'status'; status: number; errors?: readonly string[]; html?: boolean };

export interface VaultRequestRecord {
  method: string;
  /** Decoded path after `/v1/`, e.g. `secret/data/connections/db`. */
  path: string;
  token: string | undefined;
  namespace: string | undefined;
  body: Record<string, unknown> | undefined;
  /** CN of the client certificate, when TLS with client certificates is on. */
  clientCertCn: string | undefined;
}

export type AuthKind =
  | 'approle'
  | 'userpass'
  | 'ldap'
  | 'kubernetes'
  | 'jwt'
  | 'github'
  | 'aws'
  | 'gcp'
  | 'azure';

/** What the aws auth method decoded from a login (the replayed STS request). */
export interface AwsLoginRecord {
  role: unknown;
  method: unknown;
  url: string;
  body: string;
  headers: Record<string, string[]>;
  /** Why the fake refused it, or null. */
  refused: string | null;
}

export interface VaultFake {
  readonly url: string;
  readonly rootToken: string;
  /** Tokens the fake accepts (login adds to it). */
  readonly tokens: Set<string>;
  readonly requests: VaultRequestRecord[];
  /** auth mount path → kind; defaults are the kind names. */
  readonly authMounts: Map<string, AuthKind>;
  /** Credentials each login accepts. */
  readonly credentials: {
    approle: { roleId: string; secretId: string };
    users: Record<string, string>;
    jwt: { role: string; jwt: string };
    github: string;
    /** aws: access key id → secret (and the session token it must come with); the role; the region. */
    aws: { keys: Map<string, { secret: string; token?: string }>; role: string | null };
    /** gcp: the service account whose key signs JWTs (the OAuth and IAM fakes use it), and the role. */
    gcp: { email: string; project: string; role: string; privateKeyPem: string; keyId: string };
    /** azure: the role, and the tokens that count as valid Entra ID tokens for the resource. */
    azure: { role: string; tokens: Set<string> };
  };
  /** Every aws login the fake decoded. */
  readonly awsLogins: AwsLoginRecord[];
  /** The `payload` of each IAM signJwt call (the JWT claims as text). */
  readonly signJwtPayloads: string[];
  /** Paths (after `/v1/`, decoded) that answer 403 even with a valid token. */
  readonly denied: Set<string>;
  sealed: boolean;
  /** TLS material (when started with `tls`). */
  readonly tls: TestCerts | undefined;
  mount(name: string, version: 1 | 2): void;
  /** The data of a secret's latest version (undefined when absent or deleted). */
  get(mount: string, secretPath: string): Record<string, unknown> | undefined;
  /** Store a secret; `deleted: true` makes a soft-deleted latest version (KV v2). */
  put(
    mount: string,
    secretPath: string,
    data: Record<string, unknown>,
    options?: { deleted?: boolean },
  ): void;
  /** The gcp service account's key file contents (its token URI is this fake's OAuth endpoint). */
  gcpKey(): Record<string, string>;
  /** Paths of the requests that read KV data (not logins). */
  reads(): string[];
  logins(): VaultRequestRecord[];
  fail(fault: VaultFault, options?: { path?: string; times?: number }): void;
  reset(): void;
  close(): Promise<void>;
}

export interface TestCerts {
  dir: string;
  caFile: string;
  caPem: string;
  serverKey: string;
  serverCert: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** Client certificate and key in one PEM file. */
  clientBundleFile: string;
  cleanup(): void;
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), 'vault-fake-tls-'));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=fake-ca',
  );
  const issue = (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.crt`),
      '-days',
      '1',
      '-extfile',
      f(`${name}.ext`),
    );
  };
  issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', 'airflow-client', 'extendedKeyUsage=clientAuth\n');
  const read = (n: string) => readFileSync(f(n), 'utf8');
  writeFileSync(f('client.pem'), read('client.crt') + read('client.key'));
  return {
    dir,
    caFile: f('ca.crt'),
    caPem: read('ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    clientBundleFile: f('client.pem'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Text inside every malformed body, so tests can check it never reaches an error or a log. */
export const VAULT_MALFORMED_MARKER = 'leaky-vault-body-s3cr3t';

interface Stored {
  data: Record<string, unknown>;
  deleted: boolean;
  version: number;
}

export async function startVaultFake(
  options: { tls?: boolean; requireClientCert?: boolean } = {},
): Promise<VaultFake> {
  const rootToken = 'root-token';
  const tokens = new Set([rootToken]);
  const requests: VaultRequestRecord[] = [];
  const mounts = new Map<string, { version: 1 | 2; secrets: Map<string, Stored> }>();
  const authMounts = new Map<string, AuthKind>();
  const denied = new Set<string>();
  let faults: { fault: VaultFault; path?: string | undefined; left: number }[] = [];
  let issued = 0;
  const gcpKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const credentials = {
    approle: { roleId: 'role-id-1', secretId: 'secret-id-1' },
    users: { alice: 'alice-password' } as Record<string, string>,
    jwt: { role: 'airflow', jwt: 'eyJ.fake.jwt' },
    github: 'gh-token-1',
    aws: { keys: new Map<string, { secret: string; token?: string }>(), role: 'airflow' as string | null },
    gcp: {
      email: 'vault-auth@fake-project.iam.gserviceaccount.com',
      project: 'fake-project',
      role: 'airflow',
      privateKeyPem: gcpKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      keyId: 'fake-key-1',
    },
    azure: { role: 'airflow', tokens: new Set<string>() },
  };
  const awsLogins: AwsLoginRecord[] = [];
  const signJwtPayloads: string[] = [];
  const googleTokens = new Set<string>();
  const defaults = () => {
    mounts.clear();
    mounts.set('secret', { version: 2, secrets: new Map() });
    authMounts.clear();
    for (const k of [
      'approle',
      'userpass',
      'ldap',
      'kubernetes',
      'jwt',
      'github',
      'aws',
      'gcp',
      'azure',
    ] as const)
      authMounts.set(k, k);
  };
  defaults();
  const state = { sealed: false };
  const tls = options.tls ? makeTestCerts() : undefined;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/google/')) return serveGoogle(req, res, url.pathname, chunks);
      const p = url.pathname
        .replace(/^\/v1\//, '')
        .split('/')
        .map(decodeURIComponent)
        .join('/');
      let body: Record<string, unknown> | undefined;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        body = undefined;
      }
      const peer = (req.socket as TLSSocket).getPeerCertificate?.();
      const listParam = url.searchParams.get('list');
      const isList =
        req.method === 'LINK' || (req.method === 'GET' && (listParam === 'true' || listParam === '1'));
      const rec: VaultRequestRecord = {
        method: req.method === 'LINK' ? 'LIST' : (req.method ?? 'GET'),
        path: p,
        token: header(req, 'x-vault-token'),
        namespace: header(req, 'x-vault-namespace'),
        body,
        clientCertCn:
          header(req, CN_HEADER) ??
          (peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined),
      };
      requests.push(rec);
      const rule = faults.find((r) => r.left > 0 && (!r.path || r.path === p));
      if (rule) {
        rule.left--;
        const f = rule.fault;
        if (f.kind === 'hang') return;
        if (f.kind === 'malformed') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(`{"data": {"data": {"value": "${VAULT_MALFORMED_MARKER}"`);
          return;
        }
        if (f.html) {
          res.writeHead(f.status, { 'content-type': 'text/html' });
          res.end('<html><body>Bad Gateway</body></html>');
          return;
        }
        return send(res, f.status, { errors: f.errors ?? [] });
      }
      if (state.sealed) return send(res, 503, { errors: ['Vault is sealed'] });
      const login = /^auth\/(.+)\/login(?:\/([^/]+))?$/.exec(p);
      if (login && req.method === 'POST') return serveLogin(res, login[1]!, login[2], body ?? {});
      if (!rec.token || !tokens.has(rec.token)) return send(res, 403, { errors: ['permission denied'] });
      if (p === 'auth/token/lookup-self') {
        return send(res, 200, envelope({ id: rec.token, ttl: 3600, policies: ['default'], renewable: true }));
      }
      if (denied.has(p)) return send(res, 403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
      if (isList) return serveList(res, p);
      if (req.method === 'POST' || req.method === 'PUT') return serveWrite(res, p, body ?? {});
      if (req.method === 'DELETE') return serveDelete(res, p);
      serveKv(res, p);
    });
  };

  const serveLogin = (
    res: http.ServerResponse,
    mount: string,
    user: string | undefined,
    b: Record<string, unknown>,
  ) => {
    const kind = authMounts.get(mount);
    if (!kind) return send(res, 400, { errors: [`no handler for route "auth/${mount}/login"`] });
    let ok = false;
    if (kind === 'approle') {
      ok = b.role_id === credentials.approle.roleId && b.secret_id === credentials.approle.secretId;
    } else if (kind === 'userpass' || kind === 'ldap') {
      ok =
        user !== undefined && credentials.users[user] !== undefined && credentials.users[user] === b.password;
    } else if (kind === 'kubernetes' || kind === 'jwt') {
      ok = b.role === credentials.jwt.role && b.jwt === credentials.jwt.jwt;
    } else if (kind === 'github') {
      ok = b.token === credentials.github;
    } else if (kind === 'aws') {
      ok = checkAwsLogin(b);
    } else if (kind === 'gcp') {
      ok = b.role === credentials.gcp.role && checkGcpJwt(b.jwt);
    } else if (kind === 'azure') {
      ok =
        b.role === credentials.azure.role && typeof b.jwt === 'string' && credentials.azure.tokens.has(b.jwt);
    }
    if (!ok) {
      const why = kind === 'approle' ? 'invalid role or secret ID' : 'invalid credentials';
      return send(res, 400, { errors: [why] });
    }
    const token = `hvs.fake-${kind}-${++issued}`;
    tokens.add(token);
    send(res, 200, {
      ...envelope(null),
      auth: {
        client_token: token,
        accessor: `accessor-${issued}`,
        policies: ['default', 'airflow'],
        token_policies: ['default', 'airflow'],
        metadata: { role_name: 'airflow' },
        lease_duration: 3600,
        renewable: true,
        entity_id: 'entity-1',
        token_type: 'service',
        orphan: true,
        mfa_requirement: null,
        num_uses: 0,
      },
    });
  };

  /** Vault's aws auth method, iam flavour: decode the replayed request, check it, verify SigV4. */
  const checkAwsLogin = (b: Record<string, unknown>): boolean => {
    const dec = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');
    let headers: Record<string, string[]> = {};
    try {
      headers = JSON.parse(dec(b.iam_request_headers)) as Record<string, string[]>;
    } catch {
      headers = {};
    }
    const rec: AwsLoginRecord = {
      role: b.role,
      method: b.iam_http_request_method,
      url: dec(b.iam_request_url),
      body: dec(b.iam_request_body),
      headers,
      refused: null,
    };
    awsLogins.push(rec);
    rec.refused = awsRefusal(rec, credentials.aws);
    return rec.refused === null && (credentials.aws.role === null || b.role === credentials.aws.role);
  };

  /** Vault's gcp auth method, iam flavour: an RS256 JWT of the known service account, aud vault/<role>. */
  const checkGcpJwt = (jwt: unknown): boolean => {
    if (typeof jwt !== 'string') return false;
    const [h, p, sig] = jwt.split('.');
    if (!h || !p || !sig) return false;
    const v = createVerify('RSA-SHA256');
    v.update(`${h}.${p}`);
    if (!v.verify(gcpKey.publicKey, Buffer.from(sig, 'base64url'))) return false;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const c = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    return (
      header.kid === credentials.gcp.keyId &&
      c.sub === credentials.gcp.email &&
      c.aud === `vault/${credentials.gcp.role}` &&
      typeof c.iat === 'number' &&
      typeof c.exp === 'number' &&
      c.exp - c.iat <= 900
    );
  };

  const selfSignedOk = (jwt: string): boolean => {
    const [h, p, sig] = jwt.split('.');
    if (!h || !p || !sig) return false;
    const v = createVerify('RSA-SHA256');
    v.update(`${h}.${p}`);
    if (!v.verify(gcpKey.publicKey, Buffer.from(sig, 'base64url'))) return false;
    const c = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    return c.iss === credentials.gcp.email && c.sub === credentials.gcp.email;
  };

  /** Google's OAuth token endpoint (JWT bearer grant) and IAM `projects.serviceAccounts.signJwt`. */
  const serveGoogle = (req: http.IncomingMessage, res: http.ServerResponse, p: string, chunks: Buffer[]) => {
    const text = Buffer.concat(chunks).toString('utf8');
    if (p === '/google/token' && req.method === 'POST') {
      const form = new URLSearchParams(text);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        return send(res, 400, { error: 'unsupported_grant_type' });
      }
      const token = `ya29.fake-${googleTokens.size + 1}`;
      googleTokens.add(token);
      return send(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
    }
    const m = /^\/google\/iam\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/:]+):signJwt$/.exec(p);
    if (m && req.method === 'POST') {
      const bearer = (header(req, 'authorization') ?? '').replace(/^Bearer /, '');
      // An access token from /google/token, or a self-signed JWT of the service account (as Google accepts).
      if (!googleTokens.has(bearer) && !selfSignedOk(bearer)) {
        return send(res, 401, { error: { code: 401, status: 'UNAUTHENTICATED' } });
      }
      if (
        decodeURIComponent(m[2]!) !== credentials.gcp.email ||
        decodeURIComponent(m[1]!) !== credentials.gcp.project
      ) {
        return send(res, 403, { error: { code: 403, status: 'PERMISSION_DENIED' } });
      }
      const payload = String((JSON.parse(text) as { payload?: unknown }).payload ?? '');
      signJwtPayloads.push(payload);
      const head = Buffer.from(
        JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: credentials.gcp.keyId }),
      ).toString('base64url');
      const body = Buffer.from(payload).toString('base64url');
      const signer = createSign('RSA-SHA256');
      signer.update(`${head}.${body}`);
      const sig = signer.sign(credentials.gcp.privateKeyPem).toString('base64url');
      return send(res, 200, { keyId: credentials.gcp.keyId, signedJwt: `${head}.${body}.${sig}` });
    }
    send(res, 404, { error: { code: 404 } });
  };

  /** The mount a path is under, and the rest split off (for v2, the `data`/`metadata` area first). */
  const mountOf = (p: string) => {
    const segs = p.split('/');
    for (let i = segs.length - 1; i >= 1; i--) {
      const m = mounts.get(segs.slice(0, i).join('/'));
      if (m) return { m, rest: segs.slice(i) };
    }
    return undefined;
  };
  const serveList = (res: http.ServerResponse, p: string) => {
    const found = mountOf(p.replace(/\/$/, '')) ?? mountOf(p);
    if (!found) return send(res, 404, { errors: [] });
    let rest = found.rest.filter((x, i, a) => x !== '' || i < a.length - 1);
    if (found.m.version === 2) {
      if (rest[0] !== 'metadata') return send(res, 405, { errors: ['unsupported operation'] });
      rest = rest.slice(1);
    }
    const dir = rest.filter(Boolean).join('/');
    const head = dir ? `${dir}/` : '';
    const keys = new Set<string>();
    for (const key of found.m.secrets.keys()) {
      if (!key.startsWith(head)) continue;
      const tail = key.slice(head.length);
      keys.add(tail.includes('/') ? `${tail.split('/')[0]}/` : tail);
    }
    if (keys.size === 0) return send(res, 404, { errors: [] });
    send(res, 200, envelope({ keys: [...keys].sort() }));
  };
  const serveWrite = (res: http.ServerResponse, p: string, b: Record<string, unknown>) => {
    const found = mountOf(p);
    if (!found) return send(res, 404, { errors: [`no handler for route "${p}". route entry not found.`] });
    const { m } = found;
    if (m.version === 1) {
      const prev = m.secrets.get(found.rest.join('/'));
      m.secrets.set(found.rest.join('/'), { data: b, deleted: false, version: (prev?.version ?? 0) + 1 });
      res.writeHead(204);
      return res.end();
    }
    if (found.rest[0] !== 'data') return send(res, 405, { errors: ['unsupported operation'] });
    const key = found.rest.slice(1).join('/');
    const prev = m.secrets.get(key);
    const cas = (b.options as { cas?: unknown } | undefined)?.cas;
    if (typeof cas === 'number' && cas !== (prev?.version ?? 0)) {
      return send(res, 400, { errors: ['check-and-set parameter did not match the current version'] });
    }
    const data = b.data;
    if (typeof data !== 'object' || data === null) return send(res, 400, { errors: ['no data provided'] });
    const version = (prev?.version ?? 0) + 1;
    m.secrets.set(key, { data: data as Record<string, unknown>, deleted: false, version });
    send(
      res,
      200,
      envelope({ created_time: '2024-01-01T00:00:00Z', deletion_time: '', destroyed: false, version }),
    );
  };
  const serveDelete = (res: http.ServerResponse, p: string) => {
    const found = mountOf(p);
    if (!found) return send(res, 404, { errors: [] });
    const { m } = found;
    if (m.version === 1) m.secrets.delete(found.rest.join('/'));
    else if (found.rest[0] === 'metadata') m.secrets.delete(found.rest.slice(1).join('/'));
    else if (found.rest[0] === 'data') {
      const s = m.secrets.get(found.rest.slice(1).join('/'));
      if (s) s.deleted = true;
    }
    res.writeHead(204);
    res.end();
  };

  const serveKv = (res: http.ServerResponse, p: string) => {
    const segs = p.split('/');
    for (let i = segs.length - 1; i >= 1; i--) {
      const m = mounts.get(segs.slice(0, i).join('/'));
      if (!m) continue;
      let rest = segs.slice(i);
      if (m.version === 2) {
        if (rest[0] === 'metadata') {
          const meta = m.secrets.get(rest.slice(1).join('/'));
          if (!meta) return send(res, 404, { errors: [] });
          return send(res, 200, envelope({ current_version: meta.version, versions: {} }));
        }
        if (rest[0] !== 'data') return send(res, 404, { errors: [] });
        rest = rest.slice(1);
      }
      const s = m.secrets.get(rest.join('/'));
      if (!s) return send(res, 404, { errors: [] });
      if (m.version === 1) return send(res, 200, { ...envelope(s.data), lease_duration: 2764800 });
      const metadata = {
        created_time: '2024-01-01T00:00:00Z',
        custom_metadata: null,
        deletion_time: s.deleted ? '2024-02-01T00:00:00Z' : '',
        destroyed: false,
        version: s.version,
      };
      if (s.deleted) return send(res, 404, envelope({ data: null, metadata }));
      return send(res, 200, envelope({ data: s.data, metadata }));
    }
    send(res, 404, { errors: [`no handler for route "${p}". route entry not found.`] });
  };

  // The HTTP server listens on a port of its own; clients connect to the front, which terminates
  // TLS (when on), passes the client certificate's CN on, and turns `LIST` into `LINK`.
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const front = startFront((server.address() as AddressInfo).port, tls, options.requireClientCert === true);
  await new Promise<void>((resolve) => front.server.listen(0, '127.0.0.1', resolve));
  const { port } = front.server.address() as AddressInfo;

  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    url,
    rootToken,
    tokens,
    requests,
    authMounts,
    credentials,
    awsLogins,
    signJwtPayloads,
    denied,
    tls,
    get sealed() {
      return state.sealed;
    },
    set sealed(v: boolean) {
      state.sealed = v;
    },
    mount(name, version) {
      mounts.set(name, { version, secrets: new Map() });
    },
    get(mount, secretPath) {
      const st = mounts.get(mount)?.secrets.get(secretPath);
      return st && !st.deleted ? st.data : undefined;
    },
    put(mount, secretPath, data, opts = {}) {
      const m = mounts.get(mount);
      if (!m) throw new Error(`vault fake: no mount '${mount}'`);
      const prev = m.secrets.get(secretPath);
      m.secrets.set(secretPath, { data, deleted: opts.deleted === true, version: (prev?.version ?? 0) + 1 });
    },
    gcpKey: () => ({
      type: 'service_account',
      project_id: credentials.gcp.project,
      private_key_id: credentials.gcp.keyId,
      private_key: credentials.gcp.privateKeyPem,
      client_email: credentials.gcp.email,
      client_id: '1',
      token_uri: `${url}/google/token`,
    }),
    reads: () => requests.filter((r) => !r.path.startsWith('auth/')).map((r) => r.path),
    logins: () => requests.filter((r) => /^auth\/.+\/login/.test(r.path)),
    fail(fault, opts = {}) {
      faults.push({ fault, path: opts.path, left: opts.times ?? Number.POSITIVE_INFINITY });
    },
    reset() {
      defaults();
      requests.length = 0;
      denied.clear();
      faults = [];
      state.sealed = false;
      issued = 0;
      awsLogins.length = 0;
      signJwtPayloads.length = 0;
      tokens.clear();
      tokens.add(rootToken);
    },
    async close() {
      front.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => front.server.close(() => resolve()));
      tls?.cleanup();
    },
  };
}

/**
 * Why STS would refuse the request Vault replays (null: it verifies): POST GetCallerIdentity to
 * sts.amazonaws.com, and an AWS Signature V4 (service sts) that verifies with the known secret.
 */
function awsRefusal(
  r: AwsLoginRecord,
  aws: { keys: Map<string, { secret: string; token?: string }> },
): string | null {
  if (r.method !== 'POST' || r.url !== 'https://sts.amazonaws.com/')
    return 'not POST https://sts.amazonaws.com/';
  if (r.body !== 'Action=GetCallerIdentity&Version=2011-06-15') return 'not GetCallerIdentity';
  const h = new Map(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v[0] ?? '']));
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      h.get('authorization') ?? '',
    );
  if (!auth) return 'no Signature V4 authorization header';
  const [, keyId, day, region, signedList, signature] = auth as unknown as string[];
  const key = aws.keys.get(keyId!);
  if (!key) return 'unknown access key';
  if (key.token !== undefined && h.get('x-amz-security-token') !== key.token) return 'session token missing';
  const signed = signedList!.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date') || h.get('host') !== 'sts.amazonaws.com') {
    return 'host or date not signed';
  }
  const date = h.get('x-amz-date') ?? '';
  const canonical = [
    'POST',
    '/',
    '',
    signed.map((k) => `${k}:${(h.get(k) ?? '').trim()}\n`).join(''),
    signed.join(';'),
    createHash('sha256').update(r.body).digest('hex'),
  ].join('\n');
  const scope = `${day}/${region}/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  );
  let k: Buffer = Buffer.from(`AWS4${key.secret}`);
  for (const part of [day!, region!, 'sts', 'aws4_request'])
    k = createHmac('sha256', k).update(part).digest();
  return createHmac('sha256', k).update(toSign).digest('hex') === signature
    ? null
    : 'signature does not match';
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function envelope(data: unknown) {
  return {
    request_id: '00000000-0000-0000-0000-000000000000',
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
  };
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The header the front adds with the CN of the client certificate (TLS with client certificates). */
const CN_HEADER = 'x-fake-client-cert-cn';

/**
 * The socket clients connect to: each connection is piped to the HTTP server's own port, request
 * by request (headers are read whole, bodies passed on by their content-length), with `LIST`
 * request lines turned into `LINK` (a method node's parser knows) and, under TLS, the client
 * certificate's CN added as a header.
 */
function startFront(innerPort: number, tls: TestCerts | undefined, requireClientCert: boolean) {
  const sockets = new Set<net.Socket>();
  const onConnection = (client: net.Socket) => {
    const upstream = net.connect(innerPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const peer = tls ? (client as tlsModule.TLSSocket).getPeerCertificate?.() : undefined;
    const cn = peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined;
    const rewrite = requestRewriter(cn === undefined ? undefined : `${CN_HEADER}: ${cn}`);
    client.on('data', (chunk: Buffer) => upstream.write(rewrite(chunk)));
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  };
  const server = tls
    ? tlsModule.createServer(
        {
          key: tls.serverKey,
          cert: tls.serverCert,
          ca: tls.caPem,
          requestCert: requireClientCert,
          rejectUnauthorized: requireClientCert,
        },
        onConnection,
      )
    : net.createServer(onConnection);
  return {
    server,
    close() {
      for (const s of sockets) s.destroy();
    },
  };
}

/** A stateful rewrite of one connection's request bytes (see {@link startFront}). */
function requestRewriter(extraHeader: string | undefined): (chunk: Buffer) => Buffer {
  let pending = Buffer.alloc(0);
  let bodyLeft = 0;
  let passThrough = false;
  return (chunk) => {
    if (passThrough) return chunk;
    const out: Buffer[] = [];
    let data = Buffer.concat([pending, chunk]);
    pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, data.length);
        out.push(data.subarray(0, n));
        bodyLeft -= n;
        data = data.subarray(n);
        continue;
      }
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        pending = data;
        break;
      }
      let head = data.subarray(0, end + 4).toString('latin1');
      data = data.subarray(end + 4);
      if (head.startsWith('LIST ')) head = `LINK ${head.slice(5)}`;
      const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      bodyLeft = length ? Number(length[1]) : 0;
      if (extraHeader) head = head.replace('\r\n', `\r\n${extraHeader}\r\n`);
      out.push(Buffer.from(head, 'latin1'));
      if (/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) {
        passThrough = true; // not sent by node-vault; the rest of the connection goes as it is
        out.push(data);
        break;
      }
    }
    return Buffer.concat(out);
  };
}
