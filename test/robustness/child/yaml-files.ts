/**
 * Child process for test/robustness/yaml-limits.test.ts: each hostile YAML text (JSON array on
 * stdin) is written to a secrets file and looked up through a resolver (local-filesystem backend,
 * `onBackendError: 'throw'`), then parsed again at many stack depths (the V8 abort that deep YAML
 * caused depended on how much stack the caller had used). Prints one JSON line per text: the
 * error's name and whether it is a MalformedSecretError. A crash ends this process, not the runner.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text as readAll } from 'node:stream/consumers';
import { loadVariables, localFilesystem } from '../../../src/backends/local-filesystem/index.js';
import { MalformedSecretError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { createResolver } from '../../../src/resolver/index.js';

const texts = JSON.parse(await readAll(process.stdin)) as string[];
const dir = mkdtempSync(path.join(tmpdir(), 'yaml-limits-'));

function describe(e: unknown): { name: string; malformed: boolean } {
  return { name: e instanceof Error ? e.name : typeof e, malformed: e instanceof MalformedSecretError };
}

/** `loadVariables` called `frames` calls deep. */
function atDepth(frames: number, text: string): unknown {
  if (frames === 0) {
    try {
      loadVariables(text, 'yaml', 'v.yaml');
      return { name: 'none', malformed: false };
    } catch (e) {
      return describe(e);
    }
  }
  return [atDepth(frames - 1, text)][0];
}

try {
  for (const [i, text] of texts.entries()) {
    const file = path.join(dir, `v${i}.yaml`);
    writeFileSync(file, text, { mode: 0o600 });
    const r = createResolver({
      backends: [localFilesystem({ variablesFilePath: file, logger: silentLogger })],
      onBackendError: 'throw',
      logger: silentLogger,
    });
    let lookup: unknown = { name: 'none', malformed: false };
    for (let k = 0; k < 3; k++) {
      try {
        await r.getVariable('k');
      } catch (e) {
        lookup = describe(e);
      }
    }
    await r.close();
    const depths = new Set<string>();
    for (let frames = 0; frames <= 3000; frames += 100) depths.add(JSON.stringify(atDepth(frames, text)));
    process.stdout.write(`${JSON.stringify({ i, lookup, depths: [...depths].map((d) => JSON.parse(d)) })}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
