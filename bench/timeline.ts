/**
 * The timeline of one cold `nix-hug fetch --debug`: every stderr line is
 * stamped as it arrives (a pipe adds microseconds), and the CLI's debug lines
 * say what started and how long it took — the Hub client's requests
 * (`GET URL -> 200 in N ms`), git and the checkout, and what Nix reported in
 * its internal-json log (`nix: download URL: done in N s`, `nix: build
 * DRV: done in N s`). From those: the Hub API, git, evaluation, each blob's
 * download and its registration by Nix (the end of the download to the end of
 * the blob's build: hashing, reference scan, registration), assembly (the
 * snapshot's build) and output (the end of the build to the exit).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI, REPO_ROOT } from '../test/support/index.ts';

export interface StampedLine {
  /** Seconds since the CLI was spawned. */
  at: number;
  text: string;
}

export interface TimedRun {
  code: number;
  stdout: string;
  lines: StampedLine[];
  seconds: number;
}

/** `node dist/bin.cjs ARGS`, each stderr line stamped on arrival. */
export function runStamped(args: string[], env: NodeJS.ProcessEnv): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const since = () => (performance.now() - start) / 1000;
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const lines: StampedLine[] = [];
    createInterface({ input: child.stderr }).on('line', (text) => lines.push({ at: since(), text }));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, lines, seconds: since() }));
  });
}

export interface Phase {
  what: string;
  start: number;
  end: number;
}

/** `… in 12 ms`, `… (12 ms)`, `…: done in 0.123 s`: how long the thing a line reports took, in seconds. */
function reportedDuration(text: string): number | null {
  const ms = /(?:\bin |\()(\d+(?:\.\d+)?) ms\)?$/.exec(text);
  if (ms) return Number(ms[1]) / 1000;
  const s = /done in (\d+(?:\.\d+)?) s$/.exec(text);
  return s ? Number(s[1]) : null;
}

const debugText = (l: StampedLine) => l.text.replace(/^debug:\s*/, '');

/**
 * The phases of a fetch from its stamped debug lines. `blobs`: path → sha256
 * of the LFS files fetched (a blob's build names its sha256, its download the
 * path).
 */
