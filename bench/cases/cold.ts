/**
 * Case 1, cold fetch of the model, side by side in every repetition with
 * the limit (curl in parallel, written and hashed by OpenSSL), the peers
 * (@huggingface/hub, and the Python huggingface_hub when at hand, each into
 * a fresh cache) and Nix alone (the blobs' `nix build`s as the CLI runs
 * them, without the CLI); and case 5's memory (the CLI's peak RSS during
 * these fetches). Before the repetitions: the emulator alone.
 */
import { downloaderFromEnv, type Downloader } from '../../src/settings/downloader.ts';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { FIRST_REV_TAG, MODEL } from '../fixtures.ts';
import { cliUrl, fetchRun, forget, mb, revision, type BenchContext, type Revision } from '../context.ts';
import { ok, run, REPO_ROOT } from '../../test/support/index.ts';
import { atMost, exactly, stats, type Row } from '../report.ts';
import { nixInfo, nixLabel, withNix } from '../nix-versions.ts';
import { comparePhases, phases, renderTimeline, runStamped, type Phase } from '../timeline.ts';
import { measureCpu } from '../cpu.ts';
import { buildBlobsInParallel, processCount } from '../../src/build/parallel-blobs.ts';
import { copiesFixedOutputs, nixEnv } from '../../src/nix/nix.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';

/** The resolve URL of an LFS file (what Nix and curl -L start from). */
const resolveUrl = (ctx: BenchContext, r: Revision, path: string) => `${ctx.hub.url}/${r.id}/resolve/${r.rev}/${path}`;

