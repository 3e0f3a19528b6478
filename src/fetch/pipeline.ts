/**
 * The two halves of `fetch`, shared with `export`: **pin** (URL → commit →
 * file list → fileTreeHash → expression; only Hub API requests) and **build**
 * (the expression through `nix build` with the library → a store path).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError, NixHugError } from '../errors.js';
import { buildFilters, missingFiles, selector } from '../filters.js';
import { findToken } from '../hub/auth.js';
import { httpSettingsFromEnv, type RepoInfo } from '../hub/client.js';
import { parseTarget, resolveTarget } from '../hub/resolve.js';
import { listRepoFiles } from '../hub/tree.js';
import { fileTreeHash } from '../canonical-manifest.js';
import { renderFetchExpression } from '../nix/expr.js';
import { buildFile } from '../nix/library.js';
import { capture, detectNix, nixBuild, NixBuildError, nixEnv, withGitConfig, type DownloadLimits, type NixInfo } from '../nix/nix.js';
import { checkNixpkgs } from '../nix/nixpkgs.js';
import { blobStorePath } from '../nix/store-path.js';
import type { PinnedRepo, RepoFile } from '../types.js';
import { DownloadProgress } from '../ui/download-progress.js';
import { humanSize } from '../ui/size.js';
import { quote } from '../ui/text.js';
import type { CommandContext, FilterOptions } from '../commands/context.js';
import { prebuildBlobs, processCount } from './parallel-blobs.js';
import { explainBuildFailure } from './build-failure.js';
import { prefetchBlobs } from './prefetch-blobs.js';

export interface PinOptions extends FilterOptions {
  ref?: string;
}

export interface PinnedFetch {
  pin: PinnedRepo;
  /** The ref as the user gave it (or `main`). */
  ref: string;
  info: RepoInfo;
  /** Every file of the repo at `pin.rev`. */
  files: RepoFile[];
  /** The LFS files the filters select: what the build downloads. */
  selectedLfs: RepoFile[];
  /** `nix-hug-lib.fetchModel { … }`, exactly as printed. */
  expression: string;
}

/** Resolves, lists and hashes: everything the expression needs, without downloading a weight. */
export async function pinRepo(ctx: CommandContext, url: string, opts: PinOptions): Promise<PinnedFetch> {
  const target = parseTarget(url, opts.ref, ctx.env);
  const filters = buildFilters(opts);
  const client = ctx.hub();
  const { repo, rev, ref } = await resolveTarget(client, target, ctx.logger);
  const [info, files] = await Promise.all([client.repoInfo(repo), listRepoFiles(client, repo, rev)]);
  const what = `${repo.type} ${repo.repoId}`;
  const missing = missingFiles(filters, files);
  if (missing.length > 0) {
    throw new NixHugError(
      `--file ${missing.map(quote).join(', ')}: no such file in ${what} at ${ref}`,
      `list the files with \`nix-hug ls ${repo.type === 'dataset' ? 'datasets/' : ''}${repo.repoId} --ref ${ref}\``,
    );
  }
  const pin: PinnedRepo = { type: repo.type, repoId: repo.repoId, rev, fileTreeHash: fileTreeHash(files, what), filters, endpoint: ctx.endpoint() };
  const selected = selector(filters);
  return { pin, ref, info, files, selectedLfs: files.filter((f) => f.lfs !== null && selected(f)), expression: renderFetchExpression(pin) };
}

/** Which of these store paths are not valid (not in the store) yet. */
async function invalidPaths(paths: string[], env: NodeJS.ProcessEnv): Promise<Set<string>> {
  const invalid = new Set<string>();
  for (let i = 0; i < paths.length; i += 500) {
    const chunk = paths.slice(i, i + 500);
    const r = await capture('nix-store', ['--check-validity', '--print-invalid', ...chunk], env);
    if (r.code !== 0) throw new NixHugError(`nix-store --check-validity failed: ${r.stderr.trim()}`, 'check your Nix installation');
    for (const line of r.stdout.split('\n')) if (line) invalid.add(line);
  }
  return invalid;
}

/** A path segment as Python's `quote` (and lib/internal/percent-encode.nix) encodes it: all but `A-Za-z0-9_.-~`. */
function quoteSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The resolve URL the library downloads an LFS file from (SPEC §2), byte for byte. */
export function resolveUrl(pin: PinnedRepo, path: string): string {
  const prefix = pin.type === 'dataset' ? 'datasets/' : '';
  return `${pin.endpoint}/${prefix}${pin.repoId}/resolve/${pin.rev}/${path.split('/').map(quoteSegment).join('/')}`;
}

/**
 * git's own config through the environment: the token reaches git for this run only, never a file or argv.
 * The header is scoped to the endpoint (`http.<url>.extraHeader`, matched by git on scheme, host, port and
 * path prefix): the same build evaluates nixpkgs, which may itself be fetched with git from another host.
 */
export function gitAuthEnv(env: NodeJS.ProcessEnv, endpoint: string, token: string): NodeJS.ProcessEnv {
  return { ...withGitConfig(env, [[`http.${endpoint}/.extraHeader`, `Authorization: Bearer ${token}`]]), GIT_TERMINAL_PROMPT: '0' };
}

/** Nix's downloads follow NIX_HUG_MAX_RETRIES and NIX_HUG_HTTP_TIMEOUT_MS, like the Hub client. */
function nixDownloadLimits(env: NodeJS.ProcessEnv): DownloadLimits {
  const { retry, timeoutMs } = httpSettingsFromEnv(env);
  return { attempts: retry.maxRetries + 1, timeoutMs };
}

