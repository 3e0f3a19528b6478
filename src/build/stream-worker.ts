/**
 * The worker thread that streams blobs into the Nix store (started by
 * stream-in-worker.ts, which says why a thread). It is started before the
 * blobs are known: it makes its own Hub client from its settings, then
 * waits for `prepare` with the blobs. It opens its store connections at
 * once; the first of them, once open, shows that the route works and asks
 * the binary caches which blobs they have (`routes`, or `unavailable` when
 * the store cannot be reached this way). On `go` it streams the others,
 * each download over one of those connections as soon as that one is open,
 * and reports everything to the main thread as messages: progress, log
 * lines, Nix's events and waits, then `done` or `failed`. An `abort`
 * message stops it as an interrupt would.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { NixHugError } from '../errors.js';
import { HubClient } from '../hub/client.js';
import { StoreConnection, StoreUnavailable } from '../nix/store-connection.js';
import { blobStorePath } from '../nix/store-path.js';
import { messageLogger } from '../ui/logger-relay.js';
import type { BlobToFetch } from './blob-download.js';
import type { FromWorker, StreamSettings, ToWorker } from './stream-in-worker.js';
import { streamBlobs } from './stream-blobs.js';

if (!parentPort) throw new Error('stream-worker.ts runs as a worker thread (see stream-in-worker.ts)');
const port: MessagePort = parentPort;
const send = (message: FromWorker) => port.postMessage(message);

const settings = workerData as StreamSettings;
const logger = messageLogger((message) => send({ kind: 'log', message }), settings.logLevel);
const hub = new HubClient({ endpoint: settings.endpoint, token: settings.token, logger, retry: settings.http.retry, timeoutMs: settings.http.timeoutMs });
const stop = new AbortController();

/** What `prepare` left for `go`: the blobs to stream and the connections opening for them. */
let ready: { all: BlobToFetch[]; blobs: BlobToFetch[]; connections: Promise<StoreConnection>[] } | null = null;

function failed(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  send({
    kind: 'failed',
    error: {
      message: logger.redact(e.message),
      ...(e instanceof NixHugError && e.hint ? { hint: e.hint } : {}),
      ...(e.stack ? { stack: logger.redact(e.stack) } : {}),
    },
  });
}

/** Drops every connection that opened (or will), then lets the thread end (after the messages sent before). */
function dropAll(opening: Promise<StoreConnection>[]): void {
  for (const conn of opening) void conn.then((c) => c.abort(), () => {});
  port.close();
}

/**
 * Opens `parallel` connections at once: the daemon's start-up (a process
 * each for `nix-daemon --stdio`) overlaps the binary-cache query on the
 * first. The routes go out as soon as the caches have answered, and each
 * download starts once its own connection is open, so the first bytes do
 * not wait for the last connection.
 */
async function prepare(blobs: BlobToFetch[], parallel: number): Promise<void> {
  const opening = Array.from({ length: parallel }, () => StoreConnection.open(settings.env, stop.signal));
  for (const p of opening) p.catch(() => {}); // each is awaited by a download, or dropped
  let first: StoreConnection;
  try {
    first = await opening[0]!;
  } catch (err) {
    if (err instanceof StoreUnavailable) send({ kind: 'unavailable', reason: err.message });
    else failed(err);
    return dropAll(opening);
  }
  logger.debug(`streaming into the Nix store through ${first.via}${first.daemonVersion ? ` (Nix ${first.daemonVersion})` : ''}`);
  const paths = blobs.map((b) => blobStorePath(b.lfs.sha256));
  let substitutable: Set<string>;
  try {
    substitutable = await first.querySubstitutable(paths, (event) => send({ kind: 'nix', event }));
  } catch (err) {
    // Nix asks the caches again when it builds, and says what went wrong there.
    if (!stop.signal.aborted) send({ kind: 'unavailable', reason: `asking the binary caches through the daemon failed (${(err as Error).message})` });
    return dropAll(opening);
  }
  if (stop.signal.aborted) return dropAll(opening);
  const streamed = blobs.filter((b) => !substitutable.has(blobStorePath(b.lfs.sha256)));
  const needed = Math.max(1, Math.min(parallel, streamed.length));
  for (const p of opening.slice(needed)) void p.then((c) => c.close(), () => {});
  ready = { all: blobs, blobs: streamed, connections: opening.slice(0, needed) };
  send({ kind: 'routes', substitutable: blobs.flatMap((b, i) => (substitutable.has(paths[i]!) ? [i] : [])) });
}

/** Streams `blobs` (of `all`, whose indices the messages use) over `connections`. */
async function run(all: BlobToFetch[], blobs: BlobToFetch[], connections: Promise<StoreConnection>[]): Promise<void> {
  const index = new Map(all.map((b, i) => [b, i]));
  const at = (blob: BlobToFetch) => index.get(blob) ?? -1;
  // Progress goes out every `progressMs` for all blobs at once: a message per chunk would cost more than the chunk.
  const progress = new Map<number, number>();
  const flush = () => {
    if (progress.size === 0) return;
    send({ kind: 'bytes', done: [...progress] });
    progress.clear();
  };
  const ticker = setInterval(flush, settings.progressMs);
  try {
    await streamBlobs({
      blobs,
      parallel: connections.length,
      connections,
      env: settings.env,
      get: (url, request) => hub.get(url, { ...request, context: { what: 'downloading a file', repo: settings.repo } }),
      http: settings.http,
      repoId: settings.repo.repoId,
      signal: stop.signal,
      onStart: (b) => send({ kind: 'start', blob: at(b) }),
      onBytes: (b, bytes) => void progress.set(at(b), bytes),
      onStored: (b) => {
        flush();
        send({ kind: 'stored', blob: at(b) });
      },
      ...(logger.debugEnabled ? { debug: (line: string) => logger.debug(line) } : {}),
    });
    send({ kind: 'done' });
  } catch (err) {
    failed(err);
  } finally {
    clearInterval(ticker);
    // Nothing else keeps the thread alive: it ends once the last message is out.
    port.close();
  }
}

/** Stopped between `prepare` and `go`: the connections it opened are dropped (streamBlobs drops its own). */
function dropReady(): void {
  dropAll(ready?.connections ?? []);
  ready = null;
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'abort') {
    stop.abort();
    if (ready) dropReady();
  } else if (message.kind === 'prepare') void prepare(message.blobs, message.parallel);
  else if (ready) {
    const { all, blobs, connections } = ready;
    ready = null;
    void run(all, blobs, connections);
  }
});
