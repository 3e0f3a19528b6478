/**
 * The git side of a pin: `gitRepoHash`, the NAR hash of the repository's
 * checkout at the commit, from a pointer-only clone (git objects only: no LFS
 * file is downloaded for it).
 *
 * A commit's tree never changes, so its hash is remembered per endpoint,
 * repository and commit in `<cacheDir>/git-repo-hash/`: a second fetch of
 * the same commit clones nothing unless the build needs the checkout and the
 * store lacks it. (A wrong entry cannot slip through: Nix checks the
 * checkout against the hash, and the build checks it against the manifest.)
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PointerClone } from '../git/pointer-clone.js';
import { repoPath } from '../hub/repo-type.js';
import type { HttpSettings } from '../settings/http.js';
import type { RepoRef } from '../types.js';
import type { Logger } from '../ui/logger.js';

/** `{endpoint}/{id}.git`, datasets under `/datasets/`, Spaces under `/spaces/` (as the library clones it). */
export function gitUrl(endpoint: string, repo: RepoRef): string {
  return `${endpoint}/${repoPath(repo)}.git`;
}

export interface CloneRequest {
  endpoint: string;
  repo: RepoRef;
  rev: string;
  /** For git (proxies, PATH); git's own config is not used. */
  env: NodeJS.ProcessEnv;
  token: string | null;
  http: HttpSettings;
  /** nix-hug's cache folder (Settings.cacheDir). */
  cacheDir: string;
  logger: Logger;
  signal?: AbortSignal;
  /** Files of the commit held in memory at most (default: the bound of the Hub's listing). */
  maxFiles?: number;
}

/** The commit's checkout: its hash now, the clone itself only when asked for. */
export interface GitCheckout {
  gitRepoHash: string;
  /** The pointer-only clone (cloned on first call when the hash was remembered). */
  clone(): Promise<PointerClone>;
  /** Remembers a newly computed hash for the next fetch of this commit (call once the command succeeded). */
  remember(): Promise<void>;
  /** Removes the clone, if one was made. */
  dispose(): Promise<void>;
}

/** Where the hash of a commit is remembered (also named in errors that suggest forgetting it). */
export function rememberedHashes(cacheDir: string): string {
  return join(cacheDir, 'git-repo-hash');
}

function cacheFile(req: CloneRequest): string {
  const key = createHash('sha256').update(`${req.endpoint}\n${req.repo.type}\n${req.repo.repoId}\n${req.rev}`).digest('hex');
  return join(rememberedHashes(req.cacheDir), key);
}

async function readCached(req: CloneRequest): Promise<string | null> {
  const text = await readFile(cacheFile(req), 'utf8').catch(() => null);
  return text !== null && /^sha256-[A-Za-z0-9+/]{43}=$/.test(text) ? text : null;
}

/** Best effort: a cache that cannot be written only costs a clone next time. */
async function writeCached(req: CloneRequest, hash: string): Promise<void> {
  const file = cacheFile(req);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, hash);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    req.logger.debug(`cannot remember the gitRepoHash in ${file}: ${(err as Error).message}`);
  }
}

function startClone(req: CloneRequest): Promise<PointerClone> {
  return PointerClone.fetch({
    url: gitUrl(req.endpoint, req.repo),
    endpoint: req.endpoint,
    rev: req.rev,
    what: `${req.repo.type} ${req.repo.repoId}`,
    env: req.env,
    token: req.token,
    attempts: Math.min(req.http.retry.maxRetries + 1, 3),
    retryDelayMs: req.http.retry.baseDelayMs,
    debug: (line) => req.logger.debug(line),
    ...(req.signal ? { signal: req.signal } : {}),
    ...(req.maxFiles !== undefined ? { maxFiles: req.maxFiles } : {}),
  });
}

/** The gitRepoHash of the commit: remembered, or from a new pointer-only clone. */
export async function gitCheckout(req: CloneRequest): Promise<GitCheckout> {
  let cloning: Promise<PointerClone> | null = null;
  const handle = (gitRepoHash: string, fresh: boolean): GitCheckout => ({
    gitRepoHash,
    clone: () => (cloning ??= startClone(req)),
    remember: async () => {
      if (fresh) await writeCached(req, gitRepoHash);
    },
    dispose: async () => {
      const clone = await cloning?.catch(() => null);
      await clone?.dispose();
    },
  });
  const cached = await readCached(req);
  if (cached) {
    req.logger.debug(`gitRepoHash of ${req.repo.repoId} at ${req.rev}: ${cached} (remembered)`);
    return handle(cached, false);
  }
  cloning = startClone(req);
  const clone = await cloning;
  try {
    const started = Date.now();
    const gitRepoHash = await clone.gitRepoHash();
    req.logger.debug(`gitRepoHash of ${req.repo.repoId} at ${req.rev}: ${gitRepoHash} (${Date.now() - started} ms)`);
    return handle(gitRepoHash, true);
  } catch (err) {
    await clone.dispose();
    throw err;
  }
}
