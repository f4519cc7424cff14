/**
 * The `airflow-secrets` command as a user meets it: the packed tarball installed into a consumer
 * project (test/helpers/packed.ts) and its bin run as a child process, against the AWS fake on
 * 127.0.0.1. The README's command lines are run as written, both as an installed user
 * (`npx airflow-secrets …` in the consumer) and as a contributor in the clone (`npm run cli -- …`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { type Consumer, childEnv, installConsumer, type PackedPackage, ROOT } from '../helpers/packed.js';

const provided = inject('packedPackage');
const packed = (): PackedPackage => {
  if ('error' in provided) throw new Error(provided.error);
  return provided;
};
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const DB = 'postgres://app:pw-in-env@db.internal:5432/orders';
/** What the README's lines look up: a connection and a JSON variable, and an Astro .env. */
const README_ENV = {
  AIRFLOW_CONN_ORDERS_DB: DB,
  AIRFLOW_VAR_FEATURE_FLAGS: '{"new_ui": true}',
};

let withSdk: Consumer;
let bare: Consumer;
let fake: AwsFake;
beforeAll(async () => {
  fake = await startAwsFake();
  withSdk = installConsumer(packed(), { link: ['@aws-sdk/client-secrets-manager'] });
  bare = installConsumer(packed());
  for (const c of [withSdk, bare]) {
    // An Astro project's .env: a connection, and the secrets backend the README's migrate lines
    // write to (Airflow's local-filesystem backend, files in the project).
    const files = {
      connections_file_path: path.join(c.dir, 'conns.json'),
      variables_file_path: path.join(c.dir, 'vars.json'),
    };
    for (const f of Object.values(files)) writeFileSync(f, '{}\n', { mode: 0o600 });
    writeFileSync(
      path.join(c.dir, '.env'),
      [
        '# Astro project settings',
        `AIRFLOW_CONN_ORDERS_DB='${DB}'`,
        'AIRFLOW__SECRETS__BACKEND=airflow.secrets.local_filesystem.LocalFilesystemBackend',
        `AIRFLOW__SECRETS__BACKEND_KWARGS='${JSON.stringify(files)}'`,
        '',
      ].join('\n'),
    );
  }
});
afterAll(async () => {
  withSdk?.remove();
  bare?.remove();
  await fake?.close();
});

const home = () => ({ AIRFLOW_HOME: path.join(bare.dir, 'airflow-home') });
const awsEnv = () => ({
  AIRFLOW_HOME: path.join(withSdk.dir, 'airflow-home'),
  AIRFLOW__SECRETS__BACKEND: 'airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend',
  AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
    endpoint_url: fake.url,
    region_name: 'us-east-1',
    aws_access_key_id: 'AKIDTEST',
    aws_secret_access_key: 'test-secret',
  }),
});

/** The shell lines of the README's code blocks that start with `prefix` (a `$ ` prompt is dropped). */
function readmeLines(prefix: string): string[] {
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) =>
      l
        .replace(/^\$ /, '')
        .replace(/\s+#.*$/, '')
        .trim(),
    )
    .filter((l) => l.startsWith(prefix));
}

