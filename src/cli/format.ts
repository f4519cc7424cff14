/**
 * What the lookup commands print besides values: `explain`'s table (one line per backend, never a
 * value), and the lines under a "not found" that name each backend that failed and why.
 */
import { escapeText } from '../errors.js';
import type { Explanation } from '../resolver/index.js';

/** `--json` output: JSON whose line separators, bidi and other control characters are JSON escapes. */
export function jsonText(value: unknown): string {
  return escapeText(JSON.stringify(value, null, 2), { json: true, keepNewlines: true });
}

/** A backend that failed during a lookup, as the CLI prints it (the shape of `BackendFailure`). */
export interface PrintedFailure {
  backend: string;
  reason: string;
  /** The reason in words (never a value). */
  message: string;
  secretName: string | null;
}

function outcomeText(s: Explanation['steps'][number]): string {
  switch (s.outcome) {
    case 'not-found':
      return 'not found';
    case 'error':
      return `error [${s.reason}] ${escapeText(s.detail ?? '')}`.trimEnd();
    case 'skipped':
      return `skipped (${escapeText(s.detail ?? '')})`;
    default:
      return 'found';
  }
}

/** Human-readable explain output: one line per backend, with where its configuration came from. */
export function formatExplanation(x: Explanation, backendNames: readonly string[]): string {
  const what = `${x.kind} '${escapeText(x.id)}'`;
  const failed = x.steps.filter((s) => s.outcome === 'error').length;
  const head = x.found
    ? `${what}: found in ${x.source}`
    : failed > 0
      ? `${what}: not found, and ${failed} backend${failed === 1 ? '' : 's'} failed (the answer may be incomplete)`
      : `${what}: not found in any backend`;
  const lines = [`${head} (cache: ${x.cache}, ${x.durationMs.toFixed(1)} ms)`];
  if (x.cache === 'hit') return lines.join('\n');
  const width = Math.max(...backendNames.map((n) => n.length), 7);
  const nameWidth = Math.max(1, ...x.steps.map((s) => escapeText(s.secretName ?? '-').length));
  x.steps.forEach((s, i) => {
    const name = escapeText(s.secretName ?? '-');
    const origin = s.origin === undefined ? '' : `  (from ${escapeText(s.origin)})`;
    lines.push(
      `  ${i + 1}. ${s.backend.padEnd(width)}  ${name.padEnd(nameWidth)}  ${outcomeText(s)}  ${s.durationMs.toFixed(1)} ms${origin}`,
    );
  });
  for (let i = x.steps.length; i < backendNames.length; i++) {
    lines.push(
      `  ${i + 1}. ${backendNames[i]!.padEnd(width)}  ${'-'.padEnd(nameWidth)}  not asked (answered above)`,
    );
  }
  return lines.join('\n');
}

/** The lines printed under "not found" when backends failed: each backend, its reason and why. */
export function formatFailures(failures: readonly PrintedFailure[]): string {
  const n = failures.length;
  const lines = [
    `airflow-secrets: ${n} backend${n === 1 ? '' : 's'} failed, so the answer may be incomplete (exit 3):`,
  ];
  for (const f of failures) {
    const where = f.secretName ? `, ${escapeText(f.secretName)}` : '';
    lines.push(`  ${f.backend} (${f.reason}${where}): ${escapeText(f.message)}`);
  }
  return lines.join('\n');
}
