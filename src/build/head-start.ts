/**
 * A cold fetch's LFS downloads, started as soon as the Hub has listed the
 * files, while the pointer clone behind gitRepoHash still runs: the
 * downloads need the listing, not the clone (on the Hub the clone takes
 * several round trips). The build joins them when it gets there; what the
 * downloads reported before that is kept and handed to it then, so its
 * display, --debug lines and restart hint see every event.
 *
 * Public repos only (the token route downloads after the pin, with the
 * token checked), and only when nothing comes from the local Hugging Face
 * cache; the caller also holds it back where a download would be wasted
 * (a build that cannot find nixpkgs, auto_persist's restore).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NixInfo } from '../nix/nix.js';
import { blobStorePath } from '../nix/store-path.js';
import type { ListedPin } from '../pin/pin.js';
import type { Settings } from '../settings/index.js';
import type { RepoFile } from '../types.js';
import type { Logger } from '../ui/logger.js';
import { planBlobs, type BlobPlan } from './blob-plan.js';
import { BlobRoutes, type RouteSink } from './blob-routes.js';

export interface HeadStartOptions {
  settings: Pick<Settings, 'env' | 'token' | 'http'>;
  logger: Logger;
  /** Whether the downloads may start, once known (e.g. after nixpkgs was found); false: only the plan is made. */
  mayDownload: Promise<boolean>;
  /** The local Hugging Face cache to take blobs from (null: not used). */
  hfCacheDir: string | null;
  /** The Nix on PATH (which route `auto` takes). */
  nix: NixInfo;
  /** The command's interrupt. */
  signal?: AbortSignal;
}

/** The downloads that were started, and their end. */
interface Started {
  blobs: readonly RepoFile[];
  done: Promise<void>;
}

export class BlobHeadStart {
  /** Which selected blobs are missing from the store, and which of those the Hugging Face cache has. */
  readonly plan: Promise<BlobPlan>;
  private readonly stopper = new AbortController();
  private readonly signal: AbortSignal;
  private readonly started: Promise<Started | null>;
  private dir: string | null = null;
  private sink: RouteSink | null = null;
  private readonly held: ((sink: RouteSink) => void)[] = [];

  constructor(listed: ListedPin, opts: HeadStartOptions) {
    this.signal = opts.signal ? AbortSignal.any([opts.signal, this.stopper.signal]) : this.stopper.signal;
    this.plan = planBlobs(listed.selectedLfs, opts.settings.env, opts.hfCacheDir);
    this.plan.catch(() => {}); // the build awaits it and reports its failure
    this.started = this.start(listed, opts).catch((err: unknown) => {
      // Nothing was started, or what was is stopped: the build fetches as usual and meets (and reports) the same problem.
      opts.logger.debug(`the downloads did not start before the clone ended: ${(err as Error).message}`);
      return null;
    });
  }

  private async start(listed: ListedPin, opts: HeadStartOptions): Promise<Started | null> {
    if (listed.info.private || listed.info.gated !== false) return null;
    // When a blob is surely missing (no such path on disk), the download thread starts beside the store query below:
    // its start-up is on the way to the first byte. Not for a re-fetch, which would only pay for it.
    const missing = listed.selectedLfs.some((f) => !existsSync(blobStorePath(f.lfs!.sha256)));
    const worker = missing ? BlobRoutes.startWorker({ settings: opts.settings, logger: opts.logger, pin: listed.pin, nix: opts.nix }) : undefined;
    const [plan, may] = await Promise.all([this.plan, opts.mayDownload]).catch((err: unknown) => {
      worker?.dispose();
      throw err;
    });
    if (!may || plan.inHfCache.length > 0 || plan.toDownload.length === 0 || this.signal.aborted) {
      worker?.dispose();
      return null;
    }
    this.dir = await mkdtemp(join(tmpdir(), 'nix-hug-head-start-')).catch((err: unknown) => {
      worker?.dispose();
      throw err;
    });
    const routes = await BlobRoutes.choose({
      settings: opts.settings,
      logger: opts.logger,
      pin: listed.pin,
      nix: opts.nix,
      toDownload: plan.toDownload,
      dir: this.dir,
      sink: this.relay,
      signal: this.signal,
    }, worker);
    if (routes.empty || this.signal.aborted) {
      routes.dispose();
      return null;
    }
    opts.logger.debug(`started the downloads of ${plan.toDownload.length} blob(s) before the pointer clone is done`);
    const done = routes.run(this.signal).finally(() => routes.dispose());
    done.catch(() => {}); // joined by the build, which reports it; stopped by `stop` otherwise
    return { blobs: plan.toDownload, done };
  }

  /** Reports of the routes: to the build's sink once it joined, held until then. */
  private readonly relay: RouteSink = {
    // Held events keep their time: the durations --debug reports (and the bench's timeline) stay true.
    onEvent: (ev) => {
      const at = performance.now();
      this.pass((sink) => sink.onEvent(ev, at));
    },
    transfer: (key, url, change) => this.pass((sink) => sink.transfer(key, url, change)),
    onStored: (sha256) => this.pass((sink) => sink.onStored(sha256)),
    onWait: (text) => this.pass((sink) => sink.onWait(text)),
  };

  private pass(report: (sink: RouteSink) => void): void {
    if (this.sink) report(this.sink);
    else this.held.push(report);
  }

  /**
   * The downloads started for exactly `toDownload`, reporting to `sink` from
   * now on (what they reported before first): a fetch for prebuildBlobs,
   * whose signal stops them. Null when none were started: fetch as usual.
   */
  async join(toDownload: readonly RepoFile[], sink: RouteSink): Promise<((signal: AbortSignal) => Promise<void>) | null> {
    const started = await this.started;
    if (!started) return null;
    if (!sameBlobs(started.blobs, toDownload)) {
      await this.stop();
      return null;
    }
    this.sink = sink;
    for (const report of this.held.splice(0)) report(sink);
    return async (signal) => {
      const onAbort = () => this.stopper.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      try {
        await started.done;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    };
  }

  /** Stops what still runs and waits for it to end (a nix process stopped midway keeps nothing). */
  async stop(): Promise<void> {
    this.stopper.abort();
    const started = await this.started;
    await started?.done.catch(() => {});
    if (this.dir !== null) await rm(this.dir, { recursive: true, force: true });
  }
}

function sameBlobs(a: readonly RepoFile[], b: readonly RepoFile[]): boolean {
  const shas = (files: readonly RepoFile[]) => [...new Set(files.map((f) => f.lfs!.sha256))].sort().join(' ');
  return shas(a) === shas(b);
}
