/**
 * Servers on 127.0.0.1 that misbehave the ways that keep a client busy after its caller gave up:
 * `silent` accepts connections and never answers; `trickle` answers 200 and then sends one byte
 * every 100 ms forever; `flood` answers 200 and sends body as fast as the socket takes it. Each
 * records its connections, so a test can wait for the client to close them (or see that it
 * opened another one, as a retry does).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import net from 'node:net';

export type HostileMode = 'silent' | 'trickle' | 'flood';

export interface HostileServer {
  readonly url: string;
  readonly port: number;
  /** Every connection accepted so far, in order. */
  readonly connections: Socket[];
  /** Bytes written to clients so far (trickle and flood). */
  readonly bytesSent: () => number;
  /** Resolves with the n-th connection (1-based) once it is accepted. */
  connection(n?: number): Promise<Socket>;
  close(): Promise<void>;
}

export async function startHostileServer(mode: HostileMode): Promise<HostileServer> {
  const connections: Socket[] = [];
  const waiters: { n: number; resolve: (s: Socket) => void }[] = [];
  let sent = 0;
  const timers = new Set<NodeJS.Timeout>();
  const accept = (s: Socket) => {
    s.on('error', () => undefined);
    // Read what the client sends (and drop it), so its closing the connection is seen at once.
    if (mode === 'silent') s.resume();
    connections.push(s);
    for (const w of waiters.filter((x) => x.n <= connections.length)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(connections[w.n - 1]!);
    }
  };
  const server =
    mode === 'silent'
      ? net.createServer(accept)
      : http.createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"data":{"data":{"value":"');
          if (mode === 'trickle') {
            const t = setInterval(() => {
              sent += 1;
              res.write('a');
            }, 100);
            timers.add(t);
            res.on('close', () => {
              clearInterval(t);
              timers.delete(t);
            });
            return;
          }
          const chunk = Buffer.alloc(256 * 1024, 97);
          const pump = () => {
            while (!res.destroyed && res.write(chunk)) sent += chunk.length;
          };
          res.on('drain', pump);
          pump();
        });
  if (mode !== 'silent') server.on('connection', accept);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections,
    bytesSent: () => sent,
    connection(n = 1) {
      if (connections.length >= n) return Promise.resolve(connections[n - 1]!);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of connections) s.destroy();
      if (server instanceof http.Server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when `socket` is closed (by either side); rejects after `ms` so a test fails instead of hanging. */
export function closed(socket: Socket, ms = 5000): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the client kept the connection open for ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
