/**
 * Reads a Hugging Face cache in its native layout without changing it:
 *   {models|datasets|spaces}--ORG--NAME/
 *     blobs/<sha256 of an LFS file, or git sha1 of another file>
 *     snapshots/<commit>/<path>   (relative links into blobs/, or files)
 *     refs/<ref>                  (a commit, no newline; refs/pr/1 nested)
 * Problems in one repository folder become warnings, never a crash: the
 * cache belongs to other tools, which may be writing it right now.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_TYPES } from '../hub/repo-type.js';
import type { RepoType } from '../types.js';

export interface CachedRevision {
  commit: string;
  /** Refs that name this commit (`main`, `v1.0`, `refs/pr/1`). */
  refs: string[];
  /** Files of the snapshot (links followed). */
  files: number;
  /** Bytes of those files. */
  size: number;
  /** Paths inside the repository, `/`-separated, with the file each resolves to (the blob, for a link). */
  entries: { path: string; file: string }[];
}

export interface CachedRepo {
  type: RepoType;
  repoId: string;
  /** The repository's folder. */
  dir: string;
  revisions: CachedRevision[];
  /** Refs whose commit has no snapshot here. */
  danglingRefs: Record<string, string>;
  /** Bytes under blobs/ (each blob once), what the repository takes on disk. */
  size: number;
  /** Files under blobs/. */
  blobs: number;
}

export interface HfCacheScan {
  dir: string;
  exists: boolean;
  repos: CachedRepo[];
  /** Folders that are not repositories or could not be read: `path: why`. */
  warnings: string[];
}

const HEX40 = /^[0-9a-f]{40}$/;

/** `models--org--name` → type and id, or null. */
export function parseRepoFolder(name: string): { type: RepoType; repoId: string } | null {
  const parts = name.split('--');
  if (parts.length !== 3) return null;
  const [prefix, org, repo] = parts as [string, string, string];
  const type = (Object.keys(REPO_TYPES) as RepoType[]).find((t) => REPO_TYPES[t].cachePrefix === prefix);
  if (!type || org === '' || repo === '') return null;
  return { type, repoId: `${org}/${repo}` };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every ref file below refs/, by its name relative to refs/ (`main`, `refs/pr/1`). */
async function readRefs(refsDir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await listDir(refsDir)) {
    const path = join(refsDir, name);
    const st = await lstat(path);
    if (st.isDirectory()) Object.assign(out, await readRefs(path, `${prefix}${name}/`));
    else if (st.isFile()) out[`${prefix}${name}`] = (await readFile(path, 'utf8')).trim();
  }
  return out;
}

/** The files of a snapshot, links followed (a link to nowhere is skipped). */
async function walkSnapshot(root: string, rel = ''): Promise<{ path: string; file: string; size: number }[]> {
  const out: { path: string; file: string; size: number }[] = [];
  for (const name of await listDir(join(root, rel))) {
    const relPath = rel === '' ? name : `${rel}/${name}`;
    const abs = join(root, relPath);
    const l = await lstat(abs);
    if (l.isDirectory()) {
      out.push(...(await walkSnapshot(root, relPath)));
      continue;
    }
    const st = await stat(abs).catch(() => null);
    if (st?.isFile()) out.push({ path: relPath, file: l.isSymbolicLink() ? await realpath(abs) : abs, size: st.size });
  }
  return out;
}

async function scanRepo(dir: string, type: RepoType, repoId: string, warnings: string[]): Promise<CachedRepo> {
  const refs = await readRefs(join(dir, 'refs'));
  const revisions: CachedRevision[] = [];
  for (const commit of await listDir(join(dir, 'snapshots'))) {
    if (!HEX40.test(commit)) {
      warnings.push(`${join(dir, 'snapshots', commit)}: not a commit`);
      continue;
    }
    const files = await walkSnapshot(join(dir, 'snapshots', commit));
    revisions.push({
      commit,
      refs: Object.keys(refs).filter((r) => refs[r] === commit).sort(),
      files: files.length,
      size: files.reduce((n, f) => n + f.size, 0),
      entries: files.map(({ path, file }) => ({ path, file })),
    });
  }
  const commits = new Set(revisions.map((r) => r.commit));
  const danglingRefs = Object.fromEntries(Object.entries(refs).filter(([, c]) => !commits.has(c)));
  let size = 0;
  let blobs = 0;
  for (const name of await listDir(join(dir, 'blobs'))) {
    const st = await lstat(join(dir, 'blobs', name));
    if (!st.isFile() || name.endsWith('.incomplete')) continue;
    size += st.size;
    blobs++;
  }
  return { type, repoId, dir, revisions, danglingRefs, size, blobs };
}

/** Every repository of the cache at `dir` (a missing folder is an empty cache). */
export async function scanHfCache(dir: string): Promise<HfCacheScan> {
  const exists = await stat(dir).then((s) => s.isDirectory(), () => false);
  const scan: HfCacheScan = { dir, exists, repos: [], warnings: [] };
  if (!exists) return scan;
  for (const name of await listDir(dir)) {
    if (name.startsWith('.')) continue; // .locks and other tools' files
    const path = join(dir, name);
    const repo = parseRepoFolder(name);
    if (!repo) {
      if ((await lstat(path)).isDirectory()) scan.warnings.push(`${path}: not a repository folder`);
      continue;
    }
    try {
      scan.repos.push(await scanRepo(path, repo.type, repo.repoId, scan.warnings));
    } catch (err) {
      scan.warnings.push(`${path}: ${(err as Error).message}`);
    }
  }
  return scan;
}

/**
 * sha256 → a blob file holding it, from every repository of the cache (the
 * same weights in two repositories are one lookup). LFS blobs are named by
 * their sha256; other blobs by a 40-hex git sha1, which is never asked for.
 */
export async function indexLfsBlobs(dir: string): Promise<Map<string, { file: string; size: number }>> {
  const index = new Map<string, { file: string; size: number }>();
  for (const name of await listDir(dir).catch(() => [])) {
    if (!parseRepoFolder(name)) continue;
    const blobsDir = join(dir, name, 'blobs');
    for (const blob of await listDir(blobsDir).catch(() => [])) {
      if (!/^[0-9a-f]{64}$/.test(blob) || index.has(blob)) continue;
      const st = await stat(join(blobsDir, blob)).catch(() => null);
      if (st?.isFile()) index.set(blob, { file: join(blobsDir, blob), size: st.size });
    }
  }
  return index;
}
