/**
 * Runs the streamed downloads (stream-blobs.ts) in a worker thread whose
 * young generation is small, and relays its progress, log lines and result.
 *
 * Why a thread: every byte of a streamed blob passes through the CLI as a
 * short-lived buffer. With V8's default young generation those pile up
 * between scavenges, in memory that is cold by the time it is reused;
 * measured on 1 GiB, that cost about a quarter more CPU time and ~25 MB
 * more peak RSS than with 1 MiB semi-spaces (bench/README.md). V8 takes the
 * size only when a heap is made, so for a running CLI that means a worker's
 * `resourceLimits`. The main thread meanwhile keeps the display and Nix's
 * output off the download path.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { InterruptedError, NixHugError } from '../errors.js';
import { withInterrupt } from '../interrupt.js';
import type { HttpSettings } from '../settings/http.js';
import type { RepoRef } from '../types.js';
import { logRelay, type LogMessage } from '../ui/logger-relay.js';
import type { LogLevel, Logger } from '../ui/logger.js';
import type { BlobToFetch } from './blob-download.js';

/** What the worker is started with (structured-cloned), before the blobs are known. */
export interface StreamSettings {
  /** The environment of Nix's store connections (NIX_REMOTE, NIX_CONFIG, …). */
  env: NodeJS.ProcessEnv;
  /** The Hub client's settings: the token is sent to the endpoint's origin only. */
  endpoint: string;
  token: string | null;
  http: HttpSettings;
  repo: RepoRef;
  logLevel: LogLevel;
  /** How often the worker reports the bytes each blob has handed to Nix. */
  progressMs: number;
}

export type FromWorker =
  | { kind: 'start' | 'stored'; blob: number }
  | { kind: 'bytes'; done: [blob: number, bytes: number][] }
  | { kind: 'log'; message: LogMessage }
  | { kind: 'done' }
  | { kind: 'failed'; error: { message: string; hint?: string; stack?: string } };

export type ToWorker = { kind: 'run'; blobs: BlobToFetch[]; parallel: number } | { kind: 'abort' };

export interface StreamRun {
  blobs: BlobToFetch[];
  /** Downloads at once (each with its own store connection). */
  parallel: number;
  signal?: AbortSignal;
  onStart?: (blob: BlobToFetch) => void;
  /** `bytes` of `blob` have been handed to Nix (every `progressMs`, and before `onStored`). */
  onBytes?: (blob: BlobToFetch, bytes: number) => void;
  /** The blob is valid in the store. */
  onStored?: (blob: BlobToFetch) => void;
}

/** The worker's young generation: V8 makes it three semi-spaces, so 1 MiB each. */
export const WORKER_YOUNG_GENERATION_MB = 3;

/** After an abort the worker closes its connections and says so; one that does not within this is ended. */
const ABORT_GRACE_MS = 5000;

/** The worker's entry beside this module: stream-worker.js when built, stream-worker.ts when run from source. */
function startWorker(options: WorkerOptions): Worker {
  const entry = new URL(`./stream-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  // From source (the tests run through tsx): Node 20 does not pass --import on to a worker, so it registers tsx itself.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * A worker thread for one run of streamed downloads. It is started before
 * the blobs are known (`start`), so that loading its modules (~75 ms for a
 * process's first worker here) overlaps the binary-cache query; `run`
 * hands it the blobs, `dispose` ends one that is not needed.
 */
export class StreamWorker {
  private readonly worker: Worker;
  private readonly logger: Logger;
  private readonly repoId: string;
  /** An error that ended the thread (its module failed to load, say). */
  private crash: Error | null = null;
  /** Settles when the thread has ended (after `run`, or after `dispose`). */
  readonly exited: Promise<void>;
  private ran = false;

  private constructor(settings: Omit<StreamSettings, 'logLevel'>, logger: Logger) {
    this.logger = logger;
    this.repoId = settings.repo.repoId;
    const workerData: StreamSettings = { ...settings, logLevel: logger.level };
    this.worker = startWorker({ workerData, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    this.worker.on('error', (err) => {
      this.crash = err;
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  static start(settings: Omit<StreamSettings, 'logLevel'>, logger: Logger): StreamWorker {
    return new StreamWorker(settings, logger);
  }

  /** Ends the thread if `run` was never called (an idle worker would keep waiting). */
  dispose(): void {
    if (!this.ran) void this.worker.terminate();
  }

  /** Downloads `job.blobs` into the store; throws what stopped it (an InterruptedError on an interrupt). Once per worker. */
  run(job: StreamRun): Promise<void> {
    if (this.ran) throw new Error('StreamWorker.run: a worker runs once');
    this.ran = true;
    const { worker, logger } = this;
    const signal = withInterrupt(job.signal);
    const log = logRelay(logger);
    return new Promise<void>((resolve, reject) => {
      let outcome: Extract<FromWorker, { kind: 'done' | 'failed' }> | null = null;
      let grace: NodeJS.Timeout | null = null;
      const onAbort = () => {
        worker.postMessage({ kind: 'abort' } satisfies ToWorker);
        grace = setTimeout(() => void worker.terminate(), ABORT_GRACE_MS);
      };
      worker.on('message', (m: FromWorker) => {
        const blob = 'blob' in m ? job.blobs[m.blob] : undefined;
        if (m.kind === 'log') log.relay(m.message);
        else if (m.kind === 'bytes') for (const [i, bytes] of m.done) job.onBytes?.(job.blobs[i]!, bytes);
        else if (m.kind === 'start' && blob) job.onStart?.(blob);
        else if (m.kind === 'stored' && blob) job.onStored?.(blob);
        else if (m.kind === 'done' || m.kind === 'failed') outcome = m;
      });
      void this.exited.then(() => {
        signal?.removeEventListener('abort', onAbort);
        if (grace) clearTimeout(grace);
        log.close();
        if (signal?.aborted) return reject(new InterruptedError('downloading LFS files'));
        if (outcome?.kind === 'done') return resolve();
        if (outcome?.kind === 'failed') {
          const err = new NixHugError(outcome.error.message, outcome.error.hint);
          if (outcome.error.stack) err.stack = outcome.error.stack;
          return reject(err);
        }
        const why = this.crash ? `: ${logger.redact(this.crash.message)}` : '';
        reject(
          new NixHugError(
            `the download thread of ${this.repoId} stopped before it finished${why}`,
            'run the command again; if it happens again, set NIX_HUG_DOWNLOADER=nix to let Nix download, and report it with the output of --debug',
          ),
        );
      });
      worker.postMessage({ kind: 'run', blobs: job.blobs, parallel: job.parallel } satisfies ToWorker);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
