/**
 * LFS blobs already in the local Hugging Face cache go into the Nix store
 * under the name the library predicts (`hf-blob-<sha256>`), so the build finds
 * them and downloads nothing. `builtins.path` with the pinned sha256 reads the
 * cache's file in place (no copy, nothing written to the cache) and Nix checks
 * the hash while it adds it: a cache file with other bytes is refused and
 * downloaded instead.
 */
import { stat } from 'node:fs/promises';
import { nixString } from '../nix/expr.js';
import { capture, COMMON_FLAGS } from '../nix/nix.js';
import { blobName, blobStorePath } from '../nix/store-path.js';
import type { LfsInfo } from '../types.js';

export interface CachedBlob {
  /** Path in the repository, for messages. */
  path: string;
  lfs: LfsInfo;
  /** The cache's blob file. */
  file: string;
}

export interface ImportOutcome {
  imported: CachedBlob[];
  /** Cache files that did not hold the pinned bytes (or could not be read): download them. */
  refused: { blob: CachedBlob; why: string }[];
}

/** The expression that adds `file` as the flat fixed-output path `hf-blob-<sha256>`. */
export function importExpression(file: string, sha256: string): string {
  return `builtins.path { path = /. + ${nixString(file)}; name = ${nixString(blobName(sha256))}; recursive = false; sha256 = ${nixString(sha256)}; }`;
}

async function importOne(blob: CachedBlob, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string | null> {
  const size = await stat(blob.file).then((s) => s.size, () => -1);
  if (size !== blob.lfs.size) return size < 0 ? 'it can no longer be read' : `it has ${size} bytes, the pin says ${blob.lfs.size}`;
  const r = await capture('nix', [...COMMON_FLAGS, 'eval', '--impure', '--raw', '--expr', importExpression(blob.file, blob.lfs.sha256)], env, undefined, signal);
  if (r.code === 0 && r.stdout.trim() === blobStorePath(blob.lfs.sha256)) return null;
  const said = r.stderr.replace(/\u001b\[[0-9;]*m/g, '').trim().split('\n').find((l) => /error/i.test(l)) ?? `nix answered ${r.stdout.trim() || `exit ${r.code}`}`;
  return said.replace(/^error:\s*/, '');
}

/** Adds each blob (two at a time: hashing is CPU- and disk-bound). Never throws for a bad cache file. */
export async function importCachedBlobs(blobs: readonly CachedBlob[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<ImportOutcome> {
  const outcome: ImportOutcome = { imported: [], refused: [] };
  const queue = [...blobs];
  const worker = async () => {
    for (let blob = queue.shift(); blob && !signal?.aborted; blob = queue.shift()) {
      const why = await importOne(blob, env, signal);
      if (why === null) outcome.imported.push(blob);
      else outcome.refused.push({ blob, why });
    }
  };
  await Promise.all(Array.from({ length: Math.min(2, queue.length) }, worker));
  return outcome;
}
