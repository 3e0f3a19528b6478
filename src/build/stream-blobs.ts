/**
 * Public repos: the CLI downloads each missing LFS file and streams it into
 * the Nix store as it arrives (one store connection per download at once:
 * the daemon's socket or `nix-daemon --stdio`, see nix/store-connection.ts). Nix hashes the bytes while
 * it writes them and names the path after their sha256, so the path is the
 * library's `hf-blob-<sha256>` only when every byte is the pinned file's:
 * Nix verifies them, as its own fixed-output download would, and the
 * snapshot's build then finds every blob valid.
 *
 * Why not Nix's own download: Nix downloads to a file, then reads it twice
 * more (the content hash, then the NAR hash and reference scan) one blob at
 * a time per process, and from Nix 2.20.5 on copies it once more first;
 * streamed, the first of those passes runs during the download
 * (bench/README.md has the timelines). The CLI runs this in a worker thread
 * (stream-in-worker.ts says why).
 */
import { InterruptedError, NixHugError } from '../errors.js';
import { withInterrupt } from '../interrupt.js';
import { capture } from '../nix/nix.js';
import { StoreConnection } from '../nix/store-connection.js';
import { blobName, blobStorePath } from '../nix/store-path.js';
import { quote } from '../ui/text.js';
import { downloadBlob, wrongBytes, type BlobToFetch, type BodySink, type DownloadOptions } from './blob-download.js';

export interface StreamBlobsOptions extends DownloadOptions {
  blobs: readonly BlobToFetch[];
  /** Downloads at once (each with its own connection). */
  parallel: number;
  /**
   * Connections opened (or opening) already, one per download at once:
   * each download starts once its own is open. More are opened as needed;
   * all are closed at the end.
   */
  connections?: readonly Promise<StoreConnection>[];
  /** For further connections and `nix-store --delete`. */
  env: NodeJS.ProcessEnv;
  onStart?: (blob: BlobToFetch) => void;
  /** `bytes` of `blob` have been handed to Nix. */
  onBytes?: (blob: BlobToFetch, bytes: number) => void;
  /** The blob is valid in the store. */
  onStored?: (blob: BlobToFetch) => void;
  /** --debug lines: each download and Nix's work after its last byte, with durations. */
  debug?: (line: string) => void;
}

/** The server ignored a Range request: what the store received cannot be taken back, so start over. */
class StartOver extends Error {}

const seconds = (from: number, to: number = performance.now()) => ((to - from) / 1000).toFixed(3);

/** Streams one blob into the store over `conn`; returns the connection to go on with (a new one after a start-over). */
async function storeBlob(conn: StoreConnection, blob: BlobToFetch, opts: StreamBlobsOptions, signal: AbortSignal | undefined): Promise<StoreConnection> {
  const name = blobName(blob.lfs.sha256);
  const expected = blobStorePath(blob.lfs.sha256);
  const each = { ...opts, ...(signal ? { signal } : {}) };
  for (let attempt = 1; ; attempt++) {
    const startedAt = performance.now();
    let lastByteAt = startedAt;
    opts.onStart?.(blob);
    try {
      const added = await conn.addFlat(name, async (write) => {
        let received = 0;
        const sink: BodySink = {
          get size() {
            return received;
          },
          async write(chunk, written) {
            await write(chunk, written);
            received += chunk.length;
            opts.onBytes?.(blob, received);
          },
          restart: () => Promise.reject(new StartOver()),
        };
        await downloadBlob(blob, sink, each, 'check your network, then run the command again');
        lastByteAt = performance.now();
        opts.debug?.(`download ${blob.url}: done in ${seconds(startedAt, lastByteAt)} s`);
      });
      opts.debug?.(`store ${name} (Nix's NAR hash and registration after the last byte): done in ${seconds(lastByteAt)} s`);
      if (added.path !== expected) {
        // Other bytes under the blob's name: a path no pin refers to; removed so it does not linger.
        await capture('nix-store', ['--delete', added.path], opts.env).catch(() => null);
        throw wrongBytes(blob, opts.repoId, 'other bytes (Nix computed another store path for them)');
      }
      return conn;
    } catch (err) {
      if (signal?.aborted) throw new InterruptedError(`downloading ${quote(blob.path)}`);
      if (!(err instanceof StartOver)) throw describeStoreError(err, blob, opts.repoId);
      if (attempt > opts.http.retry.maxRetries) {
        throw new NixHugError(`could not download ${quote(blob.path)} of ${opts.repoId}: the server does not resume broken downloads`, 'check your network, then run the command again');
      }
      conn = await StoreConnection.open(opts.env, signal);
    }
  }
}

/** Errors of the download stay as they are; the store's own get the file and repo named. */
function describeStoreError(err: unknown, blob: BlobToFetch, repoId: string): unknown {
  if (err instanceof NixHugError || err instanceof InterruptedError) return err;
  return new NixHugError(
    `could not add ${quote(blob.path)} of ${repoId} to the Nix store: ${(err as Error).message}`,
    'check that the Nix store has room and that you may write to it (nix-store --add works), then run the command again',
  );
}

/** Downloads `opts.blobs` into the store, `opts.parallel` at once; the first failure stops the others and is thrown. */
export async function streamBlobs(opts: StreamBlobsOptions): Promise<void> {
  const given = withInterrupt(opts.signal);
  const stop = new AbortController();
  const signal = given ? AbortSignal.any([given, stop.signal]) : stop.signal;
  const queue = [...opts.blobs];
  const open = new Set<StoreConnection>();
  const slots = Math.max(1, Math.min(opts.parallel, queue.length));
  // Connections opened for more downloads at once than there are blobs: not needed.
  for (const spare of opts.connections?.slice(slots) ?? []) void spare.then((c) => c.close(), () => {});
  const worker = async (slot: number) => {
    let conn: StoreConnection | null = null;
    try {
      const given = opts.connections?.[slot];
      if (given) {
        conn = await given;
        open.add(conn);
        // Stopped while it opened: the abort handler ran before it was in `open`.
        if (signal.aborted) conn.abort();
      }
      for (let blob = queue.shift(); blob && !signal.aborted; blob = queue.shift()) {
        conn ??= await StoreConnection.open(opts.env, signal);
        open.add(conn);
        const next: StoreConnection = await storeBlob(conn, blob, opts, signal);
        if (next !== conn) {
          open.delete(conn);
          open.add(next);
          conn = next;
        }
        opts.onStored?.(blob);
      }
    } finally {
      if (conn) {
        open.delete(conn);
        await conn.close();
      }
    }
  };
  let failure: { error: unknown } | null = null;
  const onAbort = () => {
    for (const conn of open) conn.abort();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(
      Array.from({ length: slots }, (_, slot) =>
        worker(slot).catch((error: unknown) => {
          failure ??= { error };
          stop.abort();
        }),
      ),
    );
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (failure) throw (failure as { error: unknown }).error;
  if (given?.aborted) throw new InterruptedError('downloading LFS files');
}
