/**
 * `npm run demo`: the whole product on one machine, offline. Starts the
 * bundled Hub emulator with a tiny model and a tiny dataset, runs
 * `nix-hug fetch` on both as a user would (saying what it sets in their
 * environment, and why), builds an HF_HUB_CACHE from the printed expressions
 * with real Nix, and reads it back offline with a real Hugging Face client
 * (@huggingface/hub's cache functions). Every result keeps a GC root under
 * .tmp/demo.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import { startHub } from '../hub-emulator/server.ts';
import { demoHubOptions, TINY_LLAMA, TINY_SQUAD } from '../hub-emulator/fixtures/demo.ts';
import { shellWord } from '../src/ui/command-trace.ts';

const root = resolve(import.meta.dirname, '..');
const bold = process.stderr.isTTY && !process.env.NO_COLOR;
const say = (s: string) => process.stderr.write(bold ? `\n\x1b[1m==> ${s}\x1b[0m\n` : `\n==> ${s}\n`);

if (spawnSync('nix', ['--version']).error) {
  process.stderr.write(
    'The demo builds with real Nix, and `nix` is not on PATH.\n' +
      'Install it: on Debian/Ubuntu `apt-get install nix-bin git git-lfs` (as root),\n' +
      'elsewhere see https://nixos.org/download. Then run `npm run demo` again.\n',
  );
  process.exit(1);
}

/** nixpkgs if this machine has one (and why), else the bundled stand-in (see test/nixpkgs-stub). */
function nixpkgs(env: NodeJS.ProcessEnv): { path: string; why: string } {
  if (process.env.NIX_HUG_NIXPKGS) return { path: process.env.NIX_HUG_NIXPKGS, why: 'yours, from the environment' };
  const probe = spawnSync('nix-instantiate', ['--find-file', 'nixpkgs'], { env, encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim()) return { path: probe.stdout.trim(), why: "this machine's <nixpkgs>, named so the demo never looks further" };
  return { path: join(root, 'test/nixpkgs-stub'), why: 'this machine has no nixpkgs: the bundled stand-in, whose runCommand uses the host\'s bash' };
}

/** A path as the demo shows it: relative to the checkout. */
const shown = (p: string) => relative(root, p) || '.';

function run(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  process.stderr.write(`$ nix-hug ${args.map(shellWord).join(' ')}\n`);
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(root, 'dist/bin.cjs'), ...args], { env, cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`nix-hug ${args.join(' ')} exited with ${code}`))));
  });
}

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel)).flatMap((name) => {
    const p = rel ? `${rel}/${name}` : name;
    return statSync(join(dir, p)).isDirectory() ? filesBelow(dir, p) : [p];
  });
}

