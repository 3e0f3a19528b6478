/**
 * `npm run demo`, the README's first command, run as a new user runs it:
 * it says what it sets in the environment and why, echoes each command so it
 * can be pasted back (globs quoted), keeps every result with a GC root, and
 * is honest about what the real client's cache scan sees.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { cliEnv, nixTestEnv, REPO_ROOT, requireBuild, run } from '../support/index.ts';

let nix: ReturnType<typeof nixTestEnv>;
let cli: ReturnType<typeof cliEnv>;

before(() => {
  requireBuild();
  nix = nixTestEnv();
  cli = cliEnv();
});
after(() => {
  nix?.cleanup();
  cli?.cleanup();
});

it('npm run demo: says what it sets and why, quotes what it echoes, roots its results, counts every file', async () => {
  const env: NodeJS.ProcessEnv = { ...nix.env, HOME: cli.env.HOME, XDG_CONFIG_HOME: cli.env.XDG_CONFIG_HOME };
  delete env.NIX_HUG_NIXPKGS;
  const r = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], env, { cwd: REPO_ROOT });
  assert.equal(r.code, 0, r.stderr);
  const err = r.stderr;

  assert.match(err, /Every command below runs as you would run it, with these set in its environment:\n {2}HF_ENDPOINT=http:\/\/127\.0\.0\.1:\d+\n {6}the local Hub emulator instead of https:\/\/huggingface\.co/);
  assert.match(err, /\n {2}NIX_CONFIG='substituters ='\n {6}no binary cache to ask: offline, Nix would spend 5-10 s per build asking cache\.nixos\.org\n/);
  assert.match(err, /\n {2}NIX_HUG_NIXPKGS=\S+\n {6}where the library's runCommand comes from: /);

  assert.ok(err.includes("$ nix-hug fetch datasets/nix-hug/tiny-squad --include '*.parquet' --out-link .tmp/demo/tiny-squad\n"), 'the glob is quoted as a shell needs it');
  // The printed pins carry their manifests: the cache is built with the Hub stopped and no git-lfs workaround.
  assert.match(err, /Build an HF_HUB_CACHE from the printed expressions, with the Hub emulator stopped/);
  assert.match(err, /\n\$ nix build --out-link \.tmp\/demo\/hf-hub-cache /);
  assert.ok(!err.includes('GIT_LFS_SKIP_SMUDGE'), 'the pins need no GIT_LFS_SKIP_SMUDGE');

  const work = join(REPO_ROOT, '.tmp', 'demo');
  const cache = /^HF_HUB_CACHE=(\/nix\/store\/\S+)$/m.exec(err)?.[1];
  assert.ok(cache, err);
  assert.equal(readlinkSync(join(work, 'hf-hub-cache')), cache);
  for (const name of ['tiny-llama', 'tiny-squad', 'hf-hub-cache']) {
    const target = readlinkSync(join(work, name));
    const roots = await run('nix-store', ['-q', '--roots', target], env);
    assert.ok(roots.stdout.includes(`${join(work, name)} -> ${target}`), `${name} is a GC root:\n${roots.stdout}`);
  }
  assert.ok(err.includes(`Use it:  HF_HUB_CACHE=${join(work, 'hf-hub-cache')} HF_HUB_OFFLINE=1 `), 'the path to use is the rooted link');

  assert.match(err, /datasets\/nix-hug\/tiny-squad at [0-9a-f]{8} \[main\]: scanCacheDir lists 2 top-level file\(s\) \(it does not enter folders\); downloadFileToCacheDir, offline, finds all 4:\n/);
  assert.match(err, /\n {2}data\/train-00000-of-00001\.parquet \(65536 bytes\)\n/);
  assert.match(err, /Offline read OK: nix-hug\/tiny-llama config\.json says model_type=llama/);
  assert.match(r.stdout, /^nix-hug-lib\.fetchModel \{\n {2}url = "nix-hug\/tiny-llama";/);
});
