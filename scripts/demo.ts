/**
 * `npm run demo`: the whole product on one machine, offline. Starts the
 * bundled Hub emulator with a tiny model and a tiny dataset, runs
 * `nix-hug fetch` on both as a user would, builds an HF_HUB_CACHE from the
 * printed expressions with real Nix, and reads it back with a real Hugging
 * Face client (@huggingface/hub's cache scanner), offline.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import { startHub } from '../hub-emulator/server.ts';
import { demoHubOptions, TINY_LLAMA, TINY_SQUAD } from '../hub-emulator/fixtures/demo.ts';

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

/** nixpkgs if this machine has one, else the bundled stand-in (see test/nixpkgs-stub). */
function nixpkgs(env: NodeJS.ProcessEnv): string {
  if (process.env.NIX_HUG_NIXPKGS) return process.env.NIX_HUG_NIXPKGS;
  const probe = spawnSync('nix-instantiate', ['--find-file', 'nixpkgs'], { env, encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim()) return probe.stdout.trim();
  process.stderr.write('(no nixpkgs on this machine: using the bundled stand-in test/nixpkgs-stub for runCommand)\n');
  return join(root, 'test/nixpkgs-stub');
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  process.stderr.write(`$ nix-hug ${args.join(' ')}\n`);
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(root, 'dist/cli.js'), ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`nix-hug ${args.join(' ')} exited with ${code}`))));
  });
}

const hub = await startHub(demoHubOptions());
try {
  const work = join(root, '.tmp', 'demo');
  mkdirSync(work, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HF_ENDPOINT: hub.url,
    // Offline: no binary cache to ask (each build would first try cache.nixos.org).
    NIX_CONFIG: `substituters =\n${process.env.NIX_CONFIG ?? ''}`,
  };
  env.NIX_HUG_NIXPKGS = nixpkgs(env);
  say(`Hub emulator on ${hub.url} serving ${TINY_LLAMA} and datasets/${TINY_SQUAD}`);

  say('Pin and fetch the model');
  const model = await run(['fetch', TINY_LLAMA], env);
  process.stdout.write(model);
  say('Pin and fetch the dataset, only its parquet files');
  const dataset = await run(['fetch', `datasets/${TINY_SQUAD}`, '--include', '*.parquet'], env);
  process.stdout.write(dataset);

  say('Build an HF_HUB_CACHE from the printed expressions');
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
  const built = spawnSync('nix', ['build', '--no-link', '--json', '--extra-experimental-features', 'nix-command flakes', '-f', cacheNix], {
    env: { ...env, GIT_LFS_SKIP_SMUDGE: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) throw new Error('nix build of the cache failed');
  const cache = (JSON.parse(built.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
  process.stderr.write(`HF_HUB_CACHE=${cache}\n`);

  say('Read it offline with a real Hugging Face client (@huggingface/hub scanCacheDir)');
  await hub.close(); // nothing can come from the Hub any more
  const info = await scanCacheDir(cache);
  for (const w of info.warnings) process.stderr.write(`warning: ${w.message}\n`);
  for (const repo of info.repos) {
    process.stderr.write(`${repo.id.type}s/${repo.id.name}: ${repo.filesCount} files, ${repo.size} bytes\n`);
    for (const rev of repo.revisions) {
      for (const f of rev.files) process.stderr.write(`  ${rev.commitOid.slice(0, 8)} [${rev.refs.join(',')}] ${f.path.slice(rev.path.length + 1)} (${f.blob.size} bytes)\n`);
    }
  }
  // scanCacheDir lists top-level files only; nested ones are found by path, offline (any network use fails).
  const offline = (() => Promise.reject(new Error('network used while offline'))) as typeof fetch;
  const rev = (id: string) => info.repos.find((r) => r.id.name === id)?.revisions[0]?.commitOid;
  const squadRev = rev(TINY_SQUAD);
  const llamaRev = rev(TINY_LLAMA);
  if (!squadRev || !llamaRev) throw new Error('a repository is missing from the cache');
  const parquet = await downloadFileToCacheDir({ repo: { type: 'dataset', name: TINY_SQUAD }, path: 'data/train-00000-of-00001.parquet', revision: squadRev, cacheDir: cache, fetch: offline });
  process.stderr.write(`downloadFileToCacheDir (offline) found ${parquet}\n`);
  const configPath = await downloadFileToCacheDir({ repo: { type: 'model', name: TINY_LLAMA }, path: 'config.json', revision: llamaRev, cacheDir: cache, fetch: offline });
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { model_type: string };
  const weights = realpathSync(join(configPath, '..', 'model.safetensors'));
  say(`Offline read OK: ${TINY_LLAMA} config.json says model_type=${config.model_type}; weights at ${weights}`);
  process.stderr.write(`\nUse it:  HF_HUB_CACHE=${cache} HF_HUB_OFFLINE=1 python -c "from transformers import AutoConfig; print(AutoConfig.from_pretrained('${TINY_LLAMA}'))"\n`);
} finally {
  await hub.close();
}
