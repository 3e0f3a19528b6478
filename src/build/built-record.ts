/**
 * A warm re-fetch without `nix build`: after a build, nix-hug records the
 * store path that its build file gave, under a key made of everything that
 * decides that derivation — the file's text (the printed expression and the
 * paths of the library and of nixpkgs), the contents of the library and of
 * nixpkgs, the Nix version, the system, and Nix's configuration. When the
 * same key comes again and the recorded path is still valid in the store,
 * the evaluation (nixpkgs' included) is skipped and the GC root is made as
 * `nix build --out-link` makes it. A stale record cannot be used: anything
 * that changes the derivation changes the key, and a path that is no longer
 * valid is built again.
 *
 * When the inputs cannot be pinned down cheaply there is no key and the
 * build runs as before: nixpkgs taken from NIX_PATH or the flake registry
 * (no NIX_HUG_NIXPKGS), a library or nixpkgs folder outside the store with
 * symlinks or more than a few hundred files, or a nixpkgs configuration or
 * overlays in the user's home (nixpkgs reads them when imported).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { narHash, narTreeOfPath } from '../nix/nar.js';
import { capture, nixEnv, type NixInfo } from '../nix/nix.js';
import { invalidPaths } from '../nix/validity.js';
import type { Logger } from '../ui/logger.js';

/** What the build's derivation is made of. */
export interface BuildInputs {
  /** The text of the build file (`buildFile`: nixpkgs, the library, the expression). */
  file: string;
  libDir: string;
  /** NIX_HUG_NIXPKGS as given (relative to the working directory), or null. */
  nixpkgs: string | null;
  nix: NixInfo;
  env: NodeJS.ProcessEnv;
}

/** Bumped when the key's inputs change meaning: older records are then never read. */
const FORMAT = 1;

/** A folder outside the store is hashed only up to this many entries (a nixpkgs checkout has tens of thousands). */
const MAX_HASHED_ENTRIES = 512;

/** The environment Nix and nixpkgs read while evaluating (configuration, lookup paths, the home they read files from). */
const ENV_KEYS = ['HOME', 'NIX_PATH', 'NIX_CONFIG', 'NIX_CONF_DIR', 'NIX_USER_CONF_FILES', 'XDG_CONFIG_HOME', 'XDG_CONFIG_DIRS', 'NIX_STORE_DIR', 'NIX_REMOTE', 'NIXPKGS_ALLOW_UNFREE', 'NIXPKGS_ALLOW_INSECURE', 'NIXPKGS_ALLOW_BROKEN', 'NIXPKGS_ALLOW_UNSUPPORTED_SYSTEM'];

const STORE_PATH = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+$/;

/** How many entries are below `dir`, or null: more than `max`, a symlink, or something else than files and folders. */
async function smallPlainTree(dir: string, max: number): Promise<number | null> {
  let count = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for (const e of await readdir(current, { withFileTypes: true })) {
      if (++count > max) return null;
      if (e.isDirectory()) pending.push(join(current, e.name));
      else if (!e.isFile()) return null;
    }
  }
  return count;
}

/** What a folder Nix imports is: its store path (immutable), else the hash of its contents; null when too costly to tell. */
async function folderIdentity(dir: string): Promise<string | null> {
  const real = await realpath(dir);
  if (real.startsWith('/nix/store/')) return `store ${real}`;
  if ((await smallPlainTree(real, MAX_HASHED_ENTRIES)) === null) return null;
  // Small files (no symlinks, checked above): each read whole, not streamed.
  const hash = await narHash(await narTreeOfPath(Buffer.from(real)), {
    async *contents(leaf) {
      yield await readFile(leaf);
    },
    target: async () => {
      throw new Error(`${real} holds a symlink`);
    },
  });
  return `nar ${hash}`;
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** `import nixpkgs { }` reads these: with any of them the derivation depends on files nix-hug does not hash. */
async function nixpkgsUserConfig(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (env.NIXPKGS_CONFIG) return true;
  if ((env.NIX_PATH ?? '').includes('nixpkgs-overlays')) return true;
  const home = env.HOME;
  if (!home) return false;
  const found = await Promise.all(['.config/nixpkgs/config.nix', '.nixpkgs/config.nix', '.config/nixpkgs/overlays.nix', '.config/nixpkgs/overlays'].map((p) => exists(join(home, p))));
  return found.includes(true);
}

/** The nix.conf files Nix reads (system, then user), by the rules of its environment variables. */
function nixConfFiles(env: NodeJS.ProcessEnv): string[] {
  const system = join(env.NIX_CONF_DIR || '/etc/nix', 'nix.conf');
  if (env.NIX_USER_CONF_FILES) return [system, ...env.NIX_USER_CONF_FILES.split(':').filter(Boolean)];
  const configHome = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : null);
  const dirs = [...(configHome ? [configHome] : []), ...(env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean)];
  return [system, ...dirs.map((d) => join(d, 'nix', 'nix.conf'))];
}

