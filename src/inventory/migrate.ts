/**
 * `migrate({ from, to })`: move connections and variables from one backend into another, with
 * Airflow's names and encoding. It plans first (for each id: create, update, unchanged, conflict,
 * or invalid, with the exact secret name), then writes through the target's `put`, then reads every
 * written id back through the target's own reader and compares it with what was meant. Values stay
 * in memory: the plan and the report hold ids, names, field names and reasons, never a value.
 *
 * Running it again is safe: what is already there reads back equal and is `unchanged`. A failed
 * write stops the run; the report says what was written and what was not, and the next run
 * continues from there.
 */
import type { PutOptions, SecretsBackend } from '../backend.js';
import type { Connection } from '../connection.js';
import {
  type BackendErrorReason,
  ConfigurationError,
  InvalidConnectionError,
  isAirflowSecretsError,
  isBackendError,
  SecretExistsError,
} from '../errors.js';
import { afterRoundTrip, connectionDifferences } from './compare.js';

export type MigrateKind = 'connection' | 'variable';
export type PlanAction = 'create' | 'update' | 'unchanged' | 'conflict' | 'invalid' | 'error';

export interface MigrateOptions {
  /** Where the values are read (it must be able to `list`, unless `only` names the ids). */
  from: SecretsBackend;
  /** Where they are written (it must have `put`). */
  to: SecretsBackend;
  /** Default: both. */
  kinds?: readonly MigrateKind[] | undefined;
  /** Only these ids (of every kind asked); the source is then not listed. */
  only?: readonly string[] | undefined;
  /** How connections are stored: `uri` (default) or `json`. */
  format?: 'uri' | 'json' | undefined;
  /** Replace target values that differ (`update`); without it they are `conflict`s. */
  overwrite?: boolean | undefined;
  /** Plan only: nothing is written. */
  dryRun?: boolean | undefined;
  /** Passed to every `put` (KMS key, tags, SSM tier and type, Google replication). */
  putOptions?: Omit<PutOptions, 'format' | 'overwrite'> | undefined;
  /** Most ids listed per kind. Default 10 000; a source holding more is refused. */
  limit?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the plan before anything is written. */
  onPlan?: ((plan: readonly PlanEntry[]) => void) | undefined;
}

/** One id of the plan. */
export interface PlanEntry {
  kind: MigrateKind;
  id: string;
  action: PlanAction;
  /** The exact secret name in the target (null when the target refuses the id). */
  secretName: string | null;
  /** For `conflict`, `invalid` and `error`: why, in words. */
  reason?: string;
  /** For `error`: the classified reason. */
  errorReason?: BackendErrorReason;
  /** What the target form leaves out (e.g. the description in a URI). */
  notes?: string[];
}

/** What happened to one planned write. */
export interface WriteResult {
  kind: MigrateKind;
  id: string;
  secretName: string;
  /**
   * `created`/`updated`: written and read back equal. `refused`: the target cannot hold this id or
   * value (nothing written). `skipped`: not attempted after a failure.
   */
  outcome: 'created' | 'updated' | 'refused' | 'failed' | 'mismatch' | 'conflict' | 'skipped';
  message?: string;
}

export interface MigrateReport {
  results: WriteResult[];
  /** Written and read back equal. */
  written: number;
  unchanged: number;
  /**
   * Not written: conflicts, invalid ids, failures and the writes skipped after a failure. Under
   * `dryRun`: the ids left to resolve (conflicts, invalid ids, read errors).
   */
  notWritten: number;
  /** The creates and updates of the plan (under `dryRun`: what a run would write). */
  planned: number;
  /** Names the source holds that map back to no id (listed by the source, not migrated). */
  skippedNames: { kind: MigrateKind; secretName: string; note?: string }[];
}

export interface MigrateResult {
  plan: PlanEntry[];
  /** `results` is empty under `dryRun`. */
  report: MigrateReport;
  dryRun: boolean;
  /** 0: done (or planned); 1: conflicts or invalid ids left; 3: a backend failed (read, write or read-back). */
  exitCode: 0 | 1 | 3;
}

