/**
 * Wire-level fakes for Azure Key Vault and Microsoft Entra ID, over HTTPS on 127.0.0.1 with a
 * throw-away self-signed certificate made by `openssl`. The real `@azure/keyvault-secrets`
 * SecretClient and `@azure/identity` ClientSecretCredential talk to them.
 *
 * Key Vault: `GET /secrets/<name>/[<version>]?api-version=…`; a request without an accepted bearer
 * token gets the 401 challenge; 404 `SecretNotFound`; faults queued per secret name (or `*`).
 * Entra ID: openid-configuration discovery and the client-credentials token endpoint; the tokens it
 * issues are the ones the vault accepts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface Tls {
  key: string;
  cert: string;
}

/** A self-signed certificate for 127.0.0.1 / localhost, written under `dir`. */
export function makeSelfSignedCert(dir: string): Tls {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

export type KeyVaultFault = 'forbidden' | 'throttled' | 'unavailable' | 'hang' | 'malformed';

export interface KeyVaultRequest {
  method: string;
  path: string;
  /** The secret name from the path. */
  name: string;
  /** The `api-version` query parameter (the SDK percent-encodes its name). */
  apiVersion: string | null;
  /** Whether the request carried an accepted bearer token. */
  authorized: boolean;
}

export interface KeyVaultFake {
  readonly url: string;
  readonly requests: KeyVaultRequest[];
  /** The secrets the vault holds (name → latest value). */
  readonly secrets: Map<string, string>;
  /** Tags set with a secret. */
  readonly tags: Map<string, Record<string, string>>;
  /** Names deleted and still recoverable (a set of one of them is a 409). */
  readonly deleted: Set<string>;
  /** Each list page asked for. */
  readonly listRequests: { maxresults: number; skiptoken: number }[];
  /** Tokens the vault accepts (Entra-issued ones are added by `startEntraFake`'s `onToken`). */
  readonly tokens: Set<string>;
  set(name: string, value: string): void;
  /** Answer the next `times` requests for `name` (or `*`) with `fault`; only those of `method` when given. */
  fault(name: string, fault: KeyVaultFault, times?: number, method?: string): void;
  close(): Promise<void>;
}

const ERRORS: Record<Exclude<KeyVaultFault, 'hang' | 'malformed'>, [number, string, string]> = {
  forbidden: [403, 'Forbidden', 'Caller is not authorized to perform action on resource.'],
  throttled: [429, 'Throttled', 'Request was not processed because too many requests were received.'],
  unavailable: [503, 'ServiceUnavailable', 'The service is temporarily unavailable.'],
};

export async function startKeyVaultFake(options: {
  tls: Tls;
  tenantId: string;
  secrets?: Record<string, string>;
}): Promise<KeyVaultFake> {
  const secrets = new Map(Object.entries(options.secrets ?? {}));
  const tagsOf = new Map<string, Record<string, string>>();
  const deletedNames = new Set<string>();
  const listRequests: { maxresults: number; skiptoken: number }[] = [];
  const faults = new Map<string, { fault: KeyVaultFault; times: number; method?: string }[]>();
  const requests: KeyVaultRequest[] = [];
  const tokens = new Set<string>();
  let url = '';

  const takeFault = (name: string, method?: string): KeyVaultFault | undefined => {
    for (const key of [name, '*']) {
      const queue = faults.get(key) ?? [];
      const i = queue.findIndex((f) => f.method === undefined || f.method === method);
      const head = queue[i];
      if (!head) continue;
      head.times -= 1;
      if (head.times <= 0) queue.splice(i, 1);
      return head.fault;
    }
    return undefined;
  };
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const handle = (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
    text: string,
  ) => {
    const u = new URL(req.url ?? '/', url);
    const m = /^\/secrets\/([^/]+)\/([^/]*)$/.exec(u.pathname);
    const auth = req.headers.authorization ?? '';
    const authorized = auth.startsWith('Bearer ') && tokens.has(auth.slice(7));
    const other = /^\/(?:deleted)?secrets(?:\/([^/]+))?$/.exec(u.pathname);
    const name = m ? decodeURIComponent(m[1] ?? '') : other?.[1] ? decodeURIComponent(other[1]) : '';
    requests.push({
      method: req.method ?? '',
      path: u.pathname,
      name,
      apiVersion: u.searchParams.get('api-version'),
      authorized,
    });
    if (!authorized) {
      res.writeHead(401, {
        'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${options.tenantId}", resource="https://vault.azure.net"`,
        'content-type': 'application/json',
      });
      res.end(
        JSON.stringify({
          error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' },
        }),
      );
      return;
    }
    if (other && u.searchParams.get('api-version')) {
      const fault = name ? takeFault(name, req.method) : takeFault('*list*', req.method);
      if (fault === 'hang') return;
      if (fault && fault !== 'malformed') {
        const [status, code, message] = ERRORS[fault];
        json(res, status, { error: { code, message } }, fault === 'throttled' ? { 'retry-after': '0' } : {});
        return;
      }
      if (serveWrites(res, req.method ?? '', u, name, text)) return;
    }
    if (req.method !== 'GET' || !m || !u.searchParams.get('api-version')) {
      json(res, 400, { error: { code: 'BadParameter', message: 'The request URI is not valid.' } });
      return;
    }
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) {
      json(res, 400, {
        error: { code: 'BadParameter', message: 'The request URI contains an invalid name.' },
      });
      return;
    }
    const fault = takeFault(name, req.method);
    if (fault === 'hang') return; // never answer
    if (fault === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"value": "half a respon');
      return;
    }
    if (fault) {
      const [status, code, message] = ERRORS[fault];
      json(res, status, { error: { code, message } }, fault === 'throttled' ? { 'retry-after': '0' } : {});
      return;
    }
    const value = secrets.get(name);
    if (value === undefined) {
      json(res, 404, {
        error: {
          code: 'SecretNotFound',
          message: `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`,
        },
      });
      return;
    }
    json(res, 200, bundle(name, value));
  };
  const bundle = (name: string, value?: string) => ({
    ...(value === undefined ? {} : { value }),
    id: `${url}/secrets/${name}/0123456789abcdef0123456789abcdef`,
    contentType: 'text/plain',
    attributes: {
      enabled: true,
      created: 1700000000,
      updated: 1700000001,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    },
    tags: tagsOf.get(name) ?? {},
  });
  const notFound = (res: import('node:http').ServerResponse, name: string) =>
    json(res, 404, {
      error: {
        code: 'SecretNotFound',
        message: `A secret with (name/id) ${name} was not found in this key vault.`,
      },
    });
  /** List (pages of `maxresults`, default 25, by `nextLink`), set, delete (soft), deleted-secret read. */
  const serveWrites = (
    res: import('node:http').ServerResponse,
    method: string,
    u: URL,
    name: string,
    text: string,
  ): boolean => {
    const deleted = u.pathname.startsWith('/deletedsecrets');
    if (method === 'GET' && !name && !deleted) {
      const max = Number(u.searchParams.get('maxresults') ?? 25);
      const start = Number(u.searchParams.get('$skiptoken') ?? 0);
      const names = [...secrets.keys()].sort();
      const page = names.slice(start, start + max);
      const next = start + max < names.length;
      const nextLink = `${url}/secrets?api-version=${u.searchParams.get('api-version')}&$skiptoken=${start + max}&maxresults=${max}`;
      listRequests.push({ maxresults: max, skiptoken: start });
      json(res, 200, {
        value: page.map((n) => ({
          id: `${url}/secrets/${n}`,
          attributes: bundle(n).attributes,
          tags: tagsOf.get(n) ?? {},
        })),
        nextLink: next ? nextLink : null,
      });
      return true;
    }
    if (method === 'PUT' && name && !deleted) {
      if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) {
        json(res, 400, {
          error: { code: 'BadParameter', message: 'The request URI contains an invalid name.' },
        });
        return true;
      }
      if (deletedNames.has(name)) {
        json(res, 409, {
          error: {
            code: 'Conflict',
            message: `Secret ${name} is currently in a deleted but recoverable state.`,
          },
        });
        return true;
      }
      let body: { value?: unknown; tags?: Record<string, string> };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = {};
      }
      if (typeof body.value !== 'string') {
        json(res, 400, { error: { code: 'BadParameter', message: 'Property value is required.' } });
        return true;
      }
      secrets.set(name, body.value);
      if (body.tags) tagsOf.set(name, body.tags);
      json(res, 200, bundle(name, body.value));
      return true;
    }
    if (method === 'DELETE' && name && !deleted) {
      if (!secrets.has(name)) notFound(res, name);
      else {
        secrets.delete(name);
        deletedNames.add(name);
        json(res, 200, {
          ...bundle(name),
          recoveryId: `${url}/deletedsecrets/${name}`,
          deletedDate: 1700000002,
          scheduledPurgeDate: 1707776002,
        });
      }
      return true;
    }
    if (method === 'GET' && name && deleted) {
      if (!deletedNames.has(name)) notFound(res, name);
      else
        json(res, 200, {
          ...bundle(name),
          recoveryId: `${url}/deletedsecrets/${name}`,
          deletedDate: 1700000002,
        });
      return true;
    }
    return false;
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    secrets,
    tags: tagsOf,
    deleted: deletedNames,
    listRequests,
    tokens,
    set: (name, value) => void secrets.set(name, value),
    fault(name, fault, times = 1, method) {
      const queue = faults.get(name) ?? [];
      queue.push({ fault, times, ...(method ? { method } : {}) });
      faults.set(name, queue);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export interface EntraTokenRequest {
  tenant: string;
  clientId: string | null;
  scope: string | null;
  grantType: string | null;
  /** Whether the client secret matched (the secret itself is not kept). */
  secretOk: boolean;
}

export interface EntraFake {
  /** The authority host to give the credential (`authorityHost`). */
  readonly url: string;
  readonly tokenRequests: EntraTokenRequest[];
  readonly discoveryRequests: string[];
  close(): Promise<void>;
}

/** A fake Entra ID tenant issuing client-credentials tokens to one application. */
export async function startEntraFake(options: {
  tls: Tls;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  onToken: (token: string) => void;
}): Promise<EntraFake> {
  const tokenRequests: EntraTokenRequest[] = [];
  const discoveryRequests: string[] = [];
  let url = '';
  let issued = 0;
  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    const u = new URL(req.url ?? '/', url);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const [, tenant = '', ...rest] = u.pathname.split('/');
    const tail = rest.join('/');
    if (req.method === 'GET' && tail === 'v2.0/.well-known/openid-configuration') {
      discoveryRequests.push(u.pathname);
      const base = `${url}/${tenant}`;
      reply(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        issuer: `${url}/${tenant}/v2.0`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'token'],
      });
      return;
    }
    if (req.method === 'POST' && tail === 'oauth2/v2.0/token') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const ok =
          tenant === options.tenantId &&
          form.get('client_id') === options.clientId &&
          form.get('client_secret') === options.clientSecret;
        tokenRequests.push({
          tenant,
          clientId: form.get('client_id'),
          scope: form.get('scope'),
          grantType: form.get('grant_type'),
          secretOk: ok,
        });
        if (!ok) {
          reply(401, {
            error: 'invalid_client',
            error_description: 'AADSTS7000215: Invalid client secret provided.',
            error_codes: [7000215],
          });
          return;
        }
        issued += 1;
        const token = `entra-token-${issued}`;
        options.onToken(token);
        reply(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
      });
      return;
    }
    reply(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tokenRequests,
    discoveryRequests,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
