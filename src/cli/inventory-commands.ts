/**
 * The CLI's inventory and migration commands:
 *
 * - `connections list` / `variables list [--json] [--source NAME]`: every id the chain holds, the
 *   backend that serves it and the ones where it is shadowed (`resolver.list`). Never a value.
 * - `migrate --from SOURCE --to TARGET [--dry-run] [--only ID,…] [--kind connections|variables]
 *   [--format uri|json] [--overwrite] [--json]` and the write options: the plan first, then the
 *   writes, each read back (`migrate()`). Sources: `metastore`, `environment`, `file:PATH`,
 *   `backend` (the configured `AIRFLOW__SECRETS__BACKEND`); targets: `backend`, `file:PATH`,
 *   `metastore`.
 *
 * The options are declared in the command table (`./commands.ts`) and parsed by `./args.ts`. What a
 * command throws goes to `main.ts`, which prints it and picks the exit code: 0 done (or planned
 * under `--dry-run`); 1 conflicts or ids that cannot be moved left; 2 usage or configuration error
 * (a misconfigured backend or a missing SDK stops a listing, and a write option or `--format` the
 * target does not take stops `migrate` before the plan); 3 a backend failed (a listing, a read, a
 * write or a read-back).
 */
import { mkdirSync } from 'node:fs';
import type { PutOptions, SecretKind, SecretsBackend } from '../backend.js';
import { resolverFromEnv } from '../config/index.js';
import { readSettings } from '../config/settings.js';
import { ConfigurationError } from '../errors.js';
import type { Inventory } from '../inventory/list.js';
import { type MigrateKind, type MigrateResult, migrate, type PlanEntry } from '../inventory/migrate.js';
import type { Logger } from '../logger.js';
import { jsonText } from './format.js';
import { type CliIO, type CommandCall, cliLogger, UsageError } from './spec.js';

/** `connections list` / `variables list [--json] [--source NAME] [--limit N]`. */
export async function listCommand(call: CommandCall): Promise<number> {
  const kind: SecretKind = call.words[0] === 'connections' ? 'connection' : 'variable';
  const r = await resolverFromEnv(call.io.env, { logger: logger(call.io), cache: false });
  try {
    const source = call.value('--source');
    const limit = call.value('--limit');
    const inv = await r.list(kind, {
      ...(source !== undefined ? { source } : {}),
      ...(limit !== undefined ? { limit: positive(limit, '--limit', call.words) } : {}),
    });
    stopOnConfiguration(inv);
    call.io.out(call.flag('--json') ? jsonText(inv) : formatInventory(inv));
    return inv.backends.some((b) => b.status === 'failed') ? 3 : 0;
  } finally {
    await r.close();
  }
}

/**
 * A backend that could not be listed because it is misconfigured (or its SDK is missing) stops the
 * listing: its `ConfigurationError` is thrown, so that the CLI prints it as it prints a lookup's
 * (exit 2).
 */
function stopOnConfiguration(inv: Inventory): void {
  const failed = inv.backends.find((b) => b.status === 'failed' && b.reason === 'configuration');
  if (!failed) return;
  throw (
    failed.error ??
    new ConfigurationError(failed.backend, failed.message ?? `${failed.backend}: it cannot be listed`)
  );
}

/** The inventory as a table: id, source, secret name, shadowed in; then the backends and the names with no id. */
export function formatInventory(inv: Inventory): string {
  const plural =
    inv.kind === 'connection' ? 'connections' : inv.kind === 'variable' ? 'variables' : 'config values';
  const lines = [`${inv.entries.length} ${plural}`];
  const rows = inv.entries.map((e) => [
    e.id,
    e.source,
    e.secretName,
    [
      ...e.shadowed.map((s) => `${s.backend} (${s.secretName})`),
      ...(e.unverified.length ? [`unverified: ${e.unverified.join(', ')} not listed`] : []),
    ].join('; '),
  ]);
  if (rows.length) lines.push(...table([['ID', 'SOURCE', 'SECRET NAME', 'SHADOWED IN'], ...rows]));
  lines.push('', 'backends:');
  for (const b of inv.backends) {
    const what =
      b.status === 'failed'
        ? `failed [${b.reason}] ${b.message ?? ''}`
        : b.status === 'unsupported'
          ? 'cannot list'
          : `${b.status} ${b.count}`;
    lines.push(`  ${b.backend}: ${what.trimEnd()}`);
  }
  if (inv.unmapped.length) {
    lines.push('', 'names no id maps to:');
    for (const u of inv.unmapped)
      lines.push(`  ${u.backend}: ${u.secretName}${u.note ? ` (${u.note})` : ''}`);
  }
  return lines.join('\n');
}

