/**
 * The CLI's writes to Airflow's metadata database, with Airflow's command and option names:
 * `variables set KEY VALUE [--description D]`, `variables delete KEY`,
 * `connections add ID (--conn-uri URI | --conn-json JSON | --conn-type T [--conn-host …]) [--overwrite]`,
 * `connections delete ID`. The database and key come from the environment exactly as for lookups
 * (`AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`, `AIRFLOW__CORE__FERNET_KEY`, `AIRFLOW_HOME`); a new
 * SQLite file gets Airflow's two tables. No value is ever printed.
 * Exit codes: 0 done, 1 not found (or the id already exists), 2 usage or configuration error.
 */
import { mkdirSync } from 'node:fs';
import { type MetastoreBackend, metastoreFromSettings } from '../backends/metastore.js';
import { metastoreSettingsFromEnv } from '../config/index.js';
import { Connection } from '../connection.js';
import { describeError, isAirflowSecretsError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ConnectionExistsError } from '../metastore/store.js';

export interface MetastoreCommandContext {
  env: Record<string, string | undefined>;
  out: (s: string) => void;
  err: (s: string) => void;
}

const VALUE_OPTIONS = {
  connections: [
    '--conn-uri',
    '--conn-json',
    '--conn-type',
    '--conn-host',
    '--conn-login',
    '--conn-password',
    '--conn-schema',
    '--conn-port',
    '--conn-extra',
    '--conn-description',
  ],
  variables: ['--description'],
} as const;
const FLAGS = { connections: ['--overwrite'], variables: [] } as const;

class Usage extends Error {}

export async function metastoreCommand(
  group: 'connections' | 'variables',
  action: string,
  argv: string[],
  ctx: MetastoreCommandContext,
): Promise<number> {
  let backend: MetastoreBackend | undefined;
  try {
    const { positional, options, flags } = parseArgs(group, argv);
    const logger: Logger = {
      debug() {},
      warn: (m) => ctx.err(`airflow-secrets: ${m}`),
      error: (m) => ctx.err(`airflow-secrets: ${m}`),
    };
    const settings = await metastoreSettingsFromEnv(ctx.env);
    if (!settings.sqlAlchemyConn) mkdirSync(settings.airflowHome, { recursive: true });
    backend = metastoreFromSettings({ ...settings, logger });
    const id = positional[0];
    if (group === 'variables' && action === 'set') {
      if (positional.length !== 2) throw new Usage('variables set needs KEY and VALUE');
      await backend.setVariable(id!, positional[1]!, { description: options['--description'] ?? null });
      ctx.out(`Variable ${id} created`);
      return 0;
    }
    if (action === 'delete') {
      if (positional.length !== 1)
        throw new Usage(`${group} delete needs exactly one ${group === 'variables' ? 'KEY' : 'CONN_ID'}`);
      const deleted =
        group === 'variables' ? await backend.deleteVariable(id!) : await backend.deleteConnection(id!);
      if (!deleted) {
        ctx.err(
          group === 'variables'
            ? `Variable ${id} does not exist`
            : `Did not find a connection with \`conn_id\`=${id}`,
        );
        return 1;
      }
      ctx.out(
        group === 'variables'
          ? `Variable ${id} deleted`
          : `Successfully deleted connection with \`conn_id\`=${id}`,
      );
      return 0;
    }
    if (group === 'connections' && action === 'add') {
      if (positional.length !== 1) throw new Usage('connections add needs exactly one CONN_ID');
      const conn = connectionFromOptions(id!, options);
      await backend.setConnection(conn, { overwrite: flags.has('--overwrite') });
      ctx.out(
        `Successfully added \`conn_id\`=${id} (conn_type ${conn.type}${conn.host ? `, host ${conn.host}` : ''})`,
      );
      return 0;
    }
    throw new Usage(`Unknown command: ${group} ${action}`);
  } catch (e) {
    if (e instanceof Usage) {
      ctx.err(`airflow-secrets: ${e.message}`);
      return 2;
    }
    if (e instanceof ConnectionExistsError) {
      ctx.err(`A connection with \`conn_id\`=${e.connId} already exists. Pass --overwrite to replace it.`);
      return 1;
    }
    ctx.err(
      `airflow-secrets: ${isAirflowSecretsError(e) ? `${e.name}: ${e.message}` : `unexpected failure: ${describeError(e)}`}`,
    );
    return 2;
  } finally {
    await backend?.close();
  }
}

/** Airflow's `connections add` rules: exactly one of URI, JSON, or conn-type with fields. */
function connectionFromOptions(id: string, o: Record<string, string>): Connection {
  const uri = o['--conn-uri'];
  const json = o['--conn-json'];
  const type = o['--conn-type'];
  if (!uri && !json && !type)
    throw new Usage('Must supply either conn-uri or conn-json if not supplying conn-type');
  if (uri && json) throw new Usage('Cannot supply both conn-uri and conn-json');
  const fields = [
    '--conn-type',
    '--conn-host',
    '--conn-login',
    '--conn-password',
    '--conn-schema',
    '--conn-port',
  ];
  const clash = (flag: string, allowed: string[]) => {
    const bad = Object.keys(o).filter(
      (k) =>
        k !== flag &&
        !allowed.includes(k) &&
        (fields.includes(k) || k === '--conn-extra' || k === '--conn-uri' || k === '--conn-json'),
    );
    if (bad.length)
      throw new Usage(`The following args are not compatible with the ${flag} flag: ${bad.join(', ')}`);
  };
  if (uri) {
    clash('--conn-uri', ['--conn-extra']);
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri)) throw new Usage('The URI provided to --conn-uri is invalid');
    const conn = Connection.fromUri(uri, id);
    if (o['--conn-extra'] !== undefined) conn.extra = o['--conn-extra'];
    if (o['--conn-description'] !== undefined) conn.description = o['--conn-description'];
    return conn;
  }
  if (json) {
    clash('--conn-json', []);
    const conn = Connection.fromJson(json, id);
    if (!conn.type) throw new Usage('conn-json is invalid; must supply conn-type');
    if (o['--conn-description'] !== undefined) conn.description = o['--conn-description'];
    return conn;
  }
  const portText = o['--conn-port'];
  if (portText !== undefined && !/^\d+$/.test(portText.trim()))
    throw new Usage('--conn-port must be an integer');
  const conn = new Connection({
    id,
    type: type ?? null,
    host: o['--conn-host'] ?? null,
    login: o['--conn-login'] ?? null,
    password: o['--conn-password'] ?? null,
    schema: o['--conn-schema'] ?? null,
    port: portText === undefined ? null : Number(portText),
    description: o['--conn-description'] ?? null,
  });
  if (o['--conn-extra'] !== undefined) conn.extra = o['--conn-extra'];
  return conn;
}

function parseArgs(group: 'connections' | 'variables', argv: string[]) {
  const valueOptions: readonly string[] = VALUE_OPTIONS[group];
  const flagOptions: readonly string[] = FLAGS[group];
  const positional: string[] = [];
  const options: Record<string, string> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (flagOptions.includes(name) && eq < 0) {
      flags.add(name);
    } else if (valueOptions.includes(name)) {
      const value = eq < 0 ? argv[++i] : a.slice(eq + 1);
      if (value === undefined) throw new Usage(`${name} needs a value`);
      options[name] = value;
    } else {
      throw new Usage(`Unknown option ${name}`);
    }
  }
  return { positional, options, flags };
}
