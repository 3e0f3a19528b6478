/**
 * `npm run bench`: starts the Hub emulator with generated repos, runs every
 * case of issue 7 several times, prints one table and writes it, with the
 * machine's description, to bench/RESULTS.md. See bench/README.md.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startHub } from '../hub-emulator/server.ts';
import { coldFetch, GIT_BYTES_PER_SECOND, HUB_LATENCY_MS, networkBoundFetch, WIRE_BYTES_PER_SECOND, type ColdResult } from './cases/cold.ts';
import { filtersCase } from './cases/filters.ts';
import { offlineCase } from './cases/offline.ts';
import { lockCase } from './cases/lock.ts';
import { secondRevision, warmRefetch } from './cases/reuse.ts';
import { scaleCase } from './cases/scale.ts';
import { startupCase } from './cases/startup.ts';
import { ConfigError, parseConfig, USAGE, type BenchConfig } from './config.ts';
import { revision, type BenchContext } from './context.ts';
import { BenchEnv } from './env.ts';
import { benchHubOptions, FIRST_REV_TAG } from './fixtures.ts';
import { describeMachine, load, type Machine } from './machine.ts';
import { describePythonPeer, findPythonPeer, type PythonPeerLookup } from './python-peer.ts';
import { CLI, REPO_ROOT } from '../test/support/index.ts';
import { renderTable, verdict, type Row } from './report.ts';
import { deletePaths, snapshotPrefix } from './store.ts';

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const mib = (n: number) => `${(n / 2 ** 20).toFixed(n % 2 ** 20 === 0 ? 0 : 2)} MiB`;

function settingsText(c: BenchConfig): string {
  return [
    `- ${c.quick ? '`--quick`: ' : ''}${c.reps} repetition(s) of every timed case; start-up: ${c.startupReps} runs; cases: ${c.only.join(', ')}`,
    `- model (cases 1–3): ${c.shards} LFS shards × ${mib(c.shardSize)} + ${c.smallFiles} small files; a second revision changes only config.json`,
    `- filters (case 6): 4 safetensors + 4 ONNX files × ${mib(c.filterSize)}`,
    `- Nix of the fetch cases (1, 2), side by side in every repetition: ${c.nix.map((d) => (d === 'PATH' ? 'the nix on PATH' : d)).join(' and ')} (versions under Machine)`,
    `- scale (case 4): datasets of ${c.scale.map((n) => n.toLocaleString('en-US')).join(' and ')} files, 1 in 10 LFS (1 KiB each)`,
    `- offline evaluation (case 7): the ${Math.max(...c.scale).toLocaleString('en-US')}-file dataset and ${c.models} small models (4 files, one 4 KiB LFS weight), on ${c.nix.map((d) => (d === 'PATH' ? 'the nix on PATH' : d)).join(' and ')}`,
    `- lock file (case 8): a lock of the ${c.models} small models of case 7`,
    `- network-bound cold fetch (case 1b): the model of case 1 with every CDN download throttled to ${(WIRE_BYTES_PER_SECOND / 1e6).toFixed(0)} MB/s and git's answers to ${(GIT_BYTES_PER_SECOND / 1e3).toFixed(0)} kB/s (a clone of about half a second) and every API and resolve answer ${HUB_LATENCY_MS} ms late, each downloader on each Nix and the peers`,
  ].join('\n');
}

function resultsMarkdown(m: Machine, c: BenchConfig, rows: Row[], findings: string[], breakdown: string[], when: Date, loads: [number, number], seconds: number): string {
  const missed = rows.filter((r) => verdict(r) === 'MISSED');
  return [
    '# nix-hug benchmark results',
    '',
    `Written by \`npm run bench\` on ${when.toISOString()} (${(seconds / 60).toFixed(1)} min). How to run it and read it: [README.md](README.md).`,
    '',
    '## Machine',
    '',
    `- ${m.cores} cores (${m.cpu}), ${m.memoryGiB.toFixed(1)} GiB memory, ${m.kernel}`,
    `- ${m.nix}; Node ${m.node}`,
    `- ${m.curl}`,
    `- ${m.openssl}`,
    ...(m.pythonPeer ? [`- ${m.pythonPeer}`] : []),
    `- load average (1 min) at start ${loads[0].toFixed(2)}, at end ${loads[1].toFixed(2)}: anything above 0 is other work competing for the cores; the bench ran at nice ${m.nice}`,
    '',
    '## Settings',
    '',
    settingsText(c),
    '',
    ...(findings.length ? ['## The emulator alone', '', ...findings.map((f) => `- ${f}`), ''] : []),
    ...(breakdown.length ? ['## Where a cold fetch spends its time', '', ...breakdown.flatMap((b) => [b, '']), ''] : []),
    '## Results',
    '',
    renderTable(rows),
    '',
    missed.length === 0
      ? 'Every target met.'
      : `Targets missed: ${missed.map((r) => `${r.case}: ${r.metric}`).join('; ')}. What we found about them: README.md, "Findings".`,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  let config: BenchConfig | null;
  try {
    config = parseConfig(process.argv.slice(2), process.env, join(REPO_ROOT, 'bench', 'RESULTS.md'));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`bench: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (config === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!existsSync(CLI)) {
    process.stderr.write(`bench: ${CLI} is missing: run \`npm run build\` first (npm run bench does)\n`);
    return 1;
  }
  const when = new Date();
  const started = performance.now();
  const loadStart = load();
  const machine = await describeMachine(config.nix);
  log(`${machine.cores} cores, ${machine.nix}, Node ${machine.node}; load ${loadStart.toFixed(2)}`);
  let python: PythonPeerLookup;
  try {
    python = await findPythonPeer(config.python);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  machine.pythonPeer = describePythonPeer(python);
  log(machine.pythonPeer);

  log('generating the repositories and starting the Hub emulator');
  const t0 = performance.now();
  const hub = await startHub(benchHubOptions(config));
  log(`emulator ready in ${((performance.now() - t0) / 1000).toFixed(1)} s at ${hub.url}`);
  const benv = new BenchEnv(hub.url);
  const ctx: BenchContext = { config, hub, benv, pythonPeer: python.peer, rows: [], findings: [], breakdown: [], log };

  // Everything of ours in the store: cleaned before (an interrupted run may have left some) and after.
  const everything = async () => {
    const prefixes: string[] = [];
    const blobs: string[] = [];
    for (const spec of benchHubOptions(config).repos) {
      const type = spec.type ?? 'model';
      const state = hub.repo(spec.id, type);
      for (const rev of state.commits) prefixes.push(snapshotPrefix(type, spec.id, rev));
      const r = await revision(hub, type, spec.id, 'main');
      blobs.push(...r.lfs.map((f) => f.lfs!.sha256));
      if (state.refs[FIRST_REV_TAG]) blobs.push(...(await revision(hub, type, spec.id, FIRST_REV_TAG)).lfs.map((f) => f.lfs!.sha256));
    }
    return deletePaths({ prefixes, blobs }, benv.env(benv.freshCache()));
  };
  let code = 0;
  try {
    const removed = await everything();
    if (removed) log(`removed ${removed} store path(s) left by an earlier run`);
    const wants = (c: BenchConfig['only'][number]) => config.only.includes(c);
    let cold: ColdResult | null = null;
    if (wants('startup')) await startupCase(ctx);
    if (wants('cold')) cold = await coldFetch(ctx);
    if (wants('network')) await networkBoundFetch(ctx);
    if (wants('warm')) cold = await warmRefetch(ctx, cold);
    if (wants('second-rev')) await secondRevision(ctx, cold);
    if (wants('filters')) await filtersCase(ctx);
    if (wants('scale')) await scaleCase(ctx);
    if (wants('offline')) await offlineCase(ctx);
    if (wants('lock')) await lockCase(ctx);
  } catch (e) {
    code = 1;
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  } finally {
    try {
      await everything();
    } catch (e) {
      code = 1;
      process.stderr.write(`bench: cleaning the store failed: ${String(e)}\n`);
    }
    await hub.close();
    benv.close();
  }
  if (code !== 0) return code;

  // By case number (the order the issue lists them); within a case, in the order measured.
  const caseNo = (r: Row) => Number.parseInt(r.case, 10);
  ctx.rows.sort((a, b) => caseNo(a) - caseNo(b));
  const table = renderTable(ctx.rows);
  process.stdout.write(`${table}\n`);
  for (const f of [...ctx.findings, ...ctx.breakdown]) process.stdout.write(`\n${f}\n`);
  const missed = ctx.rows.filter((r) => verdict(r) === 'MISSED').length;
  process.stdout.write(missed ? `\n${missed} target(s) missed.\n` : '\nEvery target met.\n');
  if (config.out !== null) {
    const seconds = (performance.now() - started) / 1000;
    mkdirSync(dirname(config.out), { recursive: true });
    writeFileSync(config.out, resultsMarkdown(machine, config, ctx.rows, ctx.findings, ctx.breakdown, when, [loadStart, load()], seconds));
    log(`results written to ${config.out}`);
  }
  return 0;
}

process.exitCode = await main();
