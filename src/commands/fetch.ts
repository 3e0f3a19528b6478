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
import { NIXPKGS_WAIT, startNixpkgsCheck } from '../nix/nixpkgs.js';
import { interruptible, type Steps } from '../interrupt.js';
import { checkOutEmpty, copyOut, outRecordConflict, recordConflictError } from '../out-dir.js';
import { selector } from '../filters.js';
import { renderFetchExpression } from '../nix/expr.js';
import { nixPath } from '../nix/library.js';
import { detectNix, type NixInfo } from '../nix/nix.js';
import { smudgeNote } from '../nix/lfs-smudge.js';
import { checkOutLink, chooseOutLink, showLink } from '../nix/out-link.js';
import { INLINE_MANIFEST_MAX_LINES, parsePinRequest, pinRepo, type ListedPin, type PinnedFetch } from '../pin/pin.js';
import type { BlobHeadStart } from '../build/head-start.js';
import { buildWithAutoPersist } from '../persist/auto.js';
import { snapshotKey, type Filters, type PinnedRepo, type RepoFile, type RepoType } from '../types.js';
import { checkVendorDir, vendorManifest } from '../vendor-manifest.js';
import { waiting } from '../ui/logger.js';
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
  /** NAR hash of the checkout at `rev` (LFS pointers, no `.git`). */
  gitRepoHash: string | null;
  /** The canonical manifest text (what `fileTreeHash` hashes). */
  manifest: string;
  /** With --vendor: the absolute path of the manifest file written; else null. */
  manifestFile: string | null;
  filters: Filters | null;
  storePath: string | null;
  /** The GC root made for storePath (absolute), or null (--no-link, --out, --no-build). */
  outLink: string | null;
  expression: string;
}

function fetchJson(pinned: PinnedFetch, manifestFile: string | null, storePath: string | null, outLink: string | null, expression: string): FetchJson {
  const { pin } = pinned;
  return {
    url: pin.repoId,
    repoId: pin.repoId,
    endpoint: pin.endpoint,
    type: pin.type,
    rev: pin.rev,
    fileTreeHash: pin.fileTreeHash,
    gitRepoHash: pin.gitRepoHash,
    manifest: pinned.manifestText,
    manifestFile,
    filters: pin.filters,
    storePath,
    outLink,
    expression,
  };
}

/**
 * With --vendor: writes the manifest file and returns the expression to
 * print (a path relative to the current folder) and the one to build (the
 * same file by its absolute path: the same derivation).
 */
