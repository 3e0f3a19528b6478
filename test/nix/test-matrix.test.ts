/**
 * Says which Nix this run tested, proves it is the one requested (version,
 * sandbox mode), and — in CI, whose last summary must answer for the whole
 * matrix — checks the records of the earlier passes on other Nix versions
 * (NIX_HUG_TEST_EARLIER_RUNS: files written by `run-tests.mjs --record`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { nixTestEnv, describeTestNix, findTestNix, testNix, type FoundNix, nixBuild, ok, runNix } from '../support/index.ts';

test('the tests run with the Nix this run asked for', (t) => {
  const found = findTestNix();
  t.diagnostic(`ran with ${describeTestNix(found)}`);
  const sel = testNix();
  if (sel.dir !== null) assert.ok(found.path.startsWith(`${sel.dir}/`), `nix resolves to ${found.path}, not into ${sel.dir}`);
  if (sel.expectVersion !== null) assert.ok(found.version.startsWith(sel.expectVersion), `${found.version} is not ${sel.expectVersion}`);
});

/** The `sandbox` setting Nix itself reports with this environment (`config show` since 2.20, `show-config` before). */
async function effectiveSandbox(env: NodeJS.ProcessEnv): Promise<string> {
  let r = await runNix(['--extra-experimental-features', 'nix-command', 'config', 'show'], env);
  if (r.code !== 0) r = ok(await runNix(['--extra-experimental-features', 'nix-command', 'show-config'], env), 'nix show-config');
  const m = /^sandbox = (\S+)$/m.exec(r.stdout);
  assert.ok(m, 'nix reports no sandbox setting');
  return m[1]!;
}

test("a builder sees the host's /tmp exactly when the sandbox is off", async (t) => {
  const nix = nixTestEnv();
  const probe = `/tmp/nix-hug-sandbox-probe-${randomBytes(6).toString('hex')}`;
  mkdirSync(probe, { mode: 0o755 });
  try {
    const setting = await effectiveSandbox(nix.env);
    const forced = testNix().sandbox;
    if (forced !== null) assert.equal(setting, String(forced), `NIX_HUG_TEST_SANDBOX=${forced}, but nix says sandbox = ${setting}`);
    t.diagnostic(`sandbox = ${setting}`);
    const r = ok(
      await nixBuild(`pkgs.runCommand "sandbox-probe-${probe.slice(-12)}" { } ''if [ -e ${probe} ]; then echo host > $out; else echo private > $out; fi''`, nix.env),
      'the sandbox probe',
    );
    assert.equal(readFileSync(r.outPath!, 'utf8').trim(), setting === 'false' ? 'host' : 'private');
  } finally {
    rmSync(probe, { recursive: true, force: true });
    nix.cleanup();
  }
});

interface RunRecord {
  nix: FoundNix | null;
  counts: Partial<Record<'tests' | 'pass' | 'fail' | 'cancelled' | 'skipped' | 'todo', number>>;
  failed: string[];
}

const earlier = (process.env.NIX_HUG_TEST_EARLIER_RUNS ?? '').split(',').filter((f) => f !== '');
for (const file of earlier) {
  test(`the earlier pass recorded in ${file} passed`, (t) => {
    assert.ok(existsSync(file), `${file} is missing: that pass did not finish`);
    const rec = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    const { tests = 0, pass = 0, fail = -1, cancelled = -1 } = rec.counts;
    t.diagnostic(`${rec.nix ? describeTestNix(rec.nix) : 'unknown Nix'}: ${pass} of ${tests} tests passed`);
    assert.ok(tests > 0, `${file} counted no tests`);
    assert.deepEqual(rec.failed, [], `failed on ${rec.nix ? describeTestNix(rec.nix) : 'the earlier pass'}`);
    assert.equal(fail, 0);
    assert.equal(cancelled, 0);
  });
}
