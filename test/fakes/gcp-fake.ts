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

export interface GcpFake {
  readonly port: number;
  readonly project: string;
  /** Every AccessSecretVersion call, in order. */
  readonly requests: GcpFakeRequest[];
  /** Store (or replace) a secret's latest version. */
  set(secretId: string, value: string | Buffer): void;
  delete(secretId: string): void;
  /** Answer the next `times` calls for `secretId` (or any id with `*`) with `fault`. */
  fault(secretId: string, fault: GcpFault, times?: number): void;
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
  const hanging = new Set<grpc.ServerUnaryCall<unknown, unknown>>();
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
  server.addService(loadService(), {
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
    set: (id, value) => void secrets.set(id, typeof value === 'string' ? Buffer.from(value, 'utf8') : value),
    delete: (id) => void secrets.delete(id),
    fault(id, fault, times = 1) {
      const queue = faults.get(id) ?? [];
      queue.push({ fault, times });
      faults.set(id, queue);
    },
    async close() {
      hanging.clear();
      server.forceShutdown();
    },
  };
}
