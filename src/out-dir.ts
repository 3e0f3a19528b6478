/**
 * `fetch --out DIR`: a writable copy of a fetched snapshot outside the store,
 * written to a temporary sibling and renamed into place, so an interrupted
 * copy never leaves a half-written DIR.
 */
import { createReadStream, createWriteStream, realpathSync } from 'node:fs';
import { lstat, mkdir, readdir, readlink, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InterruptedError, NixHugError, UsageError } from './errors.js';
import type { SnapshotRecord } from './types.js';
import { pidAlive } from './pid.js';
import { quote } from './ui/text.js';

/** What `.nix-hug.json` records beside the files. */
export type OutMetadata = SnapshotRecord;

const SYSTEM_DIRS = ['/bin', '/boot', '/dev', '/etc', '/home', '/nix', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var'];

/** The file nix-hug writes beside the copied files. */
export const OUT_RECORD = '.nix-hug.json';

/**
 * Where `p` really is: the real path of its longest existing prefix, with the
 * rest appended (the directory need not exist yet).
 */
function realLocation(p: string): string {
  let head = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(realpathSync.native(head), ...rest);
    } catch {
      const parent = dirname(head);
      if (parent === head) return p;
      rest.unshift(basename(head));
      head = parent;
    }
  }
}

/**
 * Refuses directories whose replacement would hurt (docs/cli.md, `--out`): by the path
 * given and by where it really is, so a symlink to $HOME or /etc is refused too.
 * `home`: the user's home directory.
 */
export function checkOutDir(dir: string, home: string): string {
  const abs = resolve(dir);
  const homes = new Set([resolve(home), realLocation(resolve(home))]);
  const refuse = (why: string) =>
    new UsageError(`refusing --out ${dir}: ${why}`, 'choose a new or empty directory of your own, e.g. --out ./models/NAME');
  for (const p of new Set([abs, realLocation(abs)])) {
    if (p === '/') throw refuse('it is the root directory');
    if (homes.has(p)) throw refuse('it is your home directory');
    if (SYSTEM_DIRS.includes(p) || /^\/lib[^/]*$/.test(p)) throw refuse('it is a system directory');
    if (p === '/nix/store' || p.startsWith('/nix/store/')) throw refuse('it is inside the Nix store');
  }
  return abs;
}

/** The repository's own top-level `.nix-hug.json`, which the record would replace: refused before anything is copied. */
export function outRecordConflict(paths: readonly string[]): string | null {
  return paths.includes(OUT_RECORD) ? OUT_RECORD : null;
}

export function recordConflictError(what: string): NixHugError {
  return new NixHugError(
    `${what} has its own '${OUT_RECORD}' at the top, where --out records what it copied: refusing to overwrite it`,
    'build without --out and copy the store path yourself, or leave the file out with --file NAME... (exact paths)',
  );
}

async function isNonEmptyDir(p: string): Promise<boolean | null> {
  try {
    const s = await stat(p);
    if (!s.isDirectory()) return true;
    return (await readdir(p)).length > 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** `.DIR.nix-hug-{tmp,old}-<pid>-<tag>` siblings whose run is dead, by kind. */
async function staleSiblings(parent: string, base: string): Promise<{ tmp: string[]; old: string[] }> {
  const prefix = `.${base}.nix-hug-`;
  const found = { tmp: [] as string[], old: [] as string[] };
  let names: string[];
  try {
    names = await readdir(parent);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw err;
  }
  for (const name of names.sort()) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(tmp|old)-(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
    if (m && !pidAlive(Number(m[2]))) found[m[1] as 'tmp' | 'old'].push(join(parent, name));
  }
  return found;
}

/**
 * A run killed between its two renames left DIR moved aside as
 * `.DIR.nix-hug-old-…` and no DIR: that is the user's only copy, so it is
 * put back before anything else looks at DIR. (With DIR present, an old
 * sibling is a replaced copy: removed once a new copy is in place.)
 */
async function restoreInterrupted(target: string): Promise<void> {
  const { old } = await staleSiblings(dirname(target), basename(target));
  if (old.length === 0 || (await isNonEmptyDir(target)) !== null) return;
  await rename(old[old.length - 1]!, target);
}

/**
 * Refuses a non-empty DIR without `override`. `fetch` asks before
 * downloading anything, and copyOut asks again when it copies.
 */
export async function checkOutEmpty(dir: string, override: boolean, home: string): Promise<boolean | null> {
  const target = checkOutDir(dir, home);
  await restoreInterrupted(target);
  const existing = await isNonEmptyDir(target);
  if (existing && !override) {
    throw new UsageError(`--out ${dir} exists and is not empty`, 'pass --override to replace it, or choose another directory');
  }
  return existing;
}

/** Streams one file to `dst` as an owner-writable file (executable kept); an abort stops it within one buffer. */
async function copyFile(src: string, mode: number, dst: string, signal: AbortSignal | undefined): Promise<void> {
  const bits = mode & 0o111 ? 0o755 : 0o644;
  await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), createWriteStream(dst, { mode: bits, flags: 'wx' }), { signal });
}

