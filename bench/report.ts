/**
 * Rows of measurements, their summary (median, min, max), the check against
 * the target, and the one Markdown table the bench prints.
 */

export type Unit = 's' | 'ms' | 'x' | 'bytes' | 'MB' | 'MB/s' | 'requests';

export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stats(values: number[]): Stats {
  if (values.length === 0) throw new Error('stats of no values');
  const xs = [...values].sort((a, b) => a - b);
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  return { median, min: xs[0]!, max: xs[xs.length - 1]!, n: xs.length };
}

export interface Target {
  /** As printed, e.g. `≤ 1.15×`. */
  text: string;
  check(s: Stats): boolean;
}

/** The median must be at most `limit` (the targets are medians). */
export const atMost = (limit: number, unit: Unit): Target => ({
  text: `≤ ${format(limit, unit)}`,
  check: (s) => s.median <= limit,
});

/** Every repetition must give exactly `value` (byte counts). */
export const exactly = (value: number, unit: Unit, label?: string): Target => ({
  text: label ?? `= ${format(value, unit)}`,
  check: (s) => s.min === value && s.max === value,
});

export interface Row {
  /** Case number and name, e.g. `1 cold fetch`. */
  case: string;
  metric: string;
  unit: Unit;
  values: number[];
  target?: Target;
  note?: string;
}

export type Verdict = 'ok' | 'MISSED' | '';

export function verdict(row: Row): Verdict {
  if (!row.target) return '';
  return row.target.check(stats(row.values)) ? 'ok' : 'MISSED';
}

export function format(v: number, unit: Unit): string {
  switch (unit) {
    case 's':
      return `${v < 10 ? v.toFixed(3) : v.toFixed(2)} s`;
    case 'ms':
      return `${v.toFixed(1)} ms`;
    case 'x':
      return `${v.toFixed(2)}×`;
    case 'bytes':
      return `${Math.round(v).toLocaleString('en-US')} B`;
    case 'MB':
      return `${v.toFixed(1)} MB`;
    case 'MB/s':
      return `${v.toFixed(0)} MB/s`;
    case 'requests':
      return `${Math.round(v).toLocaleString('en-US')} req`;
  }
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|');

/** One Markdown table: case, measure, median, min, max, target, result, note. */
export function renderTable(rows: Row[]): string {
  const header = ['case', 'measure', 'median', 'min', 'max', 'target', 'result', 'note'];
  const lines = rows.map((r) => {
    const s = stats(r.values);
    return [r.case, r.metric, format(s.median, r.unit), format(s.min, r.unit), format(s.max, r.unit), r.target?.text ?? '', verdict(r), r.note ?? ''].map(escapeCell);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}
