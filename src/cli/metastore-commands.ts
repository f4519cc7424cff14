/**
 * The CLI's writes to Airflow's metadata database, with Airflow's command and option names:
 * `variables set KEY VALUE [--description D]`, `variables delete KEY`,
 * `connections add ID (--conn-uri URI | --conn-json JSON | --conn-type T [--conn-host …]) [--overwrite]`,
 * `connections delete ID`. The database and key come from the environment exactly as for lookups
 * (`AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`, `AIRFLOW__CORE__FERNET_KEY`, `AIRFLOW_HOME`); a new
 * SQLite file gets Airflow's two tables. No value is ever printed.
 * Exit codes: 0 done, 1 not found (or the id already exists), 2 usage or configuration error.
 * The commands' declarations (arguments, options) are rows of `./commands.ts`.
 */
import { mkdirSync } from 'node:fs';
import { type MetastoreBackend, metastoreFromSettings } from '../backends/metastore.js';
import { metastoreSettingsFromEnv } from '../config/index.js';
import { Connection } from '../connection.js';
import { escapeText } from '../errors.js';
import type { Logger } from '../logger.js';
import { ConnectionExistsError } from '../metastore/store.js';
import { type CommandCall, cliLogger, EXIT, UsageError } from './spec.js';

/** The metastore from the environment (a new SQLite file's folder created), closed after `fn`. */
async function withMetastore(
  call: CommandCall,
  fn: (b: MetastoreBackend) => Promise<number>,
): Promise<number> {
  const logger: Logger = cliLogger(call.io, { prefix: 'airflow-secrets: ' });
  const settings = await metastoreSettingsFromEnv(call.io.env);
  if (!settings.sqlAlchemyConn) mkdirSync(settings.airflowHome, { recursive: true });
  const backend = metastoreFromSettings({ ...settings, logger });
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

export function variablesSet(call: CommandCall): Promise<number> {
  const [key, value] = call.args as [string, string];
  return withMetastore(call, async (b) => {
    await b.setVariable(key, value, { description: call.value('--description') ?? null });
    call.io.out(`Variable ${key} created`);
    return EXIT.ok;
  });
}

export function variablesDelete(call: CommandCall): Promise<number> {
  const key = call.args[0]!;
  return withMetastore(call, async (b) => {
    if (!(await b.deleteVariable(key))) {
      call.io.err(`Variable ${escapeText(key)} does not exist`);
      return EXIT.notFound;
    }
    call.io.out(`Variable ${key} deleted`);
    return EXIT.ok;
  });
}

export function connectionsDelete(call: CommandCall): Promise<number> {
  const id = call.args[0]!;
  return withMetastore(call, async (b) => {
    if (!(await b.deleteConnection(id))) {
      call.io.err(`Did not find a connection with \`conn_id\`=${escapeText(id)}`);
      return EXIT.notFound;
    }
    call.io.out(`Successfully deleted connection with \`conn_id\`=${id}`);
    return EXIT.ok;
  });
}

export function connectionsAdd(call: CommandCall): Promise<number> {
  const id = call.args[0]!;
  const conn = connectionFromOptions(id, call.values, call.words);
  return withMetastore(call, async (b) => {
    try {
      await b.setConnection(conn, { overwrite: call.flag('--overwrite') });
    } catch (e) {
      if (!(e instanceof ConnectionExistsError)) throw e;
      call.io.err(
        `A connection with \`conn_id\`=${e.connId} already exists. Pass --overwrite to replace it.`,
      );
      return EXIT.notFound;
    }
    call.io.out(
      `Successfully added \`conn_id\`=${id} (conn_type ${conn.type}${conn.host ? `, host ${conn.host}` : ''})`,
    );
    return EXIT.ok;
  });
}

/** Airflow's `connections add` rules: exactly one of URI, JSON, or conn-type with fields. */
function connectionFromOptions(
  id: string,
  o: Readonly<Record<string, string>>,
  words: readonly string[],
): Connection {
  const usage = (message: string) => new UsageError(message, words);
  const uri = o['--conn-uri'];
  const json = o['--conn-json'];
  const type = o['--conn-type'];
  if (!uri && !json && !type)
    throw usage('Must supply either conn-uri or conn-json if not supplying conn-type');
  if (uri && json) throw usage('Cannot supply both conn-uri and conn-json');
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
      throw usage(`The following args are not compatible with the ${flag} flag: ${bad.join(', ')}`);
  };
  if (uri) {
    clash('--conn-uri', ['--conn-extra']);
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri)) throw usage('The URI provided to --conn-uri is invalid');
    const conn = Connection.fromUri(uri, id);
    if (o['--conn-extra'] !== undefined) conn.extra = o['--conn-extra'];
    if (o['--conn-description'] !== undefined) conn.description = o['--conn-description'];
    return conn;
  }
  if (json) {
    clash('--conn-json', []);
    const conn = Connection.fromJson(json, id);
    if (!conn.type) throw usage('conn-json is invalid; must supply conn-type');
    if (o['--conn-description'] !== undefined) conn.description = o['--conn-description'];
    return conn;
  }
  const portText = o['--conn-port'];
  if (portText !== undefined && !/^\d+$/.test(portText.trim())) throw usage('--conn-port must be an integer');
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