/** The record's key (hex), or null when the inputs cannot be pinned down (then: always build). */
export async function buildKey(inputs: BuildInputs): Promise<string | null> {
  const { env } = inputs;
  if (inputs.nixpkgs === null || (await nixpkgsUserConfig(env))) return null;
  const [lib, nixpkgs] = await Promise.all([folderIdentity(inputs.libDir), folderIdentity(resolve(inputs.nixpkgs))]);
  if (lib === null || nixpkgs === null) return null;
  const nixConf = await Promise.all(nixConfFiles(env).map((f) => readFile(f, 'utf8').catch(() => null)));
  const key = {
    format: FORMAT,
    file: inputs.file,
    lib,
    nixpkgs,
    nix: `${inputs.nix.version}${inputs.nix.isLix ? ' (Lix)' : ''}`,
    system: `${process.arch}-${process.platform}`,
    env: Object.fromEntries(ENV_KEYS.map((k) => [k, env[k] ?? null])),
    nixConf,
  };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex');
}

/** Where the record of `key` lives in nix-hug's cache folder. */
export function recordFile(cacheDir: string, key: string): string {
  return join(cacheDir, 'builds', key);
}

/** The store path recorded for `key` when it is still valid; null otherwise. */
export async function validRecordedPath(cacheDir: string, key: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const text = await readFile(recordFile(cacheDir, key), 'utf8').catch(() => null);
  const path = text?.trim() ?? '';
  if (!STORE_PATH.test(path)) return null;
  return (await invalidPaths([path], env)).has(path) ? null : path;
}

/** Records that the build of `key` gave `path`. A cache: a failure to write it is only said with --debug. */
export async function recordBuild(cacheDir: string, key: string, path: string, logger: Logger): Promise<void> {
  if (!STORE_PATH.test(path)) return;
  try {
    await mkdir(join(cacheDir, 'builds'), { recursive: true });
    await writeFileAtomic(recordFile(cacheDir, key), `${path}\n`);
  } catch (err) {
    logger.debug(`could not record the build of ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The GC root `nix build --out-link LINK` would make for a valid `path`:
 * LINK → path, registered as an indirect root. False when Nix refused (the
 * path was deleted meanwhile, say): then build as usual.
 */
export async function addOutLink(path: string, link: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const r = await capture('nix-store', ['--realise', path, '--add-root', link, '--indirect'], nixEnv(env));
  return r.code === 0;
}

/** What a build finds recorded: the key (null: no record can be kept) and the recorded path if still valid. */
export interface RecordedBuild {
  key: string | null;
  valid: string | null;
}

/** `buildKey` and `validRecordedPath` together; never rejects (any failure, of `inputs` too: nothing recorded). */
export async function lookUpBuild(inputs: () => BuildInputs, cacheDir: string, logger: Logger): Promise<RecordedBuild> {
  try {
    const given = inputs();
    const key = await buildKey(given);
    return { key, valid: key === null ? null : await validRecordedPath(cacheDir, key, given.env) };
  } catch (err) {
    logger.debug(`no build record: ${err instanceof Error ? err.message : String(err)}`);
    return { key: null, valid: null };
  }
}
