/**
 * A warm re-fetch skips `nix build` when the same build file, library,
 * nixpkgs and Nix gave a store path before and that path is still valid
 * (src/build/built-record.ts) — and only then: a deleted path, a changed
 * library or nixpkgs, or a record that names another path build as before.
 * The GC root is the one `nix build --out-link` makes. Real Nix, the Hub
 * emulator, the CLI as built; whether nix built is read from --debug's
 * command trace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { buildKey, recordFile } from '../../src/build/built-record.ts';
import type { FetchJson } from '../../src/commands/fetch.ts';
import { cliEnv, collect, LIB_DIR, nixTestEnv, requireBuild, run, runCli, seeded, STUB_DIR } from '../support/index.ts';

const MODEL: RepoSpec = { id: 'record/model', commits: [{ files: { 'config.json': '{"r":1}\n', 'w.safetensors': seeded('record-w', 20_000) } }] };

let hub: RunningHub;
let nixEnv: ReturnType<typeof nixTestEnv>;
let cli: ReturnType<typeof cliEnv>;
let tmp: string;

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...cli.env, ...nixEnv.env, HOME: cli.env.HOME, HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR, ...extra };
}

/** `fetch --json --debug`: the result, and whether a `nix build` ran. */
async function fetch(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ out: FetchJson; nixBuilt: boolean; stderr: string }> {
  const r = await runCli(['fetch', 'record/model', '--json', '--debug', ...args], env(extra));
  assert.equal(r.code, 0, r.stderr);
  return { out: JSON.parse(r.stdout) as FetchJson, nixBuilt: /\bnix --extra-experimental-features 'nix-command flakes' build\b/.test(r.stderr), stderr: r.stderr };
}

before(async () => {
  requireBuild();
  hub = await startHub({ repos: [MODEL] });
  nixEnv = nixTestEnv();
  cli = cliEnv();
  tmp = mkdtempSync(join(tmpdir(), 'nix-hug-record-'));
});
after(async () => {
  await hub?.close();
  nixEnv?.cleanup();
  cli?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a warm re-fetch without nix build', () => {
  let first: FetchJson;

  it('the first fetch builds; the second runs no nix build, prints the same bytes and makes the same GC root', async () => {
    const a = await fetch(['--no-link']);
    assert.ok(a.nixBuilt, 'the first fetch builds');
    first = a.out;
    const link = join(tmp, 'result');
    const b = await fetch(['--out-link', link]);
    assert.equal(b.nixBuilt, false, b.stderr);
    assert.match(b.stderr, /1 LFS file\(s\) selected: all already in the Nix store/);
    assert.match(b.stderr, /no nix build: \/nix\/store\/\S+ is valid and recorded/);
    assert.deepEqual({ ...b.out, outLink: null }, first);
    assert.equal(b.out.outLink, link);
    // As `nix build --out-link` makes it: the link, and an indirect GC root naming it.
    assert.equal(readlinkSync(link), first.storePath);
    const roots = await run('nix-store', ['-q', '--roots', first.storePath!], env());
    assert.match(roots.stdout, new RegExp(`^${link} -> ${first.storePath}$`, 'm'), roots.stdout);
    rmSync(link);
  });

  it('a deleted snapshot is built again (the record names a path no longer valid)', async () => {
    await collect(env(), [first.storePath!]);
    const r = await fetch(['--no-link']);
    assert.ok(r.nixBuilt, r.stderr);
    assert.equal(r.out.storePath, first.storePath);
    assert.equal((await fetch(['--no-link'])).nixBuilt, false, 'recorded again');
  });

  it('another library or nixpkgs, or another Nix configuration, builds (their contents are in the key)', async () => {
    const lib = join(tmp, 'lib');
    const nixpkgs = join(tmp, 'nixpkgs');
    cpSync(LIB_DIR, lib, { recursive: true });
    cpSync(STUB_DIR, nixpkgs, { recursive: true });
    const dirs = { NIX_HUG_LIB: lib, NIX_HUG_NIXPKGS: nixpkgs };
    assert.ok((await fetch(['--no-link'], dirs)).nixBuilt, 'new paths: a new key');
    assert.equal((await fetch(['--no-link'], dirs)).nixBuilt, false);
    appendFileSync(join(lib, 'default.nix'), '\n# changed\n');
    assert.ok((await fetch(['--no-link'], dirs)).nixBuilt, 'the library changed');
    assert.equal((await fetch(['--no-link'], dirs)).nixBuilt, false);
    appendFileSync(join(nixpkgs, 'default.nix'), '\n# changed\n');
    assert.ok((await fetch(['--no-link'], dirs)).nixBuilt, 'nixpkgs changed');
    const config = { ...dirs, NIX_CONFIG: `${nixEnv.env.NIX_CONFIG}\nwarn-dirty = true` };
    assert.ok((await fetch(['--no-link'], config)).nixBuilt, 'the Nix configuration changed');
  });

  it('a nixpkgs in the store (as the flake package gives it) is recorded by its path', async () => {
    const added = await run('nix-store', ['--add', STUB_DIR], env());
    assert.equal(added.code, 0, added.stderr);
    const inStore = { NIX_HUG_NIXPKGS: added.stdout.trim() };
    assert.ok((await fetch(['--no-link'], inStore)).nixBuilt);
    assert.equal((await fetch(['--no-link'], inStore)).nixBuilt, false);
  });

  it('a record naming another path, or not a store path, is not used: the build decides and records its own', async () => {
    const key = await buildKeyOfModel();
    const file = recordFile(join(env().XDG_CACHE_HOME!, 'nix-hug'), key);
    assert.ok(existsSync(file), `recorded at ${file}: ${readdirSync(join(env().XDG_CACHE_HOME!, 'nix-hug', 'builds')).join(' ')}`);
    for (const text of ['/nix/store/00000000000000000000000000000000-hf-model-record--model-0000000\n', 'garbage\n']) {
      writeFileSync(file, text);
      const r = await fetch(['--no-link']);
      assert.ok(r.nixBuilt, text);
      assert.equal(r.out.storePath, first.storePath);
    }
    assert.equal((await fetch(['--no-link'])).nixBuilt, false);
  });
});

