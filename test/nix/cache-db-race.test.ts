/**
 * Two nix processes meeting a binary cache for the first time (the parallel
 * blob builds do that) can race over their binary-cache-v6.sqlite on Nix
 * before 2.13: one fails with `constraint failed`. `nixBuild` tries again;
 * any other failure is reported at once. A fake `nix` stands in for the race,
 * which real Nix 2.8 showed here in about one run in three of the HTTP cache
 * test (test/persist/share.test.ts) under load.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NixBuildError, nixBuild } from '../../src/nix/nix.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';

const RACE =
  "error: executing SQLite statement 'insert or replace into NARs(cache, hashPart, namePart, url) values (1, 'abc', 'hf-blob-x', 'nar/x.nar.zst')': constraint failed (in '/home/u/.cache/nix/binary-cache-v6.sqlite')";
const OUT = '/nix/store/00000000000000000000000000000000-hf-model-x';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nix-hug-cache-race-'));
  writeFileSync(join(dir, 'build.nix'), '[ ]\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fake nix that fails with `error` on its first `failures` runs, then succeeds; it counts its runs. */
function fakeNix(name: string, error: string, failures: number): { env: NodeJS.ProcessEnv; runs(): number } {
  const bin = join(dir, name);
  const count = join(dir, `${name}.runs`);
  writeFileSync(count, '');
  writeFileSync(
    join(dir, `${name}.js`),
    `const fs = require('node:fs');\nfs.appendFileSync(${JSON.stringify(count)}, 'x');\n` +
      `if (fs.readFileSync(${JSON.stringify(count)}, 'utf8').length <= ${failures}) { process.stderr.write(${JSON.stringify(error + '\n')}); process.exit(1); }\n` +
      `process.stdout.write(JSON.stringify([{ outputs: { out: ${JSON.stringify(OUT)} } }]));\n`,
  );
  const shim = join(bin, 'nix');
  mkdirSync(bin, { recursive: true });
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(dir, `${name}.js`))} "$@"\n`);
  chmodSync(shim, 0o755);
  return { env: { PATH: `${bin}:${process.env.PATH}` }, runs: () => readFileSync(count, 'utf8').length };
}

const http = { ...DEFAULT_HTTP, retry: { ...DEFAULT_HTTP.retry, baseDelayMs: 10, maxRetries: 3 } };

describe('nixBuild and the binary-cache database race', () => {
  it('tries again after a lost race and builds', async () => {
    const nix = fakeNix('race', RACE, 1);
    const r = await nixBuild({ target: { file: join(dir, 'build.nix') }, env: nix.env, maxJobs: 1, http });
    assert.deepEqual(r.outPaths, [OUT]);
    assert.equal(nix.runs(), 2);
  });

  it('reports any other failure at once', async () => {
    const nix = fakeNix('other', "error: attribute 'x' missing", 1);
    await assert.rejects(nixBuild({ target: { file: join(dir, 'build.nix') }, env: nix.env, maxJobs: 1, http }), (err: unknown) => {
      assert.ok(err instanceof NixBuildError);
      assert.equal(err.cacheDbRace, false);
      return true;
    });
    assert.equal(nix.runs(), 1);
  });

  it('gives up after the retries, with Nix\'s error', async () => {
    const nix = fakeNix('always', RACE, 99);
    await assert.rejects(nixBuild({ target: { file: join(dir, 'build.nix') }, env: nix.env, maxJobs: 1, http }), /constraint failed/);
    assert.equal(nix.runs(), 4);
  });
});