const hub = await startHub(demoHubOptions());
try {
  const work = join(root, '.tmp', 'demo');
  mkdirSync(work, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HF_ENDPOINT: hub.url,
    NIX_CONFIG: `substituters =\n${process.env.NIX_CONFIG ?? ''}`,
  };
  const pkgs = nixpkgs(env);
  env.NIX_HUG_NIXPKGS = pkgs.path;
  say(`Hub emulator on ${hub.url} serving ${TINY_LLAMA} and datasets/${TINY_SQUAD}`);
  process.stderr.write(
    [
      'Every command below runs as you would run it, with these set in its environment:',
      `  HF_ENDPOINT=${hub.url}`,
      '      the local Hub emulator instead of https://huggingface.co (no network needed)',
      "  NIX_CONFIG='substituters ='",
      '      no binary cache to ask: offline, Nix would spend 5-10 s per build asking cache.nixos.org',
      `  NIX_HUG_NIXPKGS=${shellWord(pkgs.path)}`,
      `      where the library's runCommand comes from: ${pkgs.why}`,
      '',
    ].join('\n'),
  );

  // Each result gets a GC root of its own under .tmp/demo, like nix build's ./result.
  const modelLink = join(work, 'tiny-llama');
  const datasetLink = join(work, 'tiny-squad');
  const cacheLink = join(work, 'hf-hub-cache');
  say('Pin and fetch the model');
  const model = await run(['fetch', TINY_LLAMA, '--out-link', shown(modelLink)], env);
  process.stdout.write(model);
  say('Pin and fetch the dataset, only its parquet files');
  const dataset = await run(['fetch', `datasets/${TINY_SQUAD}`, '--include', '*.parquet', '--out-link', shown(datasetLink)], env);
  process.stdout.write(dataset);

  say('Build an HF_HUB_CACHE from the printed expressions, with the Hub emulator stopped (they evaluate without network)');
  const cacheNix = join(work, 'cache.nix');
  writeFileSync(
    cacheNix,
    [
      'let',
      `  pkgs = import ${JSON.stringify(env.NIX_HUG_NIXPKGS)} { };`,
      `  nix-hug-lib = import ${JSON.stringify(join(root, 'lib'))} { inherit pkgs; };`,
      `  model = ${model.trim().split('\n').join('\n  ')};`,
      `  dataset = ${dataset.trim().split('\n').join('\n  ')};`,
      'in',
      'nix-hug-lib.buildCache { models = [ model ]; datasets = [ dataset ]; }',
      '',
    ].join('\n'),
  );
  process.stderr.write(readFileSync(cacheNix, 'utf8'));
  const buildArgs = ['build', '--out-link', shown(cacheLink), '--json', '--extra-experimental-features', 'nix-command flakes', '-f', shown(cacheNix)];
  // The printed pins carry gitRepoHash and their manifest: they evaluate without the Hub (or git), so it is stopped first.
  await hub.close();
  process.stderr.write(`$ nix ${buildArgs.map(shellWord).join(' ')}\n`);
  const built = spawnSync('nix', buildArgs, {
    env,
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) throw new Error('nix build of the cache failed');
  const cache = (JSON.parse(built.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
  process.stderr.write(`HF_HUB_CACHE=${cache}\n${shown(cacheLink)} -> ${cache} (a GC root, like nix build's ./result)\n`);

  say('Read it offline with a real Hugging Face client (@huggingface/hub)');
  const info = await scanCacheDir(cache);
  for (const w of info.warnings) process.stderr.write(`warning: ${w.message}\n`);
  // scanCacheDir lists the top-level files of a snapshot only; downloadFileToCacheDir finds any file by path.
  const offline = (() => Promise.reject(new Error('network used while offline'))) as typeof fetch;
  for (const repo of info.repos) {
    for (const rev of repo.revisions) {
      const all = filesBelow(rev.path);
      process.stderr.write(
        `${repo.id.type}s/${repo.id.name} at ${rev.commitOid.slice(0, 8)} [${rev.refs.join(',')}]: scanCacheDir lists ${rev.files.length} top-level file(s) ` +
          `(it does not enter folders); downloadFileToCacheDir, offline, finds all ${all.length}:\n`,
      );
      for (const path of all) {
        const found = await downloadFileToCacheDir({ repo: { type: repo.id.type, name: repo.id.name }, path, revision: rev.commitOid, cacheDir: cache, fetch: offline });
        process.stderr.write(`  ${path} (${statSync(found).size} bytes)\n`);
      }
    }
  }
  const llamaRev = info.repos.find((r) => r.id.name === TINY_LLAMA)?.revisions[0]?.commitOid;
  if (!llamaRev || !info.repos.some((r) => r.id.name === TINY_SQUAD)) throw new Error('a repository is missing from the cache');
  const configPath = await downloadFileToCacheDir({ repo: { type: 'model', name: TINY_LLAMA }, path: 'config.json', revision: llamaRev, cacheDir: cache, fetch: offline });
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { model_type: string };
  const weights = realpathSync(join(configPath, '..', 'model.safetensors'));
  say(`Offline read OK: ${TINY_LLAMA} config.json says model_type=${config.model_type}; weights at ${weights}`);
  process.stderr.write(
    `\nUse it:  HF_HUB_CACHE=${cacheLink} HF_HUB_OFFLINE=1 python -c "from transformers import AutoConfig; print(AutoConfig.from_pretrained('${TINY_LLAMA}'))"\n` +
      `The results stay in the Nix store while their links in ${shown(work)} exist (${['tiny-llama', 'tiny-squad', 'hf-hub-cache'].join(', ')}); delete them to let garbage collection take them.\n`,
  );
} finally {
  await hub.close();
}