/** How connections are written, and whether a refusal of the URI form may suggest JSON. */
interface Form {
  format: 'uri' | 'json';
  jsonHint: boolean;
}

/** A planned id with the value to write and what the target should read back. */
interface Job {
  entry: PlanEntry;
  value: Connection | string;
  expected: Connection | string;
}

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const { from, to } = options;
  if (from === to)
    throw new ConfigurationError('to', 'migrate: the source and the target are the same backend');
  if (typeof to.put !== 'function') {
    throw new ConfigurationError('to', `migrate: the target '${to.name}' cannot write (it has no put)`);
  }
  const format = options.format ?? 'uri';
  if (format !== 'uri' && format !== 'json')
    throw new ConfigurationError('format', "migrate: format must be 'uri' or 'json'");
  const kinds = options.kinds ?? ['connection', 'variable'];
  for (const kind of kinds) {
    if (kind !== 'connection' && kind !== 'variable')
      throw new ConfigurationError('kinds', `migrate: unknown kind '${kind}'`);
    // An option or a format the target refuses for every id stops the run before the plan.
    to.checkPut?.(kind, { ...options.putOptions, format });
  }
  const jsonHint = format === 'uri' && takesJson(to);
  const jobs: Job[] = [];
  const plan: PlanEntry[] = [];
  const skippedNames: MigrateReport['skippedNames'] = [];
  for (const kind of kinds) {
    const ids = await sourceIds(from, kind, options, skippedNames);
    for (const id of ids) {
      options.signal?.throwIfAborted();
      const job = await planOne(from, to, kind, id, { format, jsonHint }, options.overwrite === true);
      plan.push(job.entry);
      if (job.value !== undefined) jobs.push(job as Job);
    }
  }
  markCollisions(plan);
  options.onPlan?.(plan);
  const results = options.dryRun ? [] : await writeAll(to, jobs, format, options);
  return finish(plan, results, skippedNames, options.dryRun === true);
}

/** Whether the target can store connections as JSON (a `.env` file cannot): unknown counts as yes. */
function takesJson(to: SecretsBackend): boolean {
  try {
    to.checkPut?.('connection', { format: 'json' });
    return true;
  } catch {
    return false;
  }
}

/** The ids to move: `only`, or what the source lists (names with no id are set aside). */
async function sourceIds(
  from: SecretsBackend,
  kind: MigrateKind,
  options: MigrateOptions,
  skipped: MigrateReport['skippedNames'],
): Promise<string[]> {
  if (options.only) return [...new Set(options.only)];
  if (typeof from.list !== 'function') {
    throw new ConfigurationError(
      'from',
      `migrate: the source '${from.name}' cannot list its ids; name them with only`,
    );
  }
  const limit = options.limit ?? 10_000;
  const r = await from.list(kind, { limit, ...(options.signal ? { signal: options.signal } : {}) });
  if (r.truncated) {
    throw new ConfigurationError(
      'limit',
      `migrate: the source '${from.name}' holds more than ${limit} ${kind}s; raise the limit or name the ids with only`,
    );
  }
  for (const e of r.entries)
    if (e.id === null) skipped.push({ kind, secretName: e.secretName, ...(e.note ? { note: e.note } : {}) });
  return [...new Set(r.entries.flatMap((e) => (e.id === null ? [] : [e.id])))];
}

