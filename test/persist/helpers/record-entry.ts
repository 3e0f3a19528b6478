/**
 * A separate process that records one manifest entry (for the concurrency
 * test): `tsx record-entry.ts MANIFEST INDEX`. Starts on a go signal (a file
 * appearing) so that all writers race at once.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordExport } from '../../../src/persist/manifest.ts';

const [file, index, goFile] = process.argv.slice(2) as [string, string, string];
for (let i = 0; i < 2000 && !existsSync(goFile); i++) await sleep(5);
const n = Number(index);
const hex = n.toString(16).padStart(2, '0');
await recordExport(file, 'file:///x', {
  repoId: `org/repo-${n}`,
  type: 'model',
  rev: hex.repeat(20),
  filters: n % 2 === 0 ? null : { include: [`.*\\.part${n}`] },
  storePath: `/nix/store/${'a'.repeat(30)}${hex}-snapshot-${n}`,
  exportedAt: new Date().toISOString(),
});
