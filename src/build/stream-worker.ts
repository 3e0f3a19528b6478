/**
 * The worker thread that streams blobs into the Nix store (started by
 * stream-in-worker.ts, which says why a thread). It makes its own Hub
 * client from the job, runs `streamBlobs`, and reports everything to the
 * main thread as messages: progress, log lines and waits, then `done` or
 * `failed`. An `abort` message stops the downloads as an interrupt would.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NixHugError } from '../errors.js';
import { HubClient } from '../hub/client.js';
import { messageLogger } from '../ui/logger-relay.js';
import type { FromWorker, StreamJob, ToWorker } from './stream-in-worker.js';
import { streamBlobs } from './stream-blobs.js';

const port = parentPort;
if (!port) throw new Error('stream-worker.ts runs as a worker thread (see stream-in-worker.ts)');
const send = (message: FromWorker) => port.postMessage(message);

const job = workerData as StreamJob;
const stop = new AbortController();
port.on('message', (message: ToWorker) => {
  if (message.kind === 'abort') stop.abort();
});

const logger = messageLogger((message) => send({ kind: 'log', message }), job.logLevel);
const hub = new HubClient({ endpoint: job.endpoint, token: job.token, logger, retry: job.http.retry, timeoutMs: job.http.timeoutMs });
const index = new Map(job.blobs.map((b, i) => [b, i]));
const at = (blob: unknown) => index.get(blob as StreamJob['blobs'][number]) ?? -1;
// Progress goes out every `progressMs` for all blobs at once: a message per chunk would cost more than the chunk.
const progress = new Map<number, number>();
const flush = () => {
  if (progress.size === 0) return;
  send({ kind: 'bytes', done: [...progress] });
  progress.clear();
};
const ticker = setInterval(flush, job.progressMs);

try {
  await streamBlobs({
    blobs: job.blobs,
    parallel: job.parallel,
    env: job.env,
    get: (url, signal, headers) =>
      hub.get(url, { ...(signal ? { signal } : {}), ...(headers ? { headers } : {}), context: { what: 'downloading a file', repo: job.repo } }),
    http: job.http,
    repoId: job.repo.repoId,
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
