import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  type: string;
  sideEffects: boolean;
  files: string[];
  exports: Record<string, { types: string; default: string } | string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
};

describe('package.json', () => {
  it('marks every peer dependency (cloud SDKs, database drivers) optional and installs it for tests', () => {
    const peers = Object.keys(pkg.peerDependencies);
    expect(peers.length).toBeGreaterThanOrEqual(10);
    for (const p of peers) {
      expect(pkg.peerDependenciesMeta[p]?.optional, p).toBe(true);
      expect(pkg.devDependencies[p], `${p} in devDependencies`).toBeDefined();
      expect(pkg.dependencies[p], `${p} must not be a hard dependency`).toBeUndefined();
    }
  });

  it('is ESM with an exports map that lists types first and points at sources that exist', () => {
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.files).toEqual(['dist', 'docs']);
    for (const [sub, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      expect(Object.keys(target)[0], sub).toBe('types');
      const src = target.default.replace('./dist/', 'src/').replace(/\.js$/, '.ts');
      expect(existsSync(path.join(root, src)), `${sub} -> ${src}`).toBe(true);
    }
    const bin = pkg.bin['airflow-secrets']!.replace('./dist/', 'src/').replace(/\.js$/, '.ts');
    expect(existsSync(path.join(root, bin))).toBe(true);
  });
});
