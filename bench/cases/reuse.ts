/**
 * Cases 2 and 3: what is already in the store is not downloaded again.
 * Warm re-fetch: the same revision, everything in the store and Nix's git
 * cache kept (a user's second run). Second revision: `main`, where only
 * config.json changed, after the first revision's blobs are in the store;
 * its own snapshot and checkout are deleted and the git cache is fresh
 * before every repetition.
 */
import { FIRST_REV_TAG, MODEL } from '../fixtures.ts';
import { fetchRun, forget, revision, type BenchContext, type Revision } from '../context.ts';
import { nixLabel } from '../nix-versions.ts';
import { atMost, exactly } from '../report.ts';

/** The first revision built (untimed) when case 1 did not run before. */
async function firstRevisionBuilt(ctx: BenchContext, prior: { rev: Revision; cacheHome: string } | null): Promise<{ rev: Revision; cacheHome: string }> {
  if (prior) return prior;
  const rev = await revision(ctx.hub, 'model', MODEL, FIRST_REV_TAG);
  const cacheHome = ctx.benv.freshCache();
  ctx.log('building the first revision of the model (untimed)');
  await fetchRun(ctx, rev, cacheHome);
  return { rev, cacheHome };
}

/** The target for a warm re-fetch. */
const WARM_SECONDS = 0.5;

export async function warmRefetch(ctx: BenchContext, prior: { rev: Revision; cacheHome: string } | null): Promise<{ rev: Revision; cacheHome: string }> {
  const built = await firstRevisionBuilt(ctx, prior);
  for (const nixDir of ctx.config.nix) {
    const nix = await nixLabel(nixDir);
    // A user's second run with this Nix: its own fetcher cache filled once (untimed).
    await fetchRun(ctx, built.rev, built.cacheHome, [], { nixDir });
    const times: number[] = [];
    const cdn: number[] = [];
    for (let rep = 0; rep < ctx.config.reps; rep++) {
      const res = await fetchRun(ctx, built.rev, built.cacheHome, [], { nixDir });
      times.push(res.seconds);
      cdn.push(res.cdnBytes);
      ctx.log(`warm re-fetch, ${nix}, repetition ${rep + 1}/${ctx.config.reps}: ${res.seconds.toFixed(3)} s, ${res.cdnBytes} CDN bytes`);
    }
    ctx.rows.push(
      { case: '2 warm re-fetch', metric: `nix-hug fetch, everything in the store, ${nix}`, unit: 's', values: times, target: atMost(WARM_SECONDS, 's') },
      { case: '2 warm re-fetch', metric: `CDN bytes, ${nix}`, unit: 'bytes', values: cdn, target: exactly(0, 'bytes') },
    );
  }
  return built;
}

export async function secondRevision(ctx: BenchContext, prior: { rev: Revision; cacheHome: string } | null): Promise<void> {
  await firstRevisionBuilt(ctx, prior);
  const main = await revision(ctx.hub, 'model', MODEL, 'main');
  const times: number[] = [];
  const cdn: number[] = [];
  for (let rep = 0; rep < ctx.config.reps; rep++) {
    const cacheHome = ctx.benv.freshCache();
    await forget(ctx, main, { blobs: false }, cacheHome);
    const res = await fetchRun(ctx, main, cacheHome);
    times.push(res.seconds);
    cdn.push(res.cdnBytes);
    ctx.log(`second revision, repetition ${rep + 1}/${ctx.config.reps}: ${res.seconds.toFixed(3)} s, ${res.cdnBytes} LFS bytes`);
  }
  ctx.rows.push(
    { case: '3 second revision', metric: 'nix-hug fetch of main (only config.json changed)', unit: 's', values: times, note: 'fresh git cache' },
    { case: '3 second revision', metric: 'LFS bytes downloaded (CDN)', unit: 'bytes', values: cdn, target: exactly(0, 'bytes') },
  );
}
