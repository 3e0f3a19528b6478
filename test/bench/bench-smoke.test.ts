/**
 * The benchmark's code path, once, with tiny sizes: `bench/run.ts --quick`
 * must run every case against the emulator and real Nix and print (and
 * write) a table with every case. Timings belong to the bench, never to a
 * test: only the table's shape and the byte counts (which do not depend on
 * the machine) are checked.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TIMEOUT_MS = 300_000;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBench(args: string[]): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** `Nix 2.8.0`: the version a nix prints. */
function nixLabel(nix: string): string {
  const out = execFileSync(nix, ['--version'], { encoding: 'utf8' });
  return `Nix ${/(\d+\.\d+(?:\.\d+)?)/.exec(out)![1]}`;
}

/** How the cold case names each downloader (the one NIX_HUG_DOWNLOADER=auto picks on this machine marked). */
const DOWNLOADERS = ['streamed by the CLI(?: \\(default here\\))?', "Nix's downloads(?: \\(default here\\))?"];
/** The Nix versions the bench compares by default: PATH's, and 2.26 at /opt when installed and another version. */
const NIX_LABELS = [...new Set([nixLabel('nix'), ...(existsSync('/opt/nix-2.26/bin/nix') ? [nixLabel('/opt/nix-2.26/bin/nix')] : [])])];

/** The results table's rows as cells (header and separator dropped; other tables, of fewer columns, left out). */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| case '))
    .map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()))
    .filter((cells) => cells.length === 8);
}