async function vendored(ctx: CommandContext, pinned: PinnedFetch, dir: string) {
  const { pin } = pinned;
  const v = await vendorManifest({ dir, cwd: ctx.settings.cwd, repo: pin, rev: pin.rev, text: pinned.manifestText });
  if (v.replaced) ctx.logger.warn(`replaced ${v.file}, which held another text (edited by hand?)`);
  else if (!v.unchanged) ctx.logger.info(`wrote the manifest to ${v.file}`);
  return {
    file: v.file,
    printed: renderFetchExpression(pin, { kind: 'file', nix: v.nixPath }),
    built: renderFetchExpression(pin, { kind: 'file', nix: nixPath(v.file) }),
  };
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
  if (opts.vendor !== undefined) await checkVendorDir(opts.vendor, ctx.settings.cwd);
  if (opts.out !== undefined) {
    if (!opts.build) throw new UsageError('--out needs a build: it copies the built store path', 'drop --no-build, or drop --out');
    await checkOutEmpty(opts.out, opts.override, ctx.settings.home);
  }
  const hfCacheDir = await hfCacheTarget(ctx, opts);
  const outLink = chooseOutLink({ outLink: opts.outLink, link: opts.link, build: opts.build && !opts.dryRun, out: opts.out }, ctx.settings.cwd);
  const replaced = outLink !== null ? await checkOutLink(outLink, ctx.settings.cwd) : null;
  // While `nix --version` runs beside the Hub's first answers, Node loads the build's modules.
  const building = opts.build && !opts.dryRun ? loadBuild() : undefined;
  const nixFound = opts.build || opts.dryRun ? detectNix(ctx.settings.env) : undefined;
  nixFound?.catch(() => {}); // handled in the command, below
  const { settings } = ctx;
  await interruptible(`asking the Hub about ${url}`, async ({ signal, step, fail }) => {
    // No Nix (or too old a one): the command ends with that at once, its requests stopped (a silent Hub waits for nothing).
    nixFound?.catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
    const nixpkgs = building ? startNixpkgsCheck(settings, signal) : undefined;
    const request = parsePinRequest(url, opts, settings.endpoint()); // usage errors before the client is made
    let headStart: Promise<BlobHeadStart | undefined> | undefined;
    const onListed =
      building && nixpkgs && nixFound
        ? (listed: ListedPin) =>
            void (headStart = Promise.all([building, nixFound]).then(
              ([b, nix]) => startDownloadsEarly(b.BlobHeadStart, ctx, listed, opts, { nix, nixpkgs, signal }),
              () => undefined, // each failure is reported where it is awaited
            ))
        : undefined;
    try {
      const pinned = await pinRepo(ctx.hub(), request, settings, ctx.logger, signal, onListed);
      try {
        const nix = await nixFound;
        if (opts.dryRun) await dryRun(ctx, pinned, opts, step);
        else await fetchPinned(ctx, pinned, opts, { modules: await building, nix, nixpkgs, hfCacheDir, outLink, replaced, headStart: await headStart, signal, step });
      } finally {
        await pinned.checkout.dispose();
      }
    } finally {
      // Whatever ended the command (the clone failing too), no download it began runs on.
      await (await headStart)?.stop();
    }
  });
}

/**
 * The build's modules (a third of the fetch handler's loading time), loaded
 * while `nix --version` runs and the Hub answers instead of after them.
 */
function loadBuild() {
  const loading = Promise.all([import('../build/build.js'), import('../build/head-start.js')]).then(([b, h]) => ({ buildSnapshot: b.buildSnapshot, BlobHeadStart: h.BlobHeadStart }));
  loading.catch(() => {}); // awaited where it is needed, which reports a failure
  return loading;
}

type BuildModules = Awaited<ReturnType<typeof loadBuild>>;

/** --out's record file would collide with a selected file (fetchPinned refuses it, before any download). */
function outRefuses(opts: FetchOptions, files: readonly RepoFile[], filters: PinnedRepo['filters']): boolean {
  return opts.out !== undefined && outRecordConflict(files.filter(selector(filters)).map((f) => f.path)) !== null;
}

/**
 * The LFS downloads begun as soon as the files are listed (head-start.ts),
 * unless they could be wasted: not before nixpkgs is found, not with
 * auto_persist (its restore may bring the snapshot back), not when --out
 * refuses the selection (fetchPinned says why).
 */
function startDownloadsEarly(
  HeadStart: typeof BlobHeadStart,
  ctx: CommandContext,
  listed: ListedPin,
  opts: FetchOptions,
  { nix, nixpkgs, signal }: { nix: NixInfo; nixpkgs: Promise<void>; signal: AbortSignal },
): BlobHeadStart | undefined {
  const { settings } = ctx;
  if (outRefuses(opts, listed.files, listed.pin.filters)) return undefined;
  const mayDownload = Promise.all([nixpkgs, settings.persist()]).then(
    ([, persist]) => !persist.autoPersist,
    () => false, // the build reports it
  );
  return new HeadStart(listed, {
    settings,
    logger: ctx.logger,
    mayDownload,
    hfCacheDir: opts.hfCache !== false ? settings.hfCache().dir : null,
    nix,
    signal,
  });
}

/** --dry-run: what would come from where; nothing is changed (not even the remembered gitRepoHash). */
async function dryRun(ctx: CommandContext, pinned: PinnedFetch, opts: FetchOptions, step: Steps['step']): Promise<void> {
  const { settings } = ctx;
  const { pin } = pinned;
  step(`looking into the Nix store for ${pin.type} ${pin.repoId}`);
  const plan = await planBlobs(pinned.selectedLfs, settings.env, opts.hfCache !== false ? settings.hfCache().dir : null);
  const report = dryRunPlan({ repoId: pin.repoId, type: pin.type, rev: pin.rev }, pinned.files.filter(selector(pin.filters)), plan, pinned.expression);
  step(`printing the plan for ${pin.type} ${pin.repoId}`);
  await ctx.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : renderDryRun(report));
}

