/**
 * Where `fetch` finds nixpkgs (whose `runCommand` assembles the snapshot),
 * on a Nix with no channel and no network, as Debian's and the installer's
 * Nix start out: found missing before any LFS download, with an error that
 * names what is missing and the three ways to give it — and each of those
 * three ways then works.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, closedPort, requireBuild, runCli, nixTestEnv, testNixConfig, run, STUB_DIR, isValidPath, seeded, seedOf } from '../support/index.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';
import { lfsSha256 } from '../../hub-emulator/content.ts';

const MODEL: RepoSpec = {
  id: 'nixpkgs/model',
  commits: [{ files: { 'config.json': '{}\n', 'w.safetensors': seeded('nixpkgs', 20_000) } }],
};

let hub: RunningHub;
let nix: ReturnType<typeof nixTestEnv>;
let cli: ReturnType<typeof cliEnv>;
let scratch: string;
let deadRegistry: string;

/**
 * A user with no nixpkgs anywhere: no NIX_HUG_NIXPKGS, no NIX_PATH, no channel (an empty
 * `nix-path`, which NIX_PATH only sets the default of), and a global flake registry that cannot
 * be downloaded (as with no network). `config` replaces the nix-path line.
 */
function bareEnv(extra: NodeJS.ProcessEnv = {}, config: string[] = ['nix-path =']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...cli.env,
    XDG_CACHE_HOME: nix.env.XDG_CACHE_HOME,
    GIT_LFS_SKIP_SMUDGE: '1',
    HF_ENDPOINT: hub.url,
    NIX_CONFIG: [testNixConfig(), `flake-registry = ${deadRegistry}`, ...config].join('\n'),
  };
  delete env.NIX_PATH;
  delete env.NIX_HUG_NIXPKGS;
  return { ...env, ...extra };
}

before(async () => {
  requireBuild();
  hub = await startHub({ repos: [MODEL] });
  nix = nixTestEnv();
  cli = cliEnv();
  scratch = mkdtempSync(join(tmpdir(), 'nix-hug-nixpkgs-'));
  deadRegistry = `http://127.0.0.1:${await closedPort()}/flake-registry.json`;
});
after(async () => {
  await hub?.close();
  nix?.cleanup();
  cli?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

describe('fetch without <nixpkgs>', () => {
  let builtPath = '';

  it('says what is missing and the three ways to give it, before downloading anything', async () => {
    const blob = blobStorePath(await lfsSha256(seedOf('nixpkgs'), 20_000));
    hub.resetStats();
    const r = await runCli(['fetch', MODEL.id], bareEnv());
    assert.equal(r.code, 1, r.stderr);
    const [message, hint, ...rest] = r.stderr.trim().split('\n').filter((l) => /^(nix-hug: error|hint):/.test(l));
    assert.deepEqual(rest, []);
    assert.match(message!, /^nix-hug: error: nixpkgs was not found \(nix-hug assembles the snapshot with its runCommand\)/);
    assert.match(message!, /<nixpkgs> is not on NIX_PATH, and the flake registry has no nixpkgs/);
    assert.match(message!, /flake-registry\.json/, "Nix's own reason is kept");
    assert.match(hint!, /NIX_HUG_NIXPKGS=/);
    assert.match(hint!, /nix-channel --add https:\/\/nixos\.org\/channels\/nixpkgs-unstable nixpkgs/);
    assert.match(hint!, /nix registry add nixpkgs/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(hub.requests.filter((q) => q.route === 'cdn'), [], 'no LFS file was downloaded');
    assert.equal(await isValidPath(nix.env, blob), false);
  });

  it('NIX_HUG_NIXPKGS=DIR gives it', async () => {
    const r = await runCli(['fetch', MODEL.id], bareEnv({ NIX_HUG_NIXPKGS: STUB_DIR }));
    assert.equal(r.code, 0, r.stderr);
    builtPath = /built (\/nix\/store\/\S+)/.exec(r.stderr)?.[1] ?? '';
    assert.ok(builtPath, r.stderr);
  });

  it('NIX_HUG_NIXPKGS naming nothing is refused before any request', async () => {
    hub.resetStats();
    const r = await runCli(['fetch', MODEL.id], bareEnv({ NIX_HUG_NIXPKGS: join(scratch, 'nowhere') }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NIX_HUG_NIXPKGS=\S+nowhere does not exist/);
    assert.deepEqual(hub.requests.filter((q) => q.route === 'cdn'), []);
  });

  it('a channel gives it (what `nix-channel --update` leaves in ~/.nix-defexpr, on the default nix-path)', async () => {
    const channels = join(cli.env.HOME!, '.nix-defexpr', 'channels');
    mkdirSync(channels, { recursive: true });
    symlinkSync(STUB_DIR, join(channels, 'nixpkgs'));
    try {
      const r = await runCli(['fetch', MODEL.id], bareEnv({}, []));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`built ${builtPath}`));
    } finally {
      rmSync(join(cli.env.HOME!, '.nix-defexpr'), { recursive: true, force: true });
    }
  });

  it('NIX_PATH=nixpkgs=DIR gives it', async () => {
    const r = await runCli(['fetch', MODEL.id], bareEnv({ NIX_PATH: `nixpkgs=${STUB_DIR}` }, []));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`built ${builtPath}`));
  });

  it('the flake registry gives it (`nix registry add nixpkgs …`; offline, with a local global registry)', async () => {
    // Nix reads the global registry even when the user's names nixpkgs: offline, it must be a local file.
    const localRegistry = join(scratch, 'global-registry.json');
    writeFileSync(localRegistry, JSON.stringify({ version: 2, flakes: [] }));
    const env = bareEnv({}, ['nix-path =', `flake-registry = ${localRegistry}`]);
    const add = await run('nix', ['registry', 'add', 'nixpkgs', `path:${STUB_DIR}`], env);
    assert.equal(add.code, 0, add.stderr);
    const r = await runCli(['fetch', MODEL.id], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`built ${builtPath}`));
  });
});
