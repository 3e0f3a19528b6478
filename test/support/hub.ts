/**
 * What the Hub emulator holds and served, seen from a test: per-run LFS
 * contents, a file's sha256, the CDN's requests, and the Hub's own listing
 * (read independently of the CLI's client).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RepoType, RequestRecord, RunningHub } from '../../hub-emulator/types.ts';
import { fileTreeHash } from '../../src/canonical-manifest.ts';

/** Unique per test process: seeds LFS contents, so nothing is already in the shared Nix store. */
export const RUN = randomBytes(6).toString('hex');

/** The seed of the LFS bytes `seeded(name, …)` stands for (`lfsContent(seedOf(name), size)`). */
export const seedOf = (name: string): string => `${RUN}-${name}`;

/** An LFS file of `size` bytes no other run has. */
export const seeded = (name: string, size: number) => ({ lfs: { size, seed: seedOf(name) } });

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** sha256 of `path` at the tip of `repo` in the emulator. */
export function fileSha(hub: RunningHub, repo: { id: string; type?: RepoType }, path: string): string {
  const bytes = hub.repo(repo.id, repo.type).filesAt().get(path);
  if (!bytes) throw new Error(`${path} is not a file of ${repo.id} in the emulator`);
  return sha256Hex(bytes);
}

/** Requests the emulator's CDN answered, optionally only those for the blob with this sha256. */
export function cdnRequests(hub: RunningHub, sha?: string): RequestRecord[] {
  return hub.requests.filter((r) => r.route === 'cdn' && (sha === undefined || r.url.includes(sha)));
}

export interface TreeEntry {
  path: string;
  size: number;
  oid: string;
  lfs: { sha256: string; size: number } | null;
}

/** Every file at `rev`, from the tree API, following `Link: rel="next"` pages. */
export async function hubFiles(hubUrl: string, type: RepoType, id: string, rev: string): Promise<TreeEntry[]> {
  const files: TreeEntry[] = [];
  let url: string | null = `${hubUrl}/api/${type}s/${id}/tree/${rev}?recursive=true`;
  for (let page = 0; url !== null && page < 1000; page++) {
    const res: Response = await fetch(url);
    if (!res.ok) throw new Error(`tree listing ${url}: HTTP ${res.status}`);
    const items = (await res.json()) as Array<{ type: string; path: string; size: number; oid: string; lfs?: { oid: string; size: number } }>;
    for (const i of items) {
      if (i.type === 'file') files.push({ path: i.path, size: i.size, oid: i.oid, lfs: i.lfs ? { sha256: i.lfs.oid, size: i.lfs.size } : null });
    }
    const link = res.headers.get('link');
    const next = link ? /<([^>]+)>;\s*rel="next"/.exec(link) : null;
    url = next ? next[1]! : null;
  }
  return files;
}

/** fileTreeHash of a repo at a rev, computed by the CLI's own code from the Hub's listing. */
export async function hubFileTreeHash(hubUrl: string, type: RepoType, id: string, rev: string): Promise<string> {
  return fileTreeHash(await hubFiles(hubUrl, type, id, rev), id);
}
