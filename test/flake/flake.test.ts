/**
 * The repository's flake.nix, evaluated and checked by real Nix with the
 * nixpkgs stand-in as its `nixpkgs` input (`--override-input`): `nix flake
 * check` (which evaluates every output and builds the `checks`), the `lib`
 * output, the overlay, and a model built through the flake's `lib` from a
 * consumer flake against the Hub emulator, which must give the same store
 * path as the non-flake entry `import ./lib { pkgs = … }`.
 *
 * The flake is evaluated from a copy of the files git would ship (tracked and
 * untracked-but-not-ignored): a `path:` flake of the work tree itself would
 * copy node_modules into the store on every run. The package itself
 * (buildNpmPackage) needs real nixpkgs and is not built here.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nixString } from '../../src/nix/expr.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, runCli, nixTestEnv, type NixTestEnv, fetchExpr, hubFileTreeHash, nixBuild, ok, plain, REPO_ROOT, run, runNix } from '../support/index.ts';

const SYSTEM = process.arch === 'arm64' ? 'aarch64-linux' : 'x86_64-linux';
const MODEL = 'flake-test/tiny';

let nix: NixTestEnv;
let tmp: string;
let flakeDir: string;
let hub: RunningHub;

/** Copies the files a clone of the repository would have (tracked + untracked, not ignored) to `dest`. */
async function copyRepo(dest: string): Promise<void> {
  const listed = ok(await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], process.env), 'git ls-files');
  for (const rel of listed.stdout.split('\0')) {
    if (rel === '' || !existsSync(join(REPO_ROOT, rel))) continue; // deleted but still tracked
    mkdirSync(dirname(join(dest, rel)), { recursive: true });
    cpSync(join(REPO_ROOT, rel), join(dest, rel), { verbatimSymlinks: true });
  }
}

const stubRef = (dir: string) => `path:${join(dir, 'test', 'nixpkgs-stub')}`;
const withStub = (dir: string) => ['--override-input', 'nixpkgs', stubRef(dir), '--no-write-lock-file'];

before(async () => {
  nix = nixTestEnv();
  tmp = mkdtempSync(join(tmpdir(), 'nix-hug-flake-'));
  flakeDir = join(tmp, 'repo');
  await copyRepo(flakeDir);
  hub = await startHub({
    repos: [
      {
        id: MODEL,
        commits: [{ files: { 'config.json': '{"model_type": "llama"}\n', 'model.safetensors': { lfs: { size: 4000 } }, 'README.md': '# tiny\n' } }],
      },
    ],
  });
});

