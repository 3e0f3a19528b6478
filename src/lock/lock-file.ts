/**
 * Where the lock file is, reading it, and changing it safely: every change
 * is a read-modify-write under a mutex (`FILE.lock`) ending in an atomic
 * replace, so two commands changing the lock at once both land and a crash
 * leaves the previous file. A lock file that does not parse is never
 * written over. Large manifests live beside it, in `FILE.d/`.
 */
import { readFile, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { NixHugError, UsageError } from '../errors.js';
import { vendorManifest } from '../vendor-manifest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { withMutex } from '../fs/mutex.js';
import { canonicalManifestHash, INLINE_MANIFEST_MAX_LINES, parseManifestText, type ManifestFile } from '../canonical-manifest.js';
import type { PinnedFetch } from '../pin/pin.js';
import { parseLock, renderLock, type Lock, type LockEntry, type LockManifest } from './format.js';

export const DEFAULT_LOCK_FILE = 'nix-hug.lock';

export interface LockLocation {
  /** Absolute path of the file (a symlink's target, so that a replace keeps the link). */
  file: string;
  /** As the user named it, for messages. */
  shown: string;
  /** Its folder: vendored manifest paths are relative to it. */
  dir: string;
  /** Where large manifests go: `FILE.d/`. */
  vendorDir: string;
}

/** `--lock FILE` (`option`), else NIX_HUG_LOCK (`configured`), else ./nix-hug.lock; relative to `cwd`. */
export function lockLocation(option: string | undefined, configured: string | null, cwd: string): LockLocation {
  const given = option ?? configured ?? DEFAULT_LOCK_FILE;
  if (given === '') throw new UsageError('--lock needs a file name', `e.g. --lock ${DEFAULT_LOCK_FILE}`);
  let file = resolve(cwd, given);
  try {
    file = realpathSync(file);
  } catch {
    // not there yet (add creates it), or a dangling link: use the name as given
  }
  const dir = dirname(file);
  return { file, shown: given, dir, vendorDir: join(dir, `${basename(file)}.d`) };
}

function readError(loc: LockLocation, err: NodeJS.ErrnoException): NixHugError {
  if (err.code === 'EISDIR') return new NixHugError(`the lock file ${loc.shown} is a folder`, 'give a file name with --lock FILE');
  return new NixHugError(`cannot read the lock file ${loc.shown}: ${err.message}`, 'check its permissions');
}

/** The lock, or null when the file does not exist. */
export async function readLockIfAny(loc: LockLocation): Promise<{ lock: Lock; text: string } | null> {
  let text: string;
  try {
    text = await readFile(loc.file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return null;
    throw readError(loc, e);
  }
  return { lock: parseLock(text, loc.shown), text };
}

/** The lock; a missing file is an error saying how to start one. */
export async function readLock(loc: LockLocation): Promise<Lock> {
  const found = await readLockIfAny(loc);
  if (!found) {
    throw new NixHugError(
      `no lock file at ${loc.shown}`,
      'create one with `nix-hug add URL`, or name another with --lock FILE (or NIX_HUG_LOCK)',
    );
  }
  return found.lock;
}

export interface LockChange<T> {
  /** The new lock (entries in any order), or null to leave the file as it is. */
  lock: Lock | null;
  result: T;
}

/**
 * Reads the lock under its mutex, lets `change` decide, writes the result
 * atomically (only when its text differs), then removes manifest files the
 * old lock referenced and the new one does not. `change` gets null when the
 * file does not exist; a corrupt or newer file stops everything before
 * `change` runs.
 */
export async function changeLock<T>(loc: LockLocation, change: (current: Lock | null) => Promise<LockChange<T>>): Promise<T> {
  const dirExists = await stat(loc.dir).then((s) => s.isDirectory(), () => false);
  if (!dirExists) throw new NixHugError(`the folder of the lock file ${loc.shown} does not exist`, 'create it first, or give another --lock FILE');
  return withMutex(
    `${loc.file}.lock`,
    async () => {
      const current = await readLockIfAny(loc);
      const { lock, result } = await change(current?.lock ?? null);
      if (lock === null) return result;
      const text = renderLock(lock);
      if (text !== current?.text) {
        const mode = await stat(loc.file).then((s) => s.mode & 0o777, () => 0o644);
        await writeFileAtomic(loc.file, text, mode).catch((err: Error) => {
          throw new NixHugError(`cannot write the lock file ${loc.shown}: ${err.message}`, 'check that its folder is writable and has room; the old file is unchanged');
        });
      }
      if (current) await removeUnreferenced(loc, current.lock, lock);
      return result;
    },
    { guards: `the lock file ${loc.shown}` },
  );
}

/** Manifest files (inside FILE.d/ only) that `before` used and `after` does not. */
async function removeUnreferenced(loc: LockLocation, before: Lock, after: Lock): Promise<void> {
  const used = new Set(after.entries.flatMap((e) => (e.manifest.kind === 'file' ? [e.manifest.path] : [])));
  const vendorPrefix = `${relative(loc.dir, loc.vendorDir)}/`;
  let removed = false;
  for (const e of before.entries) {
    if (e.manifest.kind !== 'file' || used.has(e.manifest.path) || !e.manifest.path.startsWith(vendorPrefix)) continue;
    await rm(join(loc.dir, e.manifest.path), { force: true });
    removed = true;
  }
  if (removed) await rmdir(loc.vendorDir).catch(() => undefined); // only when empty
}

/**
 * Writes a manifest text into FILE.d/ (atomically; the same text is not
 * written again) and returns its path relative to the lock's folder.
 */
export async function vendorLockManifest(loc: LockLocation, entry: Pick<LockEntry, 'type' | 'repoId' | 'rev'>, text: string): Promise<{ path: string; created: boolean }> {
  const v = await vendorManifest({ dir: loc.vendorDir, cwd: loc.dir, repo: { type: entry.type, repoId: entry.repoId }, rev: entry.rev, text });
  return { path: relative(loc.dir, v.file).split('\\').join('/'), created: !v.unchanged && !v.replaced };
}

/**
 * Where a new pin's manifest goes: into the lock itself for repositories of
 * up to INLINE_MANIFEST_MAX_LINES files, else into FILE.d/ (written here).
 */
export async function manifestForLock(loc: LockLocation, pinned: Pick<PinnedFetch, 'pin' | 'files' | 'manifestText'>): Promise<LockManifest> {
  if (pinned.files.length <= INLINE_MANIFEST_MAX_LINES) return { kind: 'inline', files: pinned.files.map((f) => ({ path: f.path, lfs: f.lfs })) };
  const { pin } = pinned;
  return { kind: 'file', path: (await vendorLockManifest(loc, { type: pin.type, repoId: pin.repoId, rev: pin.rev }, pinned.manifestText)).path };
}

/** An entry's manifest files, read from its file when vendored and checked against its fileTreeHash. */
export async function entryManifest(loc: LockLocation, entry: LockEntry): Promise<ManifestFile[]> {
  if (entry.manifest.kind === 'inline') return entry.manifest.files;
  const file = join(loc.dir, entry.manifest.path);
  const where = `the manifest file ${entry.manifest.path} of ${quoteName(entry.name)}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new NixHugError(`cannot read ${where}: ${(err as Error).message}`, `it belongs beside ${loc.shown}; restore it, or pin the entry again with \`nix-hug add --force\``);
  }
  const files = parseManifestText(text, where);
  if (canonicalManifestHash(Buffer.from(text, 'utf8')) !== entry.fileTreeHash) {
    throw new NixHugError(`${where} does not hash to the entry's fileTreeHash (edited by hand?)`, `restore it, or pin the entry again with \`nix-hug add --force\``);
  }
  return files;
}

function quoteName(name: string): string {
  return `entry '${name}'`;
}
