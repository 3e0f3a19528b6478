/**
 * buildCache with real Nix against the Hub emulator, judged by the real
 * client: @huggingface/hub's cache functions read the built HF_HUB_CACHE
 * offline and every file's bytes must equal the fixture. Also the
 * self-contained (fixed-output) cache and pure evaluation in a flake.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import type { RepoType } from '../../src/types.ts';
import { nixString } from '../../src/nix/expr.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { nixTestEnv, type NixTestEnv, fetchExpr, hubFileTreeHash, LIB_DIR, nixBuild, ok, plain, references, runNix, STUB_DIR, type FetchArgs } from '../support/index.ts';

const LLAMA = 'nix-hug-cache/llama';
const BERT = 'nix-hug-cache/bert';
const SQUAD = 'nix-hug-cache/squad';

let hub: RunningHub;
let nix: NixTestEnv;
let tmp: string;

before(async () => {
  nix = nixTestEnv();
  tmp = mkdtempSync(join(tmpdir(), 'nix-hug-cache-test-'));
  hub = await startHub({
    repos: [
      {
        id: LLAMA,
        commits: [
          {
            files: {
              'config.json': '{"model_type": "llama", "v": 1}\n',
              'model.safetensors': { lfs: { size: 3000 } },
              'tokenizer/tokenizer.json': '{"version": "1.0"}\n',
            },
          },
          {
            files: {
              'config.json': '{"model_type": "llama", "v": 2}\n',
              'sub/deeper/weights.bin': { lfs: { size: 1200 } },
            },
          },
        ],
      },
      { id: BERT, commits: [{ files: { 'config.json': '{"model_type": "bert"}\n', 'pytorch_model.bin': { lfs: { size: 2500 } } } }] },
      {
        id: SQUAD,
        type: 'dataset',
        commits: [{ files: { 'README.md': '# squad\n', 'plain_text/train.parquet': { lfs: { size: 2048 } }, 'plain_text/dev.jsonl': '{"q": 1}\n' } }],
      },
    ],
  });
});

after(async () => {
  await hub?.close();
  nix?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Pinned {
  id: string;
  type: RepoType;
  rev: string;
  args: FetchArgs;
}

async function pin(id: string, type: RepoType, i: number): Promise<Pinned> {
  const rev = hub.repo(id, type).commits[i]!;
  const args: FetchArgs = {
    fn: type === 'dataset' ? 'fetchDataset' : 'fetchModel',
    url: id,
    rev,
    fileTreeHash: await hubFileTreeHash(hub.url, type, id, rev),
    endpoint: hub.url,
  };
  return { id, type, rev, args };
}

const list = (ps: Pinned[]) => `[ ${ps.map((p) => fetchExpr(p.args)).join(' ')} ]`;
const cacheExpr = (models: Pinned[], datasets: Pinned[], hash?: string) =>
  `lib.buildCache { models = ${list(models)}; datasets = ${list(datasets)};${hash === undefined ? '' : ` hash = ${nixString(hash)};`} }`;

/** No network: any request the client tries is a failure. */
const offline: typeof fetch = async (input) => {
  throw new Error(`the cache reader went to the network: ${String(input)}`);
};

/**
 * The real client finds every file of every pinned revision offline, with
 * the fixture's bytes, under a path containing snapshots/<commit>/.
 */
async function assertClientReadsAll(cacheDir: string, pins: Pinned[]) {
  for (const p of pins) {
    const files = hub.repo(p.id, p.type).filesAt(p.rev);
    for (const [path, bytes] of files) {
      const got = await downloadFileToCacheDir({ repo: { type: p.type, name: p.id }, path, revision: p.rev, cacheDir, fetch: offline });
      assert.ok(got.includes(`/snapshots/${p.rev}/`), got);
      assert.ok(Buffer.from(bytes).equals(readFileSync(got)), `${p.id}@${p.rev.slice(0, 7)}: ${path}`);
    }
  }
}

