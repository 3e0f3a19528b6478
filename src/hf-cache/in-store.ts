/**
 * What of a cached revision the Nix store already holds: snapshots the
 * library built for that commit (named `hf-{type}-ORG--NAME-<rev7>`, whatever
 * the filters) and the LFS blobs (`hf-blob-<sha256>`, predicted). Reading
 * the store folder's names needs no evaluation and no network.
 */
import { readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RepoType } from '../types.js';
import { blobStorePath } from '../nix/store-path.js';
import type { CachedRepo } from './scan.js';

const SNAPSHOT = /^[0-9a-df-np-sv-z]{32}-hf-(model|dataset|space)-(.+)--(.+)-([0-9a-f]{7})$/;

export interface RevisionInStore {
  /** Snapshots of this commit in the store (valid paths). */
  snapshots: string[];
  /** LFS files of the cached snapshot whose blob is in the store, and how many LFS files it has. */
  lfsInStore: number;
  lfsFiles: number;
}

function key(type: RepoType, id: string, commit: string): string {
  return `${type}:${id}:${commit.slice(0, 7)}`;
}

/** Snapshot store paths by type, id and short commit. */
async function snapshotPaths(storeDir: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const names = await readdir(storeDir).catch(() => [] as string[]);
  for (const name of names) {
    const m = SNAPSHOT.exec(name);
    if (!m) continue;
    const k = key(m[1] as RepoType, `${m[2]}/${m[3]}`, m[4]!);
    found.set(k, [...(found.get(k) ?? []), `${storeDir}/${name}`]);
  }
  return found;
}

/**
 * For each revision of each repository (keyed `type:id:commit`): what the
 * store holds. `invalid` answers which of the given paths are not valid.
 */
export async function revisionsInStore(
  repos: readonly CachedRepo[],
  invalid: (paths: string[]) => Promise<Set<string>>,
  storeDir = '/nix/store',
): Promise<Map<string, RevisionInStore>> {
  const snapshots = await snapshotPaths(storeDir);
  const candidates: string[] = [];
  const plan: { k: string; snaps: string[]; blobs: string[] }[] = [];
  for (const repo of repos) {
    for (const rev of repo.revisions) {
      const snaps = snapshots.get(key(repo.type, repo.repoId, rev.commit)) ?? [];
      // An LFS blob of the HF cache is named by its sha256.
      const blobs = rev.entries.map((e) => basename(e.file)).filter((b) => /^[0-9a-f]{64}$/.test(b)).map((sha) => blobStorePath(sha, storeDir));
      plan.push({ k: `${repo.type}:${repo.repoId}:${rev.commit}`, snaps, blobs });
      candidates.push(...snaps, ...blobs);
    }
  }
  const bad = candidates.length > 0 ? await invalid([...new Set(candidates)]) : new Set<string>();
  return new Map(
    plan.map(({ k, snaps, blobs }) => [
      k,
      { snapshots: snaps.filter((p) => !bad.has(p)), lfsInStore: blobs.filter((p) => !bad.has(p)).length, lfsFiles: blobs.length },
    ]),
  );
}
