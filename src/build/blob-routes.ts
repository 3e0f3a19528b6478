/**
 * Which way each missing public blob comes into the store: those a binary
 * cache has are left to Nix (it substitutes them); the others are streamed
 * into the store by the CLI (stream-blobs.ts, in a worker thread:
 * stream-in-worker.ts), or, where the store cannot be reached that way (no
 * `nix-daemon`, a daemon older than Nix 2.4) or NIX_HUG_DOWNLOADER says so,
 * downloaded by Nix, one nix per core (parallel-blobs.ts).
 */
import { availableParallelism } from 'node:os';
import type { PinnedRepo, RepoFile } from '../types.js';
import { copiesFixedOutputs, nixEnv, type NixInfo, type NixLogEvent } from '../nix/nix.js';
import { blobStorePath } from '../nix/store-path.js';
import { downloaderFromEnv } from '../settings/downloader.js';
import type { Settings } from '../settings/index.js';
import type { Logger } from '../ui/logger.js';
import type { DownloadProgress } from './download-progress.js';
import { buildBlobsInParallel, processCount } from './parallel-blobs.js';
import { resolveUrl } from './resolve-url.js';
import { StreamWorker } from './stream-in-worker.js';

/** Where the routes report as they go. */
export interface RouteSink {
  /** Nix's log events (its downloads, substitutions and builds); `at`: when it came (performance.now()), if not now. */
  onEvent(ev: NixLogEvent, at?: number): void;
  /** The CLI's own downloads (the streamed route). */
  transfer: DownloadProgress['transfer'];
  /** The blob with this sha256 is valid in the store. */
  onStored(sha256: string): void;
  /** What the user waits for now (the CLI's own downloads are not Nix's). */
  onWait(text: string): void;
}

export interface BlobRoutesOptions {
  settings: Pick<Settings, 'env' | 'token' | 'http'>;
  logger: Logger;
  pin: Pick<PinnedRepo, 'endpoint' | 'type' | 'repoId' | 'rev'>;
  /** The Nix on PATH: whether its own downloads cost a copy more decides `auto` (settings/downloader.ts). */
  nix: NixInfo;
  /** The selected LFS files missing from the store, all public. */
  toDownload: readonly RepoFile[];
  /** A private scratch directory (for Nix's expression files). */
  dir: string;
  sink: RouteSink;
  signal?: AbortSignal;
}

/** At most this many blobs stream into the store at once (as `hf download` runs 8 workers). */
const MAX_STREAMS = 8;
/** How often streamed downloads report progress to the display. */
const PROGRESS_MS = 100;

/** The chosen routes for a set of blobs; `run` fetches them, `dispose` ends what `choose` started. */
export class BlobRoutes {
  private constructor(
    private readonly routes: ((signal: AbortSignal) => Promise<void>)[],
    private readonly worker: StreamWorker | null,
  ) {}

  /** Nothing to fetch first: the snapshot's build fetches the one blob Nix has to. */
  get empty(): boolean {
    return this.routes.length === 0;
  }

