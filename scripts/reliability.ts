/**
 * `npm run reliability`: runs the hardening suites (test/hardening/) and
 * prints what they tried, what passed and what they observed — from the
 * lines the tests themselves wrote (test/support/figures.ts), never from
 * numbers kept here. A case counts as tried when it starts and as passed
 * only after its assertions passed, so a failure shows as "15 of 16".
 * `--markdown` prints the table as Markdown (for the README). The footer
 * says which Nix ran and how loaded the machine was while the suites ran.
 * Exits non-zero when a test failed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FigureLine, Figures } from '../test/support/figures.ts';
import { applyTestNix, describeTestNix, findTestNix } from '../test/support/nix-matrix.ts';

const markdown = process.argv.includes('--markdown');
const dir = mkdtempSync(join(tmpdir(), 'nix-hug-reliability-'));
const suites = readdirSync('test/hardening')
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => join('test/hardening', f));

// The suites, every CLI and nix they start use the Nix that NIX_HUG_TEST_NIX selects (or the one on PATH).
applyTestNix(process.env);
const nix = describeTestNix(findTestNix(process.env));

/** The 1-minute load average, sampled while the suites run. */
const loads: number[] = [];
const sampleLoad = () => loads.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
sampleLoad();
const sampler = setInterval(sampleLoad, 5000);

const started = Date.now();
const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=dot', ...suites], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NIX_HUG_RELIABILITY_DIR: dir },
  });
  child.on('close', (code, signal) => resolve({ code, signal }));
});
clearInterval(sampler);
sampleLoad();
const seconds = Math.round((Date.now() - started) / 1000);

type Key = keyof Figures;
const tried = new Map<Key, number>();
const passed = new Map<Key, number>();
const seen = new Map<Key, number>();
const suitesSeen = new Set<string>();
const add = (m: Map<Key, number>, k: Key, v: number) => m.set(k, (m.get(k) ?? 0) + v);
for (const name of readdirSync(dir)) {
  for (const text of readFileSync(join(dir, name), 'utf8').split('\n')) {
    if (!text) continue;
    const line = JSON.parse(text) as FigureLine;
    suitesSeen.add(line.suite);
    for (const [k, v] of Object.entries(line.figures) as Array<[Key, number]>) {
      if (line.phase === 'tried') add(tried, k, v);
      else if (line.phase === 'passed') add(passed, k, v);
      else if (line.phase === 'observed') add(seen, k, v);
      else seen.set(k, Math.max(seen.get(k) ?? 0, v));
    }
  }
}
rmSync(dir, { recursive: true, force: true });

const n = (x: number) => x.toLocaleString('en-US');
/** "passed of tried" for cases: a case that failed (or never finished) shows. */
const cases = (k: Key) => `${n(passed.get(k) ?? 0)} of ${n(tried.get(k) ?? 0)}`;
const count = (k: Key) => n(seen.get(k) ?? 0);
const secondsOf = (k: Key) => ((seen.get(k) ?? 0) / 1000).toFixed(1);

const rows: Array<[string, string, string]> = [
  ['Network faults injected', count('faultsInjected'), "503s, 429 with `Retry-After`, bodies dropped or stalled mid-file, wrong bytes, git errors, the Hub going away (counted from the emulator's log)"],
  ['Fault scenarios survived', cases('faultScenarios'), 'fetched after bounded retries, or one clear error naming repo and file with no partial store path, `--out` dir or export record'],
  ['Malformed invocations', cases('badInputs'), 'URLs, refs, patterns, paths, option mixes, config files, old manifests, env knobs: exit 1 or 2, one line, nothing written'],
  ['Generated inputs', cases('generatedInputs'), "property tests: URL parsing, glob matching against Nix's `builtins.match` and the library's matcher, Nix string escaping"],
  ['Hostile repositories', cases('hostileRepos'), 'shell/Nix code in names, newlines, escaping symlinks, bad pointers, `.git` in any case, a lying mirror: fetched exactly or refused'],
  ['Symlink loops', cases('symlinkLoops'), '`zz -> .` and `sub/up -> ..` copied out with `--out`: links kept, every file once'],
  ['Canaries intact', cases('canaries'), 'files that would exist had any name or value been executed'],
  ['Token checks', cases('secretChecks'), `places the token was looked for after ${count('secretCommands')} commands with \`HF_TOKEN\` and \`--debug\` (outputs, error reports, expression, export records, persist store, store paths, derivations, build logs, caches, netrc, temp files, signed CDN URLs)`],
  ['Command lines read', count('commandLinesRead'), 'every process in `/proc`, polled during a token-authenticated download and build: token on none'],
  ['Interruptions', cases('interruptions'), `SIGINT/SIGTERM in every phase (Hub request, \`Retry-After\` back-off, paging, git objects for \`gitRepoHash\`, restore, download, copy, export, import): exit 130/143 within 3 s, nothing left, re-run works; slowest ${secondsOf('interruptMs')} s (${secondsOf('interruptWallMs')} s on the clock, the rest waiting for a CPU)`],
  ['Endpoint tricks', cases('endpointTricks'), '`HF_ENDPOINT` values a URL parser rewrites (newline, tab, empty `?` or `#`, backslash, spaces): refused before any request'],
  ['Token scoping', cases('tokenScopes'), 'a gated build whose nixpkgs is fetched with git from another host: the token went to the Hub only'],
  ['Regex bombs', cases('regexBombs'), "eleven-star patterns (a repo's `.gitattributes`, a user's `--include`) against 200-byte names that almost match: CLI and library answer in seconds"],
  ['Concurrent runs', cases('concurrentRuns'), 'same repo fetched twice at once; exports racing imports on one persist store: no loss'],
];

const cores = availableParallelism();
const [low, high] = [Math.min(...loads), Math.max(...loads)];
const shared = high > cores ? `; the machine was shared: load ${low.toFixed(0)}–${high.toFixed(0)} on ${cores} cores while they ran` : `; load ${high.toFixed(1)} at most on ${cores} cores`;
const failed = exit.code !== 0 ? `; SOME TESTS FAILED (exit ${exit.code ?? exit.signal})` : '';
const context = `${suites.length} suites (${[...suitesSeen].sort().join(', ')}), ${nix}, ${seconds} s${shared}${failed}`;
if (markdown) {
  console.log(`| | count | what |\n|---|---:|---|`);
  for (const [what, c, detail] of rows) console.log(`| ${what} | ${c} | ${detail} |`);
  console.log(`\n_${context}._`);
} else {
  console.log(`\nnix-hug reliability — ${context}\n`);
  const w = Math.max(...rows.map((r) => r[0].length));
  const c = Math.max(...rows.map((r) => r[1].length));
  for (const [what, cnt, detail] of rows) console.log(`  ${what.padEnd(w)}  ${cnt.padStart(c)}  ${detail}`);
}
if (exit.code !== 0) {
  console.error(`\nsome hardening tests failed (exit ${exit.code ?? exit.signal}): the rows above show which cases did not pass`);
  process.exitCode = 1;
}
