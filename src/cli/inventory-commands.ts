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
 * Exit codes: 0 done (or planned under `--dry-run`); 1 conflicts or ids that cannot be moved left;
 * 2 usage or configuration error; 3 a backend failed (a listing, a read, a write or a read-back).
 */
import { mkdirSync } from 'node:fs';
import type { PutOptions, SecretKind, SecretsBackend } from '../backend.js';
import { resolverFromEnv } from '../config/index.js';
import { readSettings } from '../config/settings.js';
import { ConfigurationError, describeError, escapeText, isAirflowSecretsError } from '../errors.js';
import type { Inventory } from '../inventory/list.js';
import { type MigrateKind, type MigrateResult, migrate, type PlanEntry } from '../inventory/migrate.js';
import type { Logger } from '../logger.js';
import { jsonText } from './format.js';
import { cliLogger } from './spec.js';

export interface InventoryIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

class Usage extends Error {}

const MIGRATE_VALUES = [
  '--from',
  '--to',
  '--only',
  '--kind',
  '--format',
  '--kms-key-id',
  '--tag',
  '--parameter-type',
  '--tier',
  '--replica-locations',
];
const MIGRATE_FLAGS = ['--dry-run', '--overwrite', '--json'];

/** `connections list`, `variables list` or `migrate …` (argv after the command words). */
export async function inventoryCommand(
  command: 'connections' | 'variables' | 'migrate',
  argv: string[],
  io: InventoryIO,
): Promise<number> {
  try {
    if (command === 'migrate') return await migrateCommand(argv, io);
    return await listCommand(command === 'connections' ? 'connection' : 'variable', argv, io);
  } catch (e) {
    if (e instanceof Usage) {
      io.err(`airflow-secrets: ${escapeText(e.message)} (see airflow-secrets --help)`);
      return 2;
    }
    if (e instanceof ConfigurationError) {
      io.err(`airflow-secrets: ${e.name}: ${e.message}`);
      return 2;
    }
    io.err(
      `airflow-secrets: ${isAirflowSecretsError(e) ? `${e.name}: ${e.message}` : `unexpected failure: ${escapeText(describeError(e))}`}`,
    );
    return 3;
  }
}

async function listCommand(kind: SecretKind, argv: string[], io: InventoryIO): Promise<number> {
  const { values, flags } = parse(argv, ['--source', '--limit'], ['--json']);
  const r = await resolverFromEnv(io.env, { logger: logger(io), cache: false });
  try {
    const limit = values['--limit']?.[0];
    const inv = await r.list(kind, {
      ...(values['--source'] ? { source: values['--source'][0]! } : {}),
      ...(limit !== undefined ? { limit: positive(limit, '--limit') } : {}),
    });
    io.out(flags.has('--json') ? jsonText(inv) : formatInventory(inv));
    return inv.backends.some((b) => b.status === 'failed') ? 3 : 0;
  } finally {
    await r.close();
  }
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

async function migrateCommand(argv: string[], io: InventoryIO): Promise<number> {
  const { values, flags } = parse(argv, MIGRATE_VALUES, MIGRATE_FLAGS);
  const one = (name: string) => values[name]?.[0];
  const from = one('--from');
  const to = one('--to');
  if (!from || !to) throw new Usage('migrate needs --from SOURCE and --to TARGET');
  const kindArg = one('--kind');
  if (kindArg !== undefined && kindArg !== 'connections' && kindArg !== 'variables') {
    throw new Usage('--kind must be connections or variables');
  }
  const kinds: MigrateKind[] = kindArg
    ? [kindArg === 'connections' ? 'connection' : 'variable']
    : ['connection', 'variable'];
  const format = one('--format') ?? 'uri';
  if (format !== 'uri' && format !== 'json') throw new Usage('--format must be uri or json');
  if (from === to) throw new Usage('--from and --to name the same place');
  const opened: SecretsBackend[] = [];
  try {
    const source = await openPlace(from, 'source', kinds, io, opened);
    const target = await openPlace(to, 'target', kinds, io, opened);
    const only = one('--only')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const json = flags.has('--json');
    const result = await migrate({
      from: source,
      to: target,
      kinds,
      format,
      overwrite: flags.has('--overwrite'),
      dryRun: flags.has('--dry-run'),
      putOptions: putOptions(values),
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

/** The write options of the command line (each backend refuses those it cannot honour). */
function putOptions(values: Record<string, string[]>): Omit<PutOptions, 'format' | 'overwrite'> {
  const o: Omit<PutOptions, 'format' | 'overwrite'> = {};
  const kms = values['--kms-key-id']?.[0];
  if (kms) o.kmsKeyId = kms;
  if (values['--tag']) {
    o.tags = Object.fromEntries(
      values['--tag'].map((t) => {
        const eq = t.indexOf('=');
        if (eq <= 0) throw new Usage('--tag takes KEY=VALUE');
        return [t.slice(0, eq), t.slice(eq + 1)];
      }),
    );
  }
  const type = values['--parameter-type']?.[0];
  if (type !== undefined) {
    if (type !== 'SecureString' && type !== 'String')
      throw new Usage('--parameter-type must be SecureString or String');
    o.parameterType = type;
  }
  const tier = values['--tier']?.[0];
  if (tier !== undefined) {
    if (tier !== 'Standard' && tier !== 'Advanced' && tier !== 'Intelligent-Tiering') {
      throw new Usage('--tier must be Standard, Advanced or Intelligent-Tiering');
    }
    o.tier = tier;
  }
  const locations = values['--replica-locations']?.[0];
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
  io: InventoryIO,
  opened: SecretsBackend[],
): Promise<SecretsBackend> {
  const keep = (b: SecretsBackend) => {
    opened.push(b);
    return b;
  };
  if (place.startsWith('file:')) {
    const path = place.slice(5);
    if (!path) throw new Usage(`file: needs a path (--${role === 'source' ? 'from' : 'to'} file:PATH)`);
    if (kinds.length !== 1)
      throw new Usage('a file holds one kind: pass --kind connections or --kind variables');
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
  throw new Usage(`unknown ${role} '${place}' (use ${known})`);
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
  const { written, unchanged, notWritten } = r.report;
  lines.push(
    `${r.dryRun ? 'Planned' : 'Done'}: ${written} written, ${unchanged} unchanged, ${notWritten} ${r.dryRun ? 'to write or to resolve' : 'not written'}.`,
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

function parse(argv: string[], valueNames: readonly string[], flagNames: readonly string[]) {
  const values: Record<string, string[]> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (flagNames.includes(name)) flags.add(name);
    else if (valueNames.includes(name)) {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Usage(`${name} needs a value`);
      (values[name] ??= []).push(v);
    } else throw new Usage(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument '${a}'`);
  }
  return { values, flags };
}

function positive(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Usage(`${name} must be a whole number >= 1`);
  return n;
}

function logger(io: InventoryIO): Logger {
  return cliLogger(io);
}
