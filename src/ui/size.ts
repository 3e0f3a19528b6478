/**
 * Human-readable sizes in decimal units (kB, MB, GB), the units the Hub's
 * web pages use, so numbers can be compared with what users see there.
 */
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'] as const;

export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return `${bytes} B`;
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  // Three significant digits, but never "1000 kB": that is 1.00 MB.
  let text = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  if (text === '1000' && unit < UNITS.length - 1) {
    text = '1.00';
    unit++;
  }
  return `${text} ${UNITS[unit]}`;
}
