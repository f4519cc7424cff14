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

/** The chain from the environment, and its logger's switch (`failuresOf` may look again, quietly). */
interface Lookup {
  r: Resolver;
  quiet: { quiet: boolean };
}

async function withResolver<T>(io: CliIO, strict: boolean, fn: (l: Lookup) => Promise<T>): Promise<T> {
  const quiet = { quiet: false };
  const r = await resolverFromEnv(io.env, {
    logger: cliLogger(io, { quiet }),
    onBackendError: strict ? 'throw' : 'continue',
    cache: false,
    // Ids typed at a prompt are refused when they would leave the backend's path (`../`).
    confineIds: true,
  });
  try {
    return await fn({ r, quiet });
  } finally {
    await r.close();
  }
}

function isNotFound(e: unknown): e is Error & { failures?: readonly PrintedFailure[] } {
  return e instanceof Error && (e.name === 'ConnectionNotFoundError' || e.name === 'VariableNotFoundError');
}

/**
 * The failures behind a miss: the not-found error's `failures`, or, from a resolver that does not
 * attach them, the error steps of a fresh `explain`.
 */
async function failuresOf(
  e: { failures?: readonly PrintedFailure[] },
  { r, quiet }: Lookup,
  kind: SecretKind,
  id: string,
): Promise<readonly PrintedFailure[]> {
  if (Array.isArray(e.failures)) return e.failures;
  quiet.quiet = true; // the lookup itself printed its warnings
  const x = await r.explain(kind, id, { fresh: true });
  return x.steps
    .filter((s) => s.outcome === 'error')
    .map((s) => ({
      backend: s.backend,
      reason: s.reason ?? 'failed',
      message: s.detail ?? 'failed',
      secretName: s.secretName,
    }));
}

/** Print Airflow's not-found text, and the failures if any: exit 1 or 3. */
async function notFound(io: CliIO, l: Lookup, kind: SecretKind, id: string, e: unknown): Promise<number> {
  if (!isNotFound(e)) throw e;
  io.err(e.message);
  const failures = await failuresOf(e, l, kind, id);
  if (failures.length === 0) return EXIT.notFound;
  io.err(formatFailures(failures));
  return EXIT.sourceFailed;
}

export async function connectionsGet(call: CommandCall): Promise<number> {
  const id = call.args[0]!;
  const output = call.value('--output') ?? 'uri';
  return withResolver(call.io, call.strict, async (l) => {
    try {
      const c = await l.r.getConnectionOrThrow(id);
      call.io.out(output === 'json' ? c.asJson() : c.getUri());
      return EXIT.ok;
    } catch (e) {
      return notFound(call.io, l, 'connection', id, e);
    }
  });
}

export async function variablesGet(call: CommandCall): Promise<number> {
  const key = call.args[0]!;
  return withResolver(call.io, call.strict, async (l) => {
    let v: string;
    try {
      v = await l.r.getVariableOrThrow(key);
    } catch (e) {
      return notFound(call.io, l, 'variable', key, e);
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
  return withResolver(call.io, false, async ({ r }) => {
    const x = await r.explain(kind, id, { fresh: true });
    const names = r.backends.map((b) => b.name);
    call.io.out(call.flag('--json') ? jsonText(x) : formatExplanation(x, names));
    if (x.found) return EXIT.ok;
    return x.steps.some((s) => s.outcome === 'error') ? EXIT.sourceFailed : EXIT.notFound;
  });
}
