/**
 * What every case gets: the settings, the running emulator, the environment,
 * the rows it adds to the table, and helpers shared by several cases (a
 * `nix-hug fetch` run checked for success, CDN bytes counted around a run).
 */
import type { Downloader } from '../src/settings/downloader.ts';
import { existsSync } from 'node:fs';
import type { RepoType } from '../src/types.ts';
import { hubFiles, type TreeEntry, ok, runCli, type CliRun } from '../test/support/index.ts';
import type { RunningHub } from '../hub-emulator/types.ts';
import type { BenchConfig } from './config.ts';
import type { BenchEnv } from './env.ts';
import type { Row } from './report.ts';
import { withNix } from './nix-versions.ts';
import type { PythonPeer } from './python-peer.ts';
import { deletePaths, snapshotPrefix } from './store.ts';

export interface BenchContext {
  config: BenchConfig;
  hub: RunningHub;
  benv: BenchEnv;
  /** huggingface_hub in Python, when a Python with it was found (--python). */
  pythonPeer: PythonPeer | null;
  rows: Row[];
  /** Sentences for RESULTS.md (e.g. what the emulator alone achieves). */
  findings: string[];
  /** Where a cold fetch spends its time: timelines and their comparison (Markdown blocks). */
  breakdown: string[];
  log(message: string): void;
}

/** A pinned revision of one of the bench's repos, with its LFS files. */
export interface Revision {
  type: RepoType;
  id: string;
  rev: string;
  files: TreeEntry[];
  lfs: TreeEntry[];
  lfsBytes: number;
}

export async function revision(hub: RunningHub, type: RepoType, id: string, ref: string): Promise<Revision> {
  const rev = hub.repo(id, type).refs[ref] ?? ref;
  const files = await hubFiles(hub.url, type, id, rev);
  const lfs = files.filter((f) => f.lfs !== null);
  return { type, id, rev, files, lfs, lfsBytes: lfs.reduce((n, f) => n + f.size, 0) };
}

/** The CLI's name for the repo (`datasets/` prefix for datasets). */
export const cliUrl = (r: Revision) => (r.type === 'dataset' ? `datasets/${r.id}` : r.id);

/** Deletes the revision's snapshot, checkout and .drv files, and (with `blobs`) its LFS blobs. */
export function forget(ctx: BenchContext, r: Revision, opts: { blobs: boolean }, cacheHome: string): Promise<number> {
  return deletePaths(
    { prefixes: [snapshotPrefix(r.type, r.id, r.rev)], blobs: opts.blobs ? r.lfs.map((f) => f.lfs!.sha256) : [] },
    ctx.benv.env(cacheHome),
  );
}

export interface FetchRun extends CliRun {
  storePath: string;
  /** Bytes the CDN route served during the run. */
  cdnBytes: number;
}

/**
 * `nix-hug fetch URL --ref REV --json --no-link EXTRA…`, which must succeed and yield a store path.
 * No `./result` GC root: the next cold case deletes these paths, which a root would keep alive.
 */
export async function fetchRun(
  ctx: BenchContext,
  r: Revision,
  cacheHome: string,
  extra: string[] = [],
  opts: { rss?: boolean; nixDir?: string; downloader?: Downloader } = {},
): Promise<FetchRun> {
  const before = ctx.hub.cdnBytes();
  const env = withNix(ctx.benv.env(cacheHome), opts.nixDir ?? 'PATH');
  if (opts.downloader) env.NIX_HUG_DOWNLOADER = opts.downloader;
  const res = ok(
    await runCli(['fetch', cliUrl(r), '--ref', r.rev, '--json', '--no-link', ...extra], env, {
      stderrLimit: 1 << 20, // the head of a long log is enough to explain a failure
      ...(opts.rss ? { rssDir: ctx.benv.root } : {}),
    }),
    `nix-hug fetch ${cliUrl(r)}`,
  );
  const cdnBytes = ctx.hub.cdnBytes() - before;
  const storePath = (JSON.parse(res.stdout) as { storePath: string | null }).storePath;
  if (!storePath || !existsSync(storePath)) throw new Error(`nix-hug fetch ${cliUrl(r)} printed no valid store path:\n${res.stdout}`);
  return { ...res, storePath, cdnBytes };
}

/** Bytes as MB (10^6), the unit of the targets. */
export const mb = (bytes: number) => bytes / 1e6;
