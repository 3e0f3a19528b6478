/**
 * The second stage: a pinned repository through `nix build` with the
 * library, to a store path. Predicts which LFS blobs are missing from the
 * store, downloads them itself when the repo needs a token (Nix would send
 * none), fetches public blobs with one nix per core, then builds the
 * snapshot with a download display, and names the file when a build fails.
 */
import { importCachedBlobs } from '../hf-cache/import-blobs.js';
import { repoPath } from '../hub/repo-type.js';
import { quote } from '../ui/text.js';
import { planBlobs } from './blob-plan.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError, NixHugError } from '../errors.js';
import type { HubClient } from '../hub/client.js';
import { buildFile } from '../nix/library.js';
import { gitAuthEnv } from '../git/run-git.js';
import { detectNix, nixBuild, NixBuildError, nixEnv, type BuildTarget, type NixInfo, type NixLogEvent } from '../nix/nix.js';
import { checkNixpkgsOf, NIXPKGS_WAIT } from '../nix/nixpkgs.js';
import { blobName } from '../nix/store-path.js';
import { invalidPaths } from '../nix/validity.js';
import { tokenNeeded, type PinnedFetch } from '../pin/pin.js';
import type { Settings } from '../settings/index.js';
import type { RepoFile } from '../types.js';
import { DownloadProgress } from './download-progress.js';
import { waiting, type Logger } from '../ui/logger.js';
import { humanSize } from '../ui/size.js';
import { addCheckoutToStore } from './add-checkout.js';
import { addOutLink, lookUpBuild, recordBuild } from './built-record.js';
import { explainBuildFailure } from './build-failure.js';
import { NixActivities, NixWaitStatus } from './nix-activity.js';
import { prebuildBlobs, type Instantiated } from './parallel-blobs.js';
import { BlobRoutes, type RouteSink } from './blob-routes.js';
import type { BlobHeadStart } from './head-start.js';
import { partialDownloads, prefetchBlobs } from './prefetch-blobs.js';
import { resolveUrl } from './resolve-url.js';

/** What a build needs from around it (a command's context is one). */
export interface BuildContext {
  settings: Pick<Settings, 'env' | 'token' | 'http' | 'libDir' | 'nixpkgs' | 'hfCache' | 'cacheDir'>;
  /** The Hub client (made on first use): authenticated GETs with its retries, for the token route. */
  hub(): Pick<HubClient, 'get'>;
  logger: Logger;
  /** Where the download display goes. */
  stderr: NodeJS.WriteStream;
}

export interface BuildOptions {
  quiet: boolean;
  signal?: AbortSignal;
  /** From `detectNix`, when the caller checked Nix before talking to the Hub. */
  nix?: NixInfo;
  /** From `startNixpkgsCheck`, when the caller started it while the Hub was asked; else checked here. */
  nixpkgs?: Promise<void>;
  /** Take LFS files the local Hugging Face cache already holds (default true; false with --no-hf-cache). */
  hfCache?: boolean;
  /** A symlink to the result that keeps it from garbage collection (see nix/out-link.ts). */
  outLink?: string;
  /** The blob plan and downloads begun when the files were listed (head-start.ts); stopped by its starter. */
  headStart?: BlobHeadStart;
}

