/**
 * Predicts store paths without asking Nix: an LFS blob (a flat fixed-output
 * path named `hf-blob-<sha256>`, whose path depends only on that name and
 * hash) and a repository's git checkout (a recursive sha256 fixed-output
 * path, `gitRepoHash`). The CLI needs them to add what it fetched itself
 * (gated/private repos, its own pointer-only clone) and to know what is
 * already in the store.
 */
import { createHash } from 'node:crypto';
import type { RepoType } from '../types.js';

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** The store name the library gives an LFS blob. */
export function blobName(sha256: string): string {
  return `hf-blob-${sha256}`;
}

/** The store name the library gives a repository's git checkout: `hf-<type>-<org>--<name>-<rev7>-git`. */
export function checkoutName(pin: { type: RepoType; repoId: string; rev: string }): string {
  const [org, name] = pin.repoId.split('/') as [string, string];
  return `hf-${pin.type}-${org}--${name}-${pin.rev.slice(0, 7)}-git`;
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

/**
 * Store path of a recursive (NAR) sha256 fixed-output path without
 * references: a fixed-output derivation's output, `nix-store --add-fixed
 * --recursive`, and `builtins.fetchGit` with the same name all give it.
 * `narHash` is SRI (`sha256-<base64>`).
 */
export function recursiveFixedPath(narHash: string, name: string, storeDir = '/nix/store'): string {
  return makeStorePath('source', Buffer.from(narHash.replace(/^sha256-/, ''), 'base64').toString('hex'), name, storeDir);
}

export function blobStorePath(sha256: string, storeDir = '/nix/store'): string {
  return fixedOutputPath(sha256, blobName(sha256), storeDir);
}
