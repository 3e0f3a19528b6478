/**
 * `nix-hug-manifest.json`: what was exported to the persist store. One entry
 * per (repoId, type, rev, filters), the newest export winning. Updates are
 * atomic (temporary file in the same directory, fsync, rename) and run under
 * an exclusive lock, so concurrent exports never lose an entry; a corrupt
 * file is reported and never overwritten.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NixHugError } from '../errors.js';
import type { Filters, RepoType, SnapshotRecord } from '../types.js';
import type { PersistConfig } from './config.js';
import { withLock, type LockOptions } from './lock.js';

export const MANIFEST_NAME = 'nix-hug-manifest.json';
export const MANIFEST_VERSION = 1;

/** One export: filters in canonical form (sorted lists, empty lists dropped), null for the whole repo. */
export type ManifestEntry = SnapshotRecord;

export interface ManifestFile {
  version: number;
  /** The store the entries were exported to (informative: the file's location decides). */
  storeUrl: string;
  entries: ManifestEntry[];
}

/**
 * Where the manifest lives: beside the binary cache for a `file://` store;
 * for remote stores, in the config directory, one file per store URL
 * (parameters after `?` do not change the store).
 */
export function manifestPath(cfg: PersistConfig): string {
  if (cfg.localDir !== null) return join(cfg.localDir, MANIFEST_NAME);
  if (cfg.storeUrl === null) throw new Error('manifestPath: no persist store configured');
  const key = createHash('sha256').update(cfg.storeUrl.split('?')[0] ?? '').digest('hex').slice(0, 16);
  return join(cfg.configDir, 'manifests', `${key}-${MANIFEST_NAME}`);
}

/** Sorted lists, no empty lists; `null` when nothing is filtered. Two equal selections compare equal. */
export function canonicalFilters(filters: Filters | null | undefined): Filters | null {
  if (!filters) return null;
  const out: Filters = {};
  for (const key of ['include', 'exclude', 'files'] as const) {
    const list = filters[key];
    if (list && list.length > 0) out[key] = [...new Set(list)].sort();
  }
  return Object.keys(out).length > 0 ? out : null;
}

function entryKey(e: Pick<ManifestEntry, 'repoId' | 'type' | 'rev' | 'filters'>): string {
  return JSON.stringify([e.repoId, e.type, e.rev, canonicalFilters(e.filters)]);
}

function corrupt(file: string, why: string): NixHugError {
  return new NixHugError(
    `the manifest ${file} is corrupt: ${why}`,
    `it was left untouched; repair it, or move it aside (nix-hug then starts a new one, and \`nix-hug export\` records entries again)`,
  );
}

