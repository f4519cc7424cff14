/**
 * `npm run demo` — the main job on embedded defaults. It lays out a scratch AIRFLOW_HOME exactly as an
 * Airflow deployment would have it:
 *   - a local-filesystem secrets backend (AIRFLOW__SECRETS__BACKEND + BACKEND_KWARGS) with a YAML
 *     connections file and a JSON variables file,
 *   - AIRFLOW_CONN_* / AIRFLOW_VAR_* environment variables,
 *   - the embedded SQLite metadata database ($AIRFLOW_HOME/airflow.db), Fernet-encrypted,
 * then builds the chain from that environment alone and shows, for several lookups, which source
 * answered and which secret name each backend was asked for; then migrates the database's
 * connections into the backend's file and lists who serves each id. No network is used.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { metastore } from '../src/backends/metastore.js';
import { formatExplanation, main } from '../src/cli/main.js';
import { Connection, resolverFromEnv } from '../src/index.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-secrets-demo-'));
const FERNET_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='; // a throwaway demo key

try {
  // 1. The custom backend: Airflow's LocalFilesystemBackend files.
  writeFileSync(
    path.join(home, 'connections.yaml'),
    [
      'warehouse:',
      '  conn_type: postgres',
      '  host: warehouse.internal',
      '  login: analyst',
      '  password: "s3cret from a file"',
      '  port: 5432',
      '  schema: analytics',
      '  extra_dejson:',
      '    sslmode: require',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  writeFileSync(path.join(home, 'variables.json'), JSON.stringify({ feature_flags: '{"new_ui": true}' }), {
    mode: 0o600,
  });

  // 2. The metadata database, written the way Airflow writes it (encrypted with the Fernet key).
  const db = metastore({ url: `sqlite:///${path.join(home, 'airflow.db')}`, fernetKey: FERNET_KEY });
  await db.setConnection(Connection.fromUri('mysql://app:db%20pass@orders-db:3306/orders', 'orders_db'));
  await db.setVariable('retention_days', '30');
  await db.setVariable('feature_flags', '{"new_ui": false}'); // shadowed by the file above
  await db.close?.();

  // 3. Nothing but Airflow's own environment variables from here on.
  const env = {
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__FERNET_KEY: FERNET_KEY,
    AIRFLOW__SECRETS__BACKEND: 'airflow.secrets.local_filesystem.LocalFilesystemBackend',
    AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
      connections_file_path: path.join(home, 'connections.yaml'),
      variables_file_path: path.join(home, 'variables.json'),
    }),
    // The Slack provider's own URI form: conn_type slack, the token as the password.
    AIRFLOW_CONN_SLACK_API: 'slack://:xoxb-demo-token@/?timeout=30',
    AIRFLOW_VAR_ENVIRONMENT: 'staging',
  };
  const resolver = await resolverFromEnv(env);
  const names = resolver.backends.map((b) => b.name);
  console.log(`AIRFLOW_HOME=${home}`);
  console.log(`chain: ${names.join(' -> ')}\n`);

  // A later source that also has the id never gets to answer: ask each one directly, to show it.
  const shadowedBy = async (kind: 'connection' | 'variable', id: string, source: string | null) => {
    const later = resolver.backends.slice(resolver.backends.findIndex((b) => b.name === source) + 1);
    const notes: string[] = [];
    for (const b of later) {
      const v = kind === 'connection' ? await b.getConnection(id) : await b.getVariable(id);
      if (v !== null)
        notes.push(
          `     (${b.name} also holds ${id} = ${String(v)}: shadowed, the chain stops at ${source})`,
        );
    }
    return notes;
  };
  const lookups: Array<['connection' | 'variable', string]> = [
    ['connection', 'warehouse'],
    ['connection', 'slack_api'],
    ['connection', 'orders_db'],
    ['variable', 'feature_flags'],
    ['variable', 'environment'],
    ['variable', 'retention_days'],
    ['variable', 'nowhere'],
  ];
  for (const [kind, id] of lookups) {
    const x = await resolver.explain(kind, id);
    console.log(formatExplanation(x, names));
    if (kind === 'connection') {
      const c = await resolver.getConnection(id);
      // String(c) masks the password; getUri() is the explicit way to see it.
      console.log(`  -> ${String(c)}`);
      for (const note of await shadowedBy(kind, id, x.source)) console.log(note);
      console.log('');
    } else if (x.found) {
      console.log(`  -> ${await resolver.getVariable(id)}`);
      for (const note of await shadowedBy(kind, id, x.source)) console.log(note);
      console.log('');
    } else {
      const v = await resolver.getVariable(id, { default: 'dev' });
      console.log(
        `  -> no source has it: getVariable('${id}', { default: 'dev' }) returns ${JSON.stringify(v)}\n`,
      );
    }
  }
  await resolver.close();

  // 4. Migrate: move the metadata database's connections into the configured backend (here the
  //    local connections file; a cloud backend works the same), see the plan, run it twice, and
  //    confirm with `connections list` which source now serves each id. No value is printed.
  const cli = { out: (t: string) => console.log(t), err: (t: string) => console.error(t), env };
  console.log('$ airflow-secrets migrate --from metastore --to backend --kind connections');
  await main(['migrate', '--from', 'metastore', '--to', 'backend', '--kind', 'connections'], cli);
  console.log('\n$ airflow-secrets migrate --from metastore --to backend --kind connections   # again');
  await main(['migrate', '--from', 'metastore', '--to', 'backend', '--kind', 'connections'], cli);
  console.log('\n$ airflow-secrets connections list');
  await main(['connections', 'list'], cli);
} finally {
  rmSync(home, { recursive: true, force: true });
}
