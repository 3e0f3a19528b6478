/**
 * The worker thread that streams blobs into the Nix store (started by
 * stream-in-worker.ts, which says why a thread). It is started before the
 * blobs are known: it makes its own Hub client from its settings, then
 * waits for `run` with the blobs, runs `streamBlobs`, and reports
 * everything to the main thread as messages: progress, log lines and
 * waits, then `done` or `failed`. An `abort` message stops the downloads
 * as an interrupt would.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { NixHugError } from '../errors.js';
import { HubClient } from '../hub/client.js';
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

async function run(blobs: BlobToFetch[], parallel: number): Promise<void> {
  const index = new Map(blobs.map((b, i) => [b, i]));
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
      parallel,
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
    const e = err instanceof Error ? err : new Error(String(err));
    send({
      kind: 'failed',
      error: {
        message: logger.redact(e.message),
        ...(e instanceof NixHugError && e.hint ? { hint: e.hint } : {}),
        ...(e.stack ? { stack: logger.redact(e.stack) } : {}),
      },
    });
  } finally {
    clearInterval(ticker);
    // Nothing else keeps the thread alive: it ends once the last message is out.
    port.close();
  }
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'abort') stop.abort();
  else void run(message.blobs, message.parallel);
});
