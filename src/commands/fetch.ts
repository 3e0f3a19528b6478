/**
 * `nix-hug fetch URL`: pin a repository, build it with the library (unless
 * --no-build), optionally copy it out, and print the expression (or JSON).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { planBlobs } from '../build/blob-plan.js';
import { dryRunPlan, renderDryRun } from '../build/dry-run.js';
import { writeHfCacheSnapshot } from '../hf-cache/write.js';
import { humanSize } from '../ui/size.js';
import { UsageError } from '../errors.js';
import { buildSnapshot, startNixpkgsCheck } from '../build/build.js';
import { interruptible } from '../interrupt.js';
import { checkOutEmpty, copyOut, outRecordConflict, recordConflictError } from '../out-dir.js';
import { selector } from '../filters.js';
import { detectNix } from '../nix/nix.js';
import { checkOutLink, chooseOutLink, showLink } from '../nix/out-link.js';
import { parsePinRequest, pinRepo } from '../pin/pin.js';
import { persistAfterBuild, restoreIfPersisted } from '../persist/auto.js';
import { snapshotKey, type Filters, type PinnedRepo, type RepoType } from '../types.js';
import type { CommandContext } from './context.js';
import type { FetchOptions } from './registry.js';

/**
 * What `--json` prints: the library's arguments as the expression passes
 * them, the store path (null with --no-build) and the expression itself.
 */
export interface FetchJson {
  /** The repository id, under the name the library's `fetchModel { url = "org/name"; … }` gives it. */
  url: string;
  /** The same id, under the name `ls --json` uses. */
  repoId: string;
  /** The Hub the pin was made against (HF_ENDPOINT, normalised). */
  endpoint: string;
  type: RepoType;
  rev: string;
  fileTreeHash: string;
  filters: Filters | null;
  storePath: string | null;
  /** The GC root made for storePath (absolute), or null (--no-link, --out, --no-build). */
  outLink: string | null;
  expression: string;
}

function fetchJson(pin: PinnedRepo, storePath: string | null, outLink: string | null, expression: string): FetchJson {
  return { url: pin.repoId, repoId: pin.repoId, endpoint: pin.endpoint, type: pin.type, rev: pin.rev, fileTreeHash: pin.fileTreeHash, filters: pin.filters, storePath, outLink, expression };
}

/** Where the GC root is (or that there is none), and what an earlier result link no longer holds. */
function reportRoot(ctx: CommandContext, storePath: string, link: string | null, replaced: string | null): void {
  if (link === null) {
    ctx.logger.info('no GC root: garbage collection may delete it (keep it with --out-link PATH, or a copy with nix-hug export)');
    return;
  }
  const shown = showLink(link, ctx.settings.cwd);
  ctx.logger.info(`${shown} -> ${storePath} (GC root: garbage collection keeps it while ${shown} exists)`);
  if (replaced !== null && replaced !== storePath) ctx.logger.warn(`${shown} pointed at ${replaced}; this link no longer keeps that path`);
}

/** The folder `--hf-cache [DIR]` writes to: DIR, or the local HF cache; checked before any request. */
async function hfCacheTarget(ctx: CommandContext, opts: FetchOptions): Promise<string | null> {
  if (opts.hfCache === undefined || opts.hfCache === false) return null;
  if (!opts.build) throw new UsageError('--hf-cache needs a build: it copies the built files', 'drop --no-build, or drop --hf-cache');
  const dir = typeof opts.hfCache === 'string' ? resolve(ctx.settings.cwd, opts.hfCache) : ctx.settings.hfCache().dir;
  if (dir === '/nix/store' || dir.startsWith('/nix/store/')) throw new UsageError(`--hf-cache ${dir}: a Hugging Face cache cannot be inside the Nix store`, 'give a writable folder, or no folder for the local cache');
  const st = await stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new UsageError(`--hf-cache ${dir} is not a folder`, 'give a folder (it is created when missing)');
  return dir;
}

