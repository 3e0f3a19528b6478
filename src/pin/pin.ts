/**
 * The first stage: from what the user typed to a pinned repository — URL
 * and --ref → commit → every file → fileTreeHash, and the commit's git
 * objects → gitRepoHash → the expression. Only Hub requests (API and git);
 * no LFS file is downloaded, nothing is built.
 */
import { NixHugError } from '../errors.js';
import { buildFilters, emptySelection, missingFiles, selector } from '../filters.js';
import { canonicalManifest, canonicalManifestHash, INLINE_MANIFEST_MAX_LINES } from '../canonical-manifest.js';
import type { HubClient, RepoInfo } from '../hub/client.js';
import { parseTarget, resolveTarget, type ResolvedTarget, type Target } from '../hub/resolve.js';
import { listRepoFiles } from '../hub/tree.js';
import { renderFetchExpression, type ManifestForm } from '../nix/expr.js';
import type { Settings } from '../settings/index.js';
import type { Filters, PinnedRepo, RepoFile, RepoRef, RepoType } from '../types.js';
import { gitCheckout, type GitCheckout } from './git-repo-hash.js';
import { checkQuantFilters, quantFilters, selectQuant } from '../gguf.js';
import { repoPath } from '../hub/repo-type.js';
import type { Logger } from '../ui/logger.js';
import { quote } from '../ui/text.js';

/** What the user asks for, as typed: a repository, a ref and the file selection flags. */
export interface PinFlags {
  ref?: string;
  /** --repo-type: what a bare org/name is. */
  repoType?: RepoType | undefined;
  include: string[];
  exclude: string[];
  file: string[];
  /** Pin even when --include/--exclude select no LFS file (otherwise an error: a model without weights). */
  allowEmpty?: boolean;
}

/** The request, checked: every usage error is found here, before any request. */
export interface PinRequest {
  target: Target;
  filters: Filters | null;
  /** The --include/--exclude globs as typed (for the message when they select nothing) and --allow-empty. */
  flags: Pick<PinFlags, 'include' | 'exclude' | 'allowEmpty'>;
}

/** Parses URL, --ref and the filters; `endpoint` is the configured Hub (its URLs are accepted like huggingface.co ones). */
export function parsePinRequest(url: string, flags: PinFlags, endpoint: string): PinRequest {
  const request = { target: parseTarget(url, flags.ref, endpoint, flags.repoType), filters: buildFilters(flags), flags: { include: flags.include, exclude: flags.exclude, allowEmpty: flags.allowEmpty === true } };
  checkQuantFilters(request.target.parsed.quant, request.filters);
  return request;
}

/**
 * The filters the request means once the files are known: with
 * `org/repo:QUANT`, that quantization's `.gguf` files (plus `--include`,
 * minus `--exclude`); an unknown or ambiguous quantization is an error here.
 */
export function requestFilters(request: PinRequest, repo: RepoRef, files: readonly RepoFile[]): Filters | null {
  const { quant } = request.target.parsed;
  if (quant === undefined) return request.filters;
  return quantFilters(request.filters, selectQuant(files, quant, `${repo.type} ${repo.repoId}`, repoPath(repo)));
}

/** A repository at a commit, with every file: what `ls` shows and `pinRepo` hashes. */
export interface Listing extends ResolvedTarget {
  files: RepoFile[];
}

/** Resolves the ref to a commit and lists every file there (all pages). */
export async function listRepo(hub: HubClient, target: Target, logger?: Logger): Promise<Listing> {
  const resolved = await resolveTarget(hub, target, logger);
  logger?.debug(`listing ${resolved.repo.type} ${resolved.repo.repoId} at ${resolved.rev}`);
  return { ...resolved, files: await listRepoFiles(hub, resolved.repo, resolved.rev) };
}