/** The key the CLI uses for record/model with the default library and the stand-in (from the expression it prints). */
async function buildKeyOfModel(): Promise<string> {
  const { buildFile } = await import('../../src/nix/library.ts');
  const { detectNix } = await import('../../src/nix/nix.ts');
  const r = await runCli(['fetch', 'record/model', '--no-build'], env());
  assert.equal(r.code, 0, r.stderr);
  const e = env();
  const key = await buildKey({ file: buildFile({ libDir: LIB_DIR, nixpkgs: STUB_DIR }, r.stdout.trimEnd()), libDir: LIB_DIR, nixpkgs: STUB_DIR, nix: await detectNix(e), env: e });
  assert.ok(key);
  return key;
}

describe('the record key', () => {
  const nix = { version: '2.8.0', major: 2, minor: 8, patch: 0, isLix: false };
  const base = () => ({ file: 'f', libDir: LIB_DIR, nixpkgs: STUB_DIR, nix, env: { HOME: tmp } });

  it('changes with the build file, the Nix version and the environment Nix reads', async () => {
    const k = await buildKey(base());
    assert.match(k ?? '', /^[0-9a-f]{64}$/);
    assert.equal(await buildKey(base()), k);
    assert.notEqual(await buildKey({ ...base(), file: 'g' }), k);
    assert.notEqual(await buildKey({ ...base(), nix: { ...nix, version: '2.26.3', minor: 26 } }), k);
    assert.notEqual(await buildKey({ ...base(), env: { HOME: tmp, NIX_PATH: 'nixpkgs=/x' } }), k);
  });

  it('is none without NIX_HUG_NIXPKGS, with a nixpkgs configuration or overlays, or for a folder with a symlink or too many files', async () => {
    assert.equal(await buildKey({ ...base(), nixpkgs: null }), null);
    assert.equal(await buildKey({ ...base(), env: { HOME: tmp, NIXPKGS_CONFIG: '/x/config.nix' } }), null);
    const home = mkdtempSync(join(tmp, 'home-'));
    cpSync(STUB_DIR, join(home, '.config', 'nixpkgs', 'overlays'), { recursive: true });
    assert.equal(await buildKey({ ...base(), env: { HOME: home } }), null);
    const linked = join(tmp, 'linked');
    cpSync(STUB_DIR, linked, { recursive: true });
    assert.ok(await buildKey({ ...base(), nixpkgs: linked }));
    symlinkSync('/etc/hostname', join(linked, 'host'));
    assert.equal(await buildKey({ ...base(), nixpkgs: linked }), null);
    const big = join(tmp, 'big');
    cpSync(STUB_DIR, big, { recursive: true });
    for (let i = 0; i < 600; i++) writeFileSync(join(big, `f${i}`), '');
    assert.equal(await buildKey({ ...base(), nixpkgs: big }), null);
  });
});
