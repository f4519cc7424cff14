/**
 * The package's types and module format as a TypeScript or CommonJS user meets them: consumer
 * projects that install the packed tarball with no SDK at all, type-checked by `tsc` with
 * `skipLibCheck: false` (every shipped declaration is checked, and none may need an optional
 * peer), `strict` and `exactOptionalPropertyTypes`; the supported module settings (ESM with
 * `module: nodenext`; CommonJS through require(esm) on Node 20.19+, which TypeScript accepts under
 * `module: nodenext` and refuses under `node16` with TS1479, as docs/installing.md says).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type Consumer, installConsumer, type PackedPackage, ROOT } from '../helpers/packed.js';

const provided = inject('packedPackage');
const packed = (): PackedPackage => {
  if ('error' in provided) throw new Error(provided.error);
  return provided;
};
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
};
const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');

const tsconfig = (module: string, include: string[]) =>
  JSON.stringify({
    compilerOptions: {
      target: 'es2023',
      lib: ['es2023'],
      module,
      moduleResolution: module,
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      noEmit: true,
      types: ['node'],
    },
    include,
  });

/** One module that imports every subpath and passes `maybe` (possibly undefined) to optional options. */
const ESM_SOURCE = `${subpaths.map((s, i) => `import * as m${i} from '${s.replace(/^\./, 'airflow-secrets')}';`).join('\n')}
import { createResolver, deserializeConnection, Connection, type ResolverOptions } from 'airflow-secrets';
import { hashicorpVault } from 'airflow-secrets/backends/hashicorp-vault';
import { awsSecretsManager } from 'airflow-secrets/backends/aws-secrets-manager';
import { awsSsm } from 'airflow-secrets/backends/aws-ssm';
import { gcpSecretManager } from 'airflow-secrets/backends/gcp-secret-manager';
import { azureKeyVault } from 'airflow-secrets/backends/azure-key-vault';
import { memory } from 'airflow-secrets/testing';

export const all = [${subpaths.map((_, i) => `m${i}`).join(', ')}];
const maybe: string | undefined = process.env.MAYBE;
const maybeNumber: number | undefined = process.env.N ? Number(process.env.N) : undefined;
const backends = [
  hashicorpVault({ url: maybe, token: maybe, namespace: maybe, timeoutMs: maybeNumber, mountPoint: maybe }),
  awsSecretsManager({ region: maybe, endpoint: maybe, connectionsPrefix: maybe, client: undefined }),
  awsSsm({ region: maybe, profile: maybe, client: undefined }),
  gcpSecretManager({ projectId: maybe, keyFilename: maybe }),
  azureKeyVault({ vaultUrl: 'https://kv.vault.azure.net/', tenantId: maybe, clientId: maybe }),
  memory({ name: maybe }),
];
const options: ResolverOptions = { backends, backendTimeoutMs: maybeNumber, logger: undefined };
const resolver = createResolver(options);
const c: Connection = deserializeConnection('orders_db', 'postgres://u:p@h/db');
void new Connection({ id: 'x', host: maybe, port: maybeNumber });
await resolver.getVariable('k', { deserializeJson: undefined });
void c;
`;

const consumers: Consumer[] = [];
afterAll(() => {
  for (const c of consumers) c.remove();
});
const tsc = (c: Consumer, config: string) => c.run(process.execPath, [TSC, '-p', config]);
/** One project per module format, installed on first use. */
const once = (make: () => Consumer) => {
  let c: Consumer | undefined;
  return () => {
    if (!c) consumers.push((c = make()));
    return c;
  };
};
const esm = once(() =>
  installConsumer(packed(), {
    link: ['@types/node'],
    files: {
      'tsconfig.json': tsconfig('nodenext', ['index.ts']),
      'index.ts': ESM_SOURCE,
      // A use that must fail: proves tsc reads the package's declarations at all.
      'tsconfig.planted.json': tsconfig('nodenext', ['planted.ts']),
      'planted.ts': `import { hashicorpVault } from 'airflow-secrets/backends/hashicorp-vault';\nhashicorpVault({ url: 42 });\n`,
    },
  }),
);
const cjs = once(() =>
  installConsumer(packed(), {
    type: 'commonjs',
    link: ['@types/node'],
    files: {
      'tsconfig.nodenext.json': tsconfig('nodenext', ['index.cts']),
      'tsconfig.node16.json': tsconfig('node16', ['index.cts']),
      'index.cts': `import { getVariable, deserializeConnection } from 'airflow-secrets';\nexport const f = [getVariable, deserializeConnection];\n`,
      'run.cjs': `const a = require('airflow-secrets');\nconsole.log(typeof a.getVariable, typeof a.deserializeConnection, a.deserializeConnection('c', 'http://h').host);\n`,
    },
  }),
);

describe('TypeScript users (no SDK installed, skipLibCheck: false)', () => {
  it('an ESM project with module nodenext type-checks every subpath, passing undefined to optional options', () => {
    const c = esm();
    for (const sdk of Object.keys(pkg.peerDependencies)) {
      const probe = c.run(process.execPath, ['-e', `require.resolve(${JSON.stringify(sdk)})`]);
      expect(probe.status, `${sdk} must not be installed in this consumer`).not.toBe(0);
    }
    const r = tsc(c, 'tsconfig.json');
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the same settings reject a wrong option type (tsc reads the packed declarations)', () => {
    const r = tsc(esm(), 'tsconfig.planted.json');
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/error TS2322/);
  });
});

describe('CommonJS users', () => {
  it('require(esm) works on this Node (>= 20.19) without a flag', () => {
    const r = cjs().run(process.execPath, ['run.cjs']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('function function h');
  });

  it('TypeScript accepts require of the package under module nodenext, and refuses it under node16 (TS1479)', () => {
    const ok = tsc(cjs(), 'tsconfig.nodenext.json');
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const old = tsc(cjs(), 'tsconfig.node16.json');
    expect(old.status).not.toBe(0);
    expect(old.stdout).toContain('error TS1479');
  });
});
