/**
 * node-vault's HTTP transport, replaced through its `request-promise` option by one of our own on
 * `node:http`/`node:https`. node-vault's own (axios) cannot be cancelled (node-vault passes no
 * signal through), buffers any amount of response body, treats its timeout as socket inactivity
 * (a trickling server never trips it), and reads `HTTP(S)_PROXY`/`NO_PROXY` and `VAULT_SKIP_VERIFY`
 * from `process.env`. This one:
 *
 * - is cancelled per request: the {@link CallCancel} a read or login passes in its request options
 *   (under {@link CANCEL}) destroys the request's socket when the lookup's deadline passes or the
 *   lookup is abandoned;
 * - stops reading at {@link MAX_RESPONSE_BYTES} (the socket is destroyed, the read fails);
 * - owns its keep-alive agents; {@link VaultTransport.destroy} (the backend's `close()`) destroys
 *   every socket, in flight or idle, so nothing is left running;
 * - reads nothing from the environment: TLS comes from the adapter's options, and no proxy is used;
 * - follows up to 5 redirects (Vault's standby nodes answer 307), as hvac's `requests` does, unless
 *   `followRedirects` is off (hvac's `allow_redirects=False`: the 3xx is the answer);
 * - sends `X-Vault-Request: true` (hvac's `request_header`, default on), and with `strictHttp`
 *   sends `LIST` as `GET ?list=true` (hvac's `strict_http`).
 *
 * It answers node-vault in request-promise's shape: `{ statusCode, body, request: { path } }`, the
 * body parsed as JSON when it is JSON, else the text (an HTML 502 from a proxy).
 */
import http from 'node:http';
import https from 'node:https';
import type { CallCancel } from '../base.js';

/** The request-options key under which a read or login hands its {@link CallCancel} to the transport. */
export const CANCEL: unique symbol = Symbol('airflow-secrets.cancel');

/** The most response body read for one request (a KV secret is far smaller). */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export interface VaultTransportSettings {
  /** `false`: no certificate verification (the adapter's `verify: false`). */
  rejectUnauthorized: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** hvac's `allow_redirects`. Default `true`. */
  followRedirects?: boolean;
  /** hvac's `strict_http`: `LIST` goes out as `GET` with `list=true`. Default `false`. */
  strictHttp?: boolean;
  /** hvac's `request_header`: send `X-Vault-Request: true`. Default `true`. */
  requestHeader?: boolean;
}

/** What node-vault calls for each request (`options` are its request-promise options). */
export type RequestFn = (options: TransportRequest) => Promise<TransportResponse>;

export interface TransportRequest {
  method?: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
  [CANCEL]?: CallCancel;
}

export interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

export interface VaultTransport {
  /** node-vault's `request-promise` option: `defaults()` returns the request function. */
  readonly requestPromise: { defaults(): RequestFn };
  /** Destroy every socket (in flight and idle) and refuse further requests. Idempotent. */
  destroy(): void;
}

export function vaultTransport(settings: VaultTransportSettings): VaultTransport {
  let httpAgent: http.Agent | undefined;
  let httpsAgent: https.Agent | undefined;
  const inFlight = new Set<http.ClientRequest>();
  let destroyed = false;
  const agentFor = (secure: boolean): http.Agent =>
    secure
      ? (httpsAgent ??= new https.Agent({
          keepAlive: true,
          rejectUnauthorized: settings.rejectUnauthorized,
          ...(settings.ca ? { ca: settings.ca } : {}),
          ...(settings.cert ? { cert: settings.cert } : {}),
          ...(settings.key ? { key: settings.key } : {}),
        }))
      : (httpAgent ??= new http.Agent({ keepAlive: true }));

  const send = (options: TransportRequest, redirects: number): Promise<TransportResponse> =>
    new Promise<TransportResponse>((resolve, reject) => {
      if (destroyed) return reject(codeError('the Vault client is closed', 'ECLOSED'));
      if (options[CANCEL]?.aborted) return reject(codeError('the read was cancelled', 'ECANCELED'));
      const { url, method, headers, body } = requestParts(options, settings);
      const secure = url.protocol === 'https:';
      const req = (secure ? https : http).request({
        method,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers,
        agent: agentFor(secure),
      });
      inFlight.add(req);
      const unsubscribe = options[CANCEL]?.onCancel(() =>
        req.destroy(codeError('the read was cancelled', 'ECANCELED')),
      );
      const done = () => {
        inFlight.delete(req);
        unsubscribe?.();
      };
      req.on('error', (e) => {
        done();
        reject(e);
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        const follow = settings.followRedirects !== false && REDIRECTS.has(status);
        if (follow && location && redirects < MAX_REDIRECTS) {
          res.resume();
          done();
          const next = redirected(options, status, new URL(location, url).href);
          send(next, redirects + 1).then(resolve, reject);
          return;
        }
        readBody(res, req).then(
          (text) => {
            done();
            resolve({ statusCode: status, body: parseBody(text), request: { path: url.pathname } });
          },
          (e) => {
            done();
            reject(e);
          },
        );
      });
      req.end(body);
    });

  return {
    requestPromise: { defaults: () => (options) => send(options, 0) },
    destroy() {
      destroyed = true;
      for (const req of inFlight) req.destroy(codeError('the Vault client was closed', 'ECLOSED'));
      inFlight.clear();
      httpAgent?.destroy();
      httpsAgent?.destroy();
    },
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The URL, verb, headers and body of one request, with hvac's `strict_http` and `request_header`. */
function requestParts(options: TransportRequest, settings: VaultTransportSettings) {
  const url = new URL(options.uri);
  let method = options.method ?? 'GET';
  if (settings.strictHttp && method.toUpperCase() === 'LIST') {
    method = 'GET';
    url.searchParams.set('list', 'true');
  }
  const body = options.json !== undefined ? Buffer.from(JSON.stringify(options.json)) : undefined;
  const headers: Record<string, string | number> = { accept: 'application/json', ...options.headers };
  if (settings.requestHeader !== false) headers['X-Vault-Request'] = 'true';
  if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.length });
  return { url, method, headers, body };
}

/** The next request of a redirect: 307/308 keep method and body; the others become a GET, as browsers do. */
function redirected(options: TransportRequest, status: number, uri: string): TransportRequest {
  const keep = status === 307 || status === 308 || options.method === 'GET' || options.method === 'HEAD';
  const next: TransportRequest = { ...options, uri };
  if (!keep) {
    next.method = 'GET';
    delete next.json;
  }
  return next;
}

/** The body as text, or a failure once it passes {@link MAX_RESPONSE_BYTES} (the socket is destroyed). */
function readBody(res: http.IncomingMessage, req: http.ClientRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        const e = codeError(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`, 'ERESPONSETOOLARGE');
        chunks.length = 0;
        req.destroy(e);
        reject(e);
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(codeError('the answer was cut short', 'ECONNRESET'));
    });
  });
}

/** JSON when the body is JSON (as axios's default does), else the text; `''` for an empty body. */
function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function codeError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}