const WORDS = ['migrate'] as const;
const usage = (message: string) => new UsageError(message, WORDS);

/** `migrate --from SOURCE --to TARGET …`: the plan, then the writes (each read back). */
export async function migrateCommand(call: CommandCall): Promise<number> {
  const from = call.value('--from');
  const to = call.value('--to');
  if (!from || !to) throw usage('migrate needs --from SOURCE and --to TARGET');
  const kindArg = call.value('--kind');
  const kinds: MigrateKind[] = kindArg
    ? [kindArg === 'connections' ? 'connection' : 'variable']
    : ['connection', 'variable'];
  const format = call.value('--format') === 'json' ? 'json' : 'uri';
  if (from === to) throw usage('--from and --to name the same place');
  const io = call.io;
  const opened: SecretsBackend[] = [];
  try {
    const source = await openPlace(from, 'source', kinds, io, opened);
    const target = await openPlace(to, 'target', kinds, io, opened);
    const only = call
      .value('--only')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const json = call.flag('--json');
    const result = await migrate({
      from: source,
      to: target,
      kinds,
      format,
      overwrite: call.flag('--overwrite'),
      dryRun: call.flag('--dry-run'),
      putOptions: putOptions(call),
      ...(only ? { only } : {}),
      ...(json
        ? {}
        : { onPlan: (plan: readonly PlanEntry[]) => io.out(formatPlan(plan, source.name, target.name)) }),
    });
    io.out(json ? jsonText(result) : formatOutcome(result));
    return result.exitCode;
  } finally {
    await Promise.allSettled(opened.map((b) => b.close?.()));
  }
}

/** The write options of the command line (the target refuses, before the plan, those it cannot honour). */
function putOptions(call: CommandCall): Omit<PutOptions, 'format' | 'overwrite'> {
  const o: Omit<PutOptions, 'format' | 'overwrite'> = {};
  const kms = call.value('--kms-key-id');
  if (kms) o.kmsKeyId = kms;
  const tags = call.all('--tag');
  if (tags.length) {
    o.tags = Object.fromEntries(
      tags.map((t) => {
        const eq = t.indexOf('=');
        if (eq <= 0) throw usage('--tag takes KEY=VALUE');
        return [t.slice(0, eq), t.slice(eq + 1)];
      }),
    );
  }
  const type = call.value('--parameter-type');
  if (type !== undefined) o.parameterType = type as NonNullable<PutOptions['parameterType']>;
  const tier = call.value('--tier');
  if (tier !== undefined) o.tier = tier as NonNullable<PutOptions['tier']>;
  const locations = call.value('--replica-locations');
  if (locations)
    o.replicaLocations = locations
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return o;
}