interface BuildTools {
  /** The build's modules (loaded since the command began), or undefined with --no-build. */
  modules: BuildModules | undefined;
  nix: NixInfo | undefined;
  /** The check that nixpkgs can be found, started before talking to the Hub. */
  nixpkgs: Promise<void> | undefined;
  /** Where --hf-cache writes, or null. */
  hfCacheDir: string | null;
  /** The GC root to make (absolute), or null; and the store path a link there held before. */
  outLink: string | null;
  replaced: string | null;
  /** The downloads begun when the files were listed. */
  headStart: BlobHeadStart | undefined;
  signal: AbortSignal;
  /** Names the next step for the "interrupted while …" message. */
  step: Steps['step'];
}

async function fetchPinned(ctx: CommandContext, pinned: PinnedFetch, opts: FetchOptions, { modules, nix, nixpkgs, hfCacheDir, outLink, replaced, headStart, signal, step }: BuildTools): Promise<void> {
  const { settings } = ctx;
  const { pin } = pinned;
  const what = `${pin.type} ${pin.repoId}`;
  if (outRefuses(opts, pinned.files, pin.filters)) {
    throw recordConflictError(what); // before any download
  }
  const vendor = opts.vendor === undefined ? null : await vendored(ctx, pinned, opts.vendor);
  if (!vendor && pinned.files.length > INLINE_MANIFEST_MAX_LINES) {
    ctx.logger.info(
      `the manifest has ${pinned.files.length} lines, too many to print inline: evaluating this expression clones the git repository (add --vendor DIR for evaluation without network)`,
    );
    // That clone is builtins.fetchGit: on older Nix it runs the git-lfs filter of the user's git config.
    const note = await smudgeNote(settings.env, nix ?? (await detectNix(settings.env).catch(() => null)));
    if (note !== null) ctx.logger.info(`note: ${note}`);
  }
  const expression = vendor ? vendor.printed : pinned.expression;
  let storePath: string | null = null;
  if (modules) {
    const { buildSnapshot } = modules;
    step('looking for nixpkgs');
    await waiting(ctx.logger, NIXPKGS_WAIT, nixpkgs ?? Promise.resolve());
    // auto_persist: bring a collected snapshot back from the persist store first (the build is then a no-op).
    const key = snapshotKey(pin);
    const toBuild = vendor ? { ...pinned, expression: vendor.built } : pinned;
    const build = async () => {
      const built = await buildSnapshot(ctx, toBuild, {
        quiet: opts.quiet,
        signal,
        hfCache: opts.hfCache !== false,
        ...(nix ? { nix } : {}),
        ...(nixpkgs ? { nixpkgs } : {}),
        ...(outLink !== null ? { outLink } : {}),
        ...(headStart ? { headStart } : {}),
      });
      ctx.logger.info(`built ${built}`);
      reportRoot(ctx, built, outLink, replaced);
      return built;
    };
    storePath = await buildWithAutoPersist({ settings, log: ctx.logger, signal }, key, { fileTreeHash: pin.fileTreeHash, endpoint: pin.endpoint }, build, step);
    if (opts.out !== undefined) {
      step(`copying to ${opts.out}`);
      const dir = await waiting(
        ctx.logger,
        `copying the snapshot to ${opts.out}`,
        copyOut({
          storePath,
          dir: opts.out,
          override: opts.override,
          home: settings.home,
          signal,
          metadata: { ...key, storePath, exportedAt: new Date().toISOString() },
        }),
      );
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
    await ctx.stdout.write(JSON.stringify(fetchJson(pinned, vendor?.file ?? null, storePath, storePath !== null ? outLink : null, expression), null, 2) + '\n');
  } else {
    await ctx.stdout.write(expression + '\n');
  }
  await pinned.checkout.remember();
}
