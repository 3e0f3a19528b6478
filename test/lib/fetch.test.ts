/**
 * fetchModel / fetchDataset built with real Nix against the Hub emulator:
 * what lands in the store (every byte, LFS files as links to their own
 * `hf-blob-<sha256>` paths), filters, datasets, revisions off the default
 * branch, shared blobs, URL forms and argument errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { blobStorePath } from '../../src/nix/store-path.ts';
import type { Filters, RepoType } from '../../src/types.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { nixTestEnv, type NixTestEnv, fetchExpr, hubFiles, hubFileTreeHash, nixBuild, nixEvalRaw, ok, plain, printFixedPath, readSnapshot, type FetchArgs, type TreeEntry } from '../support/index.ts';

const MODEL = 'nix-hug-lib/tiny-model';
const DATASET = 'nix-hug-lib/tiny-set';

// A small PNG-like file with NUL bytes, committed as a regular git blob.
const BINARY = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 1, 2, 0, 255, 254]);

let hub: RunningHub;
let nix: NixTestEnv;

before(async () => {
  nix = nixTestEnv();
  hub = await startHub({
    repos: [
      {
        id: MODEL,
        commits: [
          {
            message: 'first upload',
            files: {
              'config.json': '{"model_type": "llama", "hidden_size": 64}\n',
              'README.md': '# tiny model\n',
              'tokenizer/vocab.txt': 'hello\nworld\n',
              'images/logo.png': BINARY,
              'model.safetensors': { lfs: { size: 5000 } },
              'onnx/model.onnx': { lfs: { size: 3000 } },
              'weights/part-00001.bin': { lfs: { size: 2000 } },
              'weights/part-00002.bin': { lfs: { size: 2100 } },
            },
            tags: ['v1'],
          },
          {
            branch: 'dev',
            message: 'dev: new config and an adapter',
            files: {
              'config.json': '{"model_type": "llama", "hidden_size": 128}\n',
              'extra/adapter.safetensors': { lfs: { size: 1500 } },
            },
          },
          {
            branch: 'pr-work',
            message: 'PR: drop onnx',
            files: { 'onnx/model.onnx': null, 'PR.md': 'from a pull request\n' },
            prs: [1],
          },
        ],
      },
      {
        id: DATASET,
        type: 'dataset',
        commits: [
          {
            files: {
              'README.md': '---\nlicense: mit\n---\n',
              'data/train.jsonl': '{"q": "a"}\n{"q": "b"}\n',
              'data/train.parquet': { lfs: { size: 4096 } },
              'data/test.parquet': { lfs: { size: 1024 } },
            },
          },
        ],
      },
    ],
  });
});

after(async () => {
  await hub?.close();
  nix?.cleanup();
});

const commit = (i: number, id = MODEL, type: RepoType = 'model') => hub.repo(id, type).commits[i]!;

async function args(i: number, extra: Partial<FetchArgs> = {}, id = MODEL, type: RepoType = 'model'): Promise<FetchArgs> {
  const rev = commit(i, id, type);
  return {
    fn: type === 'dataset' ? 'fetchDataset' : 'fetchModel',
    url: id,
    rev,
    fileTreeHash: await hubFileTreeHash(hub.url, type, id, rev),
    endpoint: hub.url,
    ...extra,
  };
}

async function build(a: FetchArgs): Promise<string> {
  const r = ok(await nixBuild(fetchExpr(a), nix.env), `building ${a.url}`);
  return r.outPath!;
}

/**
 * The snapshot holds exactly `expected` paths (every git file plus the
 * selected LFS files), each with the fixture's bytes; LFS files are links to
 * the blob store path Nix (and the CLI's prediction) give their sha256.
 */
async function assertSnapshot(out: string, id: string, type: RepoType, rev: string, keep: (f: TreeEntry) => boolean) {
  const tree = await hubFiles(hub.url, type, id, rev);
  const fixture = hub.repo(id, type).filesAt(rev);
  const expected = tree.filter(keep);
  const got = readSnapshot(out);
  assert.deepEqual([...got.keys()].sort(), expected.map((f) => f.path).sort(), 'the snapshot holds exactly the selected files');
  for (const f of expected) {
    const entry = got.get(f.path)!;
    assert.ok(Buffer.from(fixture.get(f.path)!).equals(entry.bytes), `bytes of ${f.path}`);
    if (f.lfs) {
      const name = `hf-blob-${f.lfs.sha256}`;
      assert.equal(entry.link, await printFixedPath(f.lfs.sha256, name, nix.env), `${f.path} links to its blob`);
      assert.equal(entry.link, blobStorePath(f.lfs.sha256), `${f.path}: the CLI predicts the blob path`);
    } else {
      assert.equal(entry.link, null, `${f.path} is a copied git file`);
    }
  }
}