describe('buildCache', () => {
  it('lays out models (one in two revisions) and a dataset for HF_HUB_CACHE, read offline by @huggingface/hub', async () => {
    const llama0 = await pin(LLAMA, 'model', 0);
    const llama1 = await pin(LLAMA, 'model', 1);
    const bert = await pin(BERT, 'model', 0);
    const squad = await pin(SQUAD, 'dataset', 0);
    const out = ok(await nixBuild(cacheExpr([llama0, llama1, bert], [squad]), nix.env), 'build cache').outPath!;

    // Layout: exactly the repo folders (no hub/, no trees/, no blobs/).
    assert.deepEqual(readdirSync(out).sort(), ['datasets--nix-hug-cache--squad', 'models--nix-hug-cache--bert', 'models--nix-hug-cache--llama']);
    for (const folder of readdirSync(out)) assert.deepEqual(readdirSync(join(out, folder)).sort(), ['refs', 'snapshots']);
    assert.deepEqual(readdirSync(join(out, 'models--nix-hug-cache--llama', 'snapshots')).sort(), [llama0.rev, llama1.rev].sort());
    // refs/main: the revision listed last, no trailing newline.
    assert.equal(readFileSync(join(out, 'models--nix-hug-cache--llama', 'refs', 'main'), 'utf8'), llama1.rev);
    assert.equal(readFileSync(join(out, 'models--nix-hug-cache--bert', 'refs', 'main'), 'utf8'), bert.rev);
    assert.equal(readFileSync(join(out, 'datasets--nix-hug-cache--squad', 'refs', 'main'), 'utf8'), squad.rev);

    // The real client: scan, then every file of every revision, offline.
    const info = await scanCacheDir(out);
    assert.deepEqual(info.warnings, []);
    const repos = new Map(info.repos.map((r) => [`${r.id.type}:${r.id.name}`, r]));
    assert.deepEqual([...repos.keys()].sort(), [`dataset:${SQUAD}`, `model:${BERT}`, `model:${LLAMA}`]);
    const llamaRevs = repos.get(`model:${LLAMA}`)!.revisions;
    assert.deepEqual(llamaRevs.find((r) => r.commitOid === llama1.rev)?.refs, ['main']);
    assert.deepEqual(llamaRevs.find((r) => r.commitOid === llama0.rev)?.refs, []);
    assert.ok(repos.get(`model:${BERT}`)!.size >= 2500, 'blob sizes are counted through the links');
    await assertClientReadsAll(out, [llama0, llama1, bert, squad]);
  });

  it('points refs/main at whichever revision is listed last', async () => {
    const llama0 = await pin(LLAMA, 'model', 0);
    const llama1 = await pin(LLAMA, 'model', 1);
    const out = ok(await nixBuild(cacheExpr([llama1, llama0], []), nix.env), 'build cache').outPath!;
    assert.equal(readFileSync(join(out, 'models--nix-hug-cache--llama', 'refs', 'main'), 'utf8'), llama0.rev);
  });

  it('with hash = "" reports the right hash; with it, builds a self-contained copy the client reads', async () => {
    const llama1 = await pin(LLAMA, 'model', 1);
    const squad = await pin(SQUAD, 'dataset', 0);
    const first = await nixBuild(cacheExpr([llama1], [squad], ''), nix.env);
    assert.notEqual(first.code, 0);
    const hash = /got:\s+(sha256-[A-Za-z0-9+/]{43}=)/.exec(plain(first.stderr))?.[1];
    assert.ok(hash, first.stderr);

    const out = ok(await nixBuild(cacheExpr([llama1], [squad], hash), nix.env), 'build hashed cache').outPath!;
    assert.deepEqual(await references(out, nix.env), [], 'no references to other store paths');
    const links: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        const st = lstatSync(p);
        if (st.isSymbolicLink()) links.push(p);
        else if (st.isDirectory()) walk(p);
      }
    };
    walk(out);
    assert.deepEqual(links, [], 'every link dereferenced');
    assert.equal(readFileSync(join(out, 'models--nix-hug-cache--llama', 'refs', 'main'), 'utf8'), llama1.rev);
    assert.deepEqual((await scanCacheDir(out)).warnings, []);
    await assertClientReadsAll(out, [llama1, squad]);
  });

  it('refuses a dataset among models, and one revision listed with different contents', async () => {
    const squad = await pin(SQUAD, 'dataset', 0);
    const bert = await pin(BERT, 'model', 0);
    const wrongList = await runNix(['eval', '--impure', '--raw', '--expr', `${withLibExpr(cacheExpr([squad], []))}.drvPath`], nix.env);
    assert.match(plain(wrongList.stderr), /nix-hug-cache\/squad is a dataset; list it under `datasets`/);
    const filtered: Pinned = { ...bert, args: { ...bert.args, filters: { files: ['config.json'] } } };
    const twice = await runNix(['eval', '--impure', '--raw', '--expr', `${withLibExpr(cacheExpr([bert, filtered], []))}.drvPath`], nix.env);
    assert.match(plain(twice.stderr), /nix-hug-cache\/bert at [0-9a-f]{40} is listed twice with different contents/);
  });
});

function withLibExpr(body: string): string {
  return `(let pkgs = import (/. + ${nixString(STUB_DIR)}) { }; lib = import (/. + ${nixString(LIB_DIR)}) { inherit pkgs; }; in ${body})`;
}

describe('pure evaluation', () => {
  it('builds from a flake without --impure, nixpkgs overridden by the stand-in, to the same store path', async () => {
    const bert = await pin(BERT, 'model', 0);
    const system = process.arch === 'arm64' ? 'aarch64-linux' : 'x86_64-linux';
    const dir = join(tmp, 'flake');
    mkdirSync(dir);
    const flake = [
      '{',
      '  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";',
      `  inputs.nix-hug-lib = { url = ${nixString(`path:${LIB_DIR}`)}; flake = false; };`,
      '  outputs = { self, nixpkgs, nix-hug-lib }:',
      '    let',
      `      pkgs = nixpkgs.legacyPackages.${system};`,
      '      lib = import nix-hug-lib { inherit pkgs; };',
      '    in {',
      `      packages.${system}.default = ${fetchExpr(bert.args).split('\n').join('\n      ')};`,
      `      packages.${system}.cache = lib.buildCache { models = [ self.packages.${system}.default ]; };`,
      '    };',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'flake.nix'), flake);
    const pure = ok(
      await runNix(['build', `path:${dir}#cache`, '--override-input', 'nixpkgs', `path:${STUB_DIR}`, '--no-write-lock-file', '--no-link', '--json'], nix.env),
      'pure flake build',
    );
    const pureCache = (JSON.parse(pure.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
    const pureModel = ok(
      await runNix(['eval', '--raw', `path:${dir}#default.outPath`, '--override-input', 'nixpkgs', `path:${STUB_DIR}`, '--no-write-lock-file'], nix.env),
      'pure flake eval',
    ).stdout;
    const impure = ok(await nixBuild(fetchExpr(bert.args), nix.env), 'impure build');
    assert.equal(pureModel, impure.outPath, 'same derivation as `import ./lib { pkgs = import ./test/nixpkgs-stub { }; }`');
    assert.equal(readFileSync(join(pureCache, 'models--nix-hug-cache--bert', 'refs', 'main'), 'utf8'), bert.rev);
  });
});
