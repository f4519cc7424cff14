/**
 * A wire-level fake of Google Cloud Secret Manager's gRPC `AccessSecretVersion`, built from the
 * `.proto` files the `@google-cloud/secret-manager` package ships, served by `@grpc/grpc-js` on
 * 127.0.0.1 (insecure). The real SDK client talks to it with `apiEndpoint`/`port`/`sslCreds`.
 *
 * Secrets are keyed by secret id inside one project. Faults can be queued per secret id (or `*`)
 * to answer the next N calls with a gRPC error, never answer (hang), or send a payload that is not
 * UTF-8. Every call is logged with its resource name and request metadata.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

export type GcpFault =
  | 'not-found'
  | 'permission-denied'
  | 'invalid-argument'
  | 'resource-exhausted'
  | 'unavailable'
  | 'unauthenticated'
  | 'hang'
  | 'malformed';

export interface GcpFakeRequest {
  /** The resource name the client asked for, e.g. `projects/p/secrets/s/versions/latest`. */
  name: string;
  /** Request metadata (headers) as sent, e.g. `x-goog-request-params`. */
  metadata: Record<string, string>;
  /** The client's address: one value per channel (connection). */
  peer: string;
}

/** A call of one of the other methods (ListSecrets, CreateSecret, AddSecretVersion, DeleteSecret). */
export interface GcpFakeCall {
  method: string;
  request: Record<string, unknown>;
}

/** A secret resource (it may have no version yet). */
export interface GcpFakeSecret {
  labels: Record<string, string>;
  /** `automatic`, or the locations of user-managed replication. */
  replication: 'automatic' | string[];
}

export interface GcpFake {
  readonly port: number;
  readonly project: string;
  /** Every AccessSecretVersion call, in order. */
  readonly requests: GcpFakeRequest[];
  /** Every call of the other methods, in order. */
  readonly calls: GcpFakeCall[];
  /** The secret resources by id (`set` makes one too). */
  readonly resources: Map<string, GcpFakeSecret>;
  /** The latest version's bytes of a secret, if it has one. */
  value(secretId: string): string | undefined;
  /** Store (or replace) a secret's latest version. */
  set(secretId: string, value: string | Buffer): void;
  delete(secretId: string): void;
  /** Answer the next `times` calls for `secretId` (or any id with `*`) with `fault`. */
  fault(secretId: string, fault: GcpFault, times?: number): void;
  /** Resolves with the n-th (1-based) call left hanging; its `cancelled` resolves when the client cancels it. */
  hung(n?: number): Promise<{ name: string; cancelled: Promise<void> }>;
  close(): Promise<void>;
}

const FAULT_STATUS: Record<Exclude<GcpFault, 'hang' | 'malformed'>, [grpc.status, string]> = {
  'not-found': [grpc.status.NOT_FOUND, 'Secret [%s] not found or has no versions.'],
  'permission-denied': [
    grpc.status.PERMISSION_DENIED,
    "Permission 'secretmanager.versions.access' denied for resource '%s' (or it may not exist).",
  ],
  'invalid-argument': [grpc.status.INVALID_ARGUMENT, 'Invalid resource field value in the request.'],
  'resource-exhausted': [grpc.status.RESOURCE_EXHAUSTED, 'Quota exceeded for quota metric access requests.'],
  unavailable: [grpc.status.UNAVAILABLE, 'The service is currently unavailable.'],
  unauthenticated: [grpc.status.UNAUTHENTICATED, 'Request had invalid authentication credentials.'],
};

/** The real service's secret id rule. */
const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;
const NAME = /^projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/]+)$/;

let loaded: grpc.GrpcObject | undefined;

function loadService(): grpc.ServiceDefinition {
  if (!loaded) {
    const smDir = path.dirname(require.resolve('@google-cloud/secret-manager/package.json'));
    // google-gax hides package.json behind its exports map: resolve its main entry instead.
    const gaxMain = require.resolve('google-gax', { paths: [smDir] });
    const gaxProtos = path.join(path.dirname(gaxMain), '..', 'protos');
    const def = protoLoader.loadSync('google/cloud/secretmanager/v1/service.proto', {
      includeDirs: [path.join(smDir, 'build', 'protos'), gaxProtos],
      keepCase: false,
      longs: String,
      enums: String,
      defaults: false,
      oneofs: true,
    });
    loaded = grpc.loadPackageDefinition(def);
  }
  const v1 = (loaded.google as grpc.GrpcObject).cloud as grpc.GrpcObject;
  const svc = ((v1.secretmanager as grpc.GrpcObject).v1 as grpc.GrpcObject).SecretManagerService as {
    service: grpc.ServiceDefinition;
  };
  return svc.service;
}

