/**
 * Case 4: datasets of many files (1 in 10 LFS). `ls`, `fetch --no-build`,
 * and the library's evaluation (`nix eval --raw` of the snapshot's drvPath,
 * which instantiates one derivation per LFS file) for each size, and how
 * each grows from the smallest to the largest size, paired repetition by
 * repetition. Evaluation is measured cold (no checkout, no .drv files, fresh
 * git cache: what a first `nix build` pays) and warm (the same again), with
 * the environment the CLI gives nix; and `builtins.fetchGit` alone, cold, to
 * tell the library's own work from Nix's git fetcher.
 */
import { nixEnv } from '../../src/nix/nix.ts';
import { nixString } from '../../src/nix/expr.ts';
import { fetchExpr, withLib, ok, run, runCli } from '../../test/support/index.ts';
import { scaleRepo } from '../fixtures.ts';
import { cliUrl, forget, revision, type BenchContext } from '../context.ts';
import { atMost, type Row } from '../report.ts';
import { snapshotPrefix } from '../store.ts';

interface Timings {
  ls: number[];
  pin: number[];
  evalCold: number[];
  evalWarm: number[];
  fetchGit: number[];
}

async function measure(ctx: BenchContext, n: number): Promise<Timings> {
  const r = await revision(ctx.hub, 'dataset', scaleRepo(n), 'main');
  if (r.files.length !== n) throw new Error(`scale: ${r.id} has ${r.files.length} files, expected ${n}`);
  const t: Timings = { ls: [], pin: [], evalCold: [], evalWarm: [], fetchGit: [] };
  // The checkout exactly as the library fetches it (same URL, rev and store name).
  const gitUrl = `${ctx.hub.url}/datasets/${r.id}.git`;
  const fetchGit = `(builtins.fetchGit { url = ${nixString(gitUrl)}; rev = ${nixString(r.rev)}; allRefs = true; name = ${nixString(`${snapshotPrefix('dataset', r.id, r.rev)}-git`)}; }).outPath`;
  for (let rep = 0; rep < ctx.config.reps; rep++) {
    const env = ctx.benv.env(ctx.benv.freshCache());
    const ls = ok(await runCli(['ls', cliUrl(r), '--ref', r.rev], env), `nix-hug ls ${cliUrl(r)}`);
    if (!ls.stdout.includes(r.files[r.files.length - 1]!.path)) throw new Error(`nix-hug ls ${cliUrl(r)}: the last file is not listed`);
    t.ls.push(ls.seconds);

    const pin = ok(await runCli(['fetch', cliUrl(r), '--ref', r.rev, '--no-build', '--json'], env), `nix-hug fetch --no-build ${cliUrl(r)}`);
    t.pin.push(pin.seconds);
    const { fileTreeHash } = JSON.parse(pin.stdout) as { fileTreeHash: string };

    let cacheHome = ctx.benv.freshCache();
    await forget(ctx, r, { blobs: true }, cacheHome);
    const expr = withLib(`${fetchExpr({ fn: 'fetchDataset', url: r.id, rev: r.rev, fileTreeHash, endpoint: ctx.hub.url })}.drvPath`);
    // Exactly the environment `nix-hug fetch` gives nix.
    const evalEnv = nixEnv(ctx.benv.env(cacheHome));
    const args = ['eval', '--raw', '--impure', '--expr', expr];
    const cold = ok(await run('nix', args, evalEnv), `nix eval of ${r.id}`);
    const warm = ok(await run('nix', args, evalEnv), `nix eval of ${r.id} (warm)`);
    if (!cold.stdout.endsWith('.drv') || cold.stdout !== warm.stdout) throw new Error(`nix eval of ${r.id} gave ${cold.stdout} then ${warm.stdout}`);
    t.evalCold.push(cold.seconds);
    t.evalWarm.push(warm.seconds);

    cacheHome = ctx.benv.freshCache();
    await forget(ctx, r, { blobs: true }, cacheHome);
    const git = ok(await run('nix', ['eval', '--raw', '--impure', '--expr', fetchGit], nixEnv(ctx.benv.env(cacheHome))), `fetchGit of ${r.id}`);
    t.fetchGit.push(git.seconds);
    ctx.log(
      `scale ${n}, repetition ${rep + 1}/${ctx.config.reps}: ls ${ls.seconds.toFixed(3)} s, fetch --no-build ${pin.seconds.toFixed(3)} s, ` +
        `eval ${cold.seconds.toFixed(3)} s cold / ${warm.seconds.toFixed(3)} s warm, fetchGit alone ${git.seconds.toFixed(3)} s`,
    );
  }
  return t;
}

export async function scaleCase(ctx: BenchContext): Promise<void> {
  const sizes = [...new Set(ctx.config.scale)].sort((a, b) => a - b);
  const largest = sizes[sizes.length - 1]!;
  const results = new Map<number, Timings>();
  for (const n of sizes) results.set(n, await measure(ctx, n));
  const c = '4 scale';
  const rows: Row[] = [];
  const label = (n: number) => `${n.toLocaleString('en-US')} files`;
  for (const n of sizes) {
    const t = results.get(n)!;
    const big = n === largest;
    rows.push(
      { case: c, metric: `ls, ${label(n)}`, unit: 's', values: t.ls, ...(big ? { target: atMost(2, 's') } : {}) },
      { case: c, metric: `fetch --no-build, ${label(n)}`, unit: 's', values: t.pin, ...(big ? { target: atMost(3, 's') } : {}) },
      { case: c, metric: `nix eval drvPath, ${label(n)}, cold`, unit: 's', values: t.evalCold, ...(big ? { target: atMost(5, 's') } : {}), note: 'fresh git cache, no .drv' },
      { case: c, metric: `nix eval drvPath, ${label(n)}, warm`, unit: 's', values: t.evalWarm, note: 'the library\'s own evaluation' },
      { case: c, metric: `builtins.fetchGit alone, ${label(n)}, cold`, unit: 's', values: t.fetchGit, note: 'part of the cold evaluation' },
    );
  }
  if (sizes.length > 1) {
    const small = results.get(sizes[0]!)!;
    const big = results.get(largest)!;
    const linear = largest / sizes[0]!;
    const growth = (k: keyof Timings) => big[k].map((x, i) => x / small[k][i]!);
    const what = `${label(largest)} / ${label(sizes[0]!)}`;
    const note = `${linear.toFixed(0)}× the files; ≤ ${linear.toFixed(0)}× is linear or better`;
    rows.push(
      { case: c, metric: `growth of ls, ${what}`, unit: 'x', values: growth('ls'), target: atMost(linear, 'x'), note },
      { case: c, metric: `growth of fetch --no-build, ${what}`, unit: 'x', values: growth('pin'), target: atMost(linear, 'x'), note },
      { case: c, metric: `growth of nix eval (cold), ${what}`, unit: 'x', values: growth('evalCold'), target: atMost(linear, 'x'), note },
      { case: c, metric: `growth of nix eval (warm), ${what}`, unit: 'x', values: growth('evalWarm'), target: atMost(linear, 'x'), note },
      { case: c, metric: `growth of fetchGit alone, ${what}`, unit: 'x', values: growth('fetchGit'), note },
    );
  }
  ctx.rows.push(...rows);
}