export function phases(run: TimedRun, blobs: ReadonlyMap<string, string>): Phase[] {
  const out: Phase[] = [];
  const interval = (l: StampedLine) => {
    const d = reportedDuration(l.text);
    return d === null ? null : { start: Math.max(0, l.at - d), end: l.at };
  };
  const span = (what: string, ls: StampedLine[]) => {
    const iv = ls.map(interval).filter((x): x is { start: number; end: number } => x !== null);
    if (iv.length > 0) out.push({ what, start: Math.min(...iv.map((i) => i.start)), end: Math.max(...iv.map((i) => i.end)) });
  };
  const debug = run.lines.filter((l) => l.text.startsWith('debug:'));
  const find = (re: RegExp) => debug.find((l) => re.test(debugText(l)));

  // The Hub's API only: not a file's resolve request or its CDN download (the CLI's own, when it streams).
  const api = debug.filter((l) => /^(GET|HEAD) \S+\/api\/\S* -> \d+ in \d+ ms$/.test(debugText(l)));
  span(`Hub API (${api.length} requests)`, api);
  const firstRequest = out[0]?.start;
  if (firstRequest !== undefined) out.push({ what: 'before the first Hub request (Node start-up, the CLI loading; nix --version runs beside the first requests)', start: 0, end: firstRequest });
  span('git (pointer clone and gitRepoHash)', debug.filter((l) => /^gitRepoHash of .* \(\d+ ms\)$/.test(debugText(l))));
  const fetchGit = debug.filter((l) => /^nix: fetching Git repository .*: done in/.test(debugText(l)));
  span('git (fetchGit during evaluation)', fetchGit);
  const checkout = find(/^added the git checkout /);
  const usingNix = find(/^using Nix /);
  if (checkout && usingNix) out.push({ what: 'git checkout added to the store', start: usingNix.at, end: checkout.at });

  // Evaluation: alongside the downloads (several nix processes), or inside the snapshot's build.
  const evalStart = find(/^evaluating the snapshot beside the downloads$/);
  const evaluated = find(/^evaluated the snapshot$/);
  const snapshotStart = find(/^building the snapshot$/);
  const firstNix = (after: number) => debug.find((l) => l.at > after && /^nix: .*: started$/.test(debugText(l)));
  if (evalStart && evaluated) out.push({ what: 'evaluation (nix eval, alongside the downloads)', start: evalStart.at, end: evaluated.at });
  else if (snapshotStart) {
    const first = firstNix(snapshotStart.at);
    if (first) out.push({ what: 'evaluation (in the snapshot\'s nix build)', start: snapshotStart.at, end: first.at });
  }

  for (const [path, sha256] of blobs) {
    // Nix's download and the build that registers it, or the CLI's streamed download and Nix's work after its last byte.
    const download = debug.find((l) => /^(nix: )?download .*: done in/.test(debugText(l)) && debugText(l).includes(`/${path}:`));
    const build = debug.find((l) => /^(nix: build|store) .*: done in/.test(debugText(l)) && debugText(l).includes(`hf-blob-${sha256}`));
    const d = download && interval(download);
    if (d) out.push({ what: `download ${path}`, ...d });
    if (d && build) out.push({ what: `registration of ${path} by Nix (hashing after the last byte)`, start: d.end, end: build.at });
  }
  const snapshotBuild = debug.find((l) => /^nix: build \S+-hf-(model|dataset|space)-\S+\.drv: done in/.test(debugText(l)));
  if (snapshotStart && snapshotBuild && evaluated) {
    out.push({ what: "the snapshot's nix build: start-up (of the .drv evaluated beside the downloads)", start: snapshotStart.at, end: interval(snapshotBuild)!.start });
  }
  const lastBlob = Math.max(0, ...out.filter((p) => p.what.startsWith('registration of')).map((p) => p.end));
  if (snapshotBuild) out.push({ what: 'assembly (the snapshot\'s build)', start: Math.max(lastBlob, interval(snapshotBuild)!.start), end: snapshotBuild.at });
  const built = run.lines.find((l) => /^built \/nix\/store\//.test(l.text));
  if (built) out.push({ what: 'output (after the build: persist, print)', start: built.at, end: run.seconds });
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** One line per phase: start, end, duration and a bar over the whole run. */
export function renderTimeline(ps: readonly Phase[], total: number, width = 40): string {
  const scale = width / Math.max(total, 1e-9);
  const label = Math.max(...ps.map((p) => p.what.length), 5);
  const lines = ps.map((p) => {
    const from = Math.round(p.start * scale);
    const len = Math.max(1, Math.round((p.end - p.start) * scale));
    const bar = `${' '.repeat(from)}${'█'.repeat(Math.min(len, width - from))}`.padEnd(width);
    return `${p.start.toFixed(3).padStart(7)} ${p.end.toFixed(3).padStart(7)} ${(p.end - p.start).toFixed(3).padStart(6)} s  |${bar}|  ${p.what}`;
  });
  return [`${'start'.padStart(7)} ${'end'.padStart(7)} ${'took'.padStart(8)}  |${'whole fetch'.padEnd(width)}|  ${'phase'.padEnd(label)}`, ...lines, `${'0.000'.padStart(7)} ${total.toFixed(3).padStart(7)} ${total.toFixed(3).padStart(6)} s  |${'█'.repeat(width)}|  the whole fetch (spawn to exit)`].join('\n');
}

/** A phase's kind, so that timelines of different runs line up (each blob's download is one `downloads`). */
function kind(p: Phase): string {
  if (p.what.startsWith('download ')) return 'downloads (first start to last end)';
  if (p.what.startsWith('registration of ')) return 'registration by Nix after each download (sum over the blobs)';
  if (p.what.startsWith('Hub API')) return 'Hub API';
  return p.what;
}

/** Seconds per phase kind: spans for downloads, sums for registrations, durations otherwise. */
function byKind(ps: readonly Phase[], total: number): Map<string, number> {
  const out = new Map<string, number>();
  const groups = new Map<string, Phase[]>();
  for (const p of ps) groups.set(kind(p), [...(groups.get(kind(p)) ?? []), p]);
  for (const [k, g] of groups) {
    if (k.startsWith('downloads')) out.set(k, Math.max(...g.map((p) => p.end)) - Math.min(...g.map((p) => p.start)));
    else out.set(k, g.reduce((n, p) => n + (p.end - p.start), 0));
  }
  const downloads = ps.filter((p) => p.what.startsWith('download '));
  const registrations = ps.filter((p) => p.what.startsWith('registration of '));
  if (downloads.length && registrations.length) {
    out.set('the tail: last download end to last registration end', Math.max(...registrations.map((p) => p.end)) - Math.max(...downloads.map((p) => p.end)));
  }
  out.set('the whole fetch', total);
  return out;
}

/** A Markdown table of the phases of several timelines side by side, and where the later Nix spends more. */
export function comparePhases(runs: readonly { label: string; phases: Phase[]; seconds: number }[]): string {
  const maps = runs.map((r) => byKind(r.phases, r.seconds));
  const kinds = [...new Set(maps.flatMap((m) => [...m.keys()]))];
  const first = maps[0]!;
  const last = maps[maps.length - 1]!;
  const cell = (m: Map<string, number>, k: string) => (m.has(k) ? `${m.get(k)!.toFixed(3)} s` : '–');
  const header = `| phase | ${runs.map((r) => r.label).join(' | ')} | ${runs[runs.length - 1]!.label} − ${runs[0]!.label} |`;
  const rows = kinds.map((k) => {
    const diff = last.has(k) && first.has(k) ? `${(last.get(k)! - first.get(k)!) >= 0 ? '+' : ''}${(last.get(k)! - first.get(k)!).toFixed(3)} s` : '–';
    return `| ${k} | ${maps.map((m) => cell(m, k)).join(' | ')} | ${diff} |`;
  });
  const more = kinds
    .filter((k) => k !== 'the whole fetch' && first.has(k) && last.has(k) && last.get(k)! - first.get(k)! > 0.05)
    .sort((a, b) => last.get(b)! - first.get(b)! - (last.get(a)! - first.get(a)!))
    .map((k) => `${k} (+${(last.get(k)! - first.get(k)!).toFixed(3)} s)`);
  return [
    `Phases of these timelines side by side (one cold fetch each, so single measurements):`,
    '',
    header,
    `|---|${runs.map(() => '---:').join('|')}|---:|`,
    ...rows,
    '',
    more.length === 0
      ? `${runs[runs.length - 1]!.label} spent no phase more than 0.05 s longer than ${runs[0]!.label} in these runs.`
      : `Where ${runs[runs.length - 1]!.label} spends the time ${runs[0]!.label} does not: ${more.join('; ')}.`,
  ].join('\n');
}
