/**
 * The CLI's own download of one LFS file into a sink (a partial file on
 * disk, or the Nix store as it arrives): the body is streamed, never held
 * in memory; a body that breaks off or stalls is resumed with a Range
 * request, up to NIX_HUG_MAX_RETRIES times with the Hub client's back-off;
 * more bytes than the pinned size stop it. Checking the bytes against the
 * pinned sha256 is the sink's job (it sees every byte).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError, NixHugError } from '../errors.js';
import { HubApiError } from '../hub/errors.js';
import type { GetOptions } from '../hub/client.js';
import type { HttpAnswer } from '../hub/transport.js';
import type { HttpSettings } from '../settings/http.js';
import type { LfsInfo } from '../types.js';
import { quote } from '../ui/text.js';

export interface BlobToFetch {
  /** Path in the repository, for messages. */
  path: string;
  /** The file's `resolve` URL. */
  url: string;
  lfs: LfsInfo;
}

/** GET with the Hub client's retries and token rules (never sent to another origin); `headers`: e.g. Range; `bulk`: a large file. */
export type HubGet = (url: string, options: Pick<GetOptions, 'signal' | 'headers' | 'bulk'>) => Promise<HttpAnswer>;

/**
 * Files this large come as `bulk` downloads (a connection of their own, read
 * into reused buffers: hub/http1.ts). The CPU it saves grows with the file;
 * the two handshakes it costs (Hub and CDN) do not, and small files keep
 * the client's shared connections.
 */
export const BULK_FROM = 64 << 20;

export interface DownloadOptions {
  get: HubGet;
  /** The Hub client's retry policy and timeout: a broken or stalled body is resumed within them. */
  http: HttpSettings;
  repoId: string;
  signal?: AbortSignal;
  /** Size from which a download is `bulk` (BULK_FROM unless said; tests say 0). */
  bulkFrom?: number;
}

/** Where the bytes of one download go. */
export interface BodySink {
  /** Bytes it holds: a resumed request asks for the rest after them. */
  readonly size: number;
  /** `written`, when given, is called once the sink no longer needs the chunk's memory (it may then be reused). */
  write(chunk: Buffer, written?: () => void): Promise<void>;
  /** The server sent the whole file again instead of the rest: drop what was received. */
  restart(): Promise<void>;
}

/** Bytes that are not the pinned file's: whatever holds them is dropped, never resumed from. */
export class WrongBytesError extends NixHugError {}

/** A window of NIX_HUG_HTTP_TIMEOUT_MS with fewer bytes than this is a stall (curl's low-speed check, as Nix uses). */
const STALL_BYTES = 1024;

/** The message of a blob that turned out to hold other bytes than its pin. */
export function wrongBytes(blob: BlobToFetch, repoId: string, got: string): WrongBytesError {
  return new WrongBytesError(
    `${quote(blob.path)} of ${repoId} does not match its pin: expected sha256 ${blob.lfs.sha256} (${blob.lfs.size} bytes), got ${got}`,
    'the Hub served different bytes; retry later, or re-pin with `nix-hug fetch`',
  );
}

/** An error answer to a file's download, named by the file and what to do about it. */
function httpError(blob: BlobToFetch, repoId: string, status: number): NixHugError {
  const hint =
    status === 404 || status === 410
      ? 'the Hub no longer serves this file at the pinned revision: re-pin with `nix-hug fetch`, or leave the file out with --exclude'
      : status === 401 || status === 403
        ? 'check HF_TOKEN and your access to the repository, then run the command again'
        : 'run the command again later';
  return new NixHugError(`could not download ${quote(blob.path)} of ${repoId}: HTTP ${status} (${blob.url})`, hint);
}

