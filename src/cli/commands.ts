/**
 * The command table: one row per command, with its words, arguments, options and help. The parser
 * and the help read only these rows; each row's `run` loads its module on first use, so
 * `airflow-secrets --help` loads no backend. Add a command by adding a row (an option name keeps one
 * meaning, value or flag, across the table: test/unit/cli.test.ts checks it).
 */
import { type CommandCall, type CommandSpec, INTERNAL_EXIT_HELP, type OptionSpec } from './spec.js';

const lookup = () => import('./lookup-commands.js');
const metastore = () => import('./metastore-commands.js');
const inventory = () => import('./inventory-commands.js');

const LOOKUP_EXITS = `Exit codes:
  0  found
  1  not found (every source answered)
  2  usage or configuration error
  3  not found while at least one source failed (the failure's reason is printed)
${INTERNAL_EXIT_HELP}`;
const INVENTORY_EXITS = `Exit codes:
  0  done (migrate: planned, under --dry-run)
  1  migrate: conflicts, or ids that cannot be moved, are left
  2  usage or configuration error (a misconfigured backend, a missing SDK, a write option or
     --format the target does not take): nothing was listed, planned or written
  3  a backend failed (a listing, a read, a write or a read-back)
${INTERNAL_EXIT_HELP}`;
const LIST_OPTIONS: readonly OptionSpec[] = [
  { name: '--json', help: 'the inventory as JSON' },
  { name: '--source', value: 'NAME', help: 'only the ids this backend serves or shadows' },
  { name: '--limit', value: 'N', help: 'list at most N names per backend' },
];
const MIGRATE_OPTIONS: readonly OptionSpec[] = [
  { name: '--from', value: 'SOURCE', help: 'metastore, environment, file:PATH or backend' },
  { name: '--to', value: 'TARGET', help: 'backend, file:PATH or metastore' },
  { name: '--dry-run', help: 'print the plan, write nothing' },
  { name: '--only', value: 'ID,...', help: 'only these ids' },
  {
    name: '--kind',
    value: 'KIND',
    choices: ['connections', 'variables'],
    help: 'connections or variables (default: both)',
  },
  {
    name: '--format',
    value: 'FORMAT',
    choices: ['uri', 'json'],
    help: 'uri or json: how connections are written',
  },
  { name: '--overwrite', help: 'replace values that differ at the target' },
  { name: '--json', help: 'the plan and the result as JSON' },
  { name: '--kms-key-id', value: 'KEY', help: 'AWS: the KMS key for new secrets or parameters' },
  {
    name: '--tag',
    value: 'KEY=VALUE',
    repeatable: true,
    help: 'a tag or label on what is written (repeatable)',
  },
  {
    name: '--parameter-type',
    value: 'TYPE',
    choices: ['SecureString', 'String'],
    help: 'SSM: SecureString (default) or String',
  },
  {
    name: '--tier',
    value: 'TIER',
    choices: ['Standard', 'Advanced', 'Intelligent-Tiering'],
    help: 'SSM: the parameter tier',
  },
  { name: '--replica-locations', value: 'L1,L2', help: 'Google: user-managed replication locations' },
];

const WRITE_EXITS = `Exit codes:
  0  done
  1  not found (delete), or the id already exists (add without --overwrite)
  2  usage or configuration error
  3  the metastore could not be reached or written (the reason is printed)
${INTERNAL_EXIT_HELP}`;

