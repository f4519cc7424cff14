/**
 * `airflow-secrets` — look up Airflow connections and variables the way Airflow does, from the same
 * environment, and explain where each answer comes from. Exit codes: 0 found / done, 1 not found,
 * 2 usage or configuration error.
 */
import type { SecretKind } from '../backend.js';
import { resolverFromEnv } from '../config/index.js';
import { describeError, isAirflowSecretsError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Explanation, Resolver } from '../resolver/index.js';
import { readEnvFile } from './env-file.js';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const USAGE = `Usage: airflow-secrets [--env-file PATH] [--strict] <command>

Look up Airflow connections and variables through Airflow's chain:
[AIRFLOW__SECRETS__BACKEND] -> AIRFLOW_CONN_* / AIRFLOW_VAR_* -> metadata database.

Commands:
  connections get <conn_id> [--output uri|json]   print a connection (uri is the default)
  variables get <key> [--json]                     print a variable (--json: parse and pretty-print it)
  explain connection|variable <id> [--json]        which backend was asked for which secret name,
                                                   with what outcome and how long it took (no values)
  connections add <conn_id> (--conn-uri URI | --conn-json JSON | --conn-type T [--conn-host H]
                  [--conn-login L] [--conn-password P] [--conn-schema S] [--conn-port N]
                  [--conn-extra JSON] [--conn-description D]) [--overwrite]
  connections delete <conn_id>
  variables set <key> <value> [--description D]
  variables delete <key>                           (add/set/delete write to the metadata database)
  connections list | variables list [--json] [--source NAME] [--limit N]
                                                   every id the chain holds: the backend that serves it
                                                   and those where it is shadowed (no values)
  migrate --from SOURCE --to TARGET [--dry-run] [--only ID,...] [--kind connections|variables]
          [--format uri|json] [--overwrite] [--json] [--kms-key-id K] [--tag KEY=VALUE]...
          [--parameter-type SecureString|String] [--tier T] [--replica-locations L1,L2]
                                                   plan, write and read back; SOURCE: metastore,
                                                   environment, file:PATH, backend; TARGET: backend,
                                                   file:PATH, metastore

Options:
  --env-file PATH   read KEY=VALUE lines (an Astro-style .env) over the environment
  --strict          a failing backend fails the lookup (default: log it and ask the next backend)
  -h, --help        show this help

Exit codes: 0 found or done, 1 not found (migrate: conflicts left), 2 usage or configuration error,
3 a backend failed (list, migrate).`;

class UsageError extends Error {}

function takeFlag(args: string[], flag: string): boolean {
  const i = args.indexOf(flag);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
}

