/**
 * `nix-hug fetch` end to end, as a user runs it: the built CLI against the
 * Hub emulator, real Nix building with the library (on the nixpkgs
 * stand-in). Blob contents are seeded per run, so "what was downloaded" is
 * measured on a store that has never seen them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { CLI, cliCwd, cliEnv, requireBuild, runCli, nixTestEnv, LIB_DIR, STUB_DIR, run, collect, RUN, seeded, sha256Hex, fileSha, cdnRequests, fetchJson as fetchJsonRun } from '../support/index.ts';
import type { FetchJson } from '../../src/commands/fetch.ts';
import { readIndex } from '../../src/persist/export-index.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';

const TOKEN = `hf_fetchTestToken${RUN}`;

const MODEL: RepoSpec = {
  id: 'fetch/model',
  commits: [
    {
      files: {
        'config.json': '{"model_type":"llama"}\n',
        'sub dir/tokenizer.json': '{"v":1}\n',
        'model.safetensors': seeded('st', 300_000),
        'model.onnx': seeded('onnx', 200_000),
        'extra/opt.bin': seeded('bin', 1_000),
      },
      tags: ['v1'],
    },
    { branch: 'dev', files: { 'dev.txt': 'dev\n' } },
  ],
};
const GATED: RepoSpec = { id: 'fetch/gated', gated: 'manual', commits: [{ files: { 'config.json': '{}\n', 'w.safetensors': seeded('gated', 5_000) } }] };
const BIG: RepoSpec = { id: 'fetch/big', commits: [{ files: { 'config.json': '{}\n', 'big.safetensors': seeded('big', 96 << 20) } }] };
const AUTO: RepoSpec = { id: 'fetch/auto', commits: [{ files: { 'config.json': '{"auto":1}\n', 'w.safetensors': seeded('auto', 50_000) } }] };
const EPIPE: RepoSpec = { id: 'fetch/epipe', commits: [{ files: { 'config.json': '{}\n', 'a.safetensors': seeded('epipe-a', 40_000), 'b.safetensors': seeded('epipe-b', 40_000) } }] };
const TTY: RepoSpec = { id: 'fetch/tty', commits: [{ files: { 'config.json': '{}\n', 'a.safetensors': seeded('tty-a', 2 << 20), 'b.safetensors': seeded('tty-b', 2 << 20) } }] };
const EVALUATED: RepoSpec = { id: 'fetch/evaluated', commits: [{ files: { 'config.json': '{}\n', 'a.safetensors': seeded('ev-a', 30_000), 'b.safetensors': seeded('ev-b', 30_000) } }] };
const DATASET: RepoSpec = { id: 'fetch/data', type: 'dataset', commits: [{ files: { 'README.md': '# d\n', 'data/train.parquet': seeded('pq', 4_000) } }] };
const GGUF: RepoSpec = {
  id: 'fetch/tiny-GGUF',
  commits: [
    {
      files: {
        'README.md': '# tiny gguf\n',
        'config.json': '{}\n',
        'Q4_K_M/tiny-Q4_K_M-00001-of-00002.gguf': seeded('q4-1', 3_000),
        'Q4_K_M/tiny-Q4_K_M-00002-of-00002.gguf': seeded('q4-2', 2_000),
        'tiny-Q8_0.gguf': seeded('q8', 6_000),
        'mmproj-tiny-f16.gguf': seeded('mmproj', 1_000),
      },
    },
  ],
};
const SPACE: RepoSpec = { id: 'fetch/app', type: 'space', commits: [{ files: { 'app.py': 'print(1)\n', 'assets/logo.png': seeded('logo', 3_000) } }] };

let hub: RunningHub;
let nixEnv: ReturnType<typeof nixTestEnv>;
let cli: ReturnType<typeof cliEnv>;

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...cli.env, ...nixEnv.env, HOME: cli.env.HOME, HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR, ...extra };
}

/** The LFS files the CDN served since the last reset, by URL. */
const cdnHits = (): string[] => cdnRequests(hub).filter((r) => r.method === 'GET').map((r) => r.url);
const blobSha = (repo: RepoSpec, path: string) => fileSha(hub, repo, path);
const fetchJson = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<FetchJson> => (await fetchJsonRun(args, env(extra))).out;

