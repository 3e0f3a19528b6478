/**
 * Case 8: a lock file of the small models of case 7 (issue 14). Set up once with
 * `nix-hug add --no-build` for each (not timed); then, per repetition:
 * `nix-hug outdated` with nothing moved (which must ask the Hub exactly one
 * revision request per entry, and nothing else); evaluating `fromLock` —
 * every entry's drvPath and the cache's — with a fresh fetcher cache,
 * import-from-derivation off and none of the .drv files in the store; and
 * `nix-hug update --no-build` after one entry's branch moved (a push to the
 * emulator), which must rewrite that entry only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nixString } from '../../src/nix/expr.ts';
import { LIB_DIR, ok, run, runCli, STUB_DIR } from '../../test/support/index.ts';
import { revision, type BenchContext } from '../context.ts';
import { smallModel } from '../fixtures.ts';
import { atMost, exactly } from '../report.ts';
import { deletePaths, snapshotPrefix } from '../store.ts';

const ADD_CONCURRENCY = 4;

interface Report {
  entries: { name: string; state: string; updated?: boolean }[];
}

export async function lockCase(ctx: BenchContext): Promise<void> {
  const n = ctx.config.models;
  const dir = ctx.benv.dir('lock');
  const lock = join(dir, 'nix-hug.lock');
  const ids = Array.from({ length: n }, (_, i) => smallModel(i));
  const setupEnv = ctx.benv.env(ctx.benv.freshCache());
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(ADD_CONCURRENCY, n) }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        ok(await runCli(['add', id, '--no-build', '--lock', lock, '--quiet'], setupEnv), `nix-hug add ${id}`);
      }
    }),
  );
  ctx.log(`lock: ${n} entries added`);

  // What the user's flake does: every entry's derivation and the cache's, from the lock alone.
  const evalFile = join(dir, 'eval.nix');
  writeFileSync(
    evalFile,
    `let locked = (import (/. + ${nixString(LIB_DIR)}) { pkgs = import (/. + ${nixString(STUB_DIR)}) { }; }).fromLock (/. + ${nixString(lock)}); in\n` +
      'builtins.attrValues (builtins.mapAttrs (_: m: m.drvPath) locked.models) ++ [ locked.cache.drvPath ]\n',
  );

  const outdated: number[] = [];
  const requests: number[] = [];
  const evaluation: number[] = [];
  const update: number[] = [];
  for (let rep = 0; rep < ctx.config.reps; rep++) {
    const env = ctx.benv.env(ctx.benv.freshCache());
    ctx.hub.resetStats();
    const o = await runCli(['outdated', '--lock', lock], env);
    if (o.code !== 0) throw new Error(`nix-hug outdated (nothing moved) exited ${o.code}:\n${o.stderr}${o.stdout}`);
    const asked = ctx.hub.requests;
    if (asked.length !== n || !asked.every((r) => r.url.includes('/revision/'))) {
      throw new Error(`nix-hug outdated asked the Hub ${asked.length} times for ${n} entries: ${asked.map((r) => r.url).join(', ')}`);
    }
    outdated.push(o.seconds);
    requests.push(asked.length);

    // Cold evaluation: no .drv of these repos (snapshots, checkouts, blobs) in the store. (The cache's own
    // .drv is named hf-hub-cache like everyone's: left alone.)
    // Every commit of these repos (a blob's .drv names its URL, so each commit evaluated had its own).
    const prefixes = ids.flatMap((id) => ctx.hub.repo(id).commits.map((rev) => snapshotPrefix('model', id, rev)));
    const blobs = (await Promise.all(ids.map((id) => revision(ctx.hub, 'model', id, 'main')))).flatMap((r) => r.lfs.map((f) => f.lfs!.sha256));
    await deletePaths({ prefixes, blobs }, env);
    const e = ok(await run('nix', ['eval', '--json', '--option', 'allow-import-from-derivation', 'false', '-f', evalFile], env), 'nix eval of fromLock');
    const drvs = JSON.parse(e.stdout) as string[];
    if (drvs.length !== n + 1 || !drvs.every((d) => d.endsWith('.drv'))) throw new Error(`fromLock gave ${drvs.length} derivations for ${n} entries`);
    evaluation.push(e.seconds);
    // The cache's .drv refers to the snapshots' .drv files: gone first, so that they can be deleted (it is ours: its inputs are).
    ok(await run('nix-store', ['--delete', drvs[n]!], env), 'nix-store --delete of the cache .drv');

    // One entry's branch moves (only its config changes): update rewrites that entry alone.
    const moved = ids[rep % n]!;
    await ctx.hub.push(moved, { message: `bench ${rep}`, files: { 'config.json': `{"model_type":"bert","bench":${rep},"salt":"${ctx.config.quick ? 'quick' : 'full'}"}\n` } });
    ctx.hub.resetStats();
    const u = ok(await runCli(['update', '--no-build', '--json', '--lock', lock], env), 'nix-hug update');
    const report = JSON.parse(u.stdout) as Report;
    const updated = report.entries.filter((x) => x.updated).map((x) => x.name);
    const name = moved.slice(moved.indexOf('/') + 1);
    if (updated.length !== 1 || updated[0] !== name) throw new Error(`nix-hug update rewrote ${updated.join(', ') || 'nothing'}, expected ${name}`);
    const listed = new Set(ctx.hub.requests.filter((r) => r.url.includes('/tree/') || r.route === 'git').map((r) => r.url.split('/').slice(0, 5).join('/')));
    if ([...listed].some((u) => !u.includes(moved))) throw new Error(`nix-hug update listed or cloned other repositories: ${[...listed].join(', ')}`);
    update.push(u.seconds);
    ctx.log(`lock, repetition ${rep + 1}/${ctx.config.reps}: outdated ${o.seconds.toFixed(3)} s, fromLock eval ${e.seconds.toFixed(3)} s, update of 1 moved ${u.seconds.toFixed(3)} s`);
  }
  const c = '8 lock file';
  ctx.rows.push(
    { case: c, metric: `outdated, ${n} entries, nothing moved`, unit: 's', values: outdated, ...(n >= 50 ? { target: atMost(3, 's') } : {}) },
    { case: c, metric: `Hub requests of that outdated`, unit: 'requests', values: requests, target: exactly(n, 'requests', `= ${n} (1 per entry)`), note: 'revision requests only' },
    { case: c, metric: `fromLock eval, ${n} entries + cache`, unit: 's', values: evaluation, ...(n >= 50 ? { target: atMost(2, 's') } : {}), note: 'fresh fetcher cache, no .drv, IFD off' },
    { case: c, metric: `update --no-build, 1 of ${n} moved`, unit: 's', values: update, note: 'lists and clones only the moved entry' },
  );
}
