/**
 * Predicts the store path of an LFS blob without asking Nix: the library
 * fetches each blob as a flat fixed-output path named `hf-blob-<sha256>`,
 * whose path depends only on that name and hash. The CLI needs it to add
 * files it downloaded itself (gated/private repos) and to know what is
 * already in the store.
 */
import { createHash } from 'node:crypto';

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** The store name the library gives an LFS blob. */
export function blobName(sha256: string): string {
  return `hf-blob-${sha256}`;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Nix's base-32 (its own alphabet, least significant bits first). */
export function nixBase32(bytes: Uint8Array): string {
  const len = Math.floor((bytes.length * 8 - 1) / 5) + 1;
  let out = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const c = ((bytes[i] ?? 0) >> j) | (i >= bytes.length - 1 ? 0 : (bytes[i + 1] ?? 0) << (8 - j));
    out += NIX_BASE32[c & 0x1f];
  }
  return out;
}

/**
 * Nix's `makeStorePath`: the path of a store object of kind `type` (e.g.
 * `output:out`) whose identity is the sha256 `innerHex`, named `name`.
 */
export function makeStorePath(type: string, innerHex: string, name: string, storeDir = '/nix/store'): string {
  const digest = createHash('sha256').update(`${type}:sha256:${innerHex}:${storeDir}:${name}`).digest();
  const compressed = new Uint8Array(20);
  for (let i = 0; i < digest.length; i++) compressed[i % 20]! ^= digest[i]!;
  return `${storeDir}/${nixBase32(compressed)}-${name}`;
}

/** Store path of a flat (not NAR) fixed-output path with a sha256 hash, as Nix computes it. */
export function fixedOutputPath(sha256: string, name: string, storeDir = '/nix/store'): string {
  return makeStorePath('output:out', sha256Hex(`fixed:out:sha256:${sha256}:`), name, storeDir);
}

export function blobStorePath(sha256: string, storeDir = '/nix/store'): string {
  return fixedOutputPath(sha256, blobName(sha256), storeDir);
}