/** Plan one id: read it from the source and the target, and decide. */
async function planOne(
  from: SecretsBackend,
  to: SecretsBackend,
  kind: MigrateKind,
  id: string,
  form: Form,
  overwrite: boolean,
): Promise<{ entry: PlanEntry; value?: Connection | string; expected?: Connection | string }> {
  const where = to.locateWrite ? to.locateWrite(kind, id) : to.locate(kind, id);
  const secretName = 'name' in where ? where.name : null;
  const entry = (action: PlanAction, extra: Partial<PlanEntry> = {}): PlanEntry => ({
    kind,
    id,
    action,
    secretName,
    ...extra,
  });
  if (!('name' in where))
    return { entry: entry('invalid', { reason: `the target does not take this id: ${where.skip}` }) };
  const source = await readOne(from, kind, id, 'the source');
  if ('failed' in source) return { entry: entry(source.action, source.failed) };
  if (source.value === null)
    return { entry: entry('invalid', { reason: `the source '${from.name}' serves no value for it` }) };
  const shaped = expectedValue(kind, source.value, form);
  if ('reason' in shaped) return { entry: entry('invalid', { reason: shaped.reason }) };
  const notes = shaped.notes.length ? { notes: shaped.notes } : {};
  const current = await readOne(to, kind, id, 'the target');
  if ('failed' in current) return { entry: entry(current.action, current.failed) };
  const job = { value: source.value, expected: shaped.expected };
  if (current.value === null) return { entry: entry('create', notes), ...job };
  const differs = differences(kind, shaped.expected, current.value);
  if (differs.length === 0) return { entry: entry('unchanged', notes) };
  if (overwrite) return { entry: entry('update', notes), ...job };
  return {
    entry: entry('conflict', {
      ...notes,
      reason: `the target holds a different value (${differs.join(', ')}); pass overwrite to replace it`,
    }),
  };
}

/** A value read through a backend's reader, or the plan entry's failure. */
async function readOne(
  b: SecretsBackend,
  kind: MigrateKind,
  id: string,
  role: string,
): Promise<{ value: Connection | string | null } | { action: PlanAction; failed: Partial<PlanEntry> }> {
  try {
    return { value: kind === 'connection' ? await b.getConnection(id) : await b.getVariable(id) };
  } catch (e) {
    if (e instanceof ConfigurationError) throw e;
    const said = isAirflowSecretsError(e) ? e.message : `${(e as Error)?.name ?? 'error'}`;
    if (isBackendError(e) && e.reason !== 'malformed') {
      return {
        action: 'error',
        failed: { reason: `reading ${role} '${b.name}' failed: ${said}`, errorReason: e.reason },
      };
    }
    return {
      action: 'invalid',
      failed: { reason: `${role} '${b.name}' holds a value that cannot be used: ${said}` },
    };
  }
}

/**
 * What the target should read back: for a connection, what Airflow parses back from its stored
 * form; a connection that form cannot carry (e.g. an upper-case host in a URI) is refused, naming
 * the fields. A variable is stored as it is.
 */
function expectedValue(
  kind: MigrateKind,
  value: Connection | string,
  { format, jsonHint }: Form,
): { expected: Connection | string; notes: string[] } | { reason: string } {
  if (kind !== 'connection') return { expected: value, notes: [] };
  const c = value as Connection;
  let back: Connection;
  try {
    back = afterRoundTrip(c, format);
  } catch (e) {
    return {
      reason: `it cannot be written as ${format.toUpperCase()}: ${isAirflowSecretsError(e) ? e.message : 'it does not parse back'}`,
    };
  }
  const lost = connectionDifferences(c, back);
  if (lost.length > 0) {
    const json = jsonHint && connectionDifferences(c, afterRoundTrip(c, 'json')).length === 0;
    return {
      reason: `the ${format.toUpperCase()} form would not keep it as it is (${lost.join(', ')})${json ? '; the JSON form would: use format json' : ''}`,
    };
  }
  const notes =
    c.description && format === 'uri' ? ['the description is not stored (a URI has no place for it)'] : [];
  return { expected: back, notes };
}

function differences(
  kind: MigrateKind,
  expected: Connection | string,
  actual: Connection | string,
): string[] {
  if (kind !== 'connection') return expected === actual ? [] : ['value'];
  return connectionDifferences(expected as Connection, actual as Connection);
}

