import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { fileTreeHash } from '../../src/canonical-manifest.ts';
import type { RepoFile } from '../../src/types.ts';
import { BIG_COUNT, cliHubOptions, GRANTED, CLI, cliEnv, requireBuild, runCli } from '../support/index.ts';

interface LsJson {
  repoId: string;
  type: string;
  endpoint: string;
  rev: string;
  ref: string;
  fileTreeHash: string;
  files: { path: string; size: number; lfs: { sha256: string; size: number } | null; selected: boolean }[];
}

let hub: RunningHub;
let env: ReturnType<typeof cliEnv>;

before(async () => {
  requireBuild();
  hub = await startHub(cliHubOptions);
  env = cliEnv({ HF_ENDPOINT: hub.url });
});
after(async () => {
  await hub.close();
  env.cleanup();
});

const ls = async (...args: string[]) => {
  const r = await runCli(['ls', ...args], env.env);
  assert.equal(r.code, 0, r.stderr);
  return r;
};
const lsJson = async (...args: string[]) => JSON.parse((await ls(...args, '--json')).stdout) as LsJson;

describe('nix-hug ls', () => {
  it('lists a 5,000-file dataset across every page: each path exactly once', async () => {
    hub.resetStats();
    const out = await lsJson('datasets/acme/big');
    const expected = [...hub.repo('acme/big', 'dataset').filesAt().keys()].sort();
    assert.equal(expected.length, BIG_COUNT);
    const paths = out.files.map((f) => f.path);
    assert.equal(paths.length, new Set(paths).size, 'no path twice');
    assert.deepEqual([...paths].sort(), expected);
    assert.equal(out.type, 'dataset');
    assert.equal(out.repoId, 'acme/big');
    assert.equal(out.rev, hub.repo('acme/big', 'dataset').refs.main);
    const pages = hub.requests.filter((r) => r.url.startsWith('/api/datasets/acme/big/tree/'));
    assert.ok(pages.length >= 5, `${pages.length} tree pages`);
  });

  it('shows a model with folders as a table with sizes, LFS markers and totals', async () => {
    const { stdout, stderr } = await ls('acme/folders');
    assert.equal(stderr, '');
    assert.doesNotMatch(stdout, /\x1b\[/, 'no colours when stdout is a pipe');
    const state = hub.repo('acme/folders');
    const files = state.filesAt();
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', new RegExp(`^model acme/folders at main \\(${state.refs.main}\\)$`));
    assert.match(lines[1] ?? '', /^FETCH\s+SIZE\s+LFS\s+PATH$/);
    const rows = lines.slice(2, -2);
    assert.equal(rows.length, files.size);
    const row = (path: string) => rows.find((r) => r.endsWith(`  ${path}`));
    assert.match(row('weights/model-00001-of-00002.safetensors') ?? '', /^yes\s+5\.00 kB\s+lfs\s+weights\//);
    assert.match(row('onnx/model.onnx') ?? '', /^yes\s+2\.00 kB\s+lfs\s+onnx\//);
    assert.match(row('config.json') ?? '', /^yes\s+23 B\s{7}config\.json$/);
    assert.ok(row('docs/ünï code.md'), 'unicode path shown as is');
    const total = [...files.values()].reduce((n, b) => n + b.length, 0);
    assert.equal(lines.at(-2), `${files.size} files, ${files.size} selected: ${(total / 1000).toFixed(1)} kB of ${(total / 1000).toFixed(1)} kB (${total} of ${total} bytes)`);
    const json = await lsJson('acme/folders');
    assert.equal(lines.at(-1), `fileTreeHash ${json.fileTreeHash}`);
    const asRepoFiles: RepoFile[] = json.files.map((f) => ({ path: f.path, size: f.size, oid: '', lfs: f.lfs }));
    assert.equal(json.fileTreeHash, fileTreeHash(asRepoFiles));
    // Sizes are the real contents' sizes, LFS ones included.
    for (const f of json.files) assert.equal(f.size, files.get(f.path)?.length, f.path);
  });

  it('marks what the filters select', async () => {
    const inc = await lsJson('acme/folders', '--include', '*.safetensors', '--exclude', '*model-00002*');
    const sel = Object.fromEntries(inc.files.map((f) => [f.path, f.selected]));
    assert.equal(sel['weights/model-00001-of-00002.safetensors'], true);
    assert.equal(sel['weights/model-00002-of-00002.safetensors'], false);
    assert.equal(sel['onnx/model.onnx'], false);
    assert.equal(sel['config.json'], true, 'non-LFS files are always kept');
    const table = (await ls('acme/folders', '--include', '*.onnx')).stdout;
    assert.match(table, /^no\s+5\.00 kB\s+lfs\s+weights\/model-00001/m);
    assert.match(table, /^yes\s+2\.00 kB\s+lfs\s+onnx\/model\.onnx$/m);
    assert.match(table, /^8 files, 6 selected: /m);
    const files = await lsJson('acme/folders', '--file', 'config.json', '--file', 'onnx/model.onnx');
    assert.deepEqual(files.files.filter((f) => f.selected).map((f) => f.path), ['config.json', 'onnx/model.onnx']);
    const missing = await runCli(['ls', 'acme/folders', '--file', 'nope.txt'], env.env);
    assert.equal(missing.code, 0);
    assert.match(missing.stderr, /--file 'nope\.txt' is not a file of model acme\/folders/);
  });

  it('resolves --ref, URL refs (tags, branches, refs/pr/N) and dataset URLs', async () => {
    const state = hub.repo('acme/folders');
    assert.equal((await lsJson('acme/folders', '--ref', 'v1.0')).rev, state.refs['v1.0']);
    const dev = await lsJson(`${hub.url}/acme/folders/tree/dev`);
    assert.equal(dev.rev, state.refs.dev);
    assert.ok(dev.files.some((f) => f.path === 'dev-only.txt'));
    assert.equal(dev.endpoint, hub.url, 'the Hub it listed, as fetch --json says it');
    const pr = await lsJson('https://huggingface.co/acme/folders/blob/refs%2Fpr%2F1/from-pr.bin');
    assert.equal(pr.rev, state.refs['refs/pr/1']);
    assert.equal(pr.ref, 'refs/pr/1');
    assert.equal((await lsJson('https://huggingface.co/acme/folders/tree/dev', '--ref', 'v1.0')).rev, state.refs['v1.0'], '--ref wins');
    assert.equal((await lsJson('hf:acme/folders', '--ref', state.refs['v1.0']!)).rev, state.refs['v1.0']);
    assert.equal((await lsJson('hf-datasets:acme/big')).type, 'dataset');
  });

  it('prefers the model when a dataset has the same name, and says how to get the dataset', async () => {
    const r = await ls('acme/both', '--json');
    assert.equal((JSON.parse(r.stdout) as LsJson).type, 'model');
    assert.match(r.stderr, /both a model and a dataset are named acme\/both.*datasets\/acme\/both/);
    assert.equal((await lsJson('datasets/acme/both')).type, 'dataset');
  });

  it('lists Spaces in every form, finds a bare Space id after model and dataset, and says which won', async () => {
    const rev = hub.repo('acme/app', 'space').commits[0];
    for (const url of ['spaces/acme/app', 'hf-spaces:acme/app', `https://huggingface.co/spaces/acme/app/tree/${rev}`, 'hf://spaces/acme/app', 'acme/app']) {
      const j = await lsJson(url);
      assert.equal(j.type, 'space', url);
      assert.equal(j.rev, rev, url);
    }
    const twice = await ls('acme/twice', '--json');
    assert.equal((JSON.parse(twice.stdout) as LsJson).type, 'dataset');
    assert.match(twice.stderr, /both a dataset and a space are named acme\/twice; using the dataset \(for the space, write spaces\/acme\/twice\)/);
    const text = await ls('spaces/acme/app');
    assert.match(text.stdout, /^space acme\/app at main/);
  });

  it('groups GGUF files by quantization, and shows what org/repo:QUANT selects', async () => {
    const r = await ls('acme/quants-GGUF');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /GGUF quantizations \(fetch one with acme\/quants-GGUF:QUANT\):\n  Q4_K_M  3 files   5\.00 kB  Q4_K_M\/quants-Q4_K_M-00001-of-00003\.gguf, Q4_K_M\/quants-Q4_K_M-00002-of-00003\.gguf, Q4_K_M\/quants-Q4_K_M-00003-of-00003\.gguf\n  Q8_0    1 file    8\.00 kB  quants-Q8_0\.gguf\n  mmproj  1 file +500 B  mmproj-quants-f16\.gguf\n/);
    const j = await lsJson('acme/quants-GGUF:Q4_K_M');
    assert.deepEqual(j.files.filter((f) => f.selected).map((f) => f.path), ['.gitattributes', 'Q4_K_M/quants-Q4_K_M-00001-of-00003.gguf', 'Q4_K_M/quants-Q4_K_M-00002-of-00003.gguf', 'Q4_K_M/quants-Q4_K_M-00003-of-00003.gguf', 'README.md']);
    const all = JSON.parse((await ls('acme/quants-GGUF', '--json')).stdout) as { ggufQuants: { quant: string | null; files: string[]; size: number }[] };
    assert.deepEqual(all.ggufQuants.map((g) => [g.quant, g.files.length, g.size]), [['Q4_K_M', 3, 5000], ['Q8_0', 1, 8000]]);
    const bad = await runCli(['ls', 'acme/quants-GGUF:IQ1_S'], env.env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /has no GGUF quantization 'IQ1_S': its quantizations: Q4_K_M \(3 files, 5\.00 kB\), Q8_0 \(1 file, 8\.00 kB\)/);
  });

  it('reads hf:// URIs with @REV', async () => {
    const state = hub.repo('acme/folders');
    assert.equal((await lsJson('hf://acme/folders@v1.0')).rev, state.refs['v1.0']);
    assert.equal((await lsJson('hf://acme/folders@refs%2Fpr%2F1')).rev, state.refs['refs/pr/1']);
    assert.equal((await lsJson('hf://acme/folders@refs/pr/1')).rev, state.refs['refs/pr/1']);
    assert.equal((await lsJson('hf://datasets/acme/big')).type, 'dataset');
  });

  it('lists a gated repo without a token (metadata is public) and a private one with a token', async () => {
    assert.ok((await lsJson('acme/gated')).files.length > 0);
    const withEnv = await runCli(['ls', 'acme/private', '--json'], { ...env.env, HF_TOKEN: GRANTED });
    assert.equal(withEnv.code, 0, withEnv.stderr);
    // The token file is found too ($HF_HOME/token).
    const hfHome = join(env.env.HOME!, 'hf-home');
    mkdirSync(hfHome, { recursive: true });
    writeFileSync(join(hfHome, 'token'), `${GRANTED}\n`);
    const fromFile = await runCli(['ls', 'acme/private', '--json'], { ...env.env, HF_HOME: hfHome });
    assert.equal(fromFile.code, 0, fromFile.stderr);
  });

  it('--debug logs every request with its status and time, never the token', async () => {
    const r = await runCli(['--debug', 'ls', 'acme/private'], { ...env.env, HF_TOKEN: GRANTED });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`GET ${hub.url}/api/models/acme/private -> 200 in \\d+ ms`));
    assert.match(r.stderr, /\/tree\/[0-9a-f]{40}\?recursive=true -> 200/);
    // The lookup's answer describes main: its commit is not asked for again.
    assert.ok(!r.stderr.includes('/revision/'), r.stderr);
    assert.ok(!r.stderr.includes(GRANTED) && !r.stdout.includes(GRANTED));
  });

  it('never loads Node\'s fetch (undici: ~10–40 MB and tens of milliseconds): the Hub client has its own transport', async () => {
    // Node loads undici on the first use of fetch, Response or Headers; its module list says whether it did.
    const probe = join(env.env.HOME!, 'modules-probe.cjs');
    const list = join(env.env.HOME!, 'modules.txt');
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
    const r = await runCli(['ls', 'acme/private'], { ...env.env, HF_TOKEN: GRANTED, NODE_OPTIONS: `--require ${probe}` });
    assert.equal(r.code, 0, r.stderr);
    const modules = readFileSync(list, 'utf8').split('\n');
    assert.ok(modules.includes('NativeModule http'), 'the probe sees the modules the CLI loaded');
    assert.deepEqual(modules.filter((m) => /undici/.test(m)), []);
  });

  it('--manifest prints the canonical manifest whose hash is the fileTreeHash', async () => {
    const { stdout } = await ls('acme/folders', '--manifest');
    assert.match(stdout, /^\.gitattributes\tgit\nREADME\.md\tgit\n/);
    assert.match(stdout, /\nweights\/model-00002-of-00002\.safetensors\tlfs\t[0-9a-f]{64}\t3000\n$/);
  });

  it('uses colours on a terminal, never with NO_COLOR', async () => {
    // util-linux `script` gives the CLI a pseudo-terminal.
    const onTty = (extra: NodeJS.ProcessEnv) =>
      new Promise<string>((resolve, reject) => {
        execFile('script', ['-qec', `'${process.execPath}' '${CLI}' ls acme/folders --include '*.onnx'`, '/dev/null'], { env: { ...env.env, ...extra } }, (err, stdout) =>
          err ? reject(err) : resolve(stdout),
        );
      });
    const coloured = await onTty({ TERM: 'xterm' });
    assert.match(coloured, /\x1b\[32myes/);
    assert.match(coloured, /\x1b\[36mlfs/);
    const plain = await onTty({ TERM: 'xterm', NO_COLOR: '1' });
    assert.doesNotMatch(plain, /\x1b\[/);
    assert.match(plain, /^yes\s+2\.00 kB\s+lfs\s+onnx\/model\.onnx/m);
  });
});
