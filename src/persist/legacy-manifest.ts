/**
 * `nix-hug-manifest.json`: where nix-hug before the shared export index
 * recorded its exports — beside a `file://` cache, or, for any other store,
 * in this machine's config directory. Read-only now: its entries are listed
 * and imported with the store's own index (export-index.ts), which is where
 * new exports go. A corrupt file is reported and never rewritten.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixHugError } from '../errors.js';
import type { PersistConfig } from '../settings/persist.js';
import { checkRecord, type ExportRecord } from './records.js';

export const LEGACY_MANIFEST_NAME = 'nix-hug-manifest.json';
export const LEGACY_MANIFEST_VERSION = 1;

/**
 * Where an older nix-hug kept the manifest: beside the binary cache for a
 * `file://` store; for remote stores, in the config directory, one file per
 * store URL (parameters after `?` did not change the store).
 */
export function legacyManifestPath(cfg: PersistConfig): string {
  if (cfg.localDir !== null) return join(cfg.localDir, LEGACY_MANIFEST_NAME);
  if (cfg.storeUrl === null) throw new Error('manifestPath: no persist store configured');
  const key = createHash('sha256').update(cfg.storeUrl.split('?')[0] ?? '').digest('hex').slice(0, 16);
  return join(cfg.configDir, 'manifests', `${key}-${LEGACY_MANIFEST_NAME}`);
}

function corrupt(file: string, why: string): NixHugError {
  return new NixHugError(`the manifest ${file} is corrupt: ${why}`, 'it was left untouched; repair it, or move it aside (its entries are then no longer listed)');
}

/** Parses and checks a manifest's text. */
export function parseLegacyManifest(text: string, file: string): ExportRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw corrupt(file, 'expected a JSON object');
  const d = data as Record<string, unknown>;
  if (typeof d.version !== 'number') throw corrupt(file, 'no "version" number');
  if (d.version > LEGACY_MANIFEST_VERSION) {
    throw new NixHugError(
      `the manifest ${file} has version ${d.version}, written by a newer nix-hug (this one reads version ${LEGACY_MANIFEST_VERSION})`,
      'upgrade nix-hug',
    );
  }
  if (d.version !== LEGACY_MANIFEST_VERSION) throw corrupt(file, `unknown version ${d.version}`);
  if (!Array.isArray(d.entries)) throw corrupt(file, '"entries" must be a list');
  return d.entries.map((e, i) => {
    try {
      return checkRecord(e);
    } catch (err) {
      throw corrupt(file, `entry ${i}: ${(err as Error).message}`);
    }
  });
}

/** The manifest's entries; an absent file has none. */
export async function readLegacyManifest(file: string): Promise<ExportRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw new NixHugError(`could not read the manifest ${file}: ${(err as Error).message}`, 'check its permissions');
  }
  return parseLegacyManifest(text, file);
}