/** Builds the pinned expression; returns the snapshot's store path. */
export async function buildSnapshot(ctx: BuildContext, pinned: PinnedFetch, opts: BuildOptions): Promise<string> {
  const { pin, info } = pinned;
  const what = `${pin.type} ${pin.repoId}`;
  const { env } = ctx.settings;
  const nix = opts.nix ?? (await detectNix(env));
  ctx.logger.debug(`using Nix ${nix.version}${nix.isLix ? ' (Lix)' : ''}`);
  // Nothing is downloaded until the build is known to find nixpkgs.
  await waiting(ctx.logger, NIXPKGS_WAIT, opts.nixpkgs ?? checkNixpkgsOf(ctx.settings, opts.signal));

  const needsToken = info.private || info.gated !== false;
  // A build of exactly these inputs recorded earlier, its store path still valid (built-record.ts): no evaluation,
  // no build. Its LFS blobs are its references, so valid too. Without a token a gated repo stays refused below.
  const { cacheDir, nixpkgs } = ctx.settings;
  const record = await lookUpBuild(() => ({ file: buildFile({ libDir: ctx.settings.libDir(), nixpkgs }, pinned.expression), libDir: ctx.settings.libDir(), nixpkgs, nix, env }), cacheDir, ctx.logger);
  if (record.valid !== null && (!needsToken || ctx.settings.token()?.token) && (opts.outLink === undefined || (await addOutLink(record.valid, opts.outLink, env)))) {
    ctx.logger.info(selectionLine(pinned, pinned.selectedLfs, [], []));
    ctx.logger.debug(`no nix build: ${record.valid} is valid and recorded for this build file, library, nixpkgs and Nix`);
    return record.valid;
  }

  // The checkout the library would clone at build time: from our own clone, so no second clone (nor token) is
  // needed. Added while the store is asked and the blobs download (they do not need it); the snapshot's
  // build waits for it.
  const checkoutAdded = addCheckoutToStore(pin, pinned.checkout, nixEnv(env), cacheDir, ctx.logger, opts.signal);
  checkoutAdded.catch(() => {}); // awaited below: never an unhandled rejection
  try {
    const plan = await (opts.headStart?.plan ?? planBlobs(pinned.selectedLfs, env, opts.hfCache === false ? null : ctx.settings.hfCache().dir));
    const toDownload = [...plan.toDownload];
    if (plan.inHfCache.length > 0) {
      // Verified by sha256 as Nix adds them; a cache file with other bytes is downloaded instead.
      const outcome = await importCachedBlobs(plan.inHfCache, nixEnv(env), opts.signal);
      if (opts.signal?.aborted) throw new InterruptedError(`taking files from the Hugging Face cache for ${what}`);
      for (const { blob, why } of outcome.refused) {
        ctx.logger.warn(`${quote(blob.path)} in the Hugging Face cache (${blob.file}) was not taken: ${why}; downloading it`);
        toDownload.push(pinned.selectedLfs.find((f) => f.path === blob.path)!);
      }
      plan.inHfCache = outcome.imported;
    }
    ctx.logger.info(selectionLine(pinned, plan.inStore, plan.inHfCache.map((b) => b.lfs.size), toDownload));
    const buildEnv = needsToken ? await downloadWithToken(ctx, pinned, toDownload, opts.signal) : env;
    // A build whose evaluation printed a trace (a warning of the library) is not recorded: the warning is shown every time.
    let traced = false;
    const out = await runBuild(ctx, pinned, { missing: toDownload, nixDownloads: !needsToken, env: buildEnv, checkoutAdded, onTrace: () => (traced = true), nix }, opts);
    if (record.key !== null && !traced) await recordBuild(cacheDir, record.key, out, ctx.logger);
    return out;
  } finally {
    // A failed download does not leave the checkout's nix-store running behind the error.
    await checkoutAdded.catch(() => {});
  }
}

interface BuildPlan {
  /** The selected blobs that were not in the store. */
  missing: RepoFile[];
  /** Nix downloads them (public repos); on the token route they are in the store already. */
  nixDownloads: boolean;
  /** The environment of the build (git's token, on the token route). */
  env: NodeJS.ProcessEnv;
  /** The pin's checkout being added to the store: the snapshot's build waits for it, the blobs do not. */
  checkoutAdded: Promise<void>;
  /** Told of each `trace:` line of the evaluation. */
  onTrace: () => void;
  /** The Nix that builds (how to name an instantiated derivation to it). */
  nix: NixInfo;
}

