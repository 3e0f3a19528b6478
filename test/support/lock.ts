/** Lock entries for the lock file's tests: made from a manifest, so that their hashes agree. */
import { canonicalManifest, canonicalManifestHash, type ManifestFile } from '../../src/canonical-manifest.ts';
import type { LockEntry } from '../../src/lock/format.ts';

export const LOCK_SHA_A = 'a'.repeat(64);
export const LOCK_SHA_B = 'b'.repeat(64);

/** Three files: a git file and two LFS files (one in a folder). */
export const LOCK_FILES: ManifestFile[] = [
  { path: 'config.json', lfs: null },
  { path: 'model.safetensors', lfs: { sha256: LOCK_SHA_A, size: 1234 } },
  { path: 'onnx/model.onnx', lfs: { sha256: LOCK_SHA_B, size: 99 } },
];

/** An entry `name` for `org/<name>` at a fixed commit, with `files` inline (default LOCK_FILES). */
export function lockEntry(name: string, over: Partial<LockEntry> = {}, files: ManifestFile[] = LOCK_FILES): LockEntry {
  return {
    name,
    type: 'model',
    repoId: `org/${name}`,
    endpoint: null,
    ref: 'main',
    rev: '0123456789abcdef0123456789abcdef01234567',
    filters: null,
    fileTreeHash: canonicalManifestHash(canonicalManifest(files)),
    gitRepoHash: `sha256-${'G'.repeat(43)}=`,
    manifest: { kind: 'inline', files },
    ...over,
  };
}