export async function startGcpFake(
  options: { project?: string; secrets?: Record<string, string> } = {},
): Promise<GcpFake> {
  const project = options.project ?? 'fake-project';
  const secrets = new Map<string, Buffer>(
    Object.entries(options.secrets ?? {}).map(([k, v]) => [k, Buffer.from(v, 'utf8')]),
  );
  const faults = new Map<string, { fault: GcpFault; times: number }[]>();
  const requests: GcpFakeRequest[] = [];
  const calls: GcpFakeCall[] = [];
  const resources = new Map<string, GcpFakeSecret>(
    [...secrets.keys()].map((k) => [k, { labels: {}, replication: 'automatic' as const }]),
  );
  const hanging = new Set<grpc.ServerUnaryCall<unknown, unknown>>();
  const hungCalls: { name: string; cancelled: Promise<void> }[] = [];
  const hungWaiters: { n: number; resolve: (h: { name: string; cancelled: Promise<void> }) => void }[] = [];
  let version = 0;

  const takeFault = (id: string): GcpFault | undefined => {
    for (const key of [id, '*']) {
      const queue = faults.get(key);
      const head = queue?.[0];
      if (!queue || !head) continue;
      head.times -= 1;
      if (head.times <= 0) queue.shift();
      return head.fault;
    }
    return undefined;
  };

  const server = new grpc.Server();
  const others = otherMethods({
    project,
    secrets,
    resources,
    calls,
    takeFault,
    nextVersion: () => ++version,
  });
  server.addService(loadService(), {
    ...others,
    accessSecretVersion(
      call: grpc.ServerUnaryCall<{ name?: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      const name = call.request.name ?? '';
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = String(v);
      requests.push({ name, metadata, peer: call.getPeer() });
      const m = NAME.exec(name);
      if (!m || !SECRET_ID.test(m[2] ?? '')) {
        callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: 'Invalid resource field value in the request.',
        });
        return;
      }
      const [, proj, id = '', ver] = m;
      const fault = takeFault(id);
      if (fault === 'hang') {
        hanging.add(call as grpc.ServerUnaryCall<unknown, unknown>);
        const cancelled = new Promise<void>((resolve) => call.on('cancelled', () => resolve()));
        hungCalls.push({ name, cancelled });
        for (const w of hungWaiters.filter((x) => x.n <= hungCalls.length)) {
          hungWaiters.splice(hungWaiters.indexOf(w), 1);
          w.resolve(hungCalls[w.n - 1]!);
        }
        return; // never answer
      }
      if (fault === 'malformed') {
        callback(null, {
          name: `projects/${proj}/secrets/${id}/versions/1`,
          payload: { data: Buffer.from([0xc3, 0x28, 0xff, 0xfe]) },
        });
        return;
      }
      if (fault) {
        const [code, text] = FAULT_STATUS[fault];
        callback({ code, details: text.replace('%s', name) });
        return;
      }
      const value = proj === project ? secrets.get(id) : undefined;
      if (value === undefined || (ver !== 'latest' && !/^\d+$/.test(ver ?? ''))) {
        callback({
          code: grpc.status.NOT_FOUND,
          details: `Secret [projects/${proj}/secrets/${id}] not found or has no versions.`,
        });
        return;
      }
      version += 1;
      callback(null, {
        name: `projects/${proj}/secrets/${id}/versions/${version}`,
        payload: { data: value, dataCrc32c: '0' },
      });
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );

  return {
    port,
    project,
    requests,
    calls,
    resources,
    value: (id) => secrets.get(id)?.toString('utf8'),
    set(id, value) {
      secrets.set(id, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
      if (!resources.has(id)) resources.set(id, { labels: {}, replication: 'automatic' });
    },
    delete(id) {
      secrets.delete(id);
      resources.delete(id);
    },
    fault(id, fault, times = 1) {
      const queue = faults.get(id) ?? [];
      queue.push({ fault, times });
      faults.set(id, queue);
    },
    hung(n = 1) {
      if (hungCalls.length >= n) return Promise.resolve(hungCalls[n - 1]!);
      return new Promise((resolve) => hungWaiters.push({ n, resolve }));
    },
    async close() {
      hanging.clear();
      server.forceShutdown();
    },
  };
}

type Reply = grpc.sendUnaryData<unknown>;
type Call = grpc.ServerUnaryCall<Record<string, unknown>, unknown>;

/**
 * ListSecrets (the `name:` filter as a substring match, pages of `pageSize`, default 25),
 * CreateSecret (ALREADY_EXISTS, the id rule, a replication required), AddSecretVersion (NOT_FOUND
 * without the secret) and DeleteSecret. Faults queued for an id (or `*`) apply to these too.
 */
function otherMethods(st: {
  project: string;
  secrets: Map<string, Buffer>;
  resources: Map<string, GcpFakeSecret>;
  calls: GcpFakeCall[];
  takeFault: (id: string) => GcpFault | undefined;
  nextVersion: () => number;
}) {
  const secretPath = (id: string) => `projects/${st.project}/secrets/${id}`;
  const fail = (cb: Reply, fault: GcpFault | undefined, what: string): boolean => {
    if (!fault || fault === 'hang' || fault === 'malformed') return fault === 'hang';
    const [code, text] = FAULT_STATUS[fault];
    cb({ code, details: text.replace('%s', what) });
    return true;
  };
  const record = (method: string, call: Call) => st.calls.push({ method, request: { ...call.request } });
  const idOf = (name: unknown) => /^projects\/[^/]+\/secrets\/([^/]+)$/.exec(String(name ?? ''))?.[1];
  return {
    listSecrets(call: Call, cb: Reply) {
      record('ListSecrets', call);
      if (fail(cb, st.takeFault('*list*'), String(call.request.parent))) return;
      const filter = /^name:(.*)$/.exec(String(call.request.filter ?? ''))?.[1];
      const all = [...st.resources.keys()].filter((id) => filter === undefined || id.includes(filter)).sort();
      const size = Number(call.request.pageSize) || 25;
      const start = Number(call.request.pageToken || 0);
      const page = all.slice(start, start + size);
      cb(null, {
        secrets: page.map((id) => ({ name: secretPath(id), labels: st.resources.get(id)?.labels ?? {} })),
        nextPageToken: start + size < all.length ? String(start + size) : '',
        totalSize: all.length,
      });
    },
    createSecret(call: Call, cb: Reply) {
      record('CreateSecret', call);
      const id = String(call.request.secretId ?? '');
      if (fail(cb, st.takeFault(id), id)) return;
      const secret = (call.request.secret ?? {}) as {
        labels?: Record<string, string>;
        replication?: Record<string, any>;
      };
      if (!SECRET_ID.test(id) || !secret.replication) {
        cb({ code: grpc.status.INVALID_ARGUMENT, details: 'Invalid resource field value in the request.' });
        return;
      }
      if (st.resources.has(id)) {
        cb({ code: grpc.status.ALREADY_EXISTS, details: `Secret [${secretPath(id)}] already exists.` });
        return;
      }
      const managed = secret.replication.userManaged as { replicas?: { location: string }[] } | undefined;
      st.resources.set(id, {
        labels: { ...(secret.labels ?? {}) },
        replication: managed ? (managed.replicas ?? []).map((r) => r.location) : 'automatic',
      });
      cb(null, { name: secretPath(id), replication: secret.replication, labels: secret.labels ?? {} });
    },
    addSecretVersion(call: Call, cb: Reply) {
      record('AddSecretVersion', call);
      const id = idOf(call.request.parent);
      if (fail(cb, st.takeFault(id ?? ''), String(call.request.parent))) return;
      if (!id || !st.resources.has(id)) {
        cb({ code: grpc.status.NOT_FOUND, details: `Secret [${String(call.request.parent)}] not found.` });
        return;
      }
      const data = (call.request.payload as { data?: Buffer } | undefined)?.data;
      st.secrets.set(id, Buffer.from(data ?? Buffer.alloc(0)));
      cb(null, { name: `${secretPath(id)}/versions/${st.nextVersion()}`, state: 'ENABLED' });
    },
    deleteSecret(call: Call, cb: Reply) {
      record('DeleteSecret', call);
      const id = idOf(call.request.name);
      if (fail(cb, st.takeFault(id ?? ''), String(call.request.name))) return;
      if (!id || !st.resources.delete(id)) {
        cb({ code: grpc.status.NOT_FOUND, details: `Secret [${String(call.request.name)}] not found.` });
        return;
      }
      st.secrets.delete(id);
      cb(null, {});
    },
  };
}
