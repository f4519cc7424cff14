/**
 * A throwaway redis-server for the client tests, started like the PostgreSQL and MariaDB servers
 * (test/helpers/db-servers.ts): a fresh temporary directory, a free 127.0.0.1 port, no
 * persistence, `nobody` when running as root. The default user needs a password, and an ACL user
 * `airflow` has its own (so login + password are exercised). `stop()` kills it and deletes the
 * directory.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort, need, type RunningServer, startServer, stopServer, tempDir, track } from './db-servers.js';
import type { Binaries } from './provision.js';

/** What global setup hands to the tests (`inject('redisServer')`). */
export interface RedisServerInfo {
  host: string;
  port: number;
  /** The ACL user with its password. */
  username: string;
  password: string;
  /** The default user's password (`requirepass`). */
  defaultPassword: string;
  /** Why there is no server (binary absent, failed to start), when there is none. */
  error?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisServer: RedisServerInfo | { error: string };
  }
}

export const REDIS_USER = 'airflow';
export const REDIS_PASSWORD = 'r3dis p@ss:/w';
export const REDIS_DEFAULT_PASSWORD = 'default-s3cret';

/** One RESP PING on a raw socket: any reply (`+PONG`, `-NOAUTH …`) means the server is up. */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(2000, () => s.destroy(new Error('no reply')));
    s.on('error', reject);
    s.on('connect', () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.on('data', (d) => {
      s.destroy();
      if (/^[+-]/.test(d.toString('latin1'))) resolve();
      else reject(new Error('unexpected reply'));
    });
  });
}

export async function startRedis(binaries?: Binaries): Promise<RunningServer & { info: RedisServerInfo }> {
  const bin = (binaries ?? need('redis')).server!;
  const dir = tempDir('airflow-secrets-redis-');
  const entry = { child: null as ChildProcess | null, dir };
  track(entry);
  try {
    const port = await freePort();
    const log = path.join(dir, 'server.log');
    entry.child = await startServer(
      'redis-server',
      bin,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--requirepass',
        REDIS_DEFAULT_PASSWORD,
        '--user',
        REDIS_USER,
        'on',
        `>${REDIS_PASSWORD}`,
        '~*',
        '&*',
        '+@all',
      ],
      dir,
      log,
      () => ping(port),
    );
    const info: RedisServerInfo = {
      host: '127.0.0.1',
      port,
      username: REDIS_USER,
      password: REDIS_PASSWORD,
      defaultPassword: REDIS_DEFAULT_PASSWORD,
    };
    return {
      name: 'redis',
      url: `redis://127.0.0.1:${port}`,
      info,
      stop: () => stopServer(entry, 'SIGTERM'),
    };
  } catch (e) {
    await stopServer(entry, 'SIGKILL');
    throw e;
  }
}
