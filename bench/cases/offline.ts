/**
 * Case 7: evaluation without network, side by side with the evaluation-time
 * route, on each Nix of `--nix`. Two sets of pins, printed once by
 * `nix-hug fetch --no-build`:
 *  - the largest scale dataset (10,000 files by default) with `--vendor`
 *    (gitRepoHash + a manifest file), and the same pin without the two
 *    attributes (builtins.fetchGit at evaluation);
 *  - `--models` small models as printed (gitRepoHash + inline manifest), and
 *    the same without, all in one list.
 * Each is evaluated (`nix eval --raw` of every drvPath, import-from-derivation
 * off) cold — no snapshot, checkout, blob or .drv of these repos in the
 * store, a fresh fetcher cache — and warm (the same again), with the
 * environment the CLI gives nix. A cold evaluation of the new pins that asks
 * the Hub anything fails the bench. Nix's own evaluator CPU time
 * (NIX_SHOW_STATS) is recorded too: it says what the evaluation costs
 * whatever else the machine is doing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nixString } from '../../src/nix/expr.ts';
import { nixEnv } from '../../src/nix/nix.ts';
import { LIB_DIR, ok, run, runCli, STUB_DIR } from '../../test/support/index.ts';
import { cliUrl, revision, type BenchContext, type Revision } from '../context.ts';
import { largestScale, scaleRepo, smallModel } from '../fixtures.ts';
import { atMost, type Row } from '../report.ts';
import { deletePaths, snapshotPrefix } from '../store.ts';
import { nixLabel } from '../nix-versions.ts';

interface Pins {
  label: string;
  revisions: Revision[];
  /** Expression files: the printed pins (offline) and the same without gitRepoHash and manifest (eval-time). */
  offline: string;
  evalTime: string;
}

/** The printed call without `gitRepoHash` and `manifest`: what earlier versions printed. */
function withoutNewAttributes(expression: string): string {
  return expression.replace(/\n {2}gitRepoHash = [^\n]*/, '').replace(/\n {2}manifest = (\{[\s\S]*?\n {2}\};|[^\n]*;)/, '');
}

/** A file evaluating to every drvPath of `calls`, with the library on the nixpkgs stand-in in scope. */
function drvPathsFile(dir: string, name: string, calls: string[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      `let nix-hug-lib = import (/. + ${nixString(LIB_DIR)}) { pkgs = import (/. + ${nixString(STUB_DIR)}) { }; }; in`,
      'builtins.concatStringsSep "\\n" (map (p: p.drvPath) [',
      ...calls.map((c) => `(${c})`),
      '])',
      '',
    ].join('\n'),
  );
  return file;
}

/** `nix-hug fetch --no-build --json` of each revision, run in `dir` (where --vendor writes). */
async function pin(ctx: BenchContext, revisions: Revision[], dir: string, extra: string[]): Promise<string[]> {
  const env = ctx.benv.env(ctx.benv.freshCache());
  const out: string[] = [];
  for (const r of revisions) {
    const res = ok(await runCli(['fetch', cliUrl(r), '--ref', r.rev, '--no-build', '--json', ...extra], env, { cwd: dir }), `nix-hug fetch ${cliUrl(r)}`);
    const printed = JSON.parse(res.stdout) as { expression: string; gitRepoHash: string | null; manifest: string };
    if (!printed.gitRepoHash || !/\n {2}manifest = /.test(printed.expression)) throw new Error(`nix-hug fetch ${cliUrl(r)} printed no gitRepoHash or manifest:\n${printed.expression}`);
    out.push(printed.expression);
  }
  return out;
}

/** Everything of these revisions in the store (snapshots, checkouts, blobs, .drv files). */
function forgetAll(ctx: BenchContext, revisions: Revision[], cacheHome: string): Promise<number> {
  return deletePaths(
    { prefixes: revisions.map((r) => snapshotPrefix(r.type, r.id, r.rev)), blobs: revisions.flatMap((r) => r.lfs.map((f) => f.lfs!.sha256)) },
    ctx.benv.env(cacheHome),
  );
}

interface Eval {
  seconds: number;
  /** Nix's evaluator CPU time (NIX_SHOW_STATS). */
  cpu: number;
  /** Requests the Hub emulator served meanwhile. */
  hubRequests: number;
}

async function evaluate(ctx: BenchContext, nixDir: string, file: string, cacheHome: string, what: string): Promise<Eval> {
  const env = nixEnv(ctx.benv.env(cacheHome));
  if (nixDir !== 'PATH') env.PATH = `${nixDir}:${env.PATH ?? ''}`;
  env.NIX_SHOW_STATS = '1';
  const before = ctx.hub.requests.length;
  const r = ok(await run('nix', ['eval', '--raw', '--option', 'allow-import-from-derivation', 'false', '-f', file], env), what);
  const drvs = r.stdout.split('\n');
  if (drvs.some((d) => !/^\/nix\/store\/[a-z0-9]{32}-hf-.*\.drv$/.test(d))) throw new Error(`${what} gave ${r.stdout.slice(0, 500)}`);
  const cpu = /"cpuTime":\s*([0-9.]+)/.exec(r.stderr)?.[1];
  if (cpu === undefined) throw new Error(`${what}: no cpuTime in Nix's NIX_SHOW_STATS output`);
  return { seconds: r.seconds, cpu: Number(cpu), hubRequests: ctx.hub.requests.length - before };
}