/** The CDN URL the resolve route redirects to. */
async function cdnUrl(ctx: BenchContext, r: Revision, path: string): Promise<string> {
  const res = await fetch(resolveUrl(ctx, r, path), { method: 'HEAD', redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`resolve of ${path} did not redirect (HTTP ${res.status})`);
  return location;
}

/** Every LFS byte came from the CDN (`probes`: extra 1-byte range requests a client makes first). */
function checkCdn(ctx: BenchContext, what: string, before: number, expected: number, probes = 0): void {
  const got = ctx.hub.cdnBytes() - before;
  if (got < expected || got > expected + probes) throw new Error(`${what}: the CDN served ${got} bytes, expected ${expected}`);
}

/** `curl -o /dev/null` of every URL at once; wall-clock seconds. */
async function curlNull(urls: string[]): Promise<number> {
  const start = performance.now();
  await Promise.all(urls.map(async (u) => ok(await run('curl', ['-sSf', '-o', '/dev/null', u], process.env), `curl ${u}`)));
  return (performance.now() - start) / 1000;
}

/** The limit: one `curl -L | tee FILE | openssl dgst -sha256` per shard, all at once; digests checked. */
async function limitRun(ctx: BenchContext, r: Revision): Promise<number> {
  const dir = ctx.benv.dir('limit');
  const before = ctx.hub.cdnBytes();
  const start = performance.now();
  const results = await Promise.all(
    r.lfs.map(async (f, i) => {
      const script = 'curl -sSfL "$1" | tee "$2" | openssl dgst -sha256';
      const res = ok(await run('bash', ['-o', 'pipefail', '-c', script, 'limit', resolveUrl(ctx, r, f.path), join(dir, `shard-${i}`)], process.env), 'curl | tee | openssl');
      return { f, digest: /([0-9a-f]{64})\s*$/.exec(res.stdout)?.[1] };
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const { f, digest } of results) {
    if (digest !== f.lfs!.sha256) throw new Error(`limit: ${f.path} hashed to ${digest}, expected ${f.lfs!.sha256}`);
  }
  checkCdn(ctx, 'limit', before, r.lfsBytes);
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

/**
 * Nix alone: the missing blobs built as the CLI's Nix's-downloads route
 * builds them (parallel-blobs.ts: the library's fixed-output derivations,
 * one `nix build` per core), with nothing else — no Hub API, git, snapshot
 * or CLI start-up. Its time is what Nix needs to download, verify and
 * register the bytes; a fetch's time above it is the CLI's own.
 */
async function nixAloneRun(ctx: BenchContext, r: Revision, nixDir: string): Promise<number> {
  const cacheHome = ctx.benv.freshCache();
  await forget(ctx, r, { blobs: true }, cacheHome);
  const env = nixEnv(withNix(ctx.benv.env(cacheHome), nixDir));
  const dir = ctx.benv.dir('nix-alone');
  const before = ctx.hub.cdnBytes();
  const start = performance.now();
  await buildBlobsInParallel({
    blobs: r.lfs.map((f) => ({ url: resolveUrl(ctx, r, f.path), sha256: f.lfs!.sha256, size: f.size })),
    processes: processCount(r.lfs.length, availableParallelism()),
    dir,
    env,
    http: DEFAULT_HTTP,
  });
  const seconds = (performance.now() - start) / 1000;
  checkCdn(ctx, 'Nix alone', before, r.lfsBytes);
  ok(await run('nix-store', ['--check-validity', ...r.lfs.map((f) => blobStorePath(f.lfs!.sha256))], env), 'Nix alone: every blob valid');
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

/** A peer's time: the whole process, spawn to exit (what a user waits, as nix-hug's times are taken), and its download alone. */
interface PeerTime {
  whole: number;
  /** Timed by the peer itself around the download: its runtime's start-up and imports excluded. */
  download: number;
}

/**
 * A peer in its own process, downloading into a fresh cache dir (`command`
 * gets its path). `probes`: 1-byte range requests it makes per file.
 */
async function peerProcess(ctx: BenchContext, r: Revision, what: string, command: (cacheDir: string) => [string, string[]], env: NodeJS.ProcessEnv, probes = 0): Promise<PeerTime> {
  const cacheDir = ctx.benv.dir('peer');
  const before = ctx.hub.cdnBytes();
  const [program, args] = command(cacheDir);
  const start = performance.now();
  const res = ok(await run(program, args, env), what);
  const whole = (performance.now() - start) / 1000;
  checkCdn(ctx, what, before, r.lfsBytes, probes);
  rmSync(cacheDir, { recursive: true, force: true });
  const { seconds } = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { seconds?: number };
  if (typeof seconds !== 'number') throw new Error(`${what} printed no {"seconds": N} line:\n${res.stdout.slice(-2000)}`);
  return { whole, download: seconds };
}

/** @huggingface/hub into a fresh cache (bench/peer.mjs, run with plain node as a user's script is). */
function peerRun(ctx: BenchContext, r: Revision, mode: 'snapshot' | 'parallel'): Promise<PeerTime> {
  const params = (cacheDir: string) => JSON.stringify({ hubUrl: ctx.hub.url, repo: r.id, revision: r.rev, cacheDir, mode });
  // @huggingface/hub asks each file's size with a `Range: bytes=0-0` request first.
  return peerProcess(ctx, r, `peer (${mode})`, (dir) => [process.execPath, [join(REPO_ROOT, 'bench', 'peer.mjs'), params(dir)]], process.env, r.lfs.length);
}

/** The Python huggingface_hub's snapshot_download (what `hf download` runs) into a fresh cache (bench/peer.py). */
function pythonPeerRun(ctx: BenchContext, r: Revision, python: string): Promise<PeerTime> {
  const env = { ...ctx.benv.env(ctx.benv.freshCache()), HF_HUB_DISABLE_PROGRESS_BARS: '1', HF_HUB_DISABLE_TELEMETRY: '1' };
  const params = (cacheDir: string) => JSON.stringify({ repo: r.id, revision: r.rev, cacheDir });
  return peerProcess(ctx, r, 'peer (Python huggingface_hub)', (dir) => [python, [join(REPO_ROOT, 'bench', 'peer.py'), params(dir)]], env);
}

type Peer = 'snapshot' | 'parallel' | 'python';

/** Whether a method of the rotation is a peer (the Python one only when at hand). */
const isPeer = (m: string, python: BenchContext['pythonPeer']): m is Peer => m === 'snapshot' || m === 'parallel' || (m === 'python' && python !== null);

/** One run of a peer. */
function runPeer(ctx: BenchContext, r: Revision, p: Peer): Promise<PeerTime> {
  if (p !== 'python') return peerRun(ctx, r, p);
  if (!ctx.pythonPeer) throw new Error('the Python peer is not at hand');
  return pythonPeerRun(ctx, r, ctx.pythonPeer.python);
}

/** What each peer is, for the report. */
function peerName(p: Peer, r: Revision, python: BenchContext['pythonPeer']): string {
  if (p === 'snapshot') return '@huggingface/hub snapshotDownload';
  if (p === 'parallel') return `@huggingface/hub downloadFileToCacheDir, ${r.files.length} files at once`;
  return `huggingface_hub snapshot_download (Python; what hf download runs)${python ? `, ${python.version}` : ''}`;
}

/**
 * The peers' rows (whole process, with the download alone in the note) and
 * the fastest peer repetition by repetition, of whole processes (the
 * issue's "fastest peer": a user waits for a peer's start-up as for
 * nix-hug's) and of downloads alone (start-up and imports excluded: the
 * stricter view, shown beside it).
 */
function peerResults(c: string, r: Revision, python: BenchContext['pythonPeer'], peers: Peer[], whole: Map<string, number[]>, download: Map<string, number[]>, rate?: (values: number[]) => string) {
  const rows: Row[] = peers.map((p) => ({
    case: c,
    metric: `peer: ${peerName(p, r, python)}`,
    unit: 's' as const,
    values: whole.get(p)!,
    note: [...(rate ? [rate(whole.get(p)!)] : []), `download alone ${stats(download.get(p)!).median.toFixed(2)} s`, 'no sha256 check'].join('; '),
  }));
  const fastest = (times: Map<string, number[]>) => times.get(peers[0]!)!.map((_, i) => Math.min(...peers.map((p) => times.get(p)![i]!)));
  return { rows, fastest: fastest(whole), fastestDownload: fastest(download) };
}

/**
 * One more cold fetch, with --debug, for its timeline (not counted in the
 * repetitions: the debug lines cost a little).
 */
async function timelineRun(ctx: BenchContext, r: Revision, nixDir: string, downloader: Downloader): Promise<{ phases: Phase[]; seconds: number }> {
  const cacheHome = ctx.benv.freshCache();
  await forget(ctx, r, { blobs: true }, cacheHome);
  const run = await runStamped(['fetch', cliUrl(r), '--ref', r.rev, '--json', '--no-link', '--debug'], { ...withNix(ctx.benv.env(cacheHome), nixDir), NIX_HUG_DOWNLOADER: downloader });
  if (run.code !== 0) throw new Error(`nix-hug fetch --debug (timeline) exited ${run.code}:\n${run.lines.map((l) => l.text).join('\n').slice(-4000)}`);
  return { phases: phases(run, new Map(r.lfs.map((f) => [f.path, f.lfs!.sha256]))), seconds: run.seconds };
}

export interface ColdResult {
  /** The first revision, built; its fetcher cache (a later warm run reuses it). */
  rev: Revision;
  cacheHome: string;
}

/** The issue's targets for a cold fetch. */
const LIMIT_RATIO = 1.25;
const PEER_RATIO = 1;

export async function coldFetch(ctx: BenchContext): Promise<ColdResult> {
  const { config } = ctx;
  const r = await revision(ctx.hub, 'model', MODEL, FIRST_REV_TAG);
  const total = r.lfsBytes;
  const label = `${r.lfs.length} × ${(r.lfs[0]!.size / 2 ** 20).toFixed(0)} MiB + ${r.files.length - r.lfs.length} small`;
  // Each Nix with each downloader (NIX_HUG_DOWNLOADER), first the one `auto` picks for that Nix on this machine.
  const nixes = (await Promise.all(config.nix.map(async (dir) => ({ dir, nix: await nixInfo(dir) })))).flatMap((n) => {
    const chosen = downloaderFromEnv({}, { nixCopiesDownloads: copiesFixedOutputs(n.nix) });
    const downloaders: Downloader[] = [chosen, chosen === 'stream' ? 'nix' : 'stream'];
    return downloaders.map((downloader) => ({
      dir: n.dir,
      downloader,
      key: `${n.dir} ${downloader}`,
      label: `Nix ${n.nix.version}, ${downloader === 'stream' ? 'streamed by the CLI' : "Nix's downloads"}${downloader === chosen ? ' (default here)' : ''}`,
    }));
  });

  // The emulator alone: also reads every shard once, so all methods find them in the page cache.
  const urls = await Promise.all(r.lfs.map((f) => cdnUrl(ctx, r, f.path)));
  await curlNull(urls);
  const one: number[] = [];
  const all: number[] = [];
  for (let i = 0; i < config.reps; i++) {
    one.push(await curlNull([urls[0]!]));
    all.push(await curlNull(urls));
  }
  const oneRate = mb(r.lfs[0]!.size) / stats(one).median;
  const allRate = mb(total) / stats(all).median;

  const python = ctx.pythonPeer;
  const peers: Peer[] = ['snapshot', 'parallel', ...(python ? (['python'] as const) : [])];
  // Nix alone, once per Nix version (the route `NIX_HUG_DOWNLOADER=nix` runs).
  const nixAlone = nixes.filter((n) => n.downloader === 'nix').map((n) => ({ dir: n.dir, label: n.label.replace(/, Nix's downloads.*$/, ''), key: `nix-alone ${n.dir}` }));
  const times = new Map<string, number[]>([
    ['limit', []],
    ...peers.map((p) => [p, []] as [string, number[]]),
    ...nixAlone.map((a) => [a.key, []] as [string, number[]]),
    ...nixes.map((n) => [`fetch ${n.key}`, []] as [string, number[]]),
  ]);
  const methods = [...times.keys()];
  // Each peer's download alone (its own timing; `times` has its whole process).
  const peerDownload = new Map(peers.map((p) => [p, [] as number[]]));
  const rss = new Map(nixes.map((n) => [n.key, [] as number[]]));
  // CPU seconds of each method's process tree, and of the bench process meanwhile (the emulator).
  const treeCpu = new Map(methods.map((m) => [m, [] as number[]]));
  const emulatorCpu = new Map(methods.map((m) => [m, [] as number[]]));
  const cdn = new Map(nixes.map((n) => [n.key, [] as number[]]));
  let cacheHome = '';
  for (let rep = 0; rep < config.reps; rep++) {
    // Rotated order: no method always runs right after another one.
    const order = methods.map((_, i) => methods[(i + rep) % methods.length]!);
    for (const m of order) {
      const measured = async <T>(work: () => Promise<T>, seconds: (value: T) => number): Promise<T> => {
        const { value, cpu } = await measureCpu(work);
        times.get(m)!.push(seconds(value));
        treeCpu.get(m)!.push(cpu.children);
        emulatorCpu.get(m)!.push(cpu.self);
        return value;
      };
      if (m === 'limit') await measured(() => limitRun(ctx, r), (s) => s);
      else if (isPeer(m, python)) peerDownload.get(m)!.push((await measured(() => runPeer(ctx, r, m), (p) => p.whole)).download);
      else if (m.startsWith('nix-alone ')) await measured(() => nixAloneRun(ctx, r, nixAlone.find((a) => a.key === m)!.dir), (s) => s);
      else {
        const n = nixes.find((x) => `fetch ${x.key}` === m)!;
        cacheHome = ctx.benv.freshCache();
        await forget(ctx, r, { blobs: true }, cacheHome);
        const res = await measured(() => fetchRun(ctx, r, cacheHome, [], { rss: true, nixDir: n.dir, downloader: n.downloader }), (x) => x.seconds);
        cdn.get(n.key)!.push(res.cdnBytes);
        if (res.peakRss === undefined) throw new Error('cold fetch: the CLI did not report its peak RSS');
        rss.get(n.key)!.push(mb(res.peakRss));
      }
      const last = (xs: number[]) => xs[xs.length - 1]!.toFixed(2);
      ctx.log(`cold fetch, repetition ${rep + 1}/${config.reps}: ${m} ${last(times.get(m)!)} s (CPU: ${last(treeCpu.get(m)!)} s, emulator ${last(emulatorCpu.get(m)!)} s)`);
    }
  }
  const ratio = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!);
  const rate = (xs: number[]) => `${(mb(total) / stats(xs).median).toFixed(0)} MB/s`;
  const limit = times.get('limit')!;
  const c = '1 cold fetch';
  const peerResult = peerResults(c, r, python, peers, times, peerDownload, rate);
  const cpuNote = (m: string) => `the emulator meanwhile: ${stats(emulatorCpu.get(m)!).median.toFixed(2)} s`;
  const rows: Row[] = [
    { case: c, metric: `emulator alone: 1 shard, curl -o /dev/null`, unit: 's', values: one, note: `${oneRate.toFixed(0)} MB/s` },
    { case: c, metric: `emulator alone: ${r.lfs.length} shards in parallel, curl -o /dev/null`, unit: 's', values: all, note: `${allRate.toFixed(0)} MB/s` },
    { case: c, metric: `limit: ${r.lfs.length} × curl -L | tee | openssl sha256`, unit: 's', values: limit, note: rate(limit) },
    { case: c, metric: 'limit: CPU of its processes (user + system)', unit: 's', values: treeCpu.get('limit')!, note: cpuNote('limit') },
    ...peerResult.rows,
  ];
  for (const a of nixAlone) {
    const alone = times.get(a.key)!;
    const processes = processCount(r.lfs.length, availableParallelism());
    rows.push(
      { case: c, metric: `Nix alone: the blobs' nix build (${processes} process(es), as the CLI splits them), ${a.label}`, unit: 's', values: alone, note: rate(alone) },
      { case: c, metric: `CPU of Nix alone (user + system), ${a.label}`, unit: 's', values: treeCpu.get(a.key)!, note: cpuNote(a.key) },
      { case: c, metric: `Nix alone / limit, ${a.label}`, unit: 'x', values: ratio(alone, limit), note: "below which no fetch with Nix's downloads goes" },
    );
  }
  for (const n of nixes) {
    const fetch = times.get(`fetch ${n.key}`)!;
    const alone = nixAlone.find((a) => a.dir === n.dir);
    if (n.downloader === 'nix' && alone) {
      const own = fetch.map((x, i) => x - times.get(alone.key)![i]!);
      rows.push({ case: c, metric: `fetch − Nix alone, ${n.label}`, unit: 's', values: own, note: "the CLI's own share: start-up, Hub API, git, evaluation, the snapshot" });
    }
    rows.push(
      { case: c, metric: `nix-hug fetch (${label}), ${n.label}`, unit: 's', values: fetch, note: rate(fetch) },
      { case: c, metric: `CPU of nix-hug and its nix processes (user + system), ${n.label}`, unit: 's', values: treeCpu.get(`fetch ${n.key}`)!, note: cpuNote(`fetch ${n.key}`) },
      { case: c, metric: `fetch / limit, ${n.label}`, unit: 'x', values: ratio(fetch, limit), target: atMost(LIMIT_RATIO, 'x') },
      { case: c, metric: `fetch / fastest peer, ${n.label}`, unit: 'x', values: ratio(fetch, peerResult.fastest), target: atMost(PEER_RATIO, 'x') },
      { case: c, metric: `fetch / fastest peer's download alone, ${n.label}`, unit: 'x', values: ratio(fetch, peerResult.fastestDownload), note: "the peers' start-up and imports left out" },
      { case: c, metric: `CDN bytes per cold fetch, ${n.label}`, unit: 'bytes', values: cdn.get(n.key)!, target: exactly(total, 'bytes', '= LFS bytes') },
      { case: '5 memory', metric: `peak RSS of the CLI process during the cold fetch (nix excluded), ${n.label}`, unit: 'MB', values: rss.get(n.key)!, target: atMost(120, 'MB') },
    );
  }
  ctx.rows.push(...rows);
  const budget = (label: string, m: string) => ({ label, wall: times.get(m)!, tree: treeCpu.get(m)!, emulator: emulatorCpu.get(m)! });
  ctx.breakdown.push(
    cpuBudget([
      budget('limit: curl \\| tee \\| openssl sha256', 'limit'),
      ...peers.map((p) => budget(`peer: ${peerName(p, r, python)} (no sha256 check)`, p)),
      ...nixAlone.map((a) => budget(`Nix alone (the blobs' nix build, no CLI), ${a.label}`, a.key)),
      ...nixes.map((n) => budget(`nix-hug fetch, ${n.label}`, `fetch ${n.key}`)),
    ]),
  );
  const timelines: { label: string; downloader: Downloader; phases: Phase[]; seconds: number }[] = [];
  for (const n of nixes) {
    const t = await timelineRun(ctx, r, n.dir, n.downloader);
    timelines.push({ label: n.label, downloader: n.downloader, ...t });
    const text = renderTimeline(t.phases, t.seconds);
    ctx.log(`timeline of a cold fetch, ${n.label}:\n${text}`);
    ctx.breakdown.push(`Timeline of one more cold fetch with ${n.label} (with --debug; seconds from the CLI's start):\n\n\`\`\`\n${text}\n\`\`\``);
  }
  // Where one Nix spends time the other does not, downloader by downloader.
  for (const d of ['stream', 'nix'] as const) {
    const same = timelines.filter((t) => t.downloader === d);
    if (same.length > 1) ctx.breakdown.push(comparePhases(same));
  }
  const limitRate = mb(total) / stats(limit).median;
  ctx.findings.push(
    `The emulator alone serves one ${(r.lfs[0]!.size / 2 ** 20).toFixed(0)} MiB shard at ${oneRate.toFixed(0)} MB/s and all ${r.lfs.length} in parallel at ${allRate.toFixed(0)} MB/s ` +
      `(curl to /dev/null); the limit (written and hashed) reaches ${limitRate.toFixed(0)} MB/s, ` +
      (allRate >= 1.5 * limitRate
        ? `so the emulator is not the bottleneck (${(allRate / limitRate).toFixed(1)}× headroom).`
        : `so the emulator is close to being the bottleneck (only ${(allRate / limitRate).toFixed(1)}× headroom): read the ratios with care.`),
  );
  return { rev: r, cacheHome };
}

/** Bytes per second per download in the network-bound case: 4 shards at once make about a 1 Gbit/s link. */
export const WIRE_BYTES_PER_SECOND = 32_000_000;
/**
 * Bytes per second of git's answers in the network-bound case: the model's
 * pointer clone then takes about half a second, as a clone over the
 * internet does (round trips, not bytes), instead of the emulator's few
 * hundredths.
 */
export const GIT_BYTES_PER_SECOND = 5_000;
/**
 * How late the Hub's API and resolve requests are answered in the
 * network-bound case: the Hub is far, each request costs a round trip (and
 * the server's own time), where the emulator answers in a millisecond.
 */
export const HUB_LATENCY_MS = 100;

/**
 * Case 1b: the same cold fetch with every CDN download throttled to
 * WIRE_BYTES_PER_SECOND, git to GIT_BYTES_PER_SECOND and every API and
 * resolve request answered HUB_LATENCY_MS late, as a real link makes them,
 * both downloaders on each Nix: where the network is the limit,
 * does streaming's overlap of Nix's hashing with the download win, and does
 * the slow clone stay off the downloads' path? The limit and the peers go
 * through the same throttled CDN (neither clones): what a user switching
 * from `hf download` waits on a real link, where case 1 measures the CPU.
 */
export async function networkBoundFetch(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const r = await revision(ctx.hub, 'model', MODEL, FIRST_REV_TAG);
  const nixes = (await Promise.all(config.nix.map(async (dir) => ({ dir, nixLabel: await nixLabel(dir) })))).flatMap((n) =>
    (['stream', 'nix'] as const).map((downloader) => ({ dir: n.dir, downloader, key: `${n.dir} ${downloader}`, label: `${n.nixLabel}, ${downloader === 'stream' ? 'streamed by the CLI' : "Nix's downloads"}` })),
  );
  const python = ctx.pythonPeer;
  const peers: Peer[] = ['snapshot', 'parallel', ...(python ? (['python'] as const) : [])];
  const times = new Map<string, number[]>([['limit', []], ...peers.map((p) => [p, []] as [string, number[]]), ...nixes.map((n) => [n.key, []] as [string, number[]])]);
  const methods = [...times.keys()];
  const peerDownload = new Map(peers.map((p) => [p, [] as number[]]));
  ctx.hub.addFault({ match: '/repos/', kind: { slowBytesPerSecond: WIRE_BYTES_PER_SECOND }, times: Infinity });
  ctx.hub.addFault({ match: 'git-upload-pack', kind: { slowBytesPerSecond: GIT_BYTES_PER_SECOND }, times: Infinity });
  ctx.hub.addFault({ match: /^\/api\/|\/resolve\//, kind: { latencyMs: HUB_LATENCY_MS }, times: Infinity });
  try {
    for (let rep = 0; rep < config.reps; rep++) {
      const order = methods.map((_, i) => methods[(i + rep) % methods.length]!);
      for (const m of order) {
        if (m === 'limit') times.get(m)!.push(await limitRun(ctx, r));
        else if (isPeer(m, python)) {
          const t = await runPeer(ctx, r, m);
          times.get(m)!.push(t.whole);
          peerDownload.get(m)!.push(t.download);
        } else {
          const n = nixes.find((x) => x.key === m)!;
          const cacheHome = ctx.benv.freshCache();
          await forget(ctx, r, { blobs: true }, cacheHome);
          times.get(m)!.push((await fetchRun(ctx, r, cacheHome, [], { nixDir: n.dir, downloader: n.downloader })).seconds);
        }
        const t = times.get(m)!;
        ctx.log(`network-bound cold fetch, repetition ${rep + 1}/${config.reps}: ${m} ${t[t.length - 1]!.toFixed(3)} s`);
      }
    }
  } finally {
    ctx.hub.clearFaults();
  }
  const c = '1b network-bound cold fetch';
  const limit = times.get('limit')!;
  const wire = `${(WIRE_BYTES_PER_SECOND / 1e6).toFixed(0)} MB/s per download`;
  ctx.rows.push({ case: c, metric: `limit: ${r.lfs.length} × curl -L | tee | openssl sha256, CDN at ${wire}`, unit: 's', values: limit });
  const peerResult = peerResults(c, r, python, peers, times, peerDownload);
  ctx.rows.push(...peerResult.rows);
  const hfDownload = python ? times.get('python')! : null;
  for (const n of nixes) {
    const fetch = times.get(n.key)!;
    ctx.rows.push(
      { case: c, metric: `nix-hug fetch, ${n.label}`, unit: 's', values: fetch },
      { case: c, metric: `fetch / limit, ${n.label}`, unit: 'x', values: fetch.map((x, i) => x / limit[i]!) },
      { case: c, metric: `fetch / fastest peer, ${n.label}`, unit: 'x', values: fetch.map((x, i) => x / peerResult.fastest[i]!) },
      { case: c, metric: `fetch / fastest peer's download alone, ${n.label}`, unit: 'x', values: fetch.map((x, i) => x / peerResult.fastestDownload[i]!) },
      ...(hfDownload ? [{ case: c, metric: `fetch / hf download's snapshot_download, ${n.label}`, unit: 'x' as const, values: fetch.map((x, i) => x / hfDownload[i]!) }] : []),
    );
  }
}

/**
 * The cold fetch's CPU budget, as a paragraph: on a machine with few cores
 * the wire is not the limit, CPU is. (process tree + emulator) / cores is the
 * least wall time that much CPU work allows, whatever overlaps what.
 */
function cpuBudget(methods: { label: string; wall: number[]; tree: number[]; emulator: number[] }[]): string {
  const cores = availableParallelism();
  const med = (xs: number[]) => stats(xs).median;
  const line = ({ label, wall, tree, emulator }: (typeof methods)[number]) =>
    `| ${label} | ${med(wall).toFixed(2)} s | ${med(tree).toFixed(2)} s | ${med(emulator).toFixed(2)} s | ${(med(tree.map((x, i) => x + emulator[i]!)) / cores).toFixed(2)} s |`;
  return [
    `CPU time of a cold fetch (medians of the repetitions; user + system seconds of each method's processes, from the bench's reaped children, and of the bench process meanwhile, which runs the emulator). ` +
      `On ${cores} core(s), (method + emulator) / ${cores} is the least wall time that much CPU work allows:`,
    '',
    '| method | wall | CPU of its processes | CPU of the emulator | (both) / cores |',
    '|---|---:|---:|---:|---:|',
    ...methods.map(line),
  ].join('\n');
}
