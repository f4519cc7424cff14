/**
 * The built CLI exits by itself once it has printed its answer (issue 11 item 2), even when a
 * backend's server never answers, answers one byte at a time, or is a database that never
 * completes its handshake: the lookup's deadline cancels the remote work and `close()` destroys
 * the sockets, so nothing keeps Node alive. Each child is given a generous bound after its latest
 * output and is killed only if it is still running then (the old code took 20 s more for AWS, and
 * for an AWS role whose STS never answers, and never exited for a trickling Vault). This is an
 * exit check, not a speed claim.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileServer, startHostileServer } from '../fakes/hostile-http.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, '.tmp', `cli-exit-${process.pid}`);
const BIN = path.join(OUT, 'dist', 'cli', 'bin.js');
/**
 * How long a child may run after its latest output before it is killed (and the test fails): the
 * CLI prints its answer last and exits within about a second of it; the bound leaves room for a
 * loaded CI machine, and is far below the old code's 20 s (AWS) or never (trickling Vault).
 */
const EXIT_BOUND_MS = 5_000;

const servers: HostileServer[] = [];
beforeAll(() => {
  mkdirSync(OUT, { recursive: true });
  // Built as `npm run build` builds the shipped package.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), path.join(OUT, 'dist')], {
    cwd: ROOT,
    stdio: 'pipe',
  });
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(OUT, { recursive: true, force: true });
});

interface Run {
  output: string;
  code: number | null;
  /** True when the child had to be killed: it did not exit by itself within the bound. */
  killed: boolean;
}

function runCli(env: Record<string, string>, args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: OUT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: OUT,
      AIRFLOW_HOME: path.join(OUT, 'airflow-home'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let killed = false;
  let timer: NodeJS.Timeout | undefined;
  // The bound runs from the latest output: a CLI that goes quiet and stays alive fails.
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    clearTimeout(timer);
    timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, EXIT_BOUND_MS);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ output, code, killed });
    }),
  );
}

async function server(mode: 'silent' | 'trickle'): Promise<HostileServer> {
  const s = await startHostileServer(mode);
  servers.push(s);
  return s;
}

const VAULT = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
const AWS_SM = 'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend';
/** Secrets Manager through `role_arn`: the STS AssumeRole call is the one left hanging. */
const AWS_SM_ROLE = 'role_arn';

describe.concurrent('the built CLI exits after printing, whatever the server does', () => {
  it.each([
    ['Vault, never answering', 'silent', VAULT],
    ['Vault, trickling', 'trickle', VAULT],
    ['Secrets Manager, never answering (10 s deadline)', 'silent', AWS_SM],
    ['Secrets Manager, trickling (10 s deadline)', 'trickle', AWS_SM],
    ['Secrets Manager with role_arn, STS never answering (10 s deadline)', 'silent', AWS_SM_ROLE],
  ] as const)('%s', { timeout: 90_000 }, async (_what, mode, backend) => {
    const s = await server(mode);
    const aws = {
      endpoint_url: s.url,
      region_name: 'us-east-1',
      aws_access_key_id: 'AKIDTEST',
      aws_secret_access_key: 'test',
    };
    const kwargs =
      backend === VAULT
        ? { url: s.url, token: 'root', timeout: 0.5 }
        : backend === AWS_SM_ROLE
          ? {
              ...aws,
              role_arn: 'arn:aws:iam::123456789012:role/r',
              service_config: { sts: { endpoint_url: s.url } },
            }
          : aws;
    const run = await runCli(
      {
        AIRFLOW__SECRETS__BACKEND: backend === AWS_SM_ROLE ? AWS_SM : backend,
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify(kwargs),
      },
      ['connections', 'get', 'orders_db'],
    );
    expect(run.output).toContain('orders_db');
    expect(run.killed, `still running ${EXIT_BOUND_MS} ms after printing:\n${run.output}`).toBe(false);
    expect(run.code).not.toBeNull();
  });

  it('a PostgreSQL metastore that never completes its handshake (10 s deadline)', {
    timeout: 90_000,
  }, async () => {
    const s = await server('silent');
    const run = await runCli(
      { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `postgresql://airflow:pw@127.0.0.1:${s.port}/airflow` },
      ['variables', 'get', 'feature_flags'],
    );
    expect(run.output).toContain('feature_flags');
    expect(run.killed, `still running ${EXIT_BOUND_MS} ms after printing:\n${run.output}`).toBe(false);
    expect(run.code).not.toBeNull();
  });
});
