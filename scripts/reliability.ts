/**
 * `npm run reliability`: runs the hardening suites (test/hardening/) and
 * prints what they did and survived — faults injected, bad inputs tried,
 * canaries intact, secrets checked — from the counts the tests themselves
 * wrote (test/support/figures.ts `record`), never from numbers kept here.
 * `--markdown` prints the table as Markdown (for the README).
 * Exits non-zero when a test failed: the figures are then incomplete.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Figures } from '../test/support/index.ts';

const markdown = process.argv.includes('--markdown');
const dir = mkdtempSync(join(tmpdir(), 'nix-hug-reliability-'));
const suites = readdirSync('test/hardening')
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => join('test/hardening', f));

const started = Date.now();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=dot', ...suites], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, NIX_HUG_RELIABILITY_DIR: dir },
});
const seconds = Math.round((Date.now() - started) / 1000);

const total: Required<Figures> = {
  faultsInjected: 0,
  faultScenariosSurvived: 0,
  faultScenarios: 0,
  badInputs: 0,
  generatedInputs: 0,
  hostileRepos: 0,
  canariesIntact: 0,
  secretChecks: 0,
  commandLinesRead: 0,
  secretCommands: 0,
  interruptions: 0,
  concurrentRuns: 0,
  endpointTricks: 0,
  tokenScopes: 0,
  regexBombs: 0,
};
const seen = new Set<string>();
for (const name of readdirSync(dir)) {
  for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
    if (!line) continue;
    const row = JSON.parse(line) as Figures & { suite: string };
    seen.add(row.suite);
    for (const key of Object.keys(total) as (keyof Figures)[]) total[key] += row[key] ?? 0;
  }
}
rmSync(dir, { recursive: true, force: true });

const nixVersion = spawnSync('nix', ['--version'], { encoding: 'utf8' }).stdout.trim();
const n = (x: number) => x.toLocaleString('en-US');
const rows: Array<[string, string, string]> = [
  ['Network faults injected', n(total.faultsInjected), '503s, 429 with Retry-After, bodies dropped or stalled mid-file, wrong bytes, git errors, the Hub going away'],
  ['Fault scenarios survived', `${n(total.faultScenariosSurvived)} of ${n(total.faultScenarios)}`, 'fetched after bounded retries, or one clear error naming repo and file with no partial store path, --out dir or export record'],
  ['Malformed invocations', n(total.badInputs), 'URLs, refs, patterns, paths, option mixes, config files, old manifests, env knobs: exit 1 or 2, one line, nothing written'],
  ['Generated inputs', n(total.generatedInputs), 'property tests: URL parsing, glob → regex against Nix builtins.match, Nix string escaping round-trips'],
  ['Hostile repositories', n(total.hostileRepos), 'shell/Nix code in names, newlines, escaping symlinks, bad pointers, a lying mirror: fetched exactly or refused'],
  ['Canaries intact', n(total.canariesIntact), 'files that would exist had any name or value been executed'],
  ['Token checks', `${n(total.secretChecks)} places`, `${n(total.secretCommands)} commands with HF_TOKEN and --debug; outputs, expression, export records, persist store, store paths, derivations, build logs, caches, netrc, temp files: found 0 times`],
  ['Command lines read', n(total.commandLinesRead), 'every process in /proc, polled during a token-authenticated download and build: token found 0 times'],
  ['Interruptions', n(total.interruptions), 'SIGINT/SIGTERM mid-download, mid-copy, mid-export, mid-import: exit within 3 s, nothing left, re-run succeeds'],
  ['Endpoint tricks', n(total.endpointTricks), 'HF_ENDPOINT values a URL parser rewrites (newline, tab, empty ? or #, backslash): refused before any request, token sent nowhere'],
  ['Regex bombs', n(total.regexBombs), "eleven-star patterns (a repo's .gitattributes, a user's --include) against 200-byte names that almost match: CLI and library answer in seconds"],
  ['Token scoping', n(total.tokenScopes), 'a gated build whose nixpkgs is fetched with git from another host: the token went to the Hub only'],
  ['Concurrent runs', n(total.concurrentRuns), 'same repo fetched twice at once; exports racing imports on one persist store: no loss'],
];

const context = `${suites.length} suites (${[...seen].sort().join(', ')}), ${nixVersion}, ${availableParallelism()} cores, ${seconds} s`;
if (markdown) {
  console.log(`| | count | what |\n|---|---:|---|`);
  for (const [what, count, detail] of rows) console.log(`| ${what} | ${count} | ${detail} |`);
  console.log(`\n_${context}_`);
} else {
  console.log(`\nnix-hug reliability — ${context}\n`);
  const w = Math.max(...rows.map((r) => r[0].length));
  const c = Math.max(...rows.map((r) => r[1].length));
  for (const [what, count, detail] of rows) console.log(`  ${what.padEnd(w)}  ${count.padStart(c)}  ${detail}`);
}
if (result.status !== 0) {
  console.error(`\nsome hardening tests failed (exit ${result.status ?? result.signal}): the figures above are incomplete`);
  process.exitCode = 1;
}
