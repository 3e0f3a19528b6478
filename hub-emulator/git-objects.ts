/**
 * Git object ids and LFS pointers computed in-process, so the emulator knows
 * every blob/tree/commit id without asking git (the builder cross-checks the
 * commit ids against what `git fast-import` wrote).
 */
import { createHash } from 'node:crypto';

export type FileMode = '100644' | '100755' | '120000';

export function gitObjectId(kind: 'blob' | 'tree' | 'commit', body: Buffer): string {
  return createHash('sha1').update(`${kind} ${body.length}\0`).update(body).digest('hex');
}

export function lfsPointer(sha256: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
}

const POINTER = /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n$/;

/** The LFS object a blob points at, if the blob is a well-formed pointer (what the Hub reports as `lfs`). */
export function parseLfsPointer(blob: Buffer): { sha256: string; size: number } | null {
  if (blob.length > 200) return null;
  const m = POINTER.exec(blob.toString('latin1'));
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  return { sha256: m[1], size: Number(m[2]) };
}

export interface TreeItemForHash {
  name: string;
  mode: FileMode | '40000';
  oid: string;
}

/** Git's tree order: by name bytes, a directory compared as if its name ended in `/`. */
export function compareTreeNames(a: { name: string; mode: string }, b: { name: string; mode: string }): number {
  const ka = Buffer.from(a.mode === '40000' ? `${a.name}/` : a.name);
  const kb = Buffer.from(b.mode === '40000' ? `${b.name}/` : b.name);
  return Buffer.compare(ka, kb);
}

/** Tree object id of already-sorted items. */
export function treeId(sorted: TreeItemForHash[]): string {
  const parts: Buffer[] = [];
  for (const it of sorted) {
    parts.push(Buffer.from(`${it.mode} ${it.name}\0`), Buffer.from(it.oid, 'hex'));
  }
  return gitObjectId('tree', Buffer.concat(parts));
}

export interface Signature {
  name: string;
  email: string;
  /** Unix seconds, UTC. */
  time: number;
}

export function commitBody(tree: string, parents: string[], sig: Signature, message: string): Buffer {
  const who = `${sig.name} <${sig.email}> ${sig.time} +0000`;
  const lines = [`tree ${tree}`, ...parents.map((p) => `parent ${p}`), `author ${who}`, `committer ${who}`];
  return Buffer.from(`${lines.join('\n')}\n\n${message}`);
}
