import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the testing kit under node:test', () => {
  it('runs the example service suite with useTestResolver/withTestResolver and passes every test', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=tap',
        'examples/testing-with-vitest/service.node-test.ts',
      ],
      { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(stdout).toMatch(/^# pass 3$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });
});
