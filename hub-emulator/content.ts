/**
 * Deterministic LFS file content: the AES-256-CTR keystream (key =
 * sha256(seed), counter from 0) — random-looking bytes with NULs like real
 * weights, generated at hundreds of MB/s, seekable to any offset.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const BLOCK = 16;
const CHUNK = 1 << 20;

function cipherAt(seed: string, offset: number) {
  const key = createHash('sha256').update(seed, 'utf8').digest();
  const iv = Buffer.alloc(BLOCK);
  // The counter block is a 128-bit big-endian block index.
  iv.writeBigUInt64BE(BigInt(Math.floor(offset / BLOCK)), 8);
  return createCipheriv('aes-256-ctr', key, iv);
}

/** `size` deterministic bytes for `seed`, in memory (for small files). */
export function lfsContent(seed: string, size: number): Buffer {
  return lfsRange(seed, 0, size);
}

/** Bytes `[start, start + length)` of `lfsContent(seed, ∞)`. */
export function lfsRange(seed: string, start: number, length: number): Buffer {
  const skip = start % BLOCK;
  const out = cipherAt(seed, start).update(Buffer.alloc(length + skip));
  return out.subarray(skip);
}

/** The same bytes as `lfsContent(seed, size)`, streamed in 1 MiB chunks from `start`. */
export function lfsContentStream(seed: string, size: number, start = 0): Readable {
  let pos = start - (start % BLOCK);
  let skip = start % BLOCK;
  const cipher = cipherAt(seed, pos);
  const zeros = Buffer.alloc(CHUNK);
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (pos >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK, size - pos);
      let chunk = cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n));
      pos += n;
      if (skip > 0) {
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      this.push(chunk);
    },
  });
}

const shaCache = new Map<string, string>();

/** sha256 (hex) of `lfsContent(seed, size)`, memoised. */
export async function lfsSha256(seed: string, size: number): Promise<string> {
  const key = `${size}\0${seed}`;
  const cached = shaCache.get(key);
  if (cached) return cached;
  const hash = createHash('sha256');
  for await (const chunk of lfsContentStream(seed, size)) hash.update(chunk as Buffer);
  const hex = hash.digest('hex');
  shaCache.set(key, hex);
  return hex;
}

/** Records a sha256 computed elsewhere (e.g. while writing the file to the LFS store). */
export function rememberLfsSha256(seed: string, size: number, sha256: string): void {
  shaCache.set(`${size}\0${seed}`, sha256);
}
