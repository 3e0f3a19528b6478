/** Reading what a build or a copy produced. */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface SnapshotEntry {
  /** Bytes of the file (through links). */
  bytes: Buffer;
  /** Link target when the entry is a symlink. */
  link: string | null;
}

/** Every non-folder entry below `dir` (links followed for the bytes, never for folders). */
export function readSnapshot(dir: string): Map<string, SnapshotEntry> {
  const out = new Map<string, SnapshotEntry>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const abs = join(dir, relPath);
      const st = lstatSync(abs);
      if (st.isDirectory()) walk(relPath);
      else if (st.isSymbolicLink()) {
        const link = readlinkSync(abs);
        let bytes: Buffer;
        try {
          bytes = readFileSync(abs);
        } catch {
          bytes = Buffer.alloc(0);
        }
        out.set(relPath, { bytes, link });
      } else out.set(relPath, { bytes: readFileSync(abs), link: null });
    }
  };
  walk('');
  return out;
}

/** The bytes of every file below `dir` (links followed), by relative path. */
export function readTree(dir: string): Map<string, Buffer> {
  return new Map([...readSnapshot(dir)].map(([path, entry]) => [path, entry.bytes]));
}
