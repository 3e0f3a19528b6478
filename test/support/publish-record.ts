/**
 * A separate process that adds one export record to a persist store (for
 * the concurrency tests): `tsx publish-record.ts STORE_URL SECRET_KEY_FILE
 * INDEX GO_FILE`. Starts when GO_FILE appears, so that all writers race at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { publishRecord } from '../../src/persist/export-index.ts';

const [storeUrl, keyFile, index, goFile] = process.argv.slice(2) as [string, string, string, string];
for (let i = 0; i < 2000 && !existsSync(goFile); i++) await sleep(5);
const n = Number(index);
const hex = n.toString(16).padStart(2, '0');
const localDir = storeUrl.startsWith('file://') ? storeUrl.slice('file://'.length) : null;
const slot = await publishRecord({
  cfg: { configDir: '/nonexistent', configFile: '/nonexistent/config', storeUrl, localDir, autoPersist: false },
  env: process.env,
  record: {
    repoId: `org/repo-${n}`,
    type: 'model',
    rev: hex.repeat(20),
    filters: n % 2 === 0 ? null : { include: [`.*\\.part${n}`] },
    storePath: `/nix/store/${'a'.repeat(30)}${hex}-snapshot-${n}`,
    exportedAt: new Date().toISOString(),
  },
  secretKey: { text: readFileSync(keyFile, 'utf8'), file: keyFile },
  rejectedHint: 'the store refused the record',
});
process.stdout.write(`${slot}\n`);