/** Two ids of one kind that the target would store under one name: neither is written. */
function markCollisions(plan: PlanEntry[]): void {
  const byName = new Map<string, PlanEntry[]>();
  for (const e of plan) {
    if (e.secretName === null || e.action === 'invalid') continue;
    const key = `${e.kind}\u0000${e.secretName}`;
    byName.set(key, [...(byName.get(key) ?? []), e]);
  }
  for (const group of byName.values()) {
    if (group.length < 2) continue;
    for (const e of group) {
      e.action = 'invalid';
      e.reason = `the ids ${group.map((g) => `'${g.id}'`).join(' and ')} would all be stored as '${e.secretName}'`;
    }
  }
}

/** Write each planned create/update in order; stop at the first failure; then read every write back. */
async function writeAll(
  to: SecretsBackend,
  jobs: Job[],
  format: 'uri' | 'json',
  options: MigrateOptions,
): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  let stopped = false;
  for (const { entry, value } of jobs) {
    if (entry.action !== 'create' && entry.action !== 'update') continue;
    const base = { kind: entry.kind, id: entry.id, secretName: entry.secretName ?? '' };
    if (stopped || options.signal?.aborted) {
      results.push({ ...base, outcome: 'skipped', message: 'not attempted after an earlier failure' });
      continue;
    }
    try {
      const r = await to.put!(entry.kind, entry.id, value, {
        ...options.putOptions,
        format,
        overwrite: entry.action === 'update',
      });
      results.push({ ...base, secretName: r.secretName, outcome: r.action });
    } catch (e) {
      if (e instanceof SecretExistsError) {
        results.push({
          ...base,
          outcome: 'conflict',
          message: `${e.message}; it appeared after the plan, or the reader does not see its value`,
        });
        continue;
      }
      const message = isAirflowSecretsError(e) ? e.message : `${(e as Error)?.name ?? 'error'}`;
      // A refusal (the target cannot hold this id or value, or an option) is no service failure.
      const refused = e instanceof ConfigurationError || e instanceof InvalidConnectionError;
      results.push({ ...base, outcome: refused ? 'refused' : 'failed', message });
      if (!refused) stopped = true;
    }
  }
  await verify(to, jobs, results);
  return results;
}

/** Read every written id back through the target's reader; a difference is a `mismatch` naming the fields. */
async function verify(to: SecretsBackend, jobs: Job[], results: WriteResult[]): Promise<void> {
  for (const r of results) {
    if (r.outcome !== 'created' && r.outcome !== 'updated') continue;
    const job = jobs.find((j) => j.entry.kind === r.kind && j.entry.id === r.id)!;
    const back = await readOne(to, r.kind, r.id, 'the target');
    if ('failed' in back) {
      Object.assign(r, { outcome: 'failed', message: `written, but ${back.failed.reason}` });
    } else if (back.value === null) {
      Object.assign(r, {
        outcome: 'mismatch',
        message: `written, but the target's reader does not find '${r.id}'`,
      });
    } else {
      const d = differences(r.kind, job.expected, back.value);
      if (d.length)
        Object.assign(r, {
          outcome: 'mismatch',
          message: `written, but it reads back different (${d.join(', ')})`,
        });
    }
  }
}

function finish(
  plan: PlanEntry[],
  results: WriteResult[],
  skippedNames: MigrateReport['skippedNames'],
  dryRun: boolean,
): MigrateResult {
  const written = results.filter((r) => r.outcome === 'created' || r.outcome === 'updated').length;
  const unchanged = plan.filter((e) => e.action === 'unchanged').length;
  const planned = plan.filter((e) => e.action === 'create' || e.action === 'update').length;
  const failed =
    plan.some((e) => e.action === 'error') ||
    results.some((r) => r.outcome === 'failed' || r.outcome === 'mismatch');
  const open =
    plan.some((e) => e.action === 'conflict' || e.action === 'invalid') ||
    results.some((r) => r.outcome === 'conflict' || r.outcome === 'refused');
  return {
    plan,
    report: {
      results,
      written,
      unchanged,
      notWritten: plan.length - unchanged - (dryRun ? planned : written),
      planned,
      skippedNames,
    },
    dryRun,
    exitCode: failed ? 3 : open ? 1 : 0,
  };
}