export async function run(ctx: CommandContext, url: string, opts: FetchOptions): Promise<void> {
  // Input errors before any request.
  if (opts.out !== undefined) {
    if (!opts.build) throw new UsageError('--out needs a build: it copies the built store path', 'drop --no-build, or drop --out');
    await checkOutEmpty(opts.out, opts.override, ctx.settings.home);
  }
  const hfCacheDir = await hfCacheTarget(ctx, opts);
  const outLink = chooseOutLink({ outLink: opts.outLink, link: opts.link, build: opts.build && !opts.dryRun, out: opts.out }, ctx.settings.cwd);
  const replaced = outLink !== null ? await checkOutLink(outLink, ctx.settings.cwd) : null;
  // No point asking the Hub for anything when the build cannot run (a dry run asks the store too).
  const nix = opts.build || opts.dryRun ? await detectNix(ctx.settings.env) : undefined;
  const useHfCache = opts.hfCache !== false;
  const { settings } = ctx;
  await interruptible(`asking the Hub about ${url}`, async ({ signal, step }) => {
    if (opts.dryRun) {
      const pinned = await pinRepo(ctx.hub(), parsePinRequest(url, opts, settings.endpoint()), settings.endpoint(), ctx.logger);
      const { pin } = pinned;
      step(`looking into the Nix store for ${pin.type} ${pin.repoId}`);
      const plan = await planBlobs(pinned.selectedLfs, settings.env, useHfCache ? settings.hfCache().dir : null);
      const report = dryRunPlan({ repoId: pin.repoId, type: pin.type, rev: pin.rev }, pinned.files.filter(selector(pin.filters)), plan, pinned.expression);
      step(`printing the plan for ${pin.type} ${pin.repoId}`);
      await ctx.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : renderDryRun(report));
      return;
    }
    const nixpkgs = opts.build ? startNixpkgsCheck(settings, signal) : undefined;
    const request = parsePinRequest(url, opts, settings.endpoint()); // usage errors before the client is made
    const pinned = await pinRepo(ctx.hub(), request, settings.endpoint(), ctx.logger);
    const { pin } = pinned;
    const what = `${pin.type} ${pin.repoId}`;
    if (opts.out !== undefined && outRecordConflict(pinned.files.filter(selector(pin.filters)).map((f) => f.path))) {
      throw recordConflictError(what); // before any download
    }
    let storePath: string | null = null;
    if (opts.build) {
      step('looking for nixpkgs');
      await nixpkgs;
      // auto_persist: bring a collected snapshot back from the persist store first (the build is then a no-op).
      step(`restoring ${what} from the persist store`);
      const key = snapshotKey(pin);
      const io = { settings, log: ctx.logger, signal };
      await restoreIfPersisted(io, key);
      step(`building ${what}`);
      storePath = await buildSnapshot(ctx, pinned, {
        quiet: opts.quiet,
        signal,
        hfCache: useHfCache,
        ...(nix ? { nix } : {}),
        ...(nixpkgs ? { nixpkgs } : {}),
        ...(outLink !== null ? { outLink } : {}),
      });
      ctx.logger.info(`built ${storePath}`);
      reportRoot(ctx, storePath, outLink, replaced);
      step(`persisting ${what}`);
      await persistAfterBuild(io, key, storePath, { fileTreeHash: pin.fileTreeHash, endpoint: pin.endpoint });
      if (opts.out !== undefined) {
        step(`copying to ${opts.out}`);
        const dir = await copyOut({
          storePath,
          dir: opts.out,
          override: opts.override,
          home: settings.home,
          signal,
          metadata: { ...key, storePath, exportedAt: new Date().toISOString() },
        });
        ctx.logger.info(`copied to ${dir}`);
      }
      if (hfCacheDir !== null) {
        step(`writing ${what} to the Hugging Face cache ${hfCacheDir}`);
        const files = pinned.files.filter(selector(pin.filters)).map((file) => ({ file, source: join(storePath!, file.path) }));
        const written = await writeHfCacheSnapshot({ dir: hfCacheDir, repo: { type: pin.type, repoId: pin.repoId }, rev: pin.rev, ref: pinned.ref, files });
        ctx.logger.info(
          `wrote ${pin.type} ${pin.repoId} at ${pin.rev.slice(0, 12)} to the Hugging Face cache ${written.repoDir}: ` +
            `${written.written} blob(s) copied (${humanSize(written.writtenBytes)}), ${written.reused} already there (${humanSize(written.reusedBytes)})`,
        );
      }
    }
    step(`printing the result for ${what}`); // an interrupted fetch prints no result
    if (opts.json) {
      await ctx.stdout.write(JSON.stringify(fetchJson(pin, storePath, storePath !== null ? outLink : null, pinned.expression), null, 2) + '\n');
    } else {
      await ctx.stdout.write(pinned.expression + '\n');
    }
  });
}
