/**
 * moto (a second opinion on AWS, besides our wire fake) as a throwaway server:
 * `moto_server -H 127.0.0.1 -p PORT` on a free loopback port, started per test file, reset
 * between tests (`POST /moto-api/reset`), stopped at the end. The binary is found on PATH (or
 * `MOTO_SERVER`). Without it the tests skip, except under `CI=true`, where they fail: `.ci/run`
 * installs it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { freePort } from './db-servers.js';

export interface MotoServer {
  url: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The moto_server binary, or null. */
export function motoBinary(): string | null {
  if (process.env.MOTO_SERVER) return process.env.MOTO_SERVER;
  const r = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  return found || null;
}

function request(port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}

/** Start moto; `null` when the binary is absent (the caller decides whether that may skip). */
export async function startMoto(): Promise<MotoServer | null> {
  const bin = motoBinary();
  if (!bin) return null;
  const port = await freePort();
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^AWS_/.test(k)) delete env[k];
  const output: string[] = [];
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  // Wait for it to answer (bounded by attempts, not by a timed assertion).
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null)
      throw new Error(`moto_server exited at start:\n${output.join('').slice(-2000)}`);
    try {
      if ((await request(port, 'GET', '/moto-api/')) === 200) break;
    } catch {
      // not listening yet
    }
    if (attempt >= 300) {
      await stop();
      throw new Error(`moto_server did not answer on 127.0.0.1:${port}:\n${output.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async reset() {
      const status = await request(port, 'POST', '/moto-api/reset');
      if (status !== 200) throw new Error(`moto reset answered ${status}`);
    },
    stop,
  };
}