export interface PinnedFetch {
  pin: PinnedRepo;
  /** The ref as the user gave it (or `main`). */
  ref: string;
  /** Private or gated: whether the build needs the token. */
  info: RepoInfo;
  /** Every file of the repo at `pin.rev`. */
  files: RepoFile[];
  /** The LFS files the filters select: what the build downloads. */
  selectedLfs: RepoFile[];
  /** The canonical manifest text (what `fileTreeHash` hashes). */
  manifestText: string;
  /** The git checkout behind `pin.gitRepoHash`; `checkout.dispose()` removes its clone. */
  checkout: GitCheckout;
  /** `nix-hug-lib.fetchModel { … }` with the manifest inline when small: what `fetch` prints and builds by default. */
  expression: string;
}

export { INLINE_MANIFEST_MAX_LINES } from '../canonical-manifest.js';

/** The default way to carry the manifest: inline up to INLINE_MANIFEST_MAX_LINES files, else not at all. */
export function defaultManifestForm(files: readonly RepoFile[]): ManifestForm {
  return files.length <= INLINE_MANIFEST_MAX_LINES ? { kind: 'inline', files } : { kind: 'none' };
}

/**
 * A pin before its git checkout is done: all that fetching its LFS files
 * needs (everything but gitRepoHash), and the repo's visibility.
 */
export interface ListedPin {
  pin: Pick<PinnedRepo, 'type' | 'repoId' | 'rev' | 'endpoint' | 'filters'>;
  info: RepoInfo;
  files: RepoFile[];
  /** The LFS files the filters select. */
  selectedLfs: RepoFile[];
}

/** Told once the files are listed and the selection accepted, while the pointer clone may still run. */
export type OnListed = (listed: ListedPin) => void;

/** What pinning reads from the settings: the Hub, and for git the token, retries and nix-hug's cache. */
export type PinSettings = Pick<Settings, 'env' | 'endpoint' | 'token' | 'http' | 'cacheDir'>;

/**
 * Resolves, lists and hashes: everything the expression needs, without
 * downloading a weight. The caller disposes `checkout` (and calls its
 * `remember()` once the command succeeded).
 */
export async function pinRepo(hub: HubClient, request: PinRequest, settings: PinSettings, logger: Logger, signal?: AbortSignal, onListed?: OnListed): Promise<PinnedFetch> {
  const resolved = await resolveTarget(hub, request.target, logger);
  const selection: Selection = {
    filtersFor: (files) => requestFilters(request, resolved.repo, files),
    mayRefuse: request.filters !== null || request.target.parsed.quant !== undefined,
    refuseEmpty: request.flags.allowEmpty ? null : request.flags,
  };
  return pinCommit(hub, resolved, selection, settings, logger, signal, onListed);
}

/** Which files a pin keeps, and when pinning refuses them. */
export interface Selection {
  /** The filters once the files are listed (a GGUF quantization names its files only then). */
  filtersFor: (files: readonly RepoFile[]) => Filters | null;
  /** The selection may be refused once the files are known: git is asked nothing before that. */
  mayRefuse: boolean;
  /** --include/--exclude as typed, refused when they select none of the LFS files; null: never refused for that. */
  refuseEmpty: Pick<PinFlags, 'include' | 'exclude'> | null;
}

/**
 * `pinRepo` for a repository whose type and commit are known already (a
 * lock file's entry).
 */
