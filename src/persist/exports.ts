/**
 * What was exported to the persist store: the records of the store's own
 * index, plus the entries an older nix-hug kept in a manifest file (beside
 * a directory store, or on this machine for a remote one). One record per
 * selection, the newest winning.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PersistConfig } from '../settings/persist.js';
import { requireStore } from '../settings/persist.js';
import { readIndex } from './export-index.js';
import { legacyManifestPath, readLegacyManifest } from './legacy-manifest.js';
import { latestPerSelection, type ExportRecord } from './records.js';

export interface Exports {
  /** One per selection, sorted by repo, newest first. */
  records: ExportRecord[];
  /** Index slots that were skipped (a newer format, unreadable), as lines to show the user. */
  notes: string[];
}

export async function readExports(cfg: PersistConfig, env: NodeJS.ProcessEnv, command: string): Promise<Exports> {
  const url = requireStore(cfg, command);
  // The old manifest first: a corrupt one stops us before any store is asked.
  const legacy = await readLegacyManifest(legacyManifestPath(cfg));
  // A directory nix never wrote a cache into holds no index (and Nix would create one just to look).
  const index = cfg.localDir !== null && !existsSync(join(cfg.localDir, 'nix-cache-info')) ? { records: [], skipped: [] } : await readIndex(url, env);
  const notes = index.skipped.map((s) => `export record ${s.slot} in ${url} skipped: ${s.why}`);
  return { records: latestPerSelection([...legacy, ...index.records]), notes };
}
