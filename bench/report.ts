/** Markdown for docs/performance.md: tables and ASCII bar charts, generated from one run's numbers. */

export interface Target {
  what: string;
  target: string;
  measured: string;
  pass: boolean;
}

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A horizontal bar chart in a fenced block (renders the same everywhere). */
export function barChart(
  title: string,
  items: Array<{ label: string; value: number; text?: string }>,
  width = 48,
): string {
  const max = Math.max(...items.map((i) => i.value), 1e-9);
  const labelWidth = Math.max(...items.map((i) => i.label.length));
  const lines = items.map((i) => {
    const n = Math.max(i.value > 0 ? 1 : 0, Math.round((i.value / max) * width));
    return `${i.label.padEnd(labelWidth)} │${'█'.repeat(n)}${' '.repeat(width - n)}│ ${i.text ?? fmt(i.value)}`;
  });
  return ['```text', title, '', ...lines, '```'].join('\n');
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function passFail(ok: boolean): string {
  return ok ? '**pass**' : '**FAIL**';
}