const HEX40 = /^[0-9a-f]{40}$/;
const STORE_PATH = /^\/[^\0]*\/[0-9a-z]{32}-[^/]+$/;

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function checkEntry(raw: unknown, i: number, file: string): ManifestEntry {
  const bad = (why: string) => corrupt(file, `entry ${i}: ${why}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not an object');
  const e = raw as Record<string, unknown>;
  if (typeof e.repoId !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(e.repoId)) throw bad('repoId must be "org/name"');
  if (e.type !== 'model' && e.type !== 'dataset') throw bad('type must be "model" or "dataset"');
  if (typeof e.rev !== 'string' || !HEX40.test(e.rev)) throw bad('rev must be a 40-hex commit');
  if (typeof e.storePath !== 'string' || !STORE_PATH.test(e.storePath)) throw bad('storePath is not a store path');
  if (typeof e.exportedAt !== 'string' || Number.isNaN(Date.parse(e.exportedAt))) throw bad('exportedAt is not a date');
  let filters: Filters | null = null;
  if (e.filters !== null && e.filters !== undefined) {
    if (typeof e.filters !== 'object' || Array.isArray(e.filters)) throw bad('filters must be an object or null');
    const f = e.filters as Record<string, unknown>;
    for (const [k, v] of Object.entries(f)) {
      if (!['include', 'exclude', 'files'].includes(k) || !isStringList(v)) throw bad(`filters.${k} is not a list of strings`);
    }
    filters = canonicalFilters(f as Filters);
  }
  return { repoId: e.repoId, type: e.type, rev: e.rev, filters, storePath: e.storePath, exportedAt: e.exportedAt };
}

/** Parses and checks a manifest's text. */
export function parseManifest(text: string, file: string): ManifestFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw corrupt(file, 'expected a JSON object');
  const d = data as Record<string, unknown>;
  if (typeof d.version !== 'number') throw corrupt(file, 'no "version" number');
  if (d.version > MANIFEST_VERSION) {
    throw new NixHugError(
      `the manifest ${file} has version ${d.version}, written by a newer nix-hug (this one reads version ${MANIFEST_VERSION})`,
      'upgrade nix-hug',
    );
  }
  if (d.version !== MANIFEST_VERSION) throw corrupt(file, `unknown version ${d.version}`);
  if (!Array.isArray(d.entries)) throw corrupt(file, '"entries" must be a list');
  const entries = d.entries.map((e, i) => checkEntry(e, i, file));
  return { version: MANIFEST_VERSION, storeUrl: typeof d.storeUrl === 'string' ? d.storeUrl : '', entries };
}

/** The manifest's entries; an absent file has none. */
export async function readManifest(file: string): Promise<ManifestEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new NixHugError(`could not read the manifest ${file}: ${(err as Error).message}`, 'check its permissions');
  }
  return parseManifest(text, file).entries;
}

/** Writes `text` to `file` atomically: a temporary sibling, fsync, rename, fsync of the directory. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new NixHugError(`could not write the manifest ${file}: ${(err as Error).message}`, 'check that the directory is writable and has room');
  }
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename already happened.
  }
}

/**
 * Reads, changes and atomically rewrites the manifest under its lock. A
 * corrupt manifest aborts before anything is written.
 */
export async function updateManifest(
  file: string,
  storeUrl: string,
  change: (entries: ManifestEntry[]) => ManifestEntry[],
  lockOptions?: LockOptions,
): Promise<ManifestEntry[]> {
  try {
    await mkdir(dirname(file), { recursive: true });
  } catch (err) {
    throw new NixHugError(`could not create ${dirname(file)}: ${(err as Error).message}`, 'check that the persist directory is writable');
  }
  return withLock(
    `${file}.lock`,
    async () => {
      const next = change(await readManifest(file));
      const body: ManifestFile = { version: MANIFEST_VERSION, storeUrl, entries: next };
      await writeAtomic(file, JSON.stringify(body, null, 2) + '\n');
      return next;
    },
    lockOptions,
  );
}

/** Records an export: replaces the entry with the same (repoId, type, rev, filters), or adds it. */
export async function recordExport(file: string, storeUrl: string, entry: ManifestEntry, lockOptions?: LockOptions): Promise<void> {
  const clean: ManifestEntry = { ...entry, filters: canonicalFilters(entry.filters) };
  const key = entryKey(clean);
  await updateManifest(file, storeUrl, (entries) => [...entries.filter((e) => entryKey(e) !== key), clean], lockOptions);
}

/** The entry for exactly this selection, if any. */
export function findExact(
  entries: ManifestEntry[],
  want: Pick<ManifestEntry, 'repoId' | 'type' | 'rev' | 'filters'>,
): ManifestEntry | undefined {
  const key = entryKey(want);
  return entries.find((e) => entryKey(e) === key);
}

/** Entries of a repo (optionally at one commit), newest export first. */
export function entriesFor(entries: ManifestEntry[], repoId: string, type: RepoType, rev?: string): ManifestEntry[] {
  return entries
    .filter((e) => e.repoId === repoId && e.type === type && (rev === undefined || e.rev === rev))
    .sort((a, b) => Date.parse(b.exportedAt) - Date.parse(a.exportedAt));
}