export interface BuildPinnedOptions {
  quiet: boolean;
  signal?: AbortSignal;
  /** From `detectNix`, when the caller checked Nix before talking to the Hub. */
  nix?: NixInfo;
  /** From `checkNixpkgs`, when the caller started it while the Hub was asked; else checked here. */
  nixpkgs?: Promise<void>;
}

/**
 * `checkNixpkgs` started now, to run while the Hub is asked; hand it to
 * `buildPinned`. Its failure waits for that (never an unhandled rejection).
 */
export function startNixpkgsCheck(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  const check = checkNixpkgs(env, signal);
  check.catch(() => {});
  return check;
}

/**
 * Builds the pinned expression with the library: predicts which LFS blobs
 * are missing from the store, downloads them itself when the repo needs a
 * token, then runs `nix build` with a download display. Returns the store path.
 */
export async function buildPinned(ctx: CommandContext, pinned: PinnedFetch, opts: BuildPinnedOptions): Promise<string> {
  const { pin, info } = pinned;
  const what = `${pin.type} ${pin.repoId}`;
  const env = ctx.env;
  const nix = opts.nix ?? (await detectNix(env));
  ctx.logger.debug(`using Nix ${nix.version}${nix.isLix ? ' (Lix)' : ''}`);
  // Nothing is downloaded until the build is known to find nixpkgs.
  await (opts.nixpkgs ?? checkNixpkgs(env, opts.signal));

  const blobs = new Map(pinned.selectedLfs.map((f) => [blobStorePath(f.lfs!.sha256), f]));
  const missing = await invalidPaths([...blobs.keys()], nixEnv(env));
  const toDownload = [...missing].map((p) => blobs.get(p)!);
  const bytes = toDownload.reduce((n, f) => n + f.size, 0);
  ctx.logger.info(
    `${what} at ${pin.rev.slice(0, 12)}: ${pinned.selectedLfs.length} LFS file(s) selected, ` +
      (toDownload.length ? `${toDownload.length} to download (${humanSize(bytes)})` : 'all already in the Nix store'),
  );

  let buildEnv = env;
  const needsToken = info.private || info.gated !== false;
  if (needsToken) {
    const token = findToken(env)?.token;
    if (!token) {
      throw new NixHugError(
        `${what} is ${info.private ? 'private' : 'gated'}: a Hugging Face token is needed to download it`,
        `${info.gated ? `request access at ${pin.endpoint}/${pin.type === 'dataset' ? 'datasets/' : ''}${pin.repoId}, then ` : ''}set HF_TOKEN (or log in with \`hf auth login\`)`,
      );
    }
    // Nix would send no Bearer token: download with it here, verified, into the predicted store paths.
    await prefetchBlobs({
      blobs: toDownload.map((f) => ({ path: f.path, url: resolveUrl(pin, f.path), lfs: f.lfs! })),
      get: (url, signal, headers) => ctx.hub().get(url, { ...(signal ? { signal } : {}), ...(headers ? { headers } : {}), context: { what: `downloading a file`, repo: { type: pin.type, repoId: pin.repoId } } }),
      env: nixEnv(env),
      repoId: pin.repoId,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onFileDone: (b) => ctx.logger.info(`  downloaded ${b.path} (${humanSize(b.lfs.size)})`),
    }).catch((err: unknown) => {
      if (opts.signal?.aborted) throw new InterruptedError(`downloading ${what}`);
      throw err;
    });
    buildEnv = gitAuthEnv(env, pin.endpoint, token);
  }

  const dir = await mkdtemp(join(tmpdir(), 'nix-hug-build-'));
  const progress = new DownloadProgress({
    files: needsToken ? 0 : toDownload.length,
    bytes: needsToken ? 0 : bytes,
    stream: ctx.stderr,
    mode: opts.quiet ? 'quiet' : ctx.stderr.isTTY ? 'bar' : 'lines',
    formatBytes: humanSize,
  });
  try {
    const file = join(dir, 'build.nix');
    await writeFile(file, buildFile(env, pinned.expression));
    progress.start();
    const processes = needsToken ? 1 : processCount(toDownload.length, availableParallelism());
    const build = async () => {
      if (processes > 1) {
        // One nix registers its finished downloads one after another: fetch the blobs with one nix per
        // core first, while another evaluates the snapshot (parallel-blobs.ts). Same hf-blob-<sha256>
        // derivations: a failed download names the same .drv as it would in the snapshot's build.
        await prebuildBlobs({
          blobs: toDownload.map((f) => ({ url: resolveUrl(pin, f.path), sha256: f.lfs!.sha256, size: f.size })),
          processes,
          dir,
          env: nixEnv(env),
          downloads: nixDownloadLimits(env),
          onEvent: (ev) => progress.onEvent(ev),
          file,
          evalEnv: nixEnv(buildEnv),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      }
      return nixBuild({
        file,
        env: nixEnv(buildEnv),
        // One fixed-output download per LFS file: I/O-bound, so more jobs than cores.
        maxJobs: Math.max(2, Math.min(16, toDownload.length)),
        downloads: nixDownloadLimits(env),
        onEvent: (ev) => progress.onEvent(ev),
        onTrace: (line) => ctx.logger.warn(line.replace(/^trace:\s*/, '')),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    };
    const result = await build().catch((err: unknown) => {
      if (opts.signal?.aborted) throw new InterruptedError(`building ${what}`);
      // Nix names hf-blob-<sha256>.drv and says why in its builder's log: name the file instead.
      throw err instanceof NixBuildError ? explainBuildFailure(err, what, pinned.files) : err;
    });
    const out = result.outPaths[0];
    if (!out) throw new NixHugError(`nix build of ${what} produced no store path`, 'run again with --debug and report the output');
    return out;
  } finally {
    progress.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
