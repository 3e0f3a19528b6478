/**
 * What `nix-hug ls --lock` shows of each entry: the entry without its
 * manifest, plus what the manifest says (files, the LFS bytes the filters
 * select). Reads only local files.
 */
import { selector } from '../filters.js';
import type { Lock, LockEntry } from './format.js';
import { entryManifest, type LockLocation } from './lock-file.js';

export interface ListedEntry extends Omit<LockEntry, 'manifest'> {
  /** The vendored manifest (relative to the lock's folder), or null when the lock holds it. */
  manifestFile: string | null;
  /** Files in the repository at `rev`. */
  files: number;
  /** LFS files the filters select, and their bytes. */
  lfsFiles: number;
  lfsBytes: number;
}

export async function listEntries(loc: LockLocation, lock: Lock): Promise<ListedEntry[]> {
  const listed: ListedEntry[] = [];
  for (const entry of lock.entries) {
    const files = await entryManifest(loc, entry);
    const selected = selector(entry.filters);
    const lfs = files.filter((f) => f.lfs && selected(f));
    const { manifest, ...fields } = entry;
    listed.push({
      ...fields,
      manifestFile: manifest.kind === 'file' ? manifest.path : null,
      files: files.length,
      lfsFiles: lfs.length,
      lfsBytes: lfs.reduce((n, f) => n + f.lfs!.size, 0),
    });
  }
  return listed;
}
