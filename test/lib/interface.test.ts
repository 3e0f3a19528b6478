/**
 * The library's interface beyond fetchModel/fetchDataset, built with real Nix
 * against the Hub emulator: fetchSpace and Spaces in buildCache (read by the
 * real client), `repoId`/`repoType` as nixpkgs spells them, filters given as
 * a function of each file, and `pkgs.callPackage ./lib { }`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import { nixString } from '../../src/nix/expr.ts';
import type { RepoType } from '../../src/types.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { fetchExpr, hubFileTreeHash, LIB_DIR, nixBuild, nixEvalRaw, nixTestEnv, ok, plain, readSnapshot, runNix, STUB_DIR, type FetchArgs, type NixTestEnv } from '../support/index.ts';

const SPACE = 'nix-hug-iface/demo-app';
// New bytes each run, so the download is not answered by the store from an earlier run.
const RUN_SEED = `iface-${process.pid}-${Date.now()}`;
const MODEL = 'nix-hug-iface/model';

let hub: RunningHub;
let nix: NixTestEnv;

before(async () => {
  nix = nixTestEnv();
  hub = await startHub({
    repos: [
      {
        id: SPACE,
        type: 'space',
        commits: [{ files: { 'app.py': 'import gradio as gr\n', 'requirements.txt': 'gradio\n', 'assets/logo.png': { lfs: { size: 1800, seed: RUN_SEED } } } }],
      },
      {
        id: MODEL,
        commits: [
          {
            files: {
              'config.json': '{"v": 1}\n',
              'small.safetensors': { lfs: { size: 1000 } },
              'big.safetensors': { lfs: { size: 6000 } },
              'onnx/model.onnx': { lfs: { size: 1500 } },
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

const FN: Record<RepoType, NonNullable<FetchArgs['fn']>> = { model: 'fetchModel', dataset: 'fetchDataset', space: 'fetchSpace' };

async function args(id: string, type: RepoType, extra: Partial<FetchArgs> = {}): Promise<FetchArgs> {
  const rev = hub.repo(id, type).commits[0]!;
  return { fn: FN[type], url: id, rev, fileTreeHash: await hubFileTreeHash(hub.url, type, id, rev), endpoint: hub.url, ...extra };
}

/** A call with its arguments written out, for forms fetchExpr does not write (repoId, repoType, a filters function). */
function call(fn: string, fields: Record<string, string>): string {
  return `(lib.${fn} { ${Object.entries(fields).map(([k, v]) => `${k} = ${v};`).join(' ')} })`;
}