describe('fetchModel', () => {
  it('fetches folders, git files (binary too) and LFS files with the fixture bytes, LFS files linked to hf-blob-<sha256>', async () => {
    const a = await args(0);
    const out = await build(a);
    assert.match(out, new RegExp(`-hf-model-nix-hug-lib--tiny-model-${a.rev.slice(0, 7)}$`));
    await assertSnapshot(out, MODEL, 'model', a.rev, () => true);
    const tree = await hubFiles(hub.url, 'model', MODEL, a.rev);
    assert.equal(tree.filter((f) => f.lfs).length, 4, 'the fixture has LFS files in folders');
    assert.ok(Buffer.from(BINARY).equals(readSnapshot(out).get('images/logo.png')!.bytes), 'binary git file intact');
  });

  it('exposes org, repo, repoId, revision, repoType, isDataset and isSpace, at top level and in passthru', async () => {
    const a = await args(0);
    const r = ok(
      await nixEvalRaw(
        `let m = ${fetchExpr(a)}; in builtins.toJSON { top = { inherit (m) org repo repoId revision repoType isDataset isSpace; }; p = m.passthru; }`,
        nix.env,
      ),
      'eval passthru',
    );
    const v = JSON.parse(r.stdout) as { top: unknown; p: unknown };
    const expected = { org: 'nix-hug-lib', repo: 'tiny-model', repoId: MODEL, revision: a.rev, repoType: 'model', isDataset: false, isSpace: false };
    assert.deepEqual(v.top, expected);
    assert.deepEqual(v.p, expected);
  });

  it('applies include, exclude, both, and files filters', async () => {
    const rev = commit(0);
    const cases: Array<{ filters: Filters; keep: (f: TreeEntry) => boolean }> = [
      { filters: { include: ['.*\\.safetensors'] }, keep: (f) => !f.lfs || f.path === 'model.safetensors' },
      { filters: { exclude: ['weights/.*', 'onnx/.*'] }, keep: (f) => !f.lfs || f.path === 'model.safetensors' },
      {
        filters: { include: ['weights/.*', '.*\\.onnx'], exclude: ['.*00002\\.bin'] },
        keep: (f) => !f.lfs || f.path === 'weights/part-00001.bin' || f.path === 'onnx/model.onnx',
      },
      {
        filters: { files: ['config.json', 'weights/part-00002.bin', 'images/logo.png'] },
        keep: (f) => ['config.json', 'weights/part-00002.bin', 'images/logo.png'].includes(f.path),
      },
    ];
    const outs = await Promise.all(cases.map(async (c) => build(await args(0, { filters: c.filters }))));
    for (const [i, c] of cases.entries()) await assertSnapshot(outs[i]!, MODEL, 'model', rev, c.keep);
  });

  it('refuses a files filter naming a path that does not exist, and mixed or unknown filter keys', async () => {
    const missing = await nixEvalRaw(`${fetchExpr(await args(0, { filters: { files: ['config.json', 'nope/missing.bin'] } }))}.drvPath`, nix.env);
    assert.notEqual(missing.code, 0);
    assert.match(plain(missing.stderr), /filters\.files for nix-hug-lib\/tiny-model at [0-9a-f]{40} lists 1 path\(s\) that do not exist at this revision: "nope\/missing\.bin"/);
    const mixed = await nixEvalRaw(`${fetchExpr(await args(0, { filters: { files: ['config.json'], include: ['.*'] } }))}.drvPath`, nix.env);
    assert.match(plain(mixed.stderr), /`files` cannot be combined with `include`\/`exclude`/);
    const a = await args(0);
    const unknown = await nixEvalRaw(`(lib.fetchModel { url = "${MODEL}"; rev = "${a.rev}"; fileTreeHash = "${a.fileTreeHash}"; endpoint = "${hub.url}"; filters = { includes = [ ".*" ]; }; }).drvPath`, nix.env);
    assert.match(plain(unknown.stderr), /unknown filters key\(s\) \["includes"\]/);
  });

  it('fetches a commit on another branch and one on refs/pr/N', async () => {
    const [dev, pr] = await Promise.all([build(await args(1)), build(await args(2))]);
    await assertSnapshot(dev, MODEL, 'model', commit(1), () => true);
    await assertSnapshot(pr, MODEL, 'model', commit(2), () => true);
    assert.equal(readSnapshot(dev).get('config.json')!.bytes.toString(), '{"model_type": "llama", "hidden_size": 128}\n');
    assert.equal(hub.repo(MODEL).refs['refs/pr/1'], commit(2));
    assert.ok(readSnapshot(pr).has('PR.md') && !readSnapshot(pr).has('onnx/model.onnx'));
  });

  it('stores a blob shared by two revisions once', async () => {
    const [v1, v2] = await Promise.all([build(await args(0)), build(await args(1))]);
    assert.notEqual(v1, v2);
    const link1 = readSnapshot(v1).get('model.safetensors')!.link;
    const link2 = readSnapshot(v2).get('model.safetensors')!.link;
    assert.ok(link1?.startsWith('/nix/store/'));
    assert.equal(link1, link2);
  });

  it('accepts every URL form of the same model (same derivation)', async () => {
    const a = await args(0);
    const forms = [MODEL, `hf:${MODEL}`, `https://huggingface.co/${MODEL}`, `${hub.url}/${MODEL}`, `${hub.url}/${MODEL}/tree/main/weights`, `https://huggingface.co/${MODEL}/blob/v1/config.json`];
    const drvs = await Promise.all(forms.map(async (url) => ok(await nixEvalRaw(`${fetchExpr({ ...a, url })}.drvPath`, nix.env), url).stdout));
    assert.equal(new Set(drvs).size, 1, drvs.join('\n'));
    // A trailing slash on the endpoint changes nothing.
    const slash = ok(await nixEvalRaw(`${fetchExpr({ ...a, endpoint: `${hub.url}/` })}.drvPath`, nix.env), 'endpoint/').stdout;
    assert.equal(slash, drvs[0]);
  });

  it('refuses a rev that is not a full commit, telling the user to run nix-hug fetch', async () => {
    const a = await args(0);
    for (const rev of ['main', a.rev.slice(0, 7), a.rev.toUpperCase()]) {
      const r = await nixEvalRaw(`${fetchExpr({ ...a, rev })}.drvPath`, nix.env);
      assert.notEqual(r.code, 0);
      assert.match(plain(r.stderr), new RegExp(`rev for ${MODEL} must be a full 40-hex commit .*run \`nix-hug fetch ${MODEL}\` to get a pinned rev`));
    }
  });

  it('refuses a dataset URL', async () => {
    const r = await nixEvalRaw(`${fetchExpr({ ...(await args(0)), url: `datasets/${MODEL}` })}.drvPath`, nix.env);
    assert.match(plain(r.stderr), /names a dataset: use fetchDataset/);
  });
});

