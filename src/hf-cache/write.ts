/**
 * Writes a fetched snapshot into a writable Hugging Face cache in its native
 * layout, as huggingface_hub's own downloads leave it, so tools that read
 * `~/.cache/huggingface/hub` find the files without `HF_HUB_CACHE` pointing
 * at the store:
 *   {type}s--ORG--NAME/blobs/<sha256 for LFS files, git sha1 for others>
 *   {type}s--ORG--NAME/snapshots/<commit>/<path>  → relative link to ../../blobs/<id>
 *   {type}s--ORG--NAME/refs/<ref>                 the commit, no trailing newline
 * A blob already there (same name and size) is reused, never copied again.
 * Every file is written under a temporary name and renamed into place, so a
 * reader never sees half a blob and an interrupted run leaves only
 * `*.incomplete` leftovers (which huggingface_hub also uses and ignores).
 */
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { cacheFolderName } from '../hub/repo-type.js';
import type { RepoRef, RepoFile } from '../types.js';

export interface SnapshotToWrite {
  /** The cache folder (what HF_HUB_CACHE names). */
  dir: string;
  repo: RepoRef;
  /** 40-hex commit. */
  rev: string;
  /** The ref the commit was asked for (`main`, `v1.0`, `refs/pr/1`); none when it was the commit itself. */
  ref: string | null;
  /** The files to write, each with where its bytes are (the built snapshot in the store). */
  files: { file: RepoFile; source: string }[];
}

export interface WriteOutcome {
  repoDir: string;
  /** Blobs copied in, and their bytes. */
  written: number;
  writtenBytes: number;
  /** Blobs that were already there (nothing copied). */
  reused: number;
  reusedBytes: number;
}

/** The blob's name in the cache: the ETag the Hub serves for the file. */
export function blobId(file: RepoFile): string {
  return file.lfs ? file.lfs.sha256 : file.oid;
}

const unique = () => `${process.pid}.${Math.random().toString(36).slice(2, 8)}`;

async function sizeOf(path: string): Promise<number | null> {
  return lstat(path).then((s) => (s.isFile() ? s.size : null), () => null);
}

/** Copies `source` (links followed) to `target` through a temporary name; the copy is writable by its owner. */
async function placeBlob(source: string, target: string): Promise<void> {
  const tmp = `${target}.${unique()}.incomplete`;
  try {
    await copyFile(source, tmp, constants.COPYFILE_FICLONE);
    await chmod(tmp, 0o644);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A relative link at `path` to `target`, replacing whatever is there unless it already points there. */
async function placeLink(path: string, target: string): Promise<void> {
  const wanted = relative(dirname(path), target);
  if ((await readlink(path).catch(() => null)) === wanted) return;
  const tmp = `${path}.${unique()}.incomplete`;
  await symlink(wanted, tmp);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function writeHfCacheSnapshot(s: SnapshotToWrite): Promise<WriteOutcome> {
  const repoDir = join(s.dir, cacheFolderName(s.repo));
  const blobsDir = join(repoDir, 'blobs');
  const snapshotDir = join(repoDir, 'snapshots', s.rev);
  await mkdir(blobsDir, { recursive: true });
  await mkdir(snapshotDir, { recursive: true });
  // Even with no ref to write: huggingface.js's scan refuses a repository folder without refs/.
  await mkdir(join(repoDir, 'refs'), { recursive: true });
  const outcome: WriteOutcome = { repoDir, written: 0, writtenBytes: 0, reused: 0, reusedBytes: 0 };
  const placed = new Set<string>();
  for (const { file, source } of s.files) {
    const id = blobId(file);
    const blob = join(blobsDir, id);
    if (!placed.has(id)) {
      placed.add(id);
      const size = (await stat(source)).size;
      if ((await sizeOf(blob)) === size) {
        outcome.reused++;
        outcome.reusedBytes += size;
      } else {
        await placeBlob(source, blob);
        outcome.written++;
        outcome.writtenBytes += size;
      }
    }
    const link = join(snapshotDir, ...file.path.split('/'));
    await mkdir(dirname(link), { recursive: true });
    await placeLink(link, blob);
  }
  if (s.ref !== null && s.ref !== s.rev) {
    const refFile = join(repoDir, 'refs', ...s.ref.split('/'));
    await mkdir(dirname(refFile), { recursive: true });
    // huggingface_hub reads refs with f.read(): exactly the commit.
    await writeFileAtomic(refFile, s.rev);
  }
  return outcome;
}