/** A source or target of `migrate`, built from the same settings lookups use. */
async function openPlace(
  place: string,
  role: 'source' | 'target',
  kinds: MigrateKind[],
  io: CliIO,
  opened: SecretsBackend[],
): Promise<SecretsBackend> {
  const keep = (b: SecretsBackend) => {
    opened.push(b);
    return b;
  };
  if (place.startsWith('file:')) {
    const path = place.slice(5);
    if (!path) throw usage(`file: needs a path (--${role === 'source' ? 'from' : 'to'} file:PATH)`);
    if (kinds.length !== 1) throw usage('a file holds one kind: pass --kind connections or --kind variables');
    const { localFilesystem } = await import('../backends/local-filesystem/index.js');
    const key = kinds[0] === 'connection' ? 'connectionsFilePath' : 'variablesFilePath';
    // A target file that does not exist yet holds nothing (the first write creates it).
    const missing = role === 'target' ? { missingFiles: 'empty' as const } : {};
    return keep(localFilesystem({ [key]: path, logger: logger(io), ...missing }));
  }
  if (place === 'environment' && role === 'source') {
    const { environmentVariables } = await import('../backends/environment.js');
    return keep(environmentVariables({ env: io.env }));
  }
  if (place === 'metastore') {
    const { metastoreFromSettings } = await import('../backends/metastore.js');
    const { metastoreSettingsFromEnv } = await import('../config/index.js');
    const settings = await metastoreSettingsFromEnv(io.env);
    if (role === 'target' && !settings.sqlAlchemyConn) mkdirSync(settings.airflowHome, { recursive: true });
    return keep(metastoreFromSettings({ ...settings, logger: logger(io) }));
  }
  if (place === 'backend') {
    const { settings, customBackend } = await readSettings(io.env, { logger: logger(io) });
    if (!customBackend) {
      throw new ConfigurationError(
        'AIRFLOW__SECRETS__BACKEND',
        `migrate: --${role === 'source' ? 'from' : 'to'} backend needs AIRFLOW__SECRETS__BACKEND (no secrets backend is configured)`,
      );
    }
    keep(customBackend);
    if (role === 'target' && customBackend.name === 'local-filesystem' && settings.customBackend) {
      // The same files, but one that does not exist yet holds nothing: the migration creates it.
      const { fromAirflowKwargs } = await import('../backends/local-filesystem/index.js');
      const kwargs = settings.customBackend.kwargs.reveal();
      return keep(fromAirflowKwargs(kwargs, { env: io.env, logger: logger(io) }, { missingFiles: 'empty' }));
    }
    return customBackend;
  }
  const known =
    role === 'source' ? 'metastore, environment, file:PATH or backend' : 'backend, file:PATH or metastore';
  throw usage(`unknown ${role} '${place}' (use ${known})`);
}

/** The plan as a table: action, kind, id, the exact secret name in the target, and why (never a value). */
export function formatPlan(plan: readonly PlanEntry[], from: string, to: string): string {
  const lines = [`Plan: ${from} -> ${to} (${plan.length} ${plan.length === 1 ? 'id' : 'ids'})`];
  const rows = plan.map((e) => [
    e.action,
    e.kind,
    e.id,
    e.secretName ?? '-',
    [e.reason, ...(e.notes ?? [])].filter(Boolean).join('; '),
  ]);
  if (rows.length) lines.push(...table(rows));
  return lines.join('\n');
}

function formatOutcome(r: MigrateResult): string {
  const lines: string[] = [];
  if (r.dryRun) lines.push('Dry run: nothing written.');
  else if (r.report.results.length) {
    lines.push('Writes (each read back through the target):');
    lines.push(
      ...table(r.report.results.map((x) => [x.outcome, x.kind, x.id, x.secretName, x.message ?? ''])),
    );
  }
  for (const s of r.report.skippedNames)
    lines.push(`skipped ${s.kind} name '${s.secretName}': ${s.note ?? 'no id'}`);
  const { written, unchanged, notWritten, planned } = r.report;
  lines.push(
    r.dryRun
      ? `Planned: ${planned} to write, ${unchanged} unchanged, ${notWritten} to resolve.`
      : `Done: ${written} written, ${unchanged} unchanged, ${notWritten} not written.`,
  );
  if (r.exitCode === 1)
    lines.push(
      'Conflicts or ids that cannot be moved are left (see the reasons above); --overwrite replaces differing values.',
    );
  if (r.exitCode === 3) lines.push('A backend failed; run the command again to continue from here.');
  return lines.join('\n');
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd(),
  );
}

function positive(v: string, name: string, words: readonly string[]): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number >= 1`, words);
  return n;
}

function logger(io: CliIO): Logger {
  return cliLogger(io);
}