export async function pinCommit(
  hub: HubClient,
  resolved: ResolvedTarget,
  selection: Selection,
  settings: PinSettings,
  logger: Logger,
  signal?: AbortSignal,
  onListed?: OnListed,
): Promise<PinnedFetch> {
  const endpoint = settings.endpoint();
  const { repo, rev, ref } = resolved;
  const what = `${repo.type} ${repo.repoId}`;
  const token = settings.token()?.token ?? null;
  // A listing that fails — or refuses a repository too large to hold — stops the clone started beside it.
  const stopClone = new AbortController();
  const cloneSignal = signal ? AbortSignal.any([signal, stopClone.signal]) : stopClone.signal;
  const startCheckout = () =>
    settle(gitCheckout({ endpoint, repo, rev, env: settings.env, token, http: settings.http(), cacheDir: settings.cacheDir, logger, signal: cloneSignal }));
  // The repo's info (private, gated) and its git objects come with the listing, not after it — unless the
  // file selection may still be refused once the files are known: then nothing is fetched before that.
  let checkoutR = selection.mayRefuse ? null : startCheckout();
  const [infoR, filesR] = await Promise.allSettled([hub.repoInfo(repo), listRepoFiles(hub, repo, rev)]);
  try {
    if (infoR.status === 'rejected') throw infoR.reason;
    if (filesR.status === 'rejected') throw filesR.reason;
    const info = infoR.value;
    const files = filesR.value;
    const filters = selection.filtersFor(files);
    const missing = missingFiles(filters, files);
    if (missing.length > 0) {
      throw new NixHugError(
        `--file ${missing.map(quote).join(', ')}: no such file in ${what} at ${ref}`,
        `list the files with \`nix-hug ls ${repoPath(repo)} --ref ${ref}\``,
      );
    }
    const empty = selection.refuseEmpty && emptySelection(selection.refuseEmpty, files);
    if (empty) throw emptySelectionError(empty, what, repo, ref);
    const selected = selector(filters);
    const selectedLfs = files.filter((f) => f.lfs !== null && selected(f));
    checkoutR ??= startCheckout();
    onListed?.({ pin: { type: repo.type, repoId: repo.repoId, rev, endpoint, filters }, info, files, selectedLfs });
    const checkedOut = await checkoutR;
    if (checkedOut.status === 'rejected') {
      if ((info.private || info.gated !== false) && !token) throw tokenNeeded(info, endpoint, repo);
      throw checkedOut.reason;
    }
    const checkout = checkedOut.value;
    const manifest = canonicalManifest(files, what);
    const pin: PinnedRepo = {
      type: repo.type,
      repoId: repo.repoId,
      rev,
      fileTreeHash: canonicalManifestHash(manifest),
      filters,
      endpoint,
      gitRepoHash: checkout.gitRepoHash,
    };
    return {
      pin,
      ref,
      info,
      files,
      selectedLfs,
      manifestText: manifest.toString('utf8'),
      checkout,
      expression: renderFetchExpression(pin, defaultManifestForm(files)),
    };
  } catch (err) {
    stopClone.abort();
    const started = await checkoutR;
    if (started?.status === 'fulfilled') await started.value.dispose();
    throw err;
  }
}

const settle = <T>(p: Promise<T>): Promise<PromiseSettledResult<T>> =>
  p.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );

/** A private or gated repository without a token: what to do. */
export function tokenNeeded(info: RepoInfo, endpoint: string, repo: RepoRef): NixHugError {
  return new NixHugError(
    `${repo.type} ${repo.repoId} is ${info.private ? 'private' : 'gated'}: a Hugging Face token is needed to download it`,
    `${info.gated ? `request access at ${endpoint}/${repoPath(repo)}, then ` : ''}set HF_TOKEN (or log in with \`hf auth login\`)`,
  );
}

/** Filters that select none of the LFS files: what to do (unless --allow-empty). */
function emptySelectionError(empty: { flags: string; lfsFiles: number }, what: string, repo: RepoRef, ref: string): NixHugError {
  const ls = `\`nix-hug ls ${repoPath(repo)} --ref ${ref}\``;
  return empty.lfsFiles > 0
    ? new NixHugError(
        `${empty.flags} selects none of the ${empty.lfsFiles} LFS file(s) of ${what} at ${ref}: the result would have none of its weights`,
        `see which files there are with ${ls}; to pin only the other files anyway, add --allow-empty`,
      )
    : new NixHugError(
        `${empty.flags} selects nothing in ${what} at ${ref}: it has no LFS files, and the filters choose among LFS files (the others are always kept)`,
        `drop the filters (every file is small and fetched anyway), or add --allow-empty; ${ls} lists the files`,
      );
}