after(async () => {
  await hub?.close();
  nix?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('flake.nix with the nixpkgs stand-in', () => {
  it('passes `nix flake check` (every output evaluates, every check builds)', async () => {
    const r = ok(await runNix(['flake', 'check', `path:${flakeDir}`, ...withStub(flakeDir)], nix.env), 'nix flake check');
    // Nix 2.8 says "running flake checks...", Nix 2.19+ "running 8 flake checks...".
    const ran = /running (\d+ )?flake checks/.exec(plain(r.stderr));
    assert.ok(ran, r.stderr);
    if (ran[1] !== undefined) assert.equal(Number(ran[1]), 9);
    assert.doesNotMatch(plain(r.stderr), /lacks attribute/);
  });

  it('has one check per area of the library, and they fail when the library is wrong', async () => {
    const names = ok(
      await runNix(['eval', '--json', `path:${flakeDir}#checks.${SYSTEM}`, '--apply', 'builtins.attrNames', ...withStub(flakeDir)], nix.env),
      'nix eval checks',
    );
    assert.deepEqual(JSON.parse(names.stdout), ['buildCache', 'fetchDataset', 'fetchModel', 'filters', 'fromLock', 'gitattributes', 'manifest', 'percent-encode', 'repo-url']);

    // A copy whose base64 encoder uses a wrong alphabet: the manifest check must stop `nix flake check`.
    const broken = join(tmp, 'broken');
    await copyRepo(broken);
    const file = join(broken, 'lib', 'internal', 'base64.nix');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"', '"BACDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"'));
    const r = await runNix(['flake', 'check', `path:${broken}`, ...withStub(broken)], nix.env);
    assert.notEqual(r.code, 0, 'flake check must fail');
    // Which failing check flake check reports first follows the evaluator's attribute order, which Nix 2.8
    // does not keep stable between runs (fromLock's hashes break too); the manifest check is asked on its own.
    const manifest = await runNix(['eval', `path:${broken}#checks.${SYSTEM}.manifest.drvPath`, ...withStub(broken)], nix.env);
    assert.notEqual(manifest.code, 0, 'the manifest check must fail');
    assert.match(plain(manifest.stderr), /nix-hug check manifest\/\S+: expected/);
  });

  it('exposes lib.<system> with the library functions, and the overlay adds nix-hug and nix-hug-lib', async () => {
    const lib = ok(await runNix(['eval', '--json', `path:${flakeDir}#lib.x86_64-linux`, '--apply', 'builtins.attrNames', ...withStub(flakeDir)], nix.env), 'nix eval lib');
    assert.deepEqual(JSON.parse(lib.stdout), ['buildCache', 'fetchDataset', 'fetchModel', 'fetchSpace', 'fromLock']);

    const overlay = [
      'overlay: let',
      `  prev = import (/. + ${nixString(join(flakeDir, 'test', 'nixpkgs-stub'))}) { };`,
      '  final = prev // overlay final prev;',
      'in { lib = builtins.attrNames final.nix-hug-lib; package = final.nix-hug.name; }',
    ].join('\n');
    const r = ok(
      await runNix(['eval', '--impure', '--json', `path:${flakeDir}#overlays.default`, '--apply', overlay, ...withStub(flakeDir)], nix.env),
      'nix eval overlay',
    );
    assert.deepEqual(JSON.parse(r.stdout), { lib: ['buildCache', 'fetchDataset', 'fetchModel', 'fetchSpace', 'fromLock'], package: 'nix-hug-5.0.0' });
  });

  it("wraps the package with nix and git on PATH, its lib/ and the flake's nixpkgs; the app runs it", async () => {
    // (an attrset with outPath would print as that path: call it out)
    const probe = 'ps: { inherit (ps.default) name postInstall; out = ps.default.outPath; same = ps.default.drvPath == ps.nix-hug.drvPath; }';
    const r = ok(await runNix(['eval', '--json', `path:${flakeDir}#packages.${SYSTEM}`, '--apply', probe, ...withStub(flakeDir)], nix.env), 'nix eval package');
    const p = JSON.parse(r.stdout) as { name: string; postInstall: string; same: boolean; out: string };
    const app = ok(await runNix(['eval', '--raw', `path:${flakeDir}#apps.${SYSTEM}.default.program`, ...withStub(flakeDir)], nix.env), 'nix eval app');
    const stub = ok(await runNix(['flake', 'metadata', '--json', stubRef(flakeDir)], nix.env), 'nix flake metadata');
    const nixpkgsPath = (JSON.parse(stub.stdout) as { path: string }).path;
    assert.equal(p.name, 'nix-hug-5.0.0');
    assert.equal(p.same, true, 'packages.default is packages.nix-hug');
    assert.equal(app.stdout, `${p.out}/bin/nix-hug`);
    assert.match(p.postInstall, /--suffix PATH : \/nix\/store\/[a-z0-9]{32}-nix\/bin:\/nix\/store\/[a-z0-9]{32}-git\/bin/);
    assert.match(p.postInstall, /--set NIX_HUG_LIB "\$pkg\/lib"/);
    assert.ok(p.postInstall.includes(`--set-default NIX_HUG_NIXPKGS ${nixpkgsPath}`), p.postInstall);
    for (const target of ['share/bash-completion/completions/nix-hug', 'share/zsh/site-functions/_nix-hug', 'share/fish/vendor_completions.d/nix-hug.fish']) {
      assert.ok(p.postInstall.includes(`> "$out/${target}"`), `installs ${target}`);
    }
  });

  it('builds a model through the flake\'s lib (pure, from a consumer flake) to the store path of the non-flake entry', async () => {
    const rev = hub.repo(MODEL).commits[0]!;
    const args = { url: MODEL, rev, fileTreeHash: await hubFileTreeHash(hub.url, 'model', MODEL, rev), endpoint: hub.url };
    const consumer = join(tmp, 'consumer');
    mkdirSync(consumer);
    writeFileSync(
      join(consumer, 'flake.nix'),
      [
        '{',
        `  inputs.nixpkgs.url = ${nixString(stubRef(flakeDir))};`,
        `  inputs.nix-hug = { url = ${nixString(`path:${flakeDir}`)}; inputs.nixpkgs.follows = "nixpkgs"; };`,
        '  outputs = { self, nixpkgs, nix-hug }:',
        `    let nix-hug-lib = nix-hug.lib.${SYSTEM}; in {`,
        `      packages.${SYSTEM}.model = ${fetchExpr(args).replace('(lib.', '(nix-hug-lib.').split('\n').join('\n      ')};`,
        '    };',
        '}',
        '',
      ].join('\n'),
    );
    const built = ok(await runNix(['build', `path:${consumer}#model`, '--no-write-lock-file', '--no-link', '--json'], nix.env), 'flake build');
    const flakePath = (JSON.parse(built.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
    assert.equal(readFileSync(join(flakePath, 'config.json'), 'utf8'), '{"model_type": "llama"}\n');
    assert.equal(readFileSync(join(flakePath, 'model.safetensors')).length, 4000);

    const direct = ok(await nixBuild(fetchExpr(args), nix.env), 'non-flake build');
    assert.equal(flakePath, direct.outPath, 'same store path as import ./lib { pkgs = import ./test/nixpkgs-stub { }; }');
  });

  // Last: it stops the Hub to show that evaluation needs none.
  it("the lock-file flake of docs/nix-usage.md: evaluates without network, its dev shell's HF_HUB_CACHE holds the locked model", async () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'nix-usage.md'), 'utf8');
    const example = [...docs.matchAll(/^```nix\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).find((b) => b.includes('fromLock ./nix-hug.lock'));
    assert.ok(example, 'docs/nix-usage.md has the lock-file flake');
    const consumer = join(tmp, 'lock-consumer');
    mkdirSync(consumer);
    writeFileSync(
      join(consumer, 'flake.nix'),
      example
        .replace('"github:NixOS/nixpkgs/nixos-unstable"', nixString(stubRef(flakeDir)))
        .replace('"path:/path/to/nix-hug"', nixString(`path:${flakeDir}`))
        .replaceAll('"x86_64-linux"', nixString(SYSTEM)),
    );
    const cli = cliEnv({ HF_ENDPOINT: hub.url });
    try {
      const added = await runCli(['add', MODEL, '--name', 'gpt2', '--no-build'], cli.env, { cwd: consumer });
      assert.equal(added.code, 0, added.stderr);
    } finally {
      cli.cleanup();
    }
    const rev = hub.repo(MODEL).refs.main!;
    const flake = (attr: string) => `path:${consumer}#${attr}`;
    const model = ok(await runNix(['build', flake(`packages.${SYSTEM}.gpt2`), '--no-write-lock-file', '--no-link', '--json'], nix.env), 'build the locked model');
    const modelPath = (JSON.parse(model.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;

    await hub.close();
    const offline = nixTestEnv();
    try {
      const noIfd = ['--option', 'allow-import-from-derivation', 'false', '--no-write-lock-file'];
      const shellCache = flake(`devShells.${SYSTEM}.default.HF_HUB_CACHE`);
      ok(await runNix(['eval', '--raw', `${shellCache}.drvPath`, ...noIfd], offline.env), 'evaluate the dev shell offline');
      const cache = ok(await runNix(['build', shellCache, '--no-link', '--json', ...noIfd], offline.env), 'build its HF_HUB_CACHE offline');
      const cachePath = (JSON.parse(cache.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
      const snapshot = join(cachePath, 'models--flake-test--tiny', 'snapshots', rev);
      assert.equal(readFileSync(join(snapshot, 'config.json'), 'utf8'), '{"model_type": "llama"}\n');
      assert.ok(readFileSync(join(snapshot, 'model.safetensors')).equals(readFileSync(join(modelPath, 'model.safetensors'))));
      assert.equal(readFileSync(join(cachePath, 'models--flake-test--tiny', 'refs', 'main'), 'utf8'), rev);
    } finally {
      offline.cleanup();
    }
  });
});
