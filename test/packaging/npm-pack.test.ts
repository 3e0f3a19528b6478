/**
 * The npm package as a user gets it: `npm pack` of this checkout, installed
 * into a fresh project from the tarball (dependencies from npm's cache, which
 * `npm ci` filled), then `node_modules/.bin/nix-hug` run directly: --help,
 * --version, completion, `ls` against the Hub emulator, and a `fetch` that
 * builds with real Nix through the lib/ shipped in the tarball.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, requireBuild, nixTestEnv, type NixTestEnv, ok, REPO_ROOT, run, STUB_DIR } from '../support/index.ts';

interface PackageJson {
  version: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
const MODEL = 'pack-test/tiny';

let tmp: string;
let consumer: string;
let bin: string;
let packed: string[];
let hub: RunningHub;
let nix: NixTestEnv;
let cli: ReturnType<typeof cliEnv>;

before(async () => {
  requireBuild();
  tmp = mkdtempSync(join(tmpdir(), 'nix-hug-pack-'));
  // --ignore-scripts: `prepack` would rebuild dist/ under the other tests' feet (npm test built it).
  const pack = ok(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], process.env), 'npm pack');
  const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packed = info!.files.map((f) => f.path);

  consumer = join(tmp, 'consumer');
  ok(await run('mkdir', [consumer], process.env), 'mkdir');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  ok(
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(tmp, info!.filename)], process.env, { cwd: consumer }),
    'npm install of the tarball',
  );
  bin = join(consumer, 'node_modules', '.bin', 'nix-hug');

  hub = await startHub({
    repos: [{ id: MODEL, commits: [{ files: { 'config.json': '{"model_type": "llama"}\n', 'model.safetensors': { lfs: { size: 3000 } } } }] }],
  });
  nix = nixTestEnv();
  cli = cliEnv();
});

after(async () => {
  await hub?.close();
  nix?.cleanup();
  cli?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The installed bin, run directly (its shebang and mode matter), with the Nix test env and the emulator. */
function nixHug(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...cli.env, ...nix.env, HOME: cli.env.HOME, HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR };
  delete env.NIX_HUG_LIB; // the installed package must find its own lib/
  return run(bin, args, env, { cwd: consumer });
}

describe('npm package', () => {
  it('declares bin, engines and files, and packs dist/ and lib/ without tests or sources', () => {
    assert.deepEqual(pkg.bin, { 'nix-hug': 'dist/bin.cjs' });
    assert.match(pkg.engines.node ?? '', /^>=20/);
    for (const f of ['dist/bin.cjs', 'dist/fast-answers.cjs', 'dist/cli.js', 'dist/prebuilt.json']) assert.ok(packed.includes(f), `${f} is in the tarball`);
    assert.ok(packed.includes('package.json'));
    for (const f of ['lib/default.nix', 'lib/fetch-model.nix', 'lib/fetch-dataset.nix', 'lib/build-cache.nix', 'lib/internal/assemble.sh', 'lib/internal/build-cache.sh']) {
      assert.ok(packed.includes(f), `${f} is in the tarball`);
    }
    const unwanted = packed.filter((p) => /^(test|src|bench|scripts|nix|node_modules|\.ci|\.tmp)\//.test(p) || p.endsWith('.ts') || p === 'flake.nix');
    assert.deepEqual(unwanted, []);
  });

  it('installs into a fresh project and runs: --help, --version, completion', async () => {
    assert.ok(existsSync(bin), 'node_modules/.bin/nix-hug exists');
    const help = ok(await nixHug(['--help']), 'nix-hug --help');
    assert.match(help.stdout, /Usage: nix-hug/);
    for (const command of ['fetch', 'ls', 'export', 'import', 'store', 'completion']) assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`));
    const version = ok(await nixHug(['--version']), 'nix-hug --version');
    assert.equal(version.stdout, `${pkg.version}\n`);
    const completion = ok(await nixHug(['completion', 'bash']), 'nix-hug completion bash');
    assert.match(completion.stdout, /^complete -F _nix_hug nix-hug$/m);
  });

  it('lists a repository of the emulator with `nix-hug ls`', async () => {
    const r = ok(await nixHug(['ls', MODEL]), 'nix-hug ls');
    assert.match(r.stdout, /config\.json/);
    assert.match(r.stdout, /model\.safetensors/);
  });

  it('fetches and builds with the lib/ shipped in the tarball', async () => {
    const r = ok(await nixHug(['fetch', MODEL]), 'nix-hug fetch');
    assert.match(r.stdout, /^nix-hug-lib\.fetchModel \{\n {2}url = "pack-test\/tiny";/);
    const storePath = /\/nix\/store\/[a-z0-9]{32}-hf-model-pack-test--tiny-[0-9a-f]{7}/.exec(r.stderr)?.[0];
    assert.ok(storePath, `a store path is reported on stderr:\n${r.stderr}`);
    assert.equal(readFileSync(join(storePath, 'config.json'), 'utf8'), '{"model_type": "llama"}\n');
    assert.equal(readFileSync(join(storePath, 'model.safetensors')).length, 3000);
  });
});