describe('the installed bin', () => {
  it('--version, --help and help COMMAND', () => {
    expect(bare.cli(['--version'])).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
    const help = bare.cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('3  not found while at least one source failed');
    const sub = bare.cli(['help', 'variables', 'get']);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain('Usage: airflow-secrets variables get KEY [options]');
  });

  it('--env reads an Astro .env; a missing file is our one-line error (exit 2), not Node’s', () => {
    expect(bare.cli(['--env', '.env', 'connections', 'get', 'orders_db'], home())).toMatchObject({
      status: 0,
      stdout: `${DB}\n`,
    });
    expect(bare.cli(['connections', 'get', 'orders_db', '-e', '.env'], home()).status).toBe(0);
    const missing = bare.cli(['--env', 'nope.env', 'connections', 'get', 'x'], home());
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('nope.env');
    expect(missing.stderr).not.toContain('node:');
    // --env-file is accepted when the file exists (Node leaves it alone then).
    expect(bare.cli(['--env-file', '.env', 'connections', 'get', 'orders_db'], home()).status).toBe(0);
  });

  it('a usage error is one line and a hint (exit 2)', () => {
    const r = bare.cli(['connections', 'get'], home());
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'airflow-secrets: connections get needs exactly one CONN_ID',
      "Run 'airflow-secrets connections get --help' for usage.",
    ]);
  });

  it('a missing SDK is a configuration error naming the package to install, without "pass a client"', () => {
    const r = bare.cli(['connections', 'get', 'orders_db'], { ...home(), ...awsEnv() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('npm install @aws-sdk/client-secrets-manager');
    expect(r.stderr).not.toMatch(/pass a client/i);
  });

  it('a missing SDK stops a listing and a migration the same way (exit 2, the CLI wording)', () => {
    const wording =
      "airflow-secrets: MissingDependencyError: aws-secrets-manager needs '@aws-sdk/client-secrets-manager', which is not installed: npm install @aws-sdk/client-secrets-manager\n";
    for (const args of [
      ['connections', 'list'],
      ['variables', 'list', '--json'],
      ['migrate', '--from', 'backend', '--to', 'metastore', '--dry-run'],
    ]) {
      const r = bare.cli(args, { ...home(), ...awsEnv() });
      expect([args, r.status, r.stdout, r.stderr]).toEqual([args, 2, '', wording]);
    }
  });

  it('exit 0 found in AWS, 1 not found anywhere, 3 when AWS denied access (reason printed)', async () => {
    fake.secrets.set('airflow/connections/orders_db', DB);
    expect(await withSdk.cliAsync(['connections', 'get', 'orders_db'], awsEnv())).toMatchObject({
      status: 0,
      stdout: `${DB}\n`,
    });
    const miss = await withSdk.cliAsync(['connections', 'get', 'nowhere'], awsEnv());
    expect(miss.status).toBe(1);
    expect(miss.stderr.trim()).toBe("The conn_id `nowhere` isn't defined");
    fake.deniedSecrets.add('airflow/connections/locked');
    const denied = await withSdk.cliAsync(['connections', 'get', 'locked'], awsEnv());
    expect(denied.status).toBe(3);
    expect(denied.stderr).toMatch(/aws-secrets-manager \(access-denied, airflow\/connections\/locked\)/);
    expect((await withSdk.cliAsync(['explain', 'connection', 'locked'], awsEnv())).status).toBe(3);
  });

  it('prints no AWS SDK Node-version notice (the SDK prints one without the opt-out on this Node)', async () => {
    fake.secrets.set('airflow/connections/orders_db', DB);
    const env = { ...awsEnv(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined };
    const r = await withSdk.cliAsync(['connections', 'get', 'orders_db'], env);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    // The control: the same SDK call in a plain script, without the opt-out.
    const script = `
      const m = await import('@aws-sdk/client-secrets-manager');
      const c = new m.SecretsManagerClient({ region: 'us-east-1', endpoint: ${JSON.stringify(fake.url)},
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      await c.send(new m.GetSecretValueCommand({ SecretId: 'airflow/connections/orders_db' }));`;
    const control = await withSdk.runAsync(process.execPath, ['--input-type=module', '-e', script], env);
    expect(control.status, control.stderr).toBe(0);
    if (Number(process.versions.node.split('.')[0]) < 22) {
      expect(control.stderr).toContain('NodeVersionSupportWarning');
    }
  });
});

describe("the README's command lines, as written", () => {
  it('as an installed user: every `npx airflow-secrets …` line runs and exits 0', () => {
    const lines = readmeLines('npx airflow-secrets');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      const r = bare.run('sh', ['-c', line], { ...home(), ...README_ENV, npm_config_offline: 'true' });
      expect(r.status, `${line}\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stderr, line).not.toContain('not found');
    }
  });

  it('as a contributor in the clone: every `npm run cli -- …` line runs and exits 0', () => {
    const lines = readmeLines('npm run cli --');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) {
      const r = spawnSync('sh', ['-c', line], {
        cwd: ROOT,
        encoding: 'utf8',
        env: childEnv({ ...home(), ...README_ENV, npm_config_offline: 'true' }),
        timeout: 60_000,
      });
      expect(r.status, `${line}\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain("connection 'orders_db': found in environment");
    }
  });
});