/**
 * Copies the snapshot at `root` to `dst` as owner-writable files and folders.
 * A link whose target lies inside the snapshot (a git symlink such as
 * `alias -> ../w.bin`, or one that loops, `zz -> .`) is copied as the same
 * relative link: it works in the copy and is never followed. A link leaving
 * the snapshot (an LFS file's link to its blob) is copied as the file it
 * points to. Folders are entered only when they are real folders, so no link
 * is followed twice and no cycle can be walked. The caller cleans up once
 * nothing writes any more.
 */
async function copySnapshot(root: string, dst: string, signal: AbortSignal | undefined): Promise<void> {
  const realRoot = await realpath(root);
  const inside = (p: string) => p === realRoot || p.startsWith(`${realRoot}/`);
  const walk = async (rel: string): Promise<void> => {
    signal?.throwIfAborted();
    const src = rel ? join(realRoot, rel) : realRoot;
    const to = rel ? join(dst, rel) : dst;
    const st = await lstat(src);
    if (st.isSymbolicLink()) {
      const text = await readlink(src);
      // Its parent is a real folder of the snapshot (we only walk those): resolve the one hop lexically.
      const hop = resolve(dirname(src), text);
      if (inside(hop)) return void (await symlink(isAbsolute(text) ? relative(dirname(src), hop) || '.' : text, to));
      const target = await stat(src);
      if (!target.isFile()) {
        throw new NixHugError(`${src} links to ${quote(text)}, which is not a file inside the snapshot`, 'the snapshot looks damaged: run `nix-store --verify-path` on it');
      }
      return copyFile(src, target.mode, to, signal);
    }
    if (st.isDirectory()) {
      await mkdir(to, { mode: 0o755 });
      for (const name of await readdir(src)) await walk(rel ? `${rel}/${name}` : name);
    } else if (st.isFile()) {
      await copyFile(src, st.mode, to, signal);
    } else {
      throw new NixHugError(`${src} is neither a file nor a folder`, 'the snapshot looks damaged: run `nix-store --verify-path` on it');
    }
  };
  await walk('');
}

export interface CopyOutOptions {
  storePath: string;
  dir: string;
  override: boolean;
  metadata: OutMetadata;
  /** The user's home directory (refused as DIR). */
  home: string;
  signal?: AbortSignal;
}

/**
 * Copies the snapshot (real, writable files; links inside it kept as links),
 * then renames it into place; with `override`, the old DIR is moved aside first and
 * removed only once the new one is in place.
 */
export async function copyOut(opts: CopyOutOptions): Promise<string> {
  const target = checkOutDir(opts.dir, opts.home);
  const existing = await checkOutEmpty(opts.dir, opts.override, opts.home);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  // Leftovers of a killed copy (SIGKILL, power loss): half-written temporaries go now; a replaced old copy
  // (DIR is present, see restoreInterrupted) once the new one is in place.
  const stale = await staleSiblings(parent, basename(target));
  for (const t of stale.tmp) await rm(t, { recursive: true, force: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(target)}.nix-hug-tmp-${tag}`);
  const interrupted = () => new InterruptedError(`copying to ${target}`);
  try {
    await copySnapshot(opts.storePath, tmp, opts.signal);
    // `wx`: the repository's own file of that name is never replaced.
    await writeFile(join(tmp, OUT_RECORD), JSON.stringify(opts.metadata, null, 2) + '\n', { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? recordConflictError(`${opts.metadata.type} ${opts.metadata.repoId}`) : err;
    });
    if (opts.signal?.aborted) throw interrupted();
    if (existing !== null) {
      const old = join(parent, `.${basename(target)}.nix-hug-old-${tag}`);
      await rename(target, old);
      try {
        await rename(tmp, target);
      } catch (err) {
        await rename(old, target); // put the old one back: never lose the user's data
        throw err;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
    for (const o of stale.old) await rm(o, { recursive: true, force: true });
    return target;
  } catch (err) {
    // The copy has stopped writing (an abort ends the stream it was in): remove what it wrote.
    await rm(tmp, { recursive: true, force: true });
    if (opts.signal?.aborted) throw interrupted();
    if (err instanceof NixHugError) throw err;
    throw new NixHugError(`could not copy ${opts.storePath} to ${target}: ${(err as Error).message}`, 'check that the directory is writable and has room');
  }
}

