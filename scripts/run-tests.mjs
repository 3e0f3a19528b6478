#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx).
// Node 20's runner does not expand globs itself, so we list the files here.
//
//   node scripts/run-tests.mjs [--nix-suites] [--record FILE] [PATH-PART...]
//
// PATH-PART: only the files whose path contains one of them. --nix-suites: only the suites that
// run Nix (what CI repeats on a second Nix version). --record FILE: also write the run's counts,
// its Nix and its failed tests to FILE as JSON (test/nix/test-matrix.test.ts of a later run
// checks it). Which Nix, and whether the sandbox is on: NIX_HUG_TEST_* variables, described in
// test/support/nix-matrix.ts and the README's Development section.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { register } from 'tsx/esm/api';

register();
const { applyTestNix, describeTestNix, findTestNix, NIX_SUITES } = await import('../test/support/nix-matrix.ts');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
let nixSuitesOnly = false;
let record = null;
const filter = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--nix-suites') nixSuitesOnly = true;
  else if (args[i] === '--record') record = args[++i] ?? null;
  else filter.push(args[i]);
}
if (args.includes('--record') && !record) {
  console.error('--record needs a file name');
  process.exit(2);
}

const files = findTests('test')
  .filter((f) => !nixSuitesOnly || NIX_SUITES.some((s) => f.startsWith(s)))
  .filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filter.join(' ')}`);
  process.exit(1);
}

// Every test process, and every CLI and nix they start, inherits the selected Nix.
let found;
try {
  applyTestNix(process.env);
  found = findTestNix(process.env);
} catch (err) {
  console.error(`nix-hug tests: ${err.message}`);
  process.exit(1);
}
console.log(`nix-hug tests: ${files.length} file(s) with ${describeTestNix(found)}`);

// With --record a second reporter is added, so the default one must be named: Node's own choice.
const reporters = [];
if (record) {
  reporters.push(`--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`, '--test-reporter-destination=stdout');
  process.env.NIX_HUG_TEST_RECORD_NIX = JSON.stringify(found);
  reporters.push('--test-reporter=./scripts/record-reporter.mjs', `--test-reporter-destination=${record}`);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...reporters, ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