describe('fetchSpace', () => {
  it('fetches a Space from /spaces/… (git and resolve), with passthru saying so', async () => {
    const a = await args(SPACE, 'space');
    const out = ok(await nixBuild(fetchExpr(a), nix.env), 'build the Space').outPath!;
    assert.match(out, new RegExp(`-hf-space-nix-hug-iface--demo-app-${a.rev.slice(0, 7)}$`));
    const snap = readSnapshot(out);
    const fixture = hub.repo(SPACE, 'space').filesAt(a.rev);
    assert.deepEqual([...snap.keys()].sort(), [...fixture.keys()].sort());
    for (const [path, bytes] of fixture) assert.ok(Buffer.from(bytes).equals(snap.get(path)!.bytes), path);
    assert.ok(hub.requests.some((r) => r.url.startsWith(`/spaces/${SPACE}/resolve/${a.rev}/assets/logo.png`)), 'the LFS file came from the Space resolve URL');
    const p = JSON.parse(ok(await nixEvalRaw(`builtins.toJSON (${fetchExpr(a)}).passthru`, nix.env), 'passthru').stdout) as Record<string, unknown>;
    assert.deepEqual(p, { org: 'nix-hug-iface', repo: 'demo-app', repoId: SPACE, revision: a.rev, repoType: 'space', isDataset: false, isSpace: true });
  });

  it('takes every Space URL form, and names the right function for a model or a Space given to the wrong one', async () => {
    const a = await args(SPACE, 'space');
    for (const url of [`spaces/${SPACE}`, `hf-spaces:${SPACE}`, `hf://spaces/${SPACE}`, `https://huggingface.co/spaces/${SPACE}/tree/main`, `${hub.url}/spaces/${SPACE}`]) {
      const r = ok(await nixEvalRaw(`(${fetchExpr({ ...a, url })}).repoId`, nix.env), url);
      assert.equal(r.stdout, SPACE, url);
    }
    const asModel = await nixEvalRaw(`(${fetchExpr({ ...a, fn: 'fetchModel', url: `spaces/${SPACE}` })}).drvPath`, nix.env);
    assert.notEqual(asModel.code, 0);
    assert.match(plain(asModel.stderr), /nix-hug fetchModel: url "spaces\/nix-hug-iface\/demo-app" names a Space: use fetchSpace/);
    const modelAsSpace = await nixEvalRaw(`(${fetchExpr({ ...a, url: `hf://${MODEL}` })}).drvPath`, nix.env);
    assert.match(plain(modelAsSpace.stderr), /nix-hug fetchSpace: url "hf:\/\/nix-hug-iface\/model" names a model: use fetchModel/);
    const withRev = await nixEvalRaw(`(${fetchExpr({ ...a, url: `hf://spaces/${SPACE}@main` })}).drvPath`, nix.env);
    assert.match(plain(withRev.stderr), /names a revision after `@`: give the commit as `rev` instead/);
  });

  it('goes into buildCache as spaces--org--name, which the real client scans and reads offline', async () => {
    const space = await args(SPACE, 'space');
    const model = await args(MODEL, 'model');
    const out = ok(await nixBuild(`lib.buildCache { models = [ ${fetchExpr(model)} ]; spaces = [ ${fetchExpr(space)} ]; }`, nix.env), 'build cache').outPath!;
    assert.deepEqual(readdirSync(out).sort(), ['models--nix-hug-iface--model', 'spaces--nix-hug-iface--demo-app']);
    assert.equal(readFileSync(join(out, 'spaces--nix-hug-iface--demo-app', 'refs', 'main'), 'utf8'), space.rev);
    const info = await scanCacheDir(out);
    assert.deepEqual(info.warnings, []);
    const scanned = info.repos.find((r) => r.id.type === 'space');
    assert.equal(scanned?.id.name, SPACE);
    assert.deepEqual(scanned?.revisions.map((r) => r.commitOid), [space.rev]);
    const offline: typeof fetch = async (input) => {
      throw new Error(`the cache reader went to the network: ${String(input)}`);
    };
    for (const [path, bytes] of hub.repo(SPACE, 'space').filesAt(space.rev)) {
      const got = await downloadFileToCacheDir({ repo: { type: 'space', name: SPACE }, path, revision: space.rev, cacheDir: out, fetch: offline });
      assert.ok(Buffer.from(bytes).equals(readFileSync(got)), path);
    }
    const misplaced = await nixEvalRaw(`(lib.buildCache { models = [ ${fetchExpr(space)} ]; }).drvPath`, nix.env);
    assert.match(plain(misplaced.stderr), /nix-hug buildCache: nix-hug-iface\/demo-app is a space; list it under `spaces`/);
  });
});

describe('repoId and repoType', () => {
  it('repoId is url by its nixpkgs name: the same derivation', async () => {
    const a = await args(MODEL, 'model');
    const byUrl = ok(await nixEvalRaw(`(${fetchExpr(a)}).drvPath`, nix.env), 'by url').stdout;
    const fields = { repoId: nixString(MODEL), rev: nixString(a.rev), fileTreeHash: nixString(a.fileTreeHash), endpoint: nixString(hub.url) };
    assert.equal(ok(await nixEvalRaw(`${call('fetchModel', fields)}.drvPath`, nix.env), 'by repoId').stdout, byUrl);
    assert.equal(ok(await nixEvalRaw(`${call('fetchModel', { ...fields, repoType: '"model"' })}.drvPath`, nix.env), 'with repoType').stdout, byUrl);
  });

  it('refuses both url and repoId, neither, and a repoType the function does not fetch', async () => {
    const a = await args(MODEL, 'model');
    const base = { rev: nixString(a.rev), fileTreeHash: nixString(a.fileTreeHash), endpoint: nixString(hub.url) };
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ...base, url: nixString(MODEL), repoId: nixString(MODEL) }, /nix-hug fetchModel: give either url or repoId \(its other name\), not both/],
      [base, /nix-hug fetchModel: url \(or repoId\) is required/],
      [{ ...base, repoId: nixString(MODEL), repoType: '"space"' }, /nix-hug fetchModel: repoType = "space": use fetchSpace for it/],
      [{ ...base, repoId: nixString(MODEL), repoType: '"models"' }, /repoType must be "model", "dataset" or "space" \(got "models"\)/],
    ];
    for (const [fields, message] of cases) {
      const r = await nixEvalRaw(`${call('fetchModel', fields)}.drvPath`, nix.env);
      assert.notEqual(r.code, 0);
      assert.match(plain(r.stderr), message);
    }
  });
});