before(async () => {
  requireBuild();
  hub = await startHub({ repos: [MODEL, GATED, BIG, DATASET, TTY, AUTO, EPIPE, SPACE, GGUF, EVALUATED], tokens: { [TOKEN]: { grants: ['fetch/gated'] } } });
  nixEnv = nixTestEnv();
  cli = cliEnv();
});
after(async () => {
  await hub?.close();
  nixEnv?.cleanup();
  cli?.cleanup();
});

describe('fetch', () => {
  it('builds the snapshot from the .drv evaluated while the blobs downloaded: no second evaluation after the last byte', async () => {
    // Streamed (the route that always evaluates beside the downloads, whatever the cores).
    const r = await runCli(['--debug', 'fetch', 'fetch/evaluated', '--no-link'], env({ NIX_HUG_DOWNLOADER: 'stream' }));
    assert.equal(r.code, 0, r.stderr);
    const drv = /^debug: the snapshot is (\/nix\/store\/[a-z0-9]{32}-hf-model-fetch--evaluated-[0-9a-f]{7}\.drv), evaluated while the blobs downloaded$/m.exec(r.stderr)?.[1];
    assert.ok(drv, r.stderr);
    const after = r.stderr.slice(r.stderr.indexOf('debug: building the snapshot'));
    const build = /^debug: \[\d+\] \$ .* nix .* build .*$/m.exec(after)?.[0];
    assert.ok(build, after);
    assert.ok(build.includes(drv), build);
    assert.doesNotMatch(build, / -f /, 'the last build evaluates nothing');
  });

  it('prints the pinned expression; pasted into a file with the library it builds the same store path', async () => {
    hub.resetStats();
    const r = await runCli(['fetch', 'fetch/model', '--include', '*.safetensors'], env());
    assert.equal(r.code, 0, r.stderr);
    const rev = hub.repo('fetch/model').refs.main;
    assert.equal(
      r.stdout,
      [
        'nix-hug-lib.fetchModel {',
        '  url = "fetch/model";',
        `  endpoint = "${hub.url}";`,
        `  rev = "${rev}";`,
        '  filters = { include = [ ".*\\\\.safetensors" ]; };',
        /fileTreeHash = "(sha256-[A-Za-z0-9+/=]{44})";/.exec(r.stdout)![0].replace(/^/, '  '),
        /gitRepoHash = "(sha256-[A-Za-z0-9+/=]{44})";/.exec(r.stdout)![0].replace(/^/, '  '),
        // Every file (not only the selected ones), inline: the expression evaluates without network.
        '  manifest = {',
        '    ".gitattributes" = "git";',
        '    "config.json" = "git";',
        `    "extra/opt.bin" = { sha256 = "${blobSha(MODEL, 'extra/opt.bin')}"; size = 1000; };`,
        `    "model.onnx" = { sha256 = "${blobSha(MODEL, 'model.onnx')}"; size = 200000; };`,
        `    "model.safetensors" = { sha256 = "${blobSha(MODEL, 'model.safetensors')}"; size = 300000; };`,
        '    "sub dir/tokenizer.json" = "git";',
        '  };',
        '}',
        '',
      ].join('\n'),
    );
    const built = /built (\/nix\/store\/\S+)/.exec(r.stderr)?.[1];
    assert.ok(built, r.stderr);
    assert.doesNotMatch(r.stderr, /does not match|mismatch/i, 'the library agrees with the CLI on fileTreeHash');

    // Only the selected weights came from the CDN.
    const hits = cdnHits();
    assert.equal(hits.length, 1, hits.join('\n'));
    assert.ok(hits[0]!.includes(blobSha(MODEL, 'model.safetensors')), hits[0]);

    const dir = mkdtempSync(join(tmpdir(), 'fetch-paste-'));
    try {
      const file = join(dir, 'model.nix');
      writeFileSync(file, `let nix-hug-lib = import ${LIB_DIR} { pkgs = import ${STUB_DIR} { }; }; in\n${r.stdout}`);
      const b = await run('nix', ['build', '--no-link', '--json', '-f', file], env());
      assert.equal(b.code, 0, b.stderr);
      assert.equal((JSON.parse(b.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out, built);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    assert.equal(readFileSync(join(built, 'config.json'), 'utf8'), '{"model_type":"llama"}\n');
    assert.equal(readFileSync(join(built, 'sub dir/tokenizer.json'), 'utf8'), '{"v":1}\n');
    assert.equal(readlinkSync(join(built, 'model.safetensors')), blobStorePath(blobSha(MODEL, 'model.safetensors')));
    assert.ok(!existsSync(join(built, 'model.onnx')) && !existsSync(join(built, 'extra/opt.bin')), 'unselected LFS files are left out');
  });

  it('a re-run with everything in the store downloads nothing', async () => {
    hub.resetStats();
    const r = await runCli(['fetch', 'fetch/model', '--include', '*.safetensors'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(hub.cdnBytes(), 0);
    assert.deepEqual(hub.requests.filter((q) => q.route === 'resolve' || q.route === 'cdn'), []);
    assert.match(r.stderr, /all already in the Nix store/);
  });

  it('--exclude and --file change what is downloaded', async () => {
    hub.resetStats();
    const ex = await fetchJson(['fetch/model', '--exclude', '*.onnx']);
    assert.deepEqual(ex.filters, { exclude: ['.*\\.onnx'] });
    let hits = cdnHits();
    assert.equal(hits.length, 1, hits.join('\n')); // extra/opt.bin; the safetensors is already stored
    assert.ok(hits[0]!.includes(blobSha(MODEL, 'extra/opt.bin')));
    assert.ok(existsSync(join(ex.storePath!, 'extra/opt.bin')) && !existsSync(join(ex.storePath!, 'model.onnx')));

    hub.resetStats();
    const one = await fetchJson(['fetch/model', '--file', 'model.onnx', '--file', 'config.json']);
    hits = cdnHits();
    assert.equal(hits.length, 1);
    assert.ok(hits[0]!.includes(blobSha(MODEL, 'model.onnx')));
    assert.deepEqual(readdirSync(one.storePath!).sort(), ['config.json', 'model.onnx']);
    assert.deepEqual(one.filters, { files: ['model.onnx', 'config.json'] });
  });

  it('--json has exactly the documented keys; --no-build pins without downloading or building', async () => {
    hub.resetStats();
    const j = await fetchJson(['fetch/model', '--no-build']);
    assert.deepEqual(Object.keys(j).sort(), ['endpoint', 'expression', 'fileTreeHash', 'filters', 'gitRepoHash', 'manifest', 'manifestFile', 'outLink', 'repoId', 'rev', 'storePath', 'type', 'url']);
    assert.equal(j.storePath, null);
    assert.equal(j.outLink, null, 'nothing built, nothing linked');
    assert.equal(j.url, 'fetch/model');
    assert.equal(j.repoId, 'fetch/model', 'the same name as ls --json');
    assert.equal(j.endpoint, hub.url);
    assert.equal(j.type, 'model');
    assert.equal(hub.cdnBytes(), 0);
    assert.ok(j.expression.startsWith('nix-hug-lib.fetchModel {'));
  });

  it('resolves branches, tags, commits and page URLs', async () => {
    const refs = hub.repo('fetch/model').refs;
    const cases: Array<[string[], string]> = [
      [['fetch/model', '--ref', 'dev'], refs.dev!],
      [['fetch/model', '--ref', 'v1'], refs.v1!],
      [['fetch/model', '--ref', refs.dev!], refs.dev!],
      [[`${hub.url}/fetch/model/tree/dev/sub%20dir`], refs.dev!],
      [[`${hub.url}/fetch/model/blob/v1/config.json`], refs.v1!],
      [['hf:fetch/model'], refs.main!],
      [[`${hub.url}/fetch/model/tree/dev`, '--ref', 'main'], refs.main!],
    ];
    for (const [args, rev] of cases) {
      const j = await fetchJson([...args, '--no-build']);
      assert.equal(j.rev, rev, args.join(' '));
    }
    const d = await fetchJson([`${hub.url}/datasets/fetch/data`, '--no-build']);
    assert.equal(d.type, 'dataset');
    assert.match(d.expression, /^nix-hug-lib\.fetchDataset \{\n {2}url = "fetch\/data";/);
    const bare = await fetchJson(['fetch/data', '--no-build']);
    assert.equal(bare.type, 'dataset', 'a bare id that exists only as a dataset is a dataset');
  });

  it('a reader of its messages that goes away mid-fetch (`2>&1 | head`): the fetch goes on to exit 0 and leaves no temporary folder', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fetch-epipe-'));
    try {
      // A temporary folder of its own, open as /tmp is: Nix's builders make their folders in it too.
      chmodSync(tmp, 0o1777);
      const e = env({ TMPDIR: tmp });
      const child = spawn(process.execPath, [CLI, '--debug', 'fetch', 'fetch/epipe', '--no-link'], { env: e, cwd: cliCwd(e), stdio: ['ignore', 'ignore', 'pipe'] });
      // Read one chunk of the --debug lines, then close our end, as `head` does.
      await new Promise<void>((r) => child.stderr.once('data', () => r()));
      child.stderr.destroy();
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      assert.equal(code, 0);
      assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('nix-hug-')), []);
      const again = await runCli(['fetch', 'fetch/epipe', '--no-link', '--json'], env());
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /"storePath"/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('on a TTY shows a live download display; without one, a line per file; --quiet shows neither', async () => {
    // `script` gives the CLI a pseudo-terminal, as a user's shell would.
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} fetch fetch/tty`;
    const tty = await run('script', ['-qec', cmd, '/dev/null'], env());
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /downloading .*\d\/2 files \| .*B\/.*B/, tty.stdout);
    assert.match(tty.stdout, /\x1b\[/, 'the TTY display redraws in place');

    const again = await runCli(['fetch', 'fetch/tty', '--ref', 'main'], env());
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /all already in the Nix store/);
    assert.doesNotMatch(again.stderr, /\x1b\[/, 'no escape codes when stderr is not a terminal');

    const quiet = await runCli(['fetch', 'fetch/tty', '--quiet'], env());
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
  });

  it('a fetched dataset builds with fetchDataset', async () => {
    const d = await fetchJson(['datasets/fetch/data']);
    assert.ok(d.storePath);
    assert.equal(readFileSync(join(d.storePath, 'data/train.parquet')).length, 4_000);
  });

  it('org/repo:QUANT fetches every shard of that quantization (in a subfolder) and every non-LFS file, nothing else', async () => {
    hub.resetStats();
    const r = await runCli(['fetch', 'fetch/tiny-GGUF:q4_k_m'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /filters = \{ include = \[ "Q4_K_M\/tiny-Q4_K_M-00001-of-00002\\\\\.gguf" "Q4_K_M\/tiny-Q4_K_M-00002-of-00002\\\\\.gguf" \]; \};/);
    const built = /built (\/nix\/store\/\S+)/.exec(r.stderr)?.[1];
    assert.ok(built, r.stderr);
    const got = readdirSync(built, { recursive: true }).map(String).sort();
    assert.deepEqual(got, ['.gitattributes', 'Q4_K_M', 'Q4_K_M/tiny-Q4_K_M-00001-of-00002.gguf', 'Q4_K_M/tiny-Q4_K_M-00002-of-00002.gguf', 'README.md', 'config.json']);
    const hits = cdnHits();
    assert.equal(hits.length, 2, hits.join('\n'));
    for (const p of ['Q4_K_M/tiny-Q4_K_M-00001-of-00002.gguf', 'Q4_K_M/tiny-Q4_K_M-00002-of-00002.gguf']) assert.ok(hits.some((h) => h.includes(blobSha(GGUF, p))), p);

    const unknown = await runCli(['fetch', 'fetch/tiny-GGUF:Q2_K', '--no-build'], env());
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /model fetch\/tiny-GGUF has no GGUF quantization 'Q2_K': its quantizations: Q4_K_M \(2 files, 5\.00 kB\), Q8_0 \(1 file, 6\.00 kB\)/);
    const mixed = await runCli(['fetch', 'fetch/tiny-GGUF:Q8_0', '--file', 'config.json'], env());
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--file cannot be combined with :Q8_0/);
  });

  it('a Space, named by a bare id, builds with fetchSpace from the Space URLs', async () => {
    hub.resetStats();
    const s = await fetchJson(['fetch/app']);
    assert.equal(s.type, 'space');
    assert.match(s.expression, /^nix-hug-lib\.fetchSpace \{\n  url = "fetch\/app";/);
    assert.ok(s.storePath);
    assert.match(s.storePath, /-hf-space-fetch--app-[0-9a-f]{7}$/);
    assert.equal(readFileSync(join(s.storePath, 'app.py'), 'utf8'), 'print(1)\n');
    assert.equal(readlinkSync(join(s.storePath, 'assets/logo.png')), blobStorePath(blobSha(SPACE, 'assets/logo.png')));
    assert.ok(hub.requests.some((r) => r.url.startsWith('/spaces/fetch/app/resolve/')), 'downloaded through /spaces/…/resolve');
    assert.equal((await fetchJson(['hf://spaces/fetch/app', '--no-build'])).expression, s.expression);
  });
});

describe('fetch of a gated repository', () => {
  it('without a token: one clear error, nothing built', async () => {
    const r = await runCli(['fetch', 'fetch/gated'], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /fetch\/gated/);
    assert.match(r.stderr, /gated/);
    assert.match(r.stderr, /HF_TOKEN/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('with a granted token: builds, and the token is in no output, expression, derivation or store file', async () => {
    hub.resetStats();
    const r = await runCli(['fetch', 'fetch/gated', '--json', '--debug'], env({ HF_TOKEN: TOKEN }));
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as FetchJson;
    const w = readFileSync(join(j.storePath!, 'w.safetensors'));
    assert.equal(sha256Hex(w), blobSha(GATED, 'w.safetensors'));
    for (const text of [r.stdout, r.stderr, j.expression]) assert.ok(!text.includes(TOKEN));
    // Everything Nix built or recorded for it: derivations and outputs.
    const drv = await run('nix', ['path-info', '--derivation', '--recursive', '-f', writeExpr(j.expression)], env());
    assert.equal(drv.code, 0, drv.stderr);
    const paths = [...drv.stdout.trim().split('\n'), j.storePath!];
    for (const p of paths) assert.ok(!grepTree(p, TOKEN), `token found in ${p}`);
    // The token went only to the Hub, never to the CDN.
    assert.ok(hub.requests.some((q) => q.route === 'resolve' && q.authorized));
    assert.ok(hub.requests.filter((q) => q.route === 'cdn').every((q) => !q.authorized));
  });
});

function writeExpr(expression: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fetch-expr-'));
  const file = join(dir, 'e.nix');
  writeFileSync(file, `let nix-hug-lib = import ${LIB_DIR} { pkgs = import ${STUB_DIR} { }; }; in\n${expression}`);
  return file;
}

/** True when `needle` occurs in any regular file under `p` (links are not followed). */
function grepTree(p: string, needle: string): boolean {
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return readlinkSync(p).includes(needle);
  if (st.isDirectory()) return readdirSync(p).some((n) => grepTree(join(p, n), needle));
  return st.size < 64 << 20 && readFileSync(p).includes(needle);
}

describe('fetch --out', () => {
  it('copies real files, refuses a non-empty DIR without --override, replaces it with', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fetch-out-'));
    try {
      const out = join(root, 'model');
      const r = await runCli(['fetch', 'fetch/model', '--file', 'config.json', '--file', 'model.safetensors', '--out', out], env());
      assert.equal(r.code, 0, r.stderr);
      assert.ok(lstatSync(join(out, 'model.safetensors')).isFile());
      assert.equal(sha256Hex(readFileSync(join(out, 'model.safetensors'))), blobSha(MODEL, 'model.safetensors'));
      const meta = JSON.parse(readFileSync(join(out, '.nix-hug.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(meta.repoId, 'fetch/model');
      assert.equal(meta.rev, hub.repo('fetch/model').refs.main);

      writeFileSync(join(out, 'mine.txt'), 'mine');
      const again = await runCli(['fetch', 'fetch/model', '--file', 'config.json', '--out', out], env());
      assert.equal(again.code, 2);
      assert.match(again.stderr, /not empty/);
      assert.equal(readFileSync(join(out, 'mine.txt'), 'utf8'), 'mine');

      const over = await runCli(['fetch', 'fetch/model', '--file', 'config.json', '--out', out, '--override'], env());
      assert.equal(over.code, 0, over.stderr);
      assert.deepEqual(readdirSync(out).sort(), ['.nix-hug.json', 'config.json']);
      assert.deepEqual(readdirSync(root), ['model'], 'no temporary sibling left');

      const bad = await runCli(['fetch', 'fetch/model', '--out', out, '--no-build'], env());
      assert.equal(bad.code, 2);
      for (const dir of ['/', '/etc', '/nix/store/x', cli.env.HOME!]) {
        const refused = await runCli(['fetch', 'fetch/model', '--out', dir], env());
        assert.equal(refused.code, 2, dir);
        assert.match(refused.stderr, /refusing --out/);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a copy killed midway leaves no DIR; the next run cleans up and succeeds', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fetch-kill-'));
    try {
      // First build it, so the second run spends its time copying.
      const built = await runCli(['fetch', 'fetch/big', '--no-build'], env());
      assert.equal(built.code, 0, built.stderr);
      // Streamed by the CLI on every Nix: a file this large is a bulk download (its own connection, reused buffers).
      const prebuild = await runCli(['fetch', 'fetch/big'], env({ NIX_HUG_DOWNLOADER: 'stream' }));
      assert.equal(prebuild.code, 0, prebuild.stderr);

      const out = join(root, 'big');
      mkdirSync(root, { recursive: true });
      const child = spawn(process.execPath, [CLI, 'fetch', 'fetch/big', '--out', out], { env: env(), cwd: cliCwd(env()), stdio: 'ignore' });
      let killed = false;
      const watcher = watch(root, (_ev, name) => {
        if (!killed && name && String(name).includes('nix-hug-tmp')) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      watcher.close();
      assert.ok(killed, `the copy was not caught in progress (exit ${code})`);
      assert.ok(!existsSync(out), 'no half-written DIR');

      const r = await runCli(['fetch', 'fetch/big', '--out', out], env());
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256Hex(readFileSync(join(out, 'big.safetensors'))), blobSha(BIG, 'big.safetensors'));
      assert.deepEqual(readdirSync(root), ['big'], 'the stale temporary copy was removed');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('fetch with auto_persist', () => {
  it('exports after building, and after garbage collection restores without downloading from the Hub', async () => {
    const persist = mkdtempSync(join(tmpdir(), 'fetch-persist-'));
    try {
      const e = env({ NIX_HUG_PERSIST_DIR: persist, NIX_HUG_AUTO_PERSIST: 'true' });
      const first = await runCli(['fetch', 'fetch/auto', '--json'], e);
      assert.equal(first.code, 0, first.stderr);
      const j = JSON.parse(first.stdout) as FetchJson;
      // Recorded in the store's own export index (the old manifest file is no longer written).
      assert.deepEqual((await readIndex(`file://${persist}`, e)).records.map((x) => x.storePath), [j.storePath]);

      const blob = blobStorePath(blobSha(AUTO, 'w.safetensors'));
      await collect(e, [blob]);
      assert.ok(!existsSync(j.storePath!) && !existsSync(blob), 'collected');

      hub.resetStats();
      const again = await runCli(['fetch', 'fetch/auto', '--json'], e);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((JSON.parse(again.stdout) as FetchJson).storePath, j.storePath);
      assert.match(again.stderr, /restoring/);
      assert.deepEqual(hub.requests.filter((q) => q.route === 'resolve' || q.route === 'cdn' || q.route === 'git'), [], 'nothing downloaded from the Hub');
      assert.equal(sha256Hex(readFileSync(join(j.storePath!, 'w.safetensors'))), blobSha(AUTO, 'w.safetensors'));
    } finally {
      rmSync(persist, { recursive: true, force: true });
    }
  });
});
