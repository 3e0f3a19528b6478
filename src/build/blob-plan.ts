/**
 * Where each selected LFS file of a pinned fetch will come from: already in
 * the Nix store (its `hf-blob-<sha256>` path is predicted, so nothing needs
 * evaluating), in the local Hugging Face cache (same sha256 and size), or the
 * Hub's CDN. Used by the build (which then takes the cached ones) and by
 * `fetch --dry-run` (which only says so).
 */
import type { CachedBlob } from '../hf-cache/import-blobs.js';
import { indexLfsBlobs } from '../hf-cache/scan.js';
import { blobStorePath } from '../nix/store-path.js';
import { invalidPaths } from '../nix/validity.js';
import type { RepoFile } from '../types.js';

export interface BlobPlan {
  inStore: RepoFile[];
  /** Found in the local HF cache (not yet checked byte for byte: the import does that). */
  inHfCache: CachedBlob[];
  toDownload: RepoFile[];
  /** The HF cache looked in, or null with --no-hf-cache. */
  hfCacheDir: string | null;
}

/** `hfCacheDir`: the local HF cache to look in, or null not to. */
export async function planBlobs(selectedLfs: readonly RepoFile[], env: NodeJS.ProcessEnv, hfCacheDir: string | null): Promise<BlobPlan> {
  const missing = await invalidPaths(selectedLfs.map((f) => blobStorePath(f.lfs!.sha256)), env);
  const inStore = selectedLfs.filter((f) => !missing.has(blobStorePath(f.lfs!.sha256)));
  const absent = selectedLfs.filter((f) => missing.has(blobStorePath(f.lfs!.sha256)));
  if (hfCacheDir === null || absent.length === 0) return { inStore, inHfCache: [], toDownload: absent, hfCacheDir };
  const index = await indexLfsBlobs(hfCacheDir);
  const inHfCache: CachedBlob[] = [];
  const toDownload: RepoFile[] = [];
  for (const f of absent) {
    const hit = index.get(f.lfs!.sha256);
    if (hit && hit.size === f.lfs!.size) inHfCache.push({ path: f.path, lfs: f.lfs!, file: hit.file });
    else toDownload.push(f);
  }
  return { inStore, inHfCache, toDownload, hfCacheDir };
}
