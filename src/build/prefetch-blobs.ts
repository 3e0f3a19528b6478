/**
 * Private and gated repos: the CLI downloads each LFS file itself with the
 * token (streamed to disk, sha256-verified) and adds it to the store under the
 * name the library predicts, where Nix's fixed-output download then finds it
 * without any network and without credentials (docs/design.md).
 *
 * An unfinished download stays in nix-hug's cache folder
 * (`downloads/hf-blob-<sha256>.part`): a broken connection is resumed with a
 * Range request in the same run, and a run that was interrupted (Ctrl-C) or
 * gave up is resumed by the next one. A lock file beside the partial file
 * keeps two runs from writing the same one; the second downloads to a file of
 * its own instead.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, mkdtemp, open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NixHugError } from '../errors.js';
import { quote } from '../ui/text.js';
import { blobName, blobStorePath } from '../nix/store-path.js';
import { capture } from '../nix/nix.js';
import { pidAlive } from '../pid.js';
import { downloadBlob, WrongBytesError, wrongBytes, type BlobToFetch, type BodySink, type DownloadOptions } from './blob-download.js';

export type { BlobToFetch } from './blob-download.js';

export interface PrefetchOptions extends DownloadOptions {
  blobs: BlobToFetch[];
  /** For `nix-store --add-fixed`. */
  env: NodeJS.ProcessEnv;
  /** Where unfinished downloads are kept for the next run to resume (created when missing). */
  partialDir: string;
  parallel?: number;
  onFileDone?: (blob: BlobToFetch) => void;
  /** A download goes on from `bytes` that an earlier run received. */
  onResume?: (blob: BlobToFetch, bytes: number) => void;
}

/** Where the CLI keeps unfinished downloads, in nix-hug's cache folder (`Settings.cacheDir`). */
export function partialDownloads(cacheDir: string): string {
  return join(cacheDir, 'downloads');
}

/** Hash and size of the bytes written so far: a retry resumes after them. */
interface Received {
  hash: Hash;
  size: number;
}

/** The partial file as a download's sink: hashed once written, so after a failure hash and size describe exactly the bytes on disk. */
function fileSink(fh: FileHandle, got: Received): BodySink {
  return {
    get size() {
      return got.size;
    },
    async write(chunk, written) {
      await fh.write(chunk, 0, chunk.length, got.size);
      got.hash.update(chunk);
      got.size += chunk.length;
      written?.();
    },
    async restart() {
      await fh.truncate(0);
      got.hash = createHash('sha256');
      got.size = 0;
    },
  };
}

/** The partial file of a blob for this run, locked; `release` unlocks it (the file itself stays). */
interface Partial {
  file: string;
  release(): Promise<void>;
}

/**
 * Creates `lock` holding this process's id, or returns false when it
 * exists. Made whole under another name and then linked into place, so that
 * another run never reads it empty (it would take an empty lock for a dead
 * run's and write the same partial file).
 */
async function createLock(lock: string): Promise<boolean> {
  const whole = `${lock}.${process.pid}`;
  await writeFile(whole, String(process.pid), { mode: 0o600 });
  try {
    await link(whole, lock);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(whole, { force: true });
  }
}

/**
 * Takes the blob's partial file in `dir`: its lock is created, or taken over
 * from a run that no longer exists. While another live run holds it, this
 * run downloads to a file of its own (removed at the end: not resumable).
 */
async function claimPartial(dir: string, blob: BlobToFetch): Promise<Partial> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${blobName(blob.lfs.sha256)}.part`);
  const lock = `${file}.lock`;
  const mine = { file, release: () => rm(lock, { force: true }) };
  if (await createLock(lock)) return mine;
  const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
  if (!(Number.isInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder))) {
    // The run that held it is gone: its partial file is this run's to resume.
    await writeFile(lock, String(process.pid), { mode: 0o600 });
    return mine;
  }
  const own = join(dir, `${blobName(blob.lfs.sha256)}.${process.pid}.part`);
  return { file: own, release: () => rm(own, { force: true }) };
}

/** sha256 and size of what an earlier run left in `file` (nothing when it is missing or longer than the blob). */
async function alreadyReceived(file: string, size: number): Promise<Received> {
  const got: Received = { hash: createHash('sha256'), size: 0 };
  const st = await stat(file).catch(() => null);
  if (!st || st.size === 0 || st.size > size) return got;
  await pipeline(createReadStream(file), new Writable({ write: (chunk: Buffer, _enc, done) => void (got.hash.update(chunk), done()) }));
  got.size = st.size;
  return got;
}

/**
 * Streams one blob to its partial file and checks it; returns the verified
 * file, moved into `dir` under the blob's store name. A body that breaks off
 * or stalls (under 1 KiB in NIX_HUG_HTTP_TIMEOUT_MS) is resumed with a Range
 * request, up to NIX_HUG_MAX_RETRIES times, as Nix does for its own
 * downloads; what an earlier run received is resumed the same way.
 */
async function downloadVerified(blob: BlobToFetch, dir: string, opts: PrefetchOptions): Promise<string> {
  const partial = await claimPartial(opts.partialDir, blob);
  try {
    const got = await alreadyReceived(partial.file, blob.lfs.size);
    if (got.size > 0) opts.onResume?.(blob, got.size);
    const fh = await open(partial.file, got.size > 0 ? 'r+' : 'w');
    try {
      await fh.truncate(got.size);
      await downloadBlob(blob, fileSink(fh, got), opts, 'check your network, then run the command again: the download resumes where it stopped');
    } finally {
      await fh.close();
    }
    const sum = got.hash.digest('hex');
    if (sum !== blob.lfs.sha256 || got.size !== blob.lfs.size) throw wrongBytes(blob, opts.repoId, `${sum} (${got.size} bytes)`);
    const final = join(dir, blobName(blob.lfs.sha256));
    await rename(partial.file, final);
    return final;
  } catch (err) {
    // Bytes that are not the file's are never resumed from.
    if (err instanceof WrongBytesError) await rm(partial.file, { force: true });
    throw err;
  } finally {
    await partial.release();
  }
}

async function addToStore(file: string, blob: BlobToFetch, opts: PrefetchOptions): Promise<void> {
  const r = await capture('nix-store', ['--add-fixed', 'sha256', file], opts.env);
  const expected = blobStorePath(blob.lfs.sha256);
  if (r.code !== 0 || r.stdout.trim() !== expected) {
    throw new NixHugError(`could not add ${blob.path} of ${opts.repoId} to the Nix store: ${r.stderr.trim() || r.stdout.trim()}`, 'check that you may write to the Nix store');
  }
}

/** Downloads and stores every blob, a few at a time; a temp dir holds the verified files until they are stored, and is always removed. */
export async function prefetchBlobs(opts: PrefetchOptions): Promise<void> {
  if (opts.blobs.length === 0) return;
  const dir = await mkdtemp(join(tmpdir(), 'nix-hug-blobs-'));
  // The first failure stops the other downloads before the temp dir goes away.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const each = { ...opts, signal };
  try {
    const queue = [...opts.blobs];
    const worker = async () => {
      for (let blob = queue.shift(); blob && !signal.aborted; blob = queue.shift()) {
        const file = await downloadVerified(blob, dir, each);
        await addToStore(file, blob, each);
        await rm(file, { force: true });
        opts.onFileDone?.(blob);
      }
    };
    let firstError: unknown = null;
    await Promise.all(
      Array.from({ length: Math.min(opts.parallel ?? 4, queue.length) }, () =>
        worker().catch((err: unknown) => {
          firstError ??= err;
          stop.abort();
        }),
      ),
    );
    if (firstError) throw firstError;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