export async function offlineCase(ctx: BenchContext): Promise<void> {
  const c = '7 offline evaluation';
  const dir = ctx.benv.dir('offline-pins');
  const n = largestScale(ctx.config);
  const dataset = await revision(ctx.hub, 'dataset', scaleRepo(n), 'main');
  const models = await Promise.all(Array.from({ length: ctx.config.models }, (_, i) => revision(ctx.hub, 'model', smallModel(i), 'main')));
  ctx.log(`offline: pinning ${dataset.id} (--vendor) and ${models.length} small models`);
  const [vendored] = await pin(ctx, [dataset], dir, ['--vendor', 'pins']);
  const inline = await pin(ctx, models, dir, []);
  const sets: Pins[] = [
    {
      label: `${n.toLocaleString('en-US')}-file dataset`,
      revisions: [dataset],
      offline: drvPathsFile(dir, 'dataset-offline.nix', [vendored!]),
      evalTime: drvPathsFile(dir, 'dataset-eval-time.nix', [withoutNewAttributes(vendored!)]),
    },
    {
      label: `${models.length} small models`,
      revisions: models,
      offline: drvPathsFile(dir, 'models-offline.nix', inline),
      evalTime: drvPathsFile(dir, 'models-eval-time.nix', inline.map(withoutNewAttributes)),
    },
  ];
  const targets = new Map([
    [sets[0]!.label, atMost(1, 's')],
    [sets[1]!.label, atMost(2, 's')],
  ]);

  const rows: Row[] = [];
  for (const nixDir of ctx.config.nix) {
    const nix = await nixLabel(nixDir);
    for (const set of sets) {
      const t = { offCold: [] as number[], offWarm: [] as number[], offCpu: [] as number[], etCold: [] as number[], etWarm: [] as number[], etCpu: [] as number[] };
      for (let rep = 0; rep < ctx.config.reps; rep++) {
        let cache = ctx.benv.freshCache();
        await forgetAll(ctx, set.revisions, cache);
        const cold = await evaluate(ctx, nixDir, set.offline, cache, `${nix}: evaluation of the ${set.label} pins, cold`);
        if (cold.hubRequests !== 0) throw new Error(`${nix}: the cold evaluation of the ${set.label} pins made ${cold.hubRequests} request(s) to the Hub`);
        const warm = await evaluate(ctx, nixDir, set.offline, cache, `${nix}: evaluation of the ${set.label} pins, warm`);
        cache = ctx.benv.freshCache();
        await forgetAll(ctx, set.revisions, cache);
        const etCold = await evaluate(ctx, nixDir, set.evalTime, cache, `${nix}: evaluation-time route for the ${set.label}, cold`);
        const etWarm = await evaluate(ctx, nixDir, set.evalTime, cache, `${nix}: evaluation-time route for the ${set.label}, warm`);
        t.offCold.push(cold.seconds);
        t.offWarm.push(warm.seconds);
        t.offCpu.push(cold.cpu);
        t.etCold.push(etCold.seconds);
        t.etWarm.push(etWarm.seconds);
        t.etCpu.push(etCold.cpu);
        ctx.log(
          `offline, ${nix}, ${set.label}, repetition ${rep + 1}/${ctx.config.reps}: no network ${cold.seconds.toFixed(3)} s cold (CPU ${cold.cpu.toFixed(3)} s) / ` +
            `${warm.seconds.toFixed(3)} s warm; evaluation-time route ${etCold.seconds.toFixed(3)} s cold / ${etWarm.seconds.toFixed(3)} s warm`,
        );
      }
      const target = targets.get(set.label);
      rows.push(
        { case: c, metric: `${set.label}, no network (gitRepoHash + manifest), cold, ${nix}`, unit: 's', values: t.offCold, ...(target ? { target } : {}), note: 'no .drv, fresh fetcher cache; 0 Hub requests' },
        { case: c, metric: `${set.label}, evaluation-time route, cold, ${nix}`, unit: 's', values: t.etCold, note: 'the same pins without the two attributes: fetchGit' },
        { case: c, metric: `${set.label}, no network, warm, ${nix}`, unit: 's', values: t.offWarm },
        { case: c, metric: `${set.label}, evaluation-time route, warm, ${nix}`, unit: 's', values: t.etWarm },
        { case: c, metric: `${set.label}, no network, cold: Nix's evaluator CPU, ${nix}`, unit: 's', values: t.offCpu, note: 'NIX_SHOW_STATS cpuTime: the load-independent part' },
        { case: c, metric: `${set.label}, evaluation-time route, cold: Nix's evaluator CPU, ${nix}`, unit: 's', values: t.etCpu },
      );
    }
  }
  ctx.rows.push(...rows);
}
