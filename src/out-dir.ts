/**
 * `fetch --out DIR`: a writable copy of a fetched snapshot outside the store,
 * written to a temporary sibling and renamed into place, so an interrupted
 * copy never leaves a half-written DIR.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InterruptedError, NixHugError, UsageError } from './errors.js';
import type { SnapshotRecord } from './types.js';
import { pidAlive } from './pid.js';

/** What `.nix-hug.json` records beside the files. */
export type OutMetadata = SnapshotRecord;

const SYSTEM_DIRS = ['/bin', '/boot', '/dev', '/etc', '/home', '/nix', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var'];

/** Refuses directories whose replacement would hurt (SPEC §1). */
export function checkOutDir(dir: string, env: NodeJS.ProcessEnv): string {
  const abs = resolve(dir);
  const home = resolve(env.HOME ?? homedir());
  const refuse = (why: string) =>
    new UsageError(`refusing --out ${dir}: ${why}`, 'choose a new or empty directory of your own, e.g. --out ./models/NAME');
  if (abs === '/') return throwIt(refuse('it is the root directory'));
  if (abs === home) return throwIt(refuse('it is your home directory'));
  if (SYSTEM_DIRS.includes(abs) || /^\/lib[^/]*$/.test(abs)) return throwIt(refuse('it is a system directory'));
  if (abs === '/nix/store' || abs.startsWith('/nix/store/')) return throwIt(refuse('it is inside the Nix store'));
  return abs;
}

function throwIt(err: Error): never {
  throw err;
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

/**
 * Refuses a non-empty DIR without `override` (SPEC §1). `fetch` asks before
 * downloading anything, and copyOut asks again when it copies.
 */
export async function checkOutEmpty(dir: string, override: boolean, env: NodeJS.ProcessEnv): Promise<boolean | null> {
  const existing = await isNonEmptyDir(checkOutDir(dir, env));
  if (existing && !override) {
    throw new UsageError(`--out ${dir} exists and is not empty`, 'pass --override to replace it, or choose another directory');
  }
  return existing;
}

/**
 * Copies `src` to `dst` following every link (store snapshots link to their
 * blobs), as owner-writable files and folders. Each file is streamed, so an
 * abort stops the copy within one buffer and the caller can clean up once
 * nothing writes any more.
 */
async function copyTree(src: string, dst: string, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  const s = await stat(src); // follows links
  if (s.isDirectory()) {
    await mkdir(dst, { mode: 0o755 });
    for (const name of await readdir(src)) await copyTree(join(src, name), join(dst, name), signal);
  } else if (s.isFile()) {
    const mode = s.mode & 0o111 ? 0o755 : 0o644;
    await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), createWriteStream(dst, { mode, flags: 'wx' }), { signal });
  } else {
    throw new NixHugError(`${src} is neither a file nor a folder`, 'the snapshot looks damaged: run `nix-store --verify-path` on it');
  }
}

/** Temporary siblings left by a copy that was killed (SIGKILL, power loss) are removed on the next run. */
async function removeStaleTemps(parent: string, base: string): Promise<void> {
  const prefix = `.${base}.nix-hug-`;
  for (const name of await readdir(parent)) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(?:tmp|old)-(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
    if (m && !pidAlive(Number(m[1]))) await rm(join(parent, name), { recursive: true, force: true });
  }
}

export interface CopyOutOptions {
  storePath: string;
  dir: string;
  override: boolean;
  metadata: OutMetadata;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/**
 * Copies the snapshot with every link followed (real, writable files), then
 * renames it into place; with `override`, the old DIR is moved aside first and
 * removed only once the new one is in place.
 */
export async function copyOut(opts: CopyOutOptions): Promise<string> {
  const target = checkOutDir(opts.dir, opts.env);
  const existing = await checkOutEmpty(opts.dir, opts.override, opts.env);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  await removeStaleTemps(parent, basename(target));
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(target)}.nix-hug-tmp-${tag}`);
  const interrupted = () => new InterruptedError(`copying to ${target}`);
  try {
    await copyTree(opts.storePath, tmp, opts.signal);
    await writeFile(join(tmp, '.nix-hug.json'), JSON.stringify(opts.metadata, null, 2) + '\n');
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
    return target;
  } catch (err) {
    // The copy has stopped writing (an abort ends the stream it was in): remove what it wrote.
    await rm(tmp, { recursive: true, force: true });
    if (opts.signal?.aborted) throw interrupted();
    if (err instanceof NixHugError) throw err;
    throw new NixHugError(`could not copy ${opts.storePath} to ${target}: ${(err as Error).message}`, 'check that the directory is writable and has room');
  }
}

