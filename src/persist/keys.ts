/**
 * The signing key pair nix-hug signs its exports with, so that imports can
 * verify signatures instead of disabling the check. Generated once with
 * `nix-store --generate-binary-cache-key` in `CONFIG_DIR/keys/` (secret key
 * mode 0600, directory 0700).
 */
import { chmod, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NixHugError } from '../errors.js';
import { capture } from '../nix/nix.js';

export interface SigningKey {
  /** `nix-hug-<host>-1`. */
  name: string;
  /** The secret key file, for `nix store sign --key-file`. */
  secretFile: string;
  /** `name:base64`, as `trusted-public-keys` takes it. */
  publicKey: string;
}

export const SECRET_NAME = 'secret.key';
export const PUBLIC_NAME = 'public.key';

export function keysDir(configDir: string): string {
  return join(configDir, 'keys');
}

/** A key name Nix accepts: the host name with anything but `[A-Za-z0-9.-]` replaced. */
export function keyName(host: string = hostname()): string {
  const clean = host.replace(/[^A-Za-z0-9.-]/g, '-').replace(/^-+|-+$/g, '') || 'localhost';
  return `nix-hug-${clean}-1`;
}

const PUBLIC_KEY = /^[^:\s]+:[A-Za-z0-9+/]{43}=$/;

/** The existing key, or null when none was generated yet. */
export async function readSigningKey(configDir: string): Promise<SigningKey | null> {
  const dir = keysDir(configDir);
  let pub: string;
  try {
    pub = (await readFile(join(dir, PUBLIC_NAME), 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (!PUBLIC_KEY.test(pub)) {
    throw new NixHugError(`the public key ${join(dir, PUBLIC_NAME)} is malformed`, `remove ${dir} to let nix-hug generate a new key pair (imports of exports signed with the old key will then ask for trust)`);
  }
  return { name: pub.slice(0, pub.indexOf(':')), secretFile: join(dir, SECRET_NAME), publicKey: pub };
}

/**
 * The key pair, generated on first use. Generation happens in a temporary
 * directory renamed into place, so concurrent first exports agree on one pair.
 */
export async function ensureSigningKey(configDir: string, env: NodeJS.ProcessEnv): Promise<SigningKey> {
  const existing = await readSigningKey(configDir);
  if (existing) return existing;
  await mkdir(configDir, { recursive: true });
  const tmp = await mkdtemp(join(configDir, '.keys-tmp-'));
  try {
    await chmod(tmp, 0o700);
    const name = keyName();
    const sec = join(tmp, SECRET_NAME);
    const pub = join(tmp, PUBLIC_NAME);
    let out;
    try {
      out = await capture('nix-store', ['--generate-binary-cache-key', name, sec, pub], env);
    } catch (err) {
      throw new NixHugError(`could not run nix-store to generate a signing key: ${(err as Error).message}`, 'make sure Nix is installed and on PATH');
    }
    if (out.code !== 0) {
      throw new NixHugError(`nix-store --generate-binary-cache-key failed: ${out.stderr.trim()}`, `check that ${configDir} is writable`);
    }
    await chmod(sec, 0o600);
    try {
      await rename(tmp, keysDir(configDir));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      // Another nix-hug generated a pair first: use that one.
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const key = await readSigningKey(configDir);
  if (!key) throw new NixHugError(`the signing key in ${keysDir(configDir)} disappeared while it was being created`);
  return key;
}