  /** Every route, until all have ended (stopped by `signal`); the first failure is thrown. */
  async run(signal: AbortSignal): Promise<void> {
    const results = await Promise.allSettled(this.routes.map((route) => route(signal)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Ends the stream worker, if one was started (it stays idle otherwise). */
  dispose(): void {
    this.worker?.dispose();
  }

  /**
   * The thread that streams blobs, when the downloader is the CLI's own:
   * started before the blobs are known (by a caller that can), so that its
   * start-up overlaps that work; handed to `choose`, or ended with `dispose`.
   */
  static startWorker(opts: Pick<BlobRoutesOptions, 'settings' | 'logger' | 'pin' | 'nix'>): StreamWorker | null {
    const { pin, logger: log, settings } = opts;
    const downloader = downloaderFromEnv(settings.env, { nixCopiesDownloads: copiesFixedOutputs(opts.nix) });
    if (downloader === 'nix') {
      log.debug(`Nix downloads the blobs (NIX_HUG_DOWNLOADER=${settings.env.NIX_HUG_DOWNLOADER || 'auto'}, Nix ${opts.nix.version}, ${availableParallelism()} cores)`);
      return null;
    }
    const env = nixEnv(settings.env);
    return StreamWorker.start({ env, endpoint: pin.endpoint, token: settings.token()?.token ?? null, http: settings.http(), repo: { type: pin.type, repoId: pin.repoId }, progressMs: PROGRESS_MS }, log);
  }

  /**
   * Chooses each blob's route: asks the store and its binary caches; nothing
   * is downloaded yet. `worker`: from `startWorker` (started here if not given).
   */
  static async choose(opts: BlobRoutesOptions, worker: StreamWorker | null = BlobRoutes.startWorker(opts)): Promise<BlobRoutes> {
    try {
      const { routes, streams } = await chooseRoutes(worker, opts);
      // An unused worker ends now (nothing to stream: Nix has every blob).
      if (!streams) worker?.dispose();
      return new BlobRoutes(routes, streams ? worker : null);
    } catch (err) {
      worker?.dispose();
      throw err;
    }
  }
}

/** BlobRoutes.choose's work, with the worker it started (null: NIX_HUG_DOWNLOADER chose Nix). */
async function chooseRoutes(worker: StreamWorker | null, opts: BlobRoutesOptions): Promise<{ routes: ((signal: AbortSignal) => Promise<void>)[]; streams: boolean }> {
  const { pin, logger: log, settings, sink, toDownload } = opts;
  const env = nixEnv(settings.env);
  const candidates = toDownload.map((f) => ({ path: f.path, url: resolveUrl(pin, f.path), lfs: f.lfs! }));
  // The worker opens its store connections, the first of which asks the binary caches; it tells when the store cannot be reached so.
  const readiness = worker
    ? await worker.prepare({ blobs: candidates, parallel: Math.min(MAX_STREAMS, candidates.length), onEvent: (ev) => sink.onEvent(ev), ...(opts.signal ? { signal: opts.signal } : {}) })
    : null;
  if (readiness?.kind === 'unavailable') log.debug(`Nix downloads the blobs: ${readiness.reason}`);
  const inCache = new Set(readiness?.kind === 'ready' ? readiness.substitutable.map((b) => b.lfs.sha256) : []);
  const streamed = readiness?.kind === 'ready' ? toDownload.filter((f) => !inCache.has(f.lfs!.sha256)) : [];
  const forNix = readiness?.kind === 'ready' ? toDownload.filter((f) => inCache.has(f.lfs!.sha256)) : [...toDownload];
  if (readiness?.kind === 'ready' && forNix.length > 0) log.debug(`${forNix.length} blob(s) are in a binary cache: Nix substitutes them`);
  const processes = processCount(forNix.length, availableParallelism());
  const routes: ((signal: AbortSignal) => Promise<void>)[] = [];
  const streams = worker !== null && streamed.length > 0;
  if (worker && streams) {
    log.debug(`streaming ${streamed.length} blob(s) into the Nix store over ${Math.min(MAX_STREAMS, streamed.length)} connection(s) while nix evaluates the snapshot`);
    routes.push((signal) => {
      sink.onWait(`downloading ${streamed.length} LFS file(s) into the Nix store`);
      return worker.stream({
        signal,
        onStart: (b) => sink.transfer(b.lfs.sha256, b.url, { started: true, expected: b.lfs.size }),
        onBytes: (b, bytes) => sink.transfer(b.lfs.sha256, b.url, { done: bytes }),
        onStored: (b) => {
          sink.onStored(b.lfs.sha256);
          sink.transfer(b.lfs.sha256, b.url, { finished: true });
        },
      });
    });
  }
  if (processes > 1) {
    log.debug(`fetching ${forNix.length} blob(s) with ${processes} nix processes while another evaluates the snapshot`);
    routes.push((signal) =>
      buildBlobsInParallel({
        blobs: forNix.map((f) => ({ url: resolveUrl(pin, f.path), sha256: f.lfs!.sha256, size: f.size })),
        processes,
        dir: opts.dir,
        env,
        http: settings.http(),
        onEvent: (ev) => sink.onEvent(ev),
        signal,
      }),
    );
  }
  // One blob for Nix and nothing to stream: the snapshot's build fetches it (no route).
  return { routes, streams };
}