describe('filters as a function', () => {
  it('selects by path and by LFS size and sha256, over every file', async () => {
    const a = await args(MODEL, 'model');
    const base = { url: nixString(MODEL), rev: nixString(a.rev), fileTreeHash: nixString(a.fileTreeHash), endpoint: nixString(hub.url) };
    const small = ok(await nixBuild(call('fetchModel', { ...base, filters: 'file: file.lfs == null || file.lfs.size < 2000' }), nix.env), 'by size').outPath!;
    assert.deepEqual([...readSnapshot(small).keys()].sort(), ['.gitattributes', 'config.json', 'onnx/model.onnx', 'small.safetensors']);
    const onlyOnnx = ok(await nixBuild(call('fetchModel', { ...base, filters: 'file: builtins.match "onnx/.*" file.path != null' }), nix.env), 'by path').outPath!;
    assert.deepEqual([...readSnapshot(onlyOnnx).keys()], ['onnx/model.onnx'], 'non-LFS files are the predicate\'s to keep, too');
    const files = hub.repo(MODEL, 'model').filesAt(a.rev);
    assert.ok(Buffer.from(files.get('onnx/model.onnx')!).equals(readSnapshot(onlyOnnx).get('onnx/model.onnx')!.bytes));
    const bigSha = JSON.parse(ok(await nixEvalRaw(`builtins.toJSON (${call('fetchModel', { ...base, filters: 'file: file.lfs != null && file.lfs.size == 6000' })}).outPath`, nix.env), 'eval').stdout) as string;
    assert.match(bigSha, /^\/nix\/store\//);
  });

  it('a predicate that returns no bool is a clear error', async () => {
    const a = await args(MODEL, 'model');
    const r = await nixEvalRaw(`(${call('fetchModel', { url: nixString(MODEL), rev: nixString(a.rev), fileTreeHash: nixString(a.fileTreeHash), endpoint: nixString(hub.url), filters: 'file: file.path' })}).drvPath`, nix.env);
    assert.notEqual(r.code, 0);
    assert.match(plain(r.stderr), /the filters function for nix-hug-iface\/model at [0-9a-f]{40} returned string for "\.gitattributes"; it must return true or false/);
  });
});

describe('pkgs.callPackage ./lib { }', () => {
  it('gives the same library as import ./lib { inherit pkgs; }, and takes runCommand as an overridable argument', async () => {
    const a = await args(MODEL, 'model');
    const expr = (lib: string) =>
      `let pkgs = import ${JSON.stringify(STUB_DIR)} { }; lib = ${lib}; in (${fetchExpr(a)}).drvPath`;
    const direct = ok(await runNix(['eval', '--impure', '--raw', '--expr', expr(`import ${JSON.stringify(LIB_DIR)} { inherit pkgs; }`)], nix.env), 'import').stdout;
    const called = ok(await runNix(['eval', '--impure', '--raw', '--expr', expr(`pkgs.callPackage ${JSON.stringify(LIB_DIR)} { }`)], nix.env), 'callPackage').stdout;
    assert.equal(called, direct);
    // An argument of its own: a runCommand given here is the one the library uses.
    const marked = `pkgs.callPackage ${JSON.stringify(LIB_DIR)} { runCommand = name: env: pkgs.runCommand name (env // { marker = "overridden"; }); }`;
    const drv = ok(await runNix(['eval', '--impure', '--raw', '--expr', `let pkgs = import ${JSON.stringify(STUB_DIR)} { }; lib = ${marked}; in (${fetchExpr(a)}).marker`], nix.env), 'override').stdout;
    assert.equal(drv, 'overridden');
    const none = await runNix(['eval', '--impure', '--raw', '--expr', `((import ${JSON.stringify(LIB_DIR)} { }).buildCache { }).drvPath`], nix.env);
    assert.match(plain(none.stderr), /nix-hug: the library needs nixpkgs: import \.\/lib \{ inherit pkgs; \} or pkgs\.callPackage \.\/lib \{ \}/);
  });
});