function takeOption(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const a = args[i]!;
  if (a.includes('=')) {
    args.splice(i, 1);
    return a.slice(name.length + 1);
  }
  const v = args[i + 1];
  if (v === undefined) throw new UsageError(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function cliLogger(io: CliIO): Logger {
  return {
    debug(message) {
      if (io.env.AIRFLOW_SECRETS_DEBUG) io.err(`debug: ${message}`);
    },
    warn(message) {
      io.err(`warning: ${message}`);
    },
    error(message) {
      io.err(`error: ${message}`);
    },
  };
}

/** Human-readable explain output: one line per backend. */
export function formatExplanation(x: Explanation, backendNames: readonly string[]): string {
  const what = `${x.kind} '${x.id}'`;
  const head = x.found ? `${what}: found in ${x.source}` : `${what}: not found in any backend`;
  const lines = [`${head} (cache: ${x.cache}, ${x.durationMs.toFixed(1)} ms)`];
  if (x.cache === 'hit') return lines.join('\n');
  const width = Math.max(...backendNames.map((n) => n.length), 7);
  const nameWidth = Math.max(1, ...x.steps.map((s) => (s.secretName ?? '-').length));
  x.steps.forEach((s, i) => {
    const outcome =
      s.outcome === 'not-found'
        ? 'not found'
        : s.outcome === 'error'
          ? `error [${s.reason}] ${s.detail ?? ''}`.trimEnd()
          : s.outcome === 'skipped'
            ? `skipped (${s.detail ?? ''})`
            : 'found';
    const name = s.secretName ?? '-';
    lines.push(
      `  ${i + 1}. ${s.backend.padEnd(width)}  ${name.padEnd(nameWidth)}  ${outcome}  ${s.durationMs.toFixed(1)} ms`,
    );
  });
  for (let i = x.steps.length; i < backendNames.length; i++) {
    lines.push(
      `  ${i + 1}. ${backendNames[i]!.padEnd(width)}  ${'-'.padEnd(nameWidth)}  not asked (answered above)`,
    );
  }
  return lines.join('\n');
}

async function withResolver<T>(io: CliIO, strict: boolean, fn: (r: Resolver) => Promise<T>): Promise<T> {
  const r = await resolverFromEnv(io.env, {
    logger: cliLogger(io),
    onBackendError: strict ? 'throw' : 'continue',
    cache: false,
  });
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const args = [...argv];
  try {
    if (args.length === 0 || takeFlag(args, '--help') || takeFlag(args, '-h')) {
      io.out(USAGE);
      return args.length === 0 && argv.length === 0 ? 2 : 0;
    }
    const envFile = takeOption(args, '--env-file');
    if (envFile !== undefined) io = { ...io, env: { ...io.env, ...readEnvFile(envFile) } };
    const strict = takeFlag(args, '--strict');
    const [group, action, ...rest] = args;

    if (group === 'connections' && action === 'get') {
      const output = takeOption(rest, '--output') ?? takeOption(rest, '-o') ?? 'uri';
      if (output !== 'uri' && output !== 'json') throw new UsageError('--output must be uri or json');
      const id = single(rest, 'conn_id');
      return await withResolver(io, strict, async (r) => {
        const c = await r.getConnection(id);
        if (!c) {
          io.err(`The conn_id \`${id}\` isn't defined`);
          return 1;
        }
        io.out(output === 'uri' ? c.getUri() : c.asJson());
        return 0;
      });
    }
    if (group === 'variables' && action === 'get') {
      const json = takeFlag(rest, '--json');
      const key = single(rest, 'key');
      return await withResolver(io, strict, async (r) => {
        const v = await r.getVariable(key);
        if (v === null) {
          io.err(`Variable ${key} does not exist`);
          return 1;
        }
        io.out(json ? JSON.stringify(JSON.parse(v), null, 2) : v);
        return 0;
      });
    }
    if (group === 'explain') {
      const kind: SecretKind | undefined =
        action === 'connection' || action === 'connections'
          ? 'connection'
          : action === 'variable' || action === 'variables'
            ? 'variable'
            : action === 'config'
              ? 'config'
              : undefined;
      if (!kind) throw new UsageError('explain needs connection or variable');
      const json = takeFlag(rest, '--json');
      const id = single(rest, 'id');
      return await withResolver(io, false, async (r) => {
        const x = await r.explain(kind, id, { fresh: true });
        io.out(
          json
            ? JSON.stringify(x, null, 2)
            : formatExplanation(
                x,
                r.backends.map((b) => b.name),
              ),
        );
        return x.found ? 0 : 1;
      });
    }
    if (((group === 'connections' || group === 'variables') && action === 'list') || group === 'migrate') {
      const { inventoryCommand } = await import('./inventory-commands.js');
      return await inventoryCommand(group, group === 'migrate' ? args.slice(1) : rest, io);
    }
    if (
      (group === 'connections' && (action === 'add' || action === 'delete')) ||
      (group === 'variables' && (action === 'set' || action === 'delete'))
    ) {
      const { metastoreCommand } = await import('./metastore-commands.js');
      return await metastoreCommand(group, action, rest, io);
    }
    throw new UsageError(`Unknown command: ${[group, action].filter(Boolean).join(' ')}`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`airflow-secrets: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (isAirflowSecretsError(e)) {
      io.err(`airflow-secrets: ${e.name}: ${e.message}`);
      return e.name === 'ConnectionNotFoundError' || e.name === 'VariableNotFoundError' ? 1 : 2;
    }
    if (e instanceof SyntaxError) {
      io.err('airflow-secrets: the value is not valid JSON');
      return 2;
    }
    io.err(`airflow-secrets: unexpected failure: ${describeError(e)}`);
    return 2;
  }
}

function single(rest: string[], what: string): string {
  const unknown = rest.filter((a) => a.startsWith('-'));
  if (unknown.length) throw new UsageError(`Unknown option ${unknown[0]}`);
  if (rest.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return rest[0]!;
}
