/**
 * Nix's NAR serialisation, hashed as it streams: the SRI `sha256-…` that
 * `nix hash path` prints and that a recursive fixed-output derivation (such
 * as a git checkout) is checked against. The tree comes from anywhere (git
 * objects, a directory); file contents are streamed in, never held whole.
 *
 * Format: every string is its length (u64 little-endian), its bytes, and
 * zero padding to a multiple of 8. A node is
 *   ( type regular [executable ""] contents <bytes> )
 *   ( type symlink target <target> )
 *   ( type directory { entry ( name <name> node <node> ) }* )
 * with directory entries sorted by the bytes of their names; the archive is
 * "nix-archive-1" followed by the root node.
 *
 * Names are kept as `latin1` strings (one char per byte), so that any byte
 * sequence survives and JavaScript's string order is the byte order Nix uses.
 */
import { createHash, type Hash } from 'node:crypto';
import { lstat, open, readdir, readlink } from 'node:fs/promises';

export type NarNode<L> =
  | { type: 'directory'; entries: Map<string, NarNode<L>> }
  | { type: 'regular'; executable: boolean; size: number; leaf: L }
  | { type: 'symlink'; leaf: L };

/** Where the bytes of files and the targets of symlinks come from, asked in NAR order. */
export interface NarSource<L> {
  /** Exactly `size` bytes of the file, in chunks. */
  contents(leaf: L, size: number): AsyncIterable<Uint8Array>;
  /** The link target's bytes. */
  target(leaf: L): Promise<Uint8Array>;
}

/**
 * The hash the archive is fed to, through a buffer: a NAR is mostly tiny
 * strings (tags, names, lengths), and one `update` per string would cost more
 * than the hashing itself for repositories of many small files.
 */
class NarHash {
  private readonly hash: Hash = createHash('sha256');
  private readonly buf = Buffer.alloc(64 * 1024);
  private used = 0;

  private flush(): void {
    if (this.used > 0) this.hash.update(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  /** Raw bytes (file contents go straight to the hash when large). */
  bytes(data: Uint8Array): void {
    if (data.length > this.buf.length - this.used) {
      this.flush();
      if (data.length > this.buf.length) {
        this.hash.update(data);
        return;
      }
    }
    this.buf.set(data, this.used);
    this.used += data.length;
  }

  u64(n: number): void {
    if (this.buf.length - this.used < 8) this.flush();
    this.buf.writeBigUInt64LE(BigInt(n), this.used);
    this.used += 8;
  }

  pad(length: number): void {
    const rest = length % 8;
    if (rest !== 0) this.bytes(ZEROS.subarray(0, 8 - rest));
  }

  str(s: string | Uint8Array): void {
    const bytes = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    this.u64(bytes.length);
    this.bytes(bytes);
    this.pad(bytes.length);
  }

  digest(): string {
    this.flush();
    return this.hash.digest('base64');
  }
}

const ZEROS = Buffer.alloc(8);

/** Entries of a directory in NAR order (bytes of the latin1-kept names). */
export function sortedEntries<L>(dir: Map<string, NarNode<L>>): Array<[string, NarNode<L>]> {
  return [...dir.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Every leaf (file or symlink) in the order the NAR serialises them. */
export function* narLeaves<L>(node: NarNode<L>): Generator<NarNode<L> & { leaf: L }> {
  if (node.type === 'directory') {
    for (const [, child] of sortedEntries(node.entries)) yield* narLeaves(child);
  } else yield node;
}

async function writeNode<L>(nar: NarHash, node: NarNode<L>, source: NarSource<L>, what: string): Promise<void> {
  nar.str('(');
  nar.str('type');
  if (node.type === 'directory') {
    nar.str('directory');
    for (const [name, child] of sortedEntries(node.entries)) {
      nar.str('entry');
      nar.str('(');
      nar.str('name');
      nar.str(name);
      nar.str('node');
      await writeNode(nar, child, source, `${what}/${name}`);
      nar.str(')');
    }
  } else if (node.type === 'symlink') {
    nar.str('symlink');
    nar.str('target');
    nar.str(await source.target(node.leaf));
  } else {
    nar.str('regular');
    if (node.executable) {
      nar.str('executable');
      nar.str('');
    }
    nar.str('contents');
    nar.u64(node.size);
    let seen = 0;
    for await (const chunk of source.contents(node.leaf, node.size)) {
      seen += chunk.length;
      nar.bytes(chunk);
    }
    if (seen !== node.size) throw new Error(`${what}: expected ${node.size} bytes, read ${seen}`);
    nar.pad(node.size);
  }
  nar.str(')');
}

/** `sha256-<base64>` of the NAR of `root`. */
export async function narHash<L>(root: NarNode<L>, source: NarSource<L>): Promise<string> {
  const nar = new NarHash();
  nar.str('nix-archive-1');
  await writeNode(nar, root, source, '');
  return `sha256-${nar.digest()}`;
}

/** The tree of a directory on disk (symlinks not followed); leaves carry their paths as bytes. */
export async function narTreeOfPath(path: Buffer): Promise<NarNode<Buffer>> {
  const st = await lstat(path);
  if (st.isSymbolicLink()) return { type: 'symlink', leaf: path };
  if (st.isFile()) return { type: 'regular', executable: (st.mode & 0o100) !== 0, size: st.size, leaf: path };
  if (!st.isDirectory()) throw new Error(`${path.toString()}: not a file, directory or symlink (Nix cannot archive it)`);
  const entries = new Map<string, NarNode<Buffer>>();
  for (const name of await readdir(path, { encoding: 'buffer' })) {
    entries.set(name.toString('latin1'), await narTreeOfPath(Buffer.concat([path, SLASH, name])));
  }
  return { type: 'directory', entries };
}

const SLASH = Buffer.from('/');

/** What `nix hash path PATH` prints (sha256, SRI). */
export async function narHashOfPath(path: string): Promise<string> {
  return narHash(await narTreeOfPath(Buffer.from(path)), {
    async *contents(leaf) {
      const handle = await open(leaf, 'r');
      try {
        for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20 })) yield chunk as Buffer;
      } finally {
        await handle.close();
      }
    },
    target: async (leaf) => readlink(leaf, { encoding: 'buffer' }),
  });
}
