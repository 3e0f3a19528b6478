/**
 * Private and gated repos: the CLI downloads each LFS file itself with the
 * token (streamed to disk, sha256-verified) and adds it to the store under the
 * name the library predicts, where Nix's fixed-output download then finds it
 * without any network and without credentials (docs/design.md).
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdtemp, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError, NixHugError } from '../errors.js';
import type { HttpSettings } from '../settings/http.js';
import { quote } from '../ui/text.js';
import { blobName, blobStorePath } from '../nix/store-path.js';
import { capture } from '../nix/nix.js';
import type { LfsInfo } from '../types.js';

export interface BlobToFetch {
  /** Path in the repository, for messages. */
  path: string;
  /** The file's `resolve` URL. */
  url: string;
  lfs: LfsInfo;
}

export interface PrefetchOptions {
  blobs: BlobToFetch[];
  /** GET with the token and the Hub client's retries; must not send the token to another origin. `headers`: e.g. Range. */
  get: (url: string, signal?: AbortSignal, headers?: Record<string, string>) => Promise<Response>;
  /** For `nix-store --add-fixed`. */
  env: NodeJS.ProcessEnv;
  /** The Hub client's retry policy and timeout: a broken or stalled body is resumed within them. */
  http: HttpSettings;
  repoId: string;
  parallel?: number;
  signal?: AbortSignal;
  onFileDone?: (blob: BlobToFetch) => void;
}

/** A window of NIX_HUG_HTTP_TIMEOUT_MS with fewer bytes than this is a stall. */
const STALL_BYTES = 1024;

/** Hash and size of the bytes written so far: a retry resumes after them. */
interface Received {
  hash: Hash;
  size: number;
}

/** Why an attempt broke off in the body (worth another attempt), or null when the body arrived whole. */
async function receive(blob: BlobToFetch, fh: FileHandle, got: Received, opts: PrefetchOptions, idleMs: number): Promise<string | null> {
  const res = await opts.get(blob.url, opts.signal, got.size > 0 ? { range: `bytes=${got.size}-` } : undefined).catch((err: unknown) => {
    // The client's message names the repo; say which file too.
    if (err instanceof NixHugError && !(err instanceof InterruptedError)) throw new NixHugError(`could not download ${quote(blob.path)}: ${err.message}`, err.hint);
    throw err;
  });
  if (!res.ok || !res.body) {
    throw new NixHugError(`could not download ${quote(blob.path)} of ${opts.repoId}: HTTP ${res.status}`, 'check HF_TOKEN and your access to the repository, then run the command again');
  }
  if (got.size > 0 && !(res.status === 206 && res.headers.get('content-range')?.startsWith(`bytes ${got.size}-`))) {
    // The server sent the whole file again: start over.
    await fh.truncate(0);
    got.hash = createHash('sha256');
    got.size = 0;
  }
  // Stalled: less than STALL_BYTES in a whole window of NIX_HUG_HTTP_TIMEOUT_MS (curl's low-speed check, as Nix uses).
  const idle = new AbortController();
  let inWindow = 0;
  const timer = setInterval(() => {
    if (inWindow < STALL_BYTES) idle.abort();
    inWindow = 0;
  }, idleMs);
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, done) {
      if (got.size + chunk.length > blob.lfs.size) {
        done(new NixHugError(`${quote(blob.path)} of ${opts.repoId} is longer than its pinned ${blob.lfs.size} bytes`, 'the Hub served other bytes; retry later, or re-pin with `nix-hug fetch`'));
        return;
      }
      inWindow += chunk.length;
      // Hashed once written: after a failure, hash and size describe exactly the bytes on disk.
      fh.write(chunk, 0, chunk.length, got.size).then(() => {
        got.hash.update(chunk);
        got.size += chunk.length;
        done();
      }, done);
    },
  });
  const signal = opts.signal ? AbortSignal.any([opts.signal, idle.signal]) : idle.signal;
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), sink, { signal });
    return null;
  } catch (err) {
    if (opts.signal?.aborted || err instanceof NixHugError) throw err;
    if (idle.signal.aborted) return `stalled (under ${STALL_BYTES} bytes in ${Math.round(idleMs / 100) / 10} s) after ${got.size} bytes`;
    return `the connection broke off after ${got.size} bytes`;
  } finally {
    clearInterval(timer);
  }
}

/**
 * Streams one blob to `dir` and checks it. A body that breaks off or stalls
 * (under 1 KiB in NIX_HUG_HTTP_TIMEOUT_MS) is resumed with a Range request, up
 * to NIX_HUG_MAX_RETRIES times, as Nix does for its own downloads.
 */
async function downloadVerified(blob: BlobToFetch, dir: string, opts: PrefetchOptions): Promise<string> {
  const { retry, timeoutMs } = opts.http;
  const partial = join(dir, `${blobName(blob.lfs.sha256)}.part`);
  const got: Received = { hash: createHash('sha256'), size: 0 };
  const fh = await open(partial, 'w');
  try {
    for (let attempt = 1; ; attempt++) {
      const broke = await receive(blob, fh, got, opts, timeoutMs);
      if (broke === null || got.size === blob.lfs.size) break;
      if (attempt > retry.maxRetries) {
        throw new NixHugError(
          `could not download ${quote(blob.path)} of ${opts.repoId}: ${broke} (gave up after ${attempt} attempts)`,
          'check your network, then run the command again',
        );
      }
      const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
    }
  } finally {
    await fh.close();
  }
  const sum = got.hash.digest('hex');
  if (sum !== blob.lfs.sha256 || got.size !== blob.lfs.size) {
    await rm(partial, { force: true });
    throw new NixHugError(
      `${quote(blob.path)} of ${opts.repoId} does not match its pin: expected sha256 ${blob.lfs.sha256} (${blob.lfs.size} bytes), got ${sum} (${got.size} bytes)`,
      'the Hub served different bytes; retry later, or re-pin with `nix-hug fetch`',
    );
  }
  const final = join(dir, blobName(blob.lfs.sha256));
  await rename(partial, final);
  return final;
}

async function addToStore(file: string, blob: BlobToFetch, opts: PrefetchOptions): Promise<void> {
  const r = await capture('nix-store', ['--add-fixed', 'sha256', file], opts.env);
  const expected = blobStorePath(blob.lfs.sha256);
  if (r.code !== 0 || r.stdout.trim() !== expected) {
    throw new NixHugError(`could not add ${blob.path} of ${opts.repoId} to the Nix store: ${r.stderr.trim() || r.stdout.trim()}`, 'check that you may write to the Nix store');
  }
}

/** Downloads and stores every blob, a few at a time; a temp dir holds partial files and is always removed. */
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