describe('fetchDataset', () => {
  it('fetches a dataset (every URL form) with its files and blobs', async () => {
    const a = await args(0, {}, DATASET, 'dataset');
    const forms = [DATASET, `datasets/${DATASET}`, `hf-datasets:${DATASET}`, `https://huggingface.co/datasets/${DATASET}`, `${hub.url}/datasets/${DATASET}`];
    const drvs = await Promise.all(forms.map(async (url) => ok(await nixEvalRaw(`${fetchExpr({ ...a, url })}.drvPath`, nix.env), url).stdout));
    assert.equal(new Set(drvs).size, 1, drvs.join('\n'));
    const out = await build(a);
    assert.match(out, new RegExp(`-hf-dataset-nix-hug-lib--tiny-set-${a.rev.slice(0, 7)}$`));
    await assertSnapshot(out, DATASET, 'dataset', a.rev, () => true);
    const isDataset = ok(await nixEvalRaw(`builtins.toJSON ${fetchExpr(a)}.isDataset`, nix.env), 'isDataset').stdout;
    assert.equal(isDataset, 'true');
  });

  it('refuses a model URL', async () => {
    const r = await nixEvalRaw(`${fetchExpr({ ...(await args(0, {}, DATASET, 'dataset')), url: `hf:${DATASET}` })}.drvPath`, nix.env);
    assert.match(plain(r.stderr), /names a model: use fetchModel/);
  });
});
