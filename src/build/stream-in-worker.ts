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
import type { NixLogEvent } from '../nix/nix.js';
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
  | { kind: 'routes'; substitutable: number[] }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'start' | 'stored'; blob: number }
  | { kind: 'bytes'; done: [blob: number, bytes: number][] }
  | { kind: 'nix'; event: NixLogEvent }
  | { kind: 'log'; message: LogMessage }
  | { kind: 'done' }
  | { kind: 'failed'; error: { message: string; hint?: string; stack?: string } };

export type ToWorker = { kind: 'prepare'; blobs: BlobToFetch[]; parallel: number } | { kind: 'go' } | { kind: 'abort' };

/** What `prepare` needs: the blobs that may be streamed. */
export interface StreamPlan {
  blobs: BlobToFetch[];
  /** Downloads at once (each with its own store connection). */
  parallel: number;
  signal?: AbortSignal;
  /** Nix's events while it asks the binary caches. */
  onEvent?: (event: NixLogEvent) => void;
}

/**
 * What `prepare` found: the store takes streamed blobs (and which blobs a
 * binary cache has instead: Nix substitutes those), or it cannot be reached
 * that way, and why (Nix downloads them all then).
 */
export type StreamReadiness = { kind: 'ready'; substitutable: BlobToFetch[] } | { kind: 'unavailable'; reason: string };

/** How the streaming reports as it goes. */
export interface StreamReport {
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
 * process's first worker here) overlaps the work before; `prepare` hands it
 * the blobs and resolves once its store connections are open and the
 * binary caches asked; `stream` then downloads. `dispose` ends one that
 * will not stream.
 */
export class StreamWorker {
  private readonly worker: Worker;
  private readonly logger: Logger;
  private readonly repoId: string;
  private readonly log: ReturnType<typeof logRelay>;
  /** An error that ended the thread (its module failed to load, say). */
  private crash: Error | null = null;
  /** Settles when the thread has ended (after `stream`, or after `dispose`). */
  readonly exited: Promise<void>;
  private plan: StreamPlan | null = null;
  private report: StreamReport = {};
  private streaming = false;
  private ready: ((readiness: StreamReadiness) => void) | null = null;
  private outcome: Extract<FromWorker, { kind: 'done' | 'failed' }> | null = null;
  /** The interrupts that stop it (prepare's and stream's signals). */
  private readonly signals: AbortSignal[] = [];
  private grace: NodeJS.Timeout | null = null;
  private ended = false;

  private constructor(settings: Omit<StreamSettings, 'logLevel'>, logger: Logger) {
    this.logger = logger;
    this.repoId = settings.repo.repoId;
    this.log = logRelay(logger);
    const workerData: StreamSettings = { ...settings, logLevel: logger.level };
    this.worker = startWorker({ workerData, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    this.worker.on('error', (err) => {
      this.crash = err;
    });
    this.worker.on('message', (m: FromWorker) => this.received(m));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.ended = true;
        for (const signal of this.signals) signal.removeEventListener('abort', this.abort);
        if (this.grace) clearTimeout(this.grace);
        this.log.close();
        resolve();
      }),
    );
  }

  static start(settings: Omit<StreamSettings, 'logLevel'>, logger: Logger): StreamWorker {
    return new StreamWorker(settings, logger);
  }

  private received(m: FromWorker): void {
    const blobs = this.plan?.blobs ?? [];
    const blob = 'blob' in m ? blobs[m.blob] : undefined;
    const { report } = this;
    if (m.kind === 'log') this.log.relay(m.message);
    else if (m.kind === 'nix') this.plan?.onEvent?.(m.event);
    else if (m.kind === 'routes') this.ready?.({ kind: 'ready', substitutable: m.substitutable.map((i) => blobs[i]!) });
    else if (m.kind === 'unavailable') this.ready?.({ kind: 'unavailable', reason: m.reason });
    else if (m.kind === 'bytes') for (const [i, bytes] of m.done) report.onBytes?.(blobs[i]!, bytes);
    else if (m.kind === 'start' && blob) report.onStart?.(blob);
    else if (m.kind === 'stored' && blob) report.onStored?.(blob);
    else if (m.kind === 'done' || m.kind === 'failed') this.outcome = m;
  }

  /** Stops the worker: it closes its connections and ends; one that does not within ABORT_GRACE_MS is ended. */
  private readonly abort = (): void => {
    if (this.grace || this.ended) return;
    this.worker.postMessage({ kind: 'abort' } satisfies ToWorker);
    this.grace = setTimeout(() => void this.worker.terminate(), ABORT_GRACE_MS);
  };

  private stopsOn(given: AbortSignal | undefined): void {
    const signal = withInterrupt(given);
    if (!signal) return;
    this.signals.push(signal);
    if (signal.aborted) this.abort();
    else signal.addEventListener('abort', this.abort, { once: true });
  }

  /** Why the thread ended without finishing: the interrupt, its own error, or that it stopped. */
  private endedEarly(): Error {
    if (this.signals.some((s) => s.aborted)) return new InterruptedError('downloading LFS files');
    if (this.outcome?.kind === 'failed') {
      const err = new NixHugError(this.outcome.error.message, this.outcome.error.hint);
      if (this.outcome.error.stack) err.stack = this.outcome.error.stack;
      return err;
    }
    const why = this.crash ? `: ${this.logger.redact(this.crash.message)}` : '';
    return new NixHugError(
      `the download thread of ${this.repoId} stopped before it finished${why}`,
      'run the command again; if it happens again, set NIX_HUG_DOWNLOADER=nix to let Nix download, and report it with the output of --debug',
    );
  }

  /** Ends the thread if it is not streaming (an idle worker would keep waiting). */
  dispose(): void {
    if (this.streaming) return;
    if (this.plan) this.abort();
    else void this.worker.terminate();
  }

  /**
   * Hands the worker the blobs: it opens its store connections and asks the
   * binary caches. Nothing is downloaded until `stream`. Once per worker.
   */
  prepare(plan: StreamPlan): Promise<StreamReadiness> {
    if (this.plan) throw new Error('StreamWorker.prepare: a worker is prepared once');
    this.plan = plan;
    this.stopsOn(plan.signal);
    const readiness = new Promise<StreamReadiness>((resolve, reject) => {
      this.ready = resolve;
      // A thread that ends first (failed, interrupted, crashed) never answers.
      void this.exited.then(() => reject(this.endedEarly()));
    });
    this.worker.postMessage({ kind: 'prepare', blobs: plan.blobs, parallel: plan.parallel } satisfies ToWorker);
    return readiness;
  }

  /** Downloads the prepared blobs (less those a binary cache has) into the store; throws what stopped it. */
  stream(report: StreamReport): Promise<void> {
    if (!this.plan || this.streaming) throw new Error('StreamWorker.stream: after prepare, once');
    this.streaming = true;
    this.report = report;
    this.stopsOn(report.signal);
    this.worker.postMessage({ kind: 'go' } satisfies ToWorker);
    return this.exited.then(() => {
      if (this.outcome?.kind === 'done' && !this.signals.some((s) => s.aborted)) return;
      throw this.endedEarly();
    });
  }
}