const CONN_FIELDS: readonly OptionSpec[] = [
  { name: '--conn-uri', value: 'URI', help: 'the connection as an Airflow URI' },
  { name: '--conn-json', value: 'JSON', help: 'the connection as Airflow JSON' },
  { name: '--conn-type', value: 'TYPE', help: 'the conn_type (with the field options below)' },
  { name: '--conn-host', value: 'HOST', help: 'host' },
  { name: '--conn-login', value: 'LOGIN', help: 'login' },
  { name: '--conn-password', value: 'PASSWORD', help: 'password (never printed)' },
  { name: '--conn-schema', value: 'SCHEMA', help: 'schema' },
  { name: '--conn-port', value: 'PORT', help: 'port (an integer)' },
  { name: '--conn-extra', value: 'JSON', help: 'extra, a JSON object (with --conn-uri or --conn-type)' },
  { name: '--conn-description', value: 'TEXT', help: 'description' },
  { name: '--overwrite', help: 'replace a connection that already exists' },
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    words: ['connections', 'get'],
    args: [{ name: 'CONN_ID' }],
    summary: 'print a connection (as a URI by default)',
    options: [
      {
        name: '--output',
        alias: '-o',
        value: 'FORMAT',
        choices: ['uri', 'json'],
        help: 'uri (default) or json',
      },
    ],
    exits: LOOKUP_EXITS,
    run: async (c: CommandCall) => (await lookup()).connectionsGet(c),
  },
  {
    words: ['variables', 'get'],
    args: [{ name: 'KEY' }],
    summary: 'print a variable',
    options: [{ name: '--json', help: 'parse the value as JSON and pretty-print it' }],
    exits: LOOKUP_EXITS,
    run: async (c) => (await lookup()).variablesGet(c),
  },
  {
    words: ['explain'],
    args: [
      { name: 'KIND', choices: ['connection', 'variable', 'config'], aliases: ['connections', 'variables'] },
      { name: 'ID' },
    ],
    summary: 'which backend was asked for which secret name, the outcome and the time (no values)',
    details:
      'KIND is connection, variable or config. explain asks the backends in chain order until one has\n' +
      'the id and prints every failure on the way: --strict does not stop it at the first failure.',
    options: [{ name: '--json', help: 'the explanation as JSON' }],
    exits: LOOKUP_EXITS,
    run: async (c) => (await lookup()).explain(c),
  },
  {
    words: ['connections', 'add'],
    args: [{ name: 'CONN_ID' }],
    summary: 'add a connection to the metadata database',
    details:
      "Give exactly one of --conn-uri, --conn-json or --conn-type (with field options), as in Airflow's\n" +
      '`airflow connections add`. The password is stored encrypted with AIRFLOW__CORE__FERNET_KEY.',
    options: CONN_FIELDS,
    exits: WRITE_EXITS,
    run: async (c) => (await metastore()).connectionsAdd(c),
  },
  {
    words: ['connections', 'delete'],
    args: [{ name: 'CONN_ID' }],
    summary: 'delete a connection from the metadata database',
    options: [],
    exits: WRITE_EXITS,
    run: async (c) => (await metastore()).connectionsDelete(c),
  },
  {
    words: ['variables', 'set'],
    args: [{ name: 'KEY' }, { name: 'VALUE' }],
    summary: 'set a variable in the metadata database',
    options: [{ name: '--description', value: 'TEXT', help: 'description' }],
    exits: WRITE_EXITS,
    run: async (c) => (await metastore()).variablesSet(c),
  },
  {
    words: ['connections', 'list'],
    args: [],
    summary: 'every id the chain holds: the backend that serves it and where it is shadowed (no values)',
    options: LIST_OPTIONS,
    exits: INVENTORY_EXITS,
    run: async (c) => (await inventory()).listCommand(c),
  },
  {
    words: ['variables', 'list'],
    args: [],
    summary: 'every variable key the chain holds, the same way',
    options: LIST_OPTIONS,
    exits: INVENTORY_EXITS,
    run: async (c) => (await inventory()).listCommand(c),
  },
  {
    words: ['migrate'],
    args: [],
    summary: 'copy connections and variables from one source to another: plan, write, read back',
    details: 'See docs/migration.md.',
    options: MIGRATE_OPTIONS,
    exits: INVENTORY_EXITS,
    run: async (c) => (await inventory()).migrateCommand(c),
  },
  {
    words: ['variables', 'delete'],
    args: [{ name: 'KEY' }],
    summary: 'delete a variable from the metadata database',
    options: [],
    exits: WRITE_EXITS,
    run: async (c) => (await metastore()).variablesDelete(c),
  },
];
