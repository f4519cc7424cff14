/**
 * The lookup commands: `connections get`, `variables get` and `explain`, through the chain built
 * from the environment (no cache: every run asks the sources). A miss exits 1 when every source
 * answered and 3 when one failed, with each failure's backend and reason printed.
 */
import type { SecretKind } from '../backend.js';
import { resolverFromEnv } from '../config/index.js';
import type { Resolver } from '../resolver/index.js';
import { formatExplanation, formatFailures, jsonText, type PrintedFailure } from './format.js';
import { type CliIO, type CommandCall, cliLogger, EXIT } from './spec.js';

/** The chain from the environment, closed when `fn` settles. */
async function withResolver<T>(io: CliIO, strict: boolean, fn: (r: Resolver) => Promise<T>): Promise<T> {
  const r = await resolverFromEnv(io.env, {
    logger: cliLogger(io),
    onBackendError: strict ? 'throw' : 'continue',
    cache: false,
    // Ids typed at a prompt are refused when they would leave the backend's path (`../`).
    confineIds: true,
  });
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

function isNotFound(e: unknown): e is Error & { failures: readonly PrintedFailure[] } {
  return e instanceof Error && (e.name === 'ConnectionNotFoundError' || e.name === 'VariableNotFoundError');
}

/** Print Airflow's not-found text, and the failures if any: exit 1 or 3. */
function notFound(io: CliIO, e: unknown): number {
  if (!isNotFound(e)) throw e;
  io.err(e.message);
  const failures = e.failures;
  if (failures.length === 0) return EXIT.notFound;
  io.err(formatFailures(failures));
  return EXIT.sourceFailed;
}

export async function connectionsGet(call: CommandCall): Promise<number> {
  const id = call.args[0]!;
  const output = call.value('--output') ?? 'uri';
  return withResolver(call.io, call.strict, async (r) => {
    try {
      const c = await r.getConnectionOrThrow(id);
      call.io.out(output === 'json' ? c.asJson() : c.getUri());
      return EXIT.ok;
    } catch (e) {
      return notFound(call.io, e);
    }
  });
}

export async function variablesGet(call: CommandCall): Promise<number> {
  const key = call.args[0]!;
  return withResolver(call.io, call.strict, async (r) => {
    let v: string;
    try {
      v = await r.getVariableOrThrow(key);
    } catch (e) {
      return notFound(call.io, e);
    }
    if (!call.flag('--json')) {
      call.io.out(v);
      return EXIT.ok;
    }
    try {
      call.io.out(JSON.stringify(JSON.parse(v), null, 2));
      return EXIT.ok;
    } catch {
      call.io.err(`airflow-secrets: the value of variable ${key} is not valid JSON`);
      return EXIT.usage;
    }
  });
}

const KINDS: Record<string, SecretKind> = {
  connection: 'connection',
  connections: 'connection',
  variable: 'variable',
  variables: 'variable',
  config: 'config',
};

export async function explain(call: CommandCall): Promise<number> {
  const kind = KINDS[call.args[0]!]!;
  const id = call.args[1]!;
  return withResolver(call.io, false, async (r) => {
    const x = await r.explain(kind, id, { fresh: true });
    const names = r.backends.map((b) => b.name);
    call.io.out(call.flag('--json') ? jsonText(x) : formatExplanation(x, names));
    if (x.found) return EXIT.ok;
    return x.steps.some((s) => s.outcome === 'error') ? EXIT.sourceFailed : EXIT.notFound;
  });
}