/** Why an attempt broke off in the body (worth another attempt), or null when the body arrived whole. */
async function receive(blob: BlobToFetch, sink: BodySink, opts: DownloadOptions): Promise<string | null> {
  const from = sink.size;
  const bulk = blob.lfs.size >= (opts.bulkFrom ?? BULK_FROM);
  const request = { bulk, ...(opts.signal ? { signal: opts.signal } : {}), ...(from > 0 ? { headers: { range: `bytes=${from}-` } } : {}) };
  const res = await opts.get(blob.url, request).catch((err: unknown) => {
    // An error status is the file's, not the repo's (the client would say the repo was not found).
    if (err instanceof HubApiError) throw httpError(blob, opts.repoId, err.status);
    // The client's message names the repo; say which file too.
    if (err instanceof NixHugError && !(err instanceof InterruptedError)) throw new NixHugError(`could not download ${quote(blob.path)}: ${err.message}`, err.hint);
    throw err;
  });
  const reader = res.ok ? res.body : null;
  if (!reader) throw httpError(blob, opts.repoId, res.status);
  if (from > 0 && !(res.status === 206 && res.headers.get('content-range')?.startsWith(`bytes ${from}-`))) await sink.restart();
  const idleMs = opts.http.timeoutMs;
  const idle = new AbortController();
  let inWindow = 0;
  const timer = setInterval(() => {
    if (inWindow < STALL_BYTES) idle.abort();
    inWindow = 0;
  }, idleMs);
  // The sink's own failure (the store refused the bytes) is not a broken connection.
  let sinkFailed = false;
  const signal = opts.signal ? AbortSignal.any([opts.signal, idle.signal]) : idle.signal;
  // Read straight from the body (as the socket delivers it, see transport.ts): no stream layer between it and the sink.
  const stop = () => reader.cancel();
  signal.addEventListener('abort', stop, { once: true });
  let ended = false;
  try {
    for (;;) {
      const next = await reader.read();
      ended = next.done === true;
      if (next.done || signal.aborted) break;
      const value = next.value;
      if (sink.size + value.byteLength > blob.lfs.size) {
        throw new WrongBytesError(`${quote(blob.path)} of ${opts.repoId} is longer than its pinned ${blob.lfs.size} bytes`, 'the Hub served other bytes; retry later, or re-pin with `nix-hug fetch`');
      }
      inWindow += value.byteLength;
      try {
        // Given back to the reader once written, its memory is read into again (hub/http1.ts).
        const written = reader.release ? () => reader.release?.(value) : undefined;
        await sink.write(Buffer.from(value.buffer, value.byteOffset, value.byteLength), written);
      } catch (err) {
        sinkFailed = true;
        throw err;
      }
    }
    if (signal.aborted) throw signal.reason;
    return null;
  } catch (err) {
    if (opts.signal?.aborted || err instanceof NixHugError) throw err;
    if (idle.signal.aborted) return `stalled (under ${STALL_BYTES} bytes in ${Math.round(idleMs / 100) / 10} s) after ${sink.size} bytes`;
    if (sinkFailed) throw err;
    return `the connection broke off after ${sink.size} bytes`;
  } finally {
    clearInterval(timer);
    signal.removeEventListener('abort', stop);
    // A body left unread (wrong bytes, the store refused them) is dropped with its connection.
    if (!ended) stop();
  }
}

/**
 * Downloads `blob` into `sink` from `sink.size` on, until it holds the
 * pinned size, resuming after breaks and stalls. `resumeHint`: what the
 * user's next run does with what was received (the error's hint).
 */
export async function downloadBlob(blob: BlobToFetch, sink: BodySink, opts: DownloadOptions, resumeHint: string): Promise<void> {
  const { retry } = opts.http;
  for (let attempt = 1; ; attempt++) {
    const broke = await receive(blob, sink, opts);
    if (sink.size === blob.lfs.size) return;
    const why = broke ?? `the body ended after ${sink.size} of ${blob.lfs.size} bytes`;
    if (attempt > retry.maxRetries) {
      throw new NixHugError(`could not download ${quote(blob.path)} of ${opts.repoId}: ${why} (gave up after ${attempt} attempts)`, resumeHint);
    }
    const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
    await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}