/**
 * `nix build` of the expression with the library, with a display of the
 * downloads Nix makes. Several blobs are fetched first with one nix per
 * core; a failure names the file, not the .drv.
 */
async function runBuild(ctx: BuildContext, pinned: PinnedFetch, plan: BuildPlan, opts: BuildOptions): Promise<string> {
  const { pin } = pinned;
  const toDownload = plan.nixDownloads ? plan.missing : [];
  const buildEnv = plan.env;
  const what = `${pin.type} ${pin.repoId}`;
  const dir = await mkdtemp(join(tmpdir(), 'nix-hug-build-'));
  const progress = new DownloadProgress({
    files: toDownload.length,
    bytes: toDownload.reduce((n, f) => n + f.size, 0),
    stream: ctx.stderr,
    mode: opts.quiet ? 'quiet' : ctx.stderr.isTTY ? 'bar' : 'lines',
    formatBytes: humanSize,
    onOutput: () => ctx.logger.touch(),
  });
  const signal = opts.signal ? { signal: opts.signal } : {};
  // Which blobs Nix finished (until a signal: what it stops is not finished), and with --debug each
  // download, blob registration and build as Nix reports it, with its duration.
  const activities = new NixActivities(ctx.logger.debugEnabled ? (line) => ctx.logger.debug(line) : null);
  // Nix says nothing while it evaluates, asks binary caches or assembles: nix-hug says it for it.
  const status = new NixWaitStatus('evaluating the expression (fetchGit of the repository)');
  const wait = ctx.logger.waitFor(`waiting for Nix: ${status.current()}`);
  const onEvent = (ev: NixLogEvent, at?: number) => {
    progress.onEvent(ev);
    if (!opts.signal?.aborted) activities.onEvent(ev, at);
    const now = status.onEvent(ev);
    if (now !== null) wait.update(`waiting for Nix: ${now}`);
  };
  try {
    const file = join(dir, 'build.nix');
    await writeFile(file, buildFile({ libDir: ctx.settings.libDir(), nixpkgs: ctx.settings.nixpkgs }, pinned.expression));
    progress.start();
    const stored = new Set<string>();
    const build = async () => {
      // The snapshot's derivation when another nix evaluated it beside the downloads: built without evaluating again.
      let evaluated: Instantiated | null = null;
      if (toDownload.length > 0) {
        evaluated = await fetchBlobsFirst(ctx, pinned, toDownload, {
          file,
          evalEnv: nixEnv(buildEnv),
          dir,
          sink: {
            onEvent,
            transfer: (key, url, change) => progress.transfer(key, url, change),
            onStored: (sha256) => stored.add(sha256),
            onWait: (text) => wait.update(text),
          },
          ...(opts.headStart ? { headStart: opts.headStart } : {}),
          nix: plan.nix,
          ...signal,
        });
      }
      await plan.checkoutAdded;
      ctx.logger.debug('building the snapshot');
      const onTrace = (line: string) => {
        plan.onTrace();
        ctx.logger.warn(line.replace(/^trace:\s*/, ''));
      };
      const buildOf = (target: BuildTarget) =>
        nixBuild({
          target,
          env: nixEnv(buildEnv),
          // One fixed-output download per LFS file: I/O-bound, so more jobs than cores.
          maxJobs: Math.max(2, Math.min(16, plan.missing.length)),
          http: ctx.settings.http(),
          onEvent,
          onTrace,
          ...(opts.outLink !== undefined ? { outLink: opts.outLink } : {}),
          ...signal,
        });
      if (evaluated === null) return buildOf({ file });
      const { drvPath, traces } = evaluated;
      traces.forEach(onTrace);
      ctx.logger.debug(`the snapshot is ${drvPath}, evaluated while the blobs downloaded`);
      return buildOf({ drv: drvPath, nix: plan.nix }).catch(async (err: unknown) => {
        // A garbage collection since that evaluation may have taken the .drv (nothing roots it): evaluate again.
        if (err instanceof NixBuildError && !opts.signal?.aborted && (await invalidPaths([drvPath], nixEnv(buildEnv))).size > 0) {
          ctx.logger.debug(`${drvPath} is gone: building the snapshot from its file`);
          return buildOf({ file });
        }
        throw err;
      });
    };
    const result = await build().catch((err: unknown) => {
      if (opts.signal?.aborted) throw new InterruptedError(`building ${what}`, restartHint(toDownload, (sha256) => stored.has(sha256) || [...activities.built].some((drv) => drv.endsWith(`-${blobName(sha256)}.drv`))));
      // Nix names hf-blob-<sha256>.drv and says why in its builder's log: name the file instead.
      throw err instanceof NixBuildError ? explainBuildFailure(err, what, pinned.files) : err;
    });
    const out = result.outPaths[0];
    if (!out) throw new NixHugError(`nix build of ${what} produced no store path`, 'run again with --debug and report the output');
    return out;
  } finally {
    wait.done();
    progress.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What the next run does after an interrupted build: every blob that was
 * finished (`finished(sha256)`) is kept, but a download that was stopped
 * midway starts again from its first byte (neither Nix nor the CLI keeps
 * the part of a public file it received), so say which and how much.
 */
export function restartHint(toDownload: readonly RepoFile[], finished: (sha256: string) => boolean): string {
  if (toDownload.length === 0) return 'run the command again to continue';
  const left = toDownload.filter((f) => !finished(f.lfs!.sha256));
  if (left.length === 0) return 'run the command again to continue: every LFS file is in the Nix store already';
  const kept = toDownload.length - left.length;
  const size = humanSize(left.reduce((n, f) => n + f.size, 0));
  return (
    `run the command again to continue: ${kept > 0 ? `the ${kept} LFS file(s) finished are kept; ` : ''}` +
    `the ${left.length} not finished (${size}) are downloaded again from their first byte, because a download stopped midway is not kept`
  );
}

/** `model org/name at 0123456789ab: 3 LFS file(s) selected: …` (see describeSources). */
function selectionLine(pinned: PinnedFetch, inStore: readonly RepoFile[], fromHfCache: readonly number[], toDownload: readonly RepoFile[]): string {
  const { pin } = pinned;
  const lfsCount = pinned.files.filter((f) => f.lfs !== null).length;
  return (
    `${pin.type} ${pin.repoId} at ${pin.rev.slice(0, 12)}: ` +
    (pinned.selectedLfs.length === 0
      ? lfsCount === 0
        ? 'no LFS files in the repository'
        : `none of its ${lfsCount} LFS file(s) selected`
      : `${pinned.selectedLfs.length} LFS file(s) selected: ${describeSources(inStore, fromHfCache, toDownload)}`)
  );
}

/** `2 already in the Nix store (1.2 GB), 1 from the local Hugging Face cache (4.0 GB), 3 to download (9.1 GB)`. */
export function describeSources(inStore: readonly RepoFile[], fromHfCache: readonly number[], toDownload: readonly RepoFile[]): string {
  const sum = (sizes: readonly number[]) => humanSize(sizes.reduce((n, s) => n + s, 0));
  if (fromHfCache.length === 0 && toDownload.length === 0) return 'all already in the Nix store';
  const parts: string[] = [];
  if (inStore.length) parts.push(`${inStore.length} already in the Nix store (${sum(inStore.map((f) => f.size))})`);
  if (fromHfCache.length) parts.push(`${fromHfCache.length} from the local Hugging Face cache (${sum(fromHfCache)})`);
  if (toDownload.length) parts.push(`${toDownload.length} to download (${sum(toDownload.map((f) => f.size))})`);
  if (!toDownload.length) parts.push('nothing to download');
  return parts.join(', ');
}

interface BlobsFirstOptions {
  /** The snapshot's build file, evaluated meanwhile. */
  file: string;
  evalEnv: NodeJS.ProcessEnv;
  /** Scratch directory of the build (for Nix's expression files). */
  dir: string;
  /** Where the downloads report. */
  sink: RouteSink;
  /** The downloads, when they were started before the pin was complete (head-start.ts). */
  headStart?: BlobHeadStart;
  /** The Nix on PATH (which route `auto` takes). */
  nix: NixInfo;
  signal?: AbortSignal;
}

/**
 * The missing public blobs, before the snapshot's build and while another
 * nix evaluates it, each by its route (blob-routes.ts): the downloads the
 * head start began, else routes chosen now. Returns the evaluated snapshot
 * (null: build it from its file).
 */
async function fetchBlobsFirst(ctx: BuildContext, pinned: PinnedFetch, toDownload: readonly RepoFile[], opts: BlobsFirstOptions): Promise<Instantiated | null> {
  const log = ctx.logger;
  const prebuild = async (fetch: (signal: AbortSignal) => Promise<void>) => {
    log.debug('evaluating the snapshot beside the downloads');
    const evaluated = await prebuildBlobs({
      fetch,
      file: opts.file,
      evalEnv: opts.evalEnv,
      onEvaluated: () => log.debug('evaluated the snapshot'),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    log.debug('fetched the blobs');
    return evaluated;
  };
  const joined = await opts.headStart?.join(toDownload, opts.sink);
  if (joined) return prebuild(joined);
  const routes = await BlobRoutes.choose({ settings: ctx.settings, logger: log, pin: pinned.pin, nix: opts.nix, toDownload, dir: opts.dir, sink: opts.sink, ...(opts.signal ? { signal: opts.signal } : {}) });
  try {
    return routes.empty ? null : await prebuild((signal) => routes.run(signal));
  } finally {
    routes.dispose();
  }
}

/**
 * The token route (private and gated repos): downloads the missing blobs
 * with the token, verified, into the store paths the library predicts, and
 * returns the environment git gets the token in for this run only
 * (`gitAuthEnv`: never a file or argv, and only for the endpoint).
 */
async function downloadWithToken(ctx: BuildContext, pinned: PinnedFetch, toDownload: RepoFile[], signal?: AbortSignal): Promise<NodeJS.ProcessEnv> {
  const { pin, info } = pinned;
  const what = `${pin.type} ${pin.repoId}`;
  const token = ctx.settings.token()?.token;
  if (!token) throw tokenNeeded(info, pin.endpoint, pin);
  const { env } = ctx.settings;
  const bytes = humanSize(toDownload.reduce((n, f) => n + f.size, 0));
  const tokenWait = ctx.logger.waitFor(`downloading ${toDownload.length} LFS file(s) (${bytes}) with your token`);
  await prefetchBlobs({
    blobs: toDownload.map((f) => ({ path: f.path, url: resolveUrl(pin, f.path), lfs: f.lfs! })),
    get: (url, request) => ctx.hub().get(url, { ...request, context: { what: `downloading a file`, repo: { type: pin.type, repoId: pin.repoId } } }),
    env: nixEnv(env),
    http: ctx.settings.http(),
    repoId: pin.repoId,
    partialDir: partialDownloads(ctx.settings.cacheDir),
    ...(signal ? { signal } : {}),
    onFileDone: (b) => ctx.logger.info(`  downloaded ${b.path} (${humanSize(b.lfs.size)})`),
    onResume: (b, bytes) => ctx.logger.info(`  resuming ${b.path} at ${humanSize(bytes)} of ${humanSize(b.lfs.size)} (received by an earlier run)`),
  })
    .catch((err: unknown) => {
      if (signal?.aborted) throw new InterruptedError(`downloading ${what}`, 'run the command again: each file not finished resumes where it stopped');
      throw err;
    })
    .finally(() => tokenWait.done());
  return gitAuthEnv(env, pin.endpoint, token);
}
