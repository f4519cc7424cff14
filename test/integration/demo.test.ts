import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

describe('npm run demo', () => {
  it('shows all three kinds of source answering, and never prints a password', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, AIRFLOW_HOME: '/nonexistent-demo-home' },
      timeout: 60_000,
    });
    expect(out).toContain('chain: local-filesystem -> environment -> metastore');
    expect(out).toContain("connection 'warehouse': found in local-filesystem");
    expect(out).toContain("connection 'slack_api': found in environment");
    expect(out).toContain("connection 'orders_db': found in metastore");
    expect(out).toContain("variable 'retention_days': found in metastore");
    expect(out).toContain("variable 'nowhere': not found in any backend");
    expect(out).toMatch(/3\. metastore\s+connection\.conn_id=orders_db\s+found/);
    // The migrate step: the plan, the write read back, a second run that writes nothing, the list.
    expect(out).toMatch(
      /Plan: metastore -> local-filesystem \(1 id\)\n {2}create {2}connection {2}orders_db {2}\S+connections\.yaml#orders_db/,
    );
    expect(out).toContain('Done: 1 written, 0 unchanged, 0 not written.');
    expect(out).toContain('Done: 0 written, 1 unchanged, 0 not written.');
    expect(out).toMatch(
      /orders_db\s+local-filesystem\s+\S+#orders_db\s+metastore \(connection\.conn_id=orders_db\)/,
    );
    // The Slack connection reads as an Airflow user writes it: conn_type slack, no odd schema.
    expect(out).toContain('Connection<slack_api slack://:***@');
    expect(out).not.toContain('/https');
    // feature_flags: the file answers, the metastore's own value is shown as shadowed.
    expect(out).toMatch(
      /variable 'feature_flags': found in local-filesystem[\s\S]*?3\. metastore\s+-\s+not asked/,
    );
    expect(out).toContain('-> {"new_ui": true}');
    expect(out).toContain(
      '(metastore also holds feature_flags = {"new_ui": false}: shadowed, the chain stops at local-filesystem)',
    );
    expect(out.match(/shadowed/g)).toHaveLength(1);
    // A missing variable: the default is named as the default.
    expect(out).toContain(`-> no source has it: getVariable('nowhere', { default: 'dev' }) returns "dev"`);
    expect(out).not.toContain('(default used)');
    for (const secret of ['s3cret from a file', 'xoxb-demo-token', 'db pass', 'db%20pass']) {
      expect(out).not.toContain(secret);
    }
  });
});