describe('npm run bench -- --quick (tiny sizes)', { timeout: TIMEOUT_MS + 10_000 }, () => {
  let dir: string;
  let out: string;
  let ran: Ran;

  before(async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
    dir = mkdtempSync(join(tmpdir(), 'nix-hug-bench-smoke-'));
    out = join(dir, 'RESULTS.md');
    ran = await runBench(['--quick', '--shard-size', '1M', '--filter-size', '256K', '--scale', '20,60', '--startup-reps', '2', '--models', '3', '--out', out]);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finishes and writes the results file', () => {
    assert.equal(ran.code, 0, `bench failed:\n${ran.stderr.slice(-4000)}`);
    assert.ok(existsSync(out), 'no results file');
  });

  it('prints one table with a row for every case and the reference points', () => {
    const rows = tableRows(ran.stdout);
    const has = (caseName: string, measure: RegExp) =>
      assert.ok(
        rows.some((r) => r[0] === caseName && measure.test(r[1] ?? '')),
        `no row "${caseName}" / ${measure} in:\n${ran.stdout}`,
      );
    has('1 cold fetch', /^emulator alone: 1 shard/);
    has('1 cold fetch', /^limit: 4 × curl -L \\?\| tee \\?\| openssl sha256$/);
    has('1 cold fetch', /^peer: @huggingface\/hub snapshotDownload$/);
    // Every Nix of --nix side by side (the smoke run asks for both when 2.26 is installed).
    for (const nix of NIX_LABELS) {
      // Both downloaders (NIX_HUG_DOWNLOADER) on each Nix.
      for (const route of DOWNLOADERS) {
        has('1 cold fetch', new RegExp(`^nix-hug fetch \\(4 × 1 MiB \\+ 20 small\\), ${nix}, ${route}$`));
        has('1 cold fetch', new RegExp(`^fetch / limit, ${nix}, ${route}$`));
        has('1 cold fetch', new RegExp(`^fetch / fastest peer, ${nix}, ${route}$`));
        // The peers are timed spawn to exit, as nix-hug is; their downloads alone are the stricter view beside it.
        has('1 cold fetch', new RegExp(`^fetch / fastest peer's download alone, ${nix}, ${route}$`));
      }
      // Nix alone: the blobs' nix builds without the CLI, and what the CLI adds to them.
      has('1 cold fetch', new RegExp(`^Nix alone: the blobs' nix build \\(\\d+ process\\(es\\), as the CLI splits them\\), ${nix}$`));
      has('1 cold fetch', new RegExp(`^Nix alone / limit, ${nix}$`));
      has('1 cold fetch', new RegExp(`^fetch − Nix alone, ${nix}, Nix's downloads(?: \\(default here\\))?$`));
      has('2 warm re-fetch', new RegExp(`^nix-hug fetch, everything in the store, ${nix}$`));
      // The network-bound case sets each fetch beside the peers through the same throttled CDN.
      for (const route of ['streamed by the CLI', "Nix's downloads"]) {
        has('1b network-bound cold fetch', new RegExp(`^fetch / limit, ${nix}, ${route}$`));
        has('1b network-bound cold fetch', new RegExp(`^fetch / fastest peer, ${nix}, ${route}$`));
        has('1b network-bound cold fetch', new RegExp(`^fetch / fastest peer's download alone, ${nix}, ${route}$`));
      }
    }
    has('1b network-bound cold fetch', /^peer: @huggingface\/hub snapshotDownload$/);
    has('3 second revision', /^LFS bytes downloaded/);
    for (const n of ['20', '60']) {
      has('4 scale', new RegExp(`^ls, ${n} files$`));
      has('4 scale', new RegExp(`^fetch --no-build, ${n} files$`));
      has('4 scale', new RegExp(`^nix eval drvPath, ${n} files, cold$`));
    }
    has('4 scale', /^growth of ls, 60 files \/ 20 files$/);
    has('5 start-up', /^node -e 0 \(Node's own start-up, the floor; 2 runs\)$/);
    for (const probe of ['--version', '--help', 'completion bash']) has('5 start-up', new RegExp(`^nix-hug ${probe} / node -e 0$`));
    has('5 memory', /^peak RSS of the CLI process/);
    has('6 filters', /^CDN bytes$/);
    has('7 offline evaluation', /^60-file dataset, no network \(gitRepoHash \+ manifest\), cold, Nix \d+\.\d+/);
    has('7 offline evaluation', /^60-file dataset, evaluation-time route, cold, Nix \d+\.\d+/);
    has('7 offline evaluation', /^3 small models, no network \(gitRepoHash \+ manifest\), cold, Nix \d+\.\d+/);
    has('7 offline evaluation', /^3 small models, no network, cold: Nix's evaluator CPU, Nix \d+\.\d+/);
    has('8 lock file', /^outdated, 3 entries, nothing moved$/);
    has('8 lock file', /^fromLock eval, 3 entries \+ cache$/);
    has('8 lock file', /^update --no-build, 1 of 3 moved$/);
    // Every row has a median, a min and a max with a unit.
    for (const r of rows) assert.match(r[2] ?? '', /^-?[\d,.]+ ?(s|ms|×|B|MB|MB\/s|req)$/, `row without a value: ${r.join(' | ')}`);
  });

  it('counts the bytes the issue sets: all shards cold, none warm or for the second revision, only safetensors with --include', () => {
    const rows = tableRows(ran.stdout);
    const row = (caseName: string, measure: RegExp) => rows.find((r) => r[0] === caseName && measure.test(r[1] ?? ''));
    const bytes = (r: string[] | undefined) => r?.slice(2, 5);
    for (const nix of NIX_LABELS) {
      for (const route of DOWNLOADERS) {
        assert.deepEqual(bytes(row('1 cold fetch', new RegExp(`^CDN bytes per cold fetch, ${nix}, ${route}$`))), Array(3).fill(`${(4 * 2 ** 20).toLocaleString('en-US')} B`));
      }
      assert.deepEqual(bytes(row('2 warm re-fetch', new RegExp(`^CDN bytes, ${nix}$`))), ['0 B', '0 B', '0 B']);
    }
    assert.deepEqual(bytes(row('3 second revision', /^LFS bytes/)), ['0 B', '0 B', '0 B']);
    assert.deepEqual(bytes(row('6 filters', /^CDN bytes$/)), Array(3).fill(`${(4 * 256 * 1024).toLocaleString('en-US')} B`));
    assert.deepEqual(bytes(row('8 lock file', /^Hub requests of that outdated$/)), Array(3).fill('3 req'));
  });

  it('writes the same table to the results file with the machine and the settings', () => {
    const md = readFileSync(out, 'utf8');
    assert.deepEqual(tableRows(md), tableRows(ran.stdout));
    assert.match(md, /\b\d+ cores\b/);
    assert.match(md, /nix \(Nix\) \d+\.\d+/);
    assert.match(md, /Node v\d+\.\d+/);
    // The Python peer is measured when a Python with huggingface_hub is at hand, and otherwise said why not.
    const python = /^- huggingface_hub (\S+) \(Python, [^)]*\)|^- huggingface_hub \(Python\): not measured: .+/m.exec(md);
    assert.ok(python, 'no line on the Python peer under Machine');
    const pythonRow = tableRows(md).some((r) => r[0] === '1 cold fetch' && /^peer: huggingface_hub snapshot_download/.test(r[1] ?? ''));
    assert.equal(pythonRow, python[1] !== undefined, 'the Python peer has a row exactly when it was found');
    assert.match(md, /## The emulator alone/);
    assert.match(md, /4 LFS shards × 1 MiB \+ 20 small files/);
    // The cold fetch's timeline: every phase the CLI's --debug lines show, each shard's download and registration.
    for (const nix of NIX_LABELS) assert.match(md, new RegExp(`Timeline of one more cold fetch with ${nix}`));
    if (NIX_LABELS.length > 1) assert.match(md, /Where Nix [^:]+ spends the time Nix [^:]+ does not: |spent no phase more than/);
    for (const phase of [/Hub API \(\d+ requests\)/, /evaluation/, /assembly \(the snapshot's build\)/, /output \(after the build/]) assert.match(md, phase);
    for (let i = 1; i <= 4; i++) {
      assert.match(md, new RegExp(`\\|  download model-0000${i}-of-00004\\.safetensors`));
      assert.match(md, new RegExp(`\\|  registration of model-0000${i}-of-00004\\.safetensors by Nix`));
    }
  });
});
