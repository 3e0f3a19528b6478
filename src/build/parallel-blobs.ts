/**
 * Public repos: fetches the missing LFS blobs with several `nix build`
 * processes at once, before the snapshot's own build (while another nix
 * evaluates the snapshot).
 *
 * Why: Nix registers every finished fixed-output download on its one main
 * thread (a reference scan and two sha256 passes over the file), so with one
 * `nix build` the downloads run in parallel but that tail is serial. Measured
 * with 4 × 256 MiB on 2 cores (bench/README.md): one process took 1.6× the
 * curl | tee | openssl limit, two processes 1.2×. Each blob is the same
 * fixed-output derivation the library uses (`import <nix/fetchurl.nix>`,
 * named `hf-blob-<sha256>`): its store path depends only on that name and
 * hash, so the snapshot's build then finds every blob valid.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError } from '../errors.js';
import { withInterrupt } from '../interrupt.js';
import { nixString } from '../nix/expr.js';
import { capture, COMMON_FLAGS, nixBuild, stripAnsi, type NixLogEvent } from '../nix/nix.js';
import type { HttpSettings } from '../settings/http.js';
import { blobName } from '../nix/store-path.js';

export interface Blob {
  /** The file's `resolve` URL. */
  url: string;
  sha256: string;
  size: number;
}

/** Downloads running at once across all processes (as one `nix build` would run). */
const MAX_JOBS = 16;
/** More processes than this buy nothing: the tail is a few passes over the bytes. */
const MAX_PROCESSES = 8;

/** `k` groups of about equal bytes: largest first, each to the lightest group. */
export function splitBySize<T extends { size: number }>(items: readonly T[], k: number): T[][] {
  const groups: { bytes: number; items: T[] }[] = Array.from({ length: Math.max(1, k) }, () => ({ bytes: 0, items: [] }));
  for (const item of [...items].sort((a, b) => b.size - a.size)) {
    const lightest = groups.reduce((min, g) => (g.bytes < min.bytes ? g : min));
    lightest.items.push(item);
    lightest.bytes += item.size;
  }
  return groups.map((g) => g.items).filter((g) => g.length > 0);
}

/** A Nix file whose value is the list of these blobs' derivations. */
export function blobsExpression(blobs: readonly Blob[]): string {
  const items = blobs.map(
    (b) => `  (import <nix/fetchurl.nix> { url = ${nixString(b.url)}; sha256 = ${nixString(b.sha256)}; name = ${nixString(blobName(b.sha256))}; })`,
  );
  return `[\n${items.join('\n')}\n]\n`;
}

/** How many processes for `count` blobs on `cores` cores (1: leave it to the snapshot's build). */
export function processCount(count: number, cores: number): number {
  return Math.max(1, Math.min(count, cores, MAX_PROCESSES));
}

export interface ParallelBlobsOptions {
  blobs: Blob[];
  processes: number;
  /** A private scratch directory for the expression files. */
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Retries and timeout of Nix's downloads, as for the snapshot's build. */
  http: HttpSettings;
  onEvent?: (event: NixLogEvent) => void;
  signal?: AbortSignal;
}

/** Builds the blobs with `processes` concurrent `nix build`s; the first failure stops the others and is thrown. */
export async function buildBlobsInParallel(opts: ParallelBlobsOptions): Promise<void> {
  const signal = withInterrupt(opts.signal);
  if (signal?.aborted) throw new InterruptedError('downloading LFS files');
  const groups = splitBySize(opts.blobs, opts.processes);
  const jobs = Math.max(1, Math.ceil(Math.min(MAX_JOBS, opts.blobs.length) / groups.length));
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let failure: { error: unknown } | null = null;
  try {
    // allSettled: every nix process has exited (or been stopped) before this returns.
    await Promise.allSettled(
      groups.map(async (group, i) => {
        const file = join(opts.dir, `blobs-${i}.nix`);
        try {
          await writeFile(file, blobsExpression(group));
          await nixBuild({
            target: { file },
            env: opts.env,
            maxJobs: Math.min(jobs, group.length),
            http: opts.http,
            ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
            signal: stop.signal,
          });
        } catch (error) {
          failure ??= { error };
          stop.abort();
        }
      }),
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw (failure as { error: unknown }).error;
}

/** The snapshot's derivation as an evaluation beside the downloads wrote it, and the library's `trace:` lines on the way. */
export interface Instantiated {
  drvPath: string;
  traces: string[];
}

/**
 * `nix eval` of `file`'s drvPath: fetchGit, the library's evaluation (with
 * nixpkgs) and the .drv files are done while the blobs download, so the
 * build that follows builds that .drv without evaluating again. Never
 * fails: null when the evaluation did not succeed (its errors are then the
 * build's to report, with the library's trace lines).
 */
export async function instantiate(file: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Instantiated | null> {
  const r = await capture('nix', [...COMMON_FLAGS, 'eval', '--raw', '-f', file, 'drvPath'], env, undefined, signal).catch(() => null);
  const drvPath = r?.stdout.trim() ?? '';
  if (r?.code !== 0 || !/^\/\S+\.drv$/.test(drvPath)) return null;
  // builtins.trace prints at error level: tell the two apart by the prefix (as nixBuild does).
  const traces = stripAnsi(r.stderr)
    .split('\n')
    .filter((line) => line.startsWith('trace:'));
  return { drvPath, traces };
}

export interface PrebuildOptions {
  /** Fetches the blobs (with one of the routes); stops when `signal` aborts. */
  fetch: (signal: AbortSignal) => Promise<void>;
  /** The snapshot's build file, instantiated meanwhile (see `instantiate`). */
  file: string;
  /** The environment of that evaluation (git's, with the token when one is needed). */
  evalEnv: NodeJS.ProcessEnv;
  /** Called when that evaluation has ended (for --debug's timeline). */
  onEvaluated?: () => void;
  signal?: AbortSignal;
}

/**
 * The blobs fetched while another nix instantiates the snapshot; a failed
 * blob stops that evaluation, an interrupt stops both. Returns the
 * instantiated snapshot (null: build it from its file).
 */
export async function prebuildBlobs(opts: PrebuildOptions): Promise<Instantiated | null> {
  const { file, evalEnv, onEvaluated, signal: given } = opts;
  const signal = withInterrupt(given);
  if (signal?.aborted) throw new InterruptedError('downloading LFS files');
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const [blobs, evaluated] = await Promise.allSettled([
      opts.fetch(stop.signal).catch((err: unknown) => {
        stop.abort();
        throw err;
      }),
      instantiate(file, evalEnv, stop.signal).then((done) => {
        onEvaluated?.();
        return done;
      }),
    ]);
    if (blobs.status === 'rejected') throw blobs.reason;
    return evaluated.status === 'fulfilled' ? evaluated.value : null;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
