/**
 * Private and gated repos: the CLI downloads each LFS file itself with the
 * token (streamed to disk, sha256-verified) and adds it to the store under the
 * name the library predicts, where Nix's fixed-output download then finds it
 * without any network and without credentials (SPEC §2).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NixHugError } from '../errors.js';
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
  /** GET with the token and the Hub client's retries; must not send the token to another origin. */
  get: (url: string, signal?: AbortSignal) => Promise<Response>;
  env: NodeJS.ProcessEnv;
  repoId: string;
  parallel?: number;
  signal?: AbortSignal;
  onFileDone?: (blob: BlobToFetch) => void;
}

async function downloadVerified(blob: BlobToFetch, dir: string, opts: PrefetchOptions): Promise<string> {
  const res = await opts.get(blob.url, opts.signal);
  if (!res.ok || !res.body) {
    throw new NixHugError(`could not download ${blob.path} of ${opts.repoId}: HTTP ${res.status}`, 'check HF_TOKEN and your access to the repository, then run the command again');
  }
  const partial = join(dir, `${blobName(blob.lfs.sha256)}.part`);
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), hasher, createWriteStream(partial, { highWaterMark: 1 << 20 }), { signal: opts.signal });
  const got = hash.digest('hex');
  if (got !== blob.lfs.sha256 || size !== blob.lfs.size) {
    await rm(partial, { force: true });
    throw new NixHugError(
      `${blob.path} of ${opts.repoId} does not match its pin: expected sha256 ${blob.lfs.sha256} (${blob.lfs.size} bytes), got ${got} (${size} bytes)`,
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
