/**
 * `.narinfo` files (what a Nix binary cache says about one store path) and
 * their ed25519 signatures, for the export records nix-hug writes into a
 * persist store itself. The format and the signed fingerprint are Nix's
 * own: any Nix reads and verifies these files like the ones `nix copy` writes.
 */
import { createHash, createPrivateKey, sign as edSign } from 'node:crypto';
import { NixHugError } from '../errors.js';
import { nixBase32 } from '../nix/store-path.js';

export interface NarInfo {
  storePath: string;
  /** Relative to the cache, e.g. `nar/<filehash>.nar`. */
  url: string;
  compression: string;
  /** `sha256:<nix base32>` of the file at `url`. */
  fileHash: string;
  fileSize: number;
  /** `sha256:<nix base32>` of the NAR. */
  narHash: string;
  narSize: number;
  /** Full store paths. */
  references: string[];
  /** `keyname:base64`. */
  sigs: string[];
}

/** `sha256:<nix base32>`, the form .narinfo files and signatures use. */
export function nixSha256(bytes: Uint8Array): string {
  return `sha256:${nixBase32(createHash('sha256').update(bytes).digest())}`;
}

/** The same digest as `sha256-<base64>` (SRI), the form `nix path-info --json` prints. */
export function sriSha256(bytes: Uint8Array): string {
  return `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
}

export function renderNarInfo(info: NarInfo): string {
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  return [
    `StorePath: ${info.storePath}`,
    `URL: ${info.url}`,
    `Compression: ${info.compression}`,
    `FileHash: ${info.fileHash}`,
    `FileSize: ${info.fileSize}`,
    `NarHash: ${info.narHash}`,
    `NarSize: ${info.narSize}`,
    `References: ${info.references.map(base).join(' ')}`,
    ...info.sigs.map((s) => `Sig: ${s}`),
    '',
  ].join('\n');
}

/** What Nix signs for a store path (`ValidPathInfo::fingerprint`). */
export function fingerprint(info: Pick<NarInfo, 'storePath' | 'narHash' | 'narSize' | 'references'>): string {
  return `1;${info.storePath};${info.narHash};${info.narSize};${[...info.references].sort().join(',')}`;
}

// An ed25519 private key in PKCS#8 DER is this prefix followed by the 32-byte seed.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Signs `text` with a Nix secret key (`name:base64` of libsodium's 64-byte
 * secret key: the seed, then the public key), giving `name:base64(signature)`.
 */
export function signWithSecretKey(secretKeyText: string, text: string, keyFile = 'the secret key'): string {
  const colon = secretKeyText.indexOf(':');
  const raw = colon > 0 ? Buffer.from(secretKeyText.slice(colon + 1).trim(), 'base64') : Buffer.alloc(0);
  if (colon <= 0 || raw.length !== 64) {
    throw new NixHugError(`${keyFile} is not a Nix secret key (name:base64 of 64 bytes)`, 'move it aside: nix-hug then generates a new key pair');
  }
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
  return `${secretKeyText.slice(0, colon)}:${edSign(null, Buffer.from(text, 'utf8'), key).toString('base64')}`;
}
