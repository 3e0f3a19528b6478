/**
 * The local Hugging Face cache, end to end: a real client (@huggingface/hub)
 * fills it from the Hub emulator; `nix-hug scan` lists it; `nix-hug fetch`
 * takes its LFS files (zero CDN bytes), refuses a corrupted one, never writes
 * to it, and `--no-hf-cache`, `--dry-run` and `--hf-cache DIR` do what they
 * say — the last judged by the real client reading what was written.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import { blobStorePath } from '../../src/nix/store-path.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, nixTestEnv, requireBuild, run, runCli, STUB_DIR } from '../support/index.ts';

const RUN = randomBytes(6).toString('hex');
const seeded = (name: string, size: number) => ({ lfs: { size, seed: `${RUN}-${name}` } });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const MODEL: RepoSpec = {
  id: 'cache/model',
  commits: [{ files: { 'config.json': '{"c":1}\n', 'model.safetensors': seeded('st', 200_000), 'sub/extra.bin': seeded('bin', 50_000) }, tags: ['v1'] }],
};
const OTHER: RepoSpec = { id: 'cache/other', commits: [{ files: { 'config.json': '{}\n', 'w.safetensors': seeded('other', 30_000) } }] };

let hub: RunningHub;
let nix: ReturnType<typeof nixTestEnv>;
let cli: ReturnType<typeof cliEnv>;
let hfCache: string;
let tmp: string;

const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...cli.env, ...nix.env, HOME: cli.env.HOME, HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR, HF_HUB_CACHE: hfCache, ...extra });
const cdnGets = () => hub.requests.filter((r) => r.route === 'cdn' && r.method === 'GET');
const fileSha = (repo: RepoSpec, path: string) => sha(hub.repo(repo.id).filesAt().get(path)!);
const valid = async (path: string) => (await run('nix-store', ['--check-validity', path], env())).code === 0;

/** Every entry of a folder with its bytes or link target, to prove nothing changed. */
function snapshotOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = join(dir, rel, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(join(rel, name));
      else out.push(`${join(rel, name)} ${st.mtimeMs} ${st.isSymbolicLink() ? readlinkSync(p) : sha(readFileSync(p))}`);
    }
  };
  walk('');
  return out;
}

before(async () => {
  requireBuild();
  hub = await startHub({ repos: [MODEL, OTHER] });
  nix = nixTestEnv();
  cli = cliEnv();
  tmp = mkdtempSync(join(tmpdir(), 'nix-hug-hfcache-e2e-'));
  hfCache = join(tmp, 'hub');
  // The real client fills the cache, as a user's earlier `from_pretrained` would have.
  for (const path of ['config.json', 'model.safetensors', 'sub/extra.bin']) {
    await downloadFileToCacheDir({ repo: { type: 'model', name: MODEL.id }, path, revision: hub.repo(MODEL.id).refs.main!, cacheDir: hfCache, hubUrl: hub.url });
  }
});
after(async () => {
  await hub?.close();
  nix?.cleanup();
  cli?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the local Hugging Face cache', () => {
  it('scan lists its repositories and revisions, and whether the Nix store has them', async () => {
    const r = await runCli(['scan', '--json'], env());
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { dir: string; from: string; repos: { repoId: string; type: string; size: number; revisions: { commit: string; files: number; inNixStore: boolean | null; lfsFiles: number; lfsInNixStore: number | null }[] }[] };
    assert.equal(s.dir, hfCache);
    assert.equal(s.from, 'HF_HUB_CACHE');
    assert.deepEqual(s.repos.map((x) => [x.type, x.repoId]), [['model', MODEL.id]]);
    const rev = s.repos[0]!.revisions[0]!;
    assert.deepEqual([rev.commit, rev.files, rev.inNixStore, rev.lfsFiles, rev.lfsInNixStore], [hub.repo(MODEL.id).refs.main, 3, false, 2, 0]);
    assert.equal(s.repos[0]!.size, 200_000 + 50_000 + '{"c":1}\n'.length);
    const text = await runCli(['scan'], env());
    assert.match(text.stdout, /model cache\/model {2}1 revision, 250 kB in 3 blobs\n {2}[0-9a-f]{12} {2}\(no ref\) {2}3 files, 250 kB {2}not in the Nix store, 0\/2 LFS files are/);
    const none = await runCli(['scan'], env({ HF_HUB_CACHE: join(tmp, 'nowhere') }));
    assert.equal(none.code, 0);
    assert.match(none.stdout, /^no Hugging Face cache at .*nowhere \(HF_HUB_CACHE\)\n$/);
  });

  it('--dry-run says where each file would come from and changes nothing', async () => {
    const before = snapshotOf(hfCache);
    const r = await runCli(['fetch', MODEL.id, '--dry-run', '--json'], env());
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { files: { path: string; source: string }[]; bytes: Record<string, number>; hfCache: string };
    assert.deepEqual(p.files.map((f) => [f.path, f.source]).sort(), [['.gitattributes', 'git'], ['config.json', 'git'], ['model.safetensors', 'hf-cache'], ['sub/extra.bin', 'hf-cache']]);
    assert.equal(p.bytes['hf-cache'], 250_000);
    assert.equal(p.bytes.cdn, 0);
    assert.equal(p.hfCache, hfCache);
    const off = JSON.parse((await runCli(['fetch', MODEL.id, '--dry-run', '--json', '--no-hf-cache'], env())).stdout) as typeof p;
    assert.equal(off.bytes.cdn, 250_000);
    assert.equal(off.hfCache, null);
    const text = await runCli(['fetch', MODEL.id, '--dry-run'], env());
    assert.match(text.stdout, /2 from the local Hugging Face cache \(.*\): 250 kB; 2 from git: .*\nCDN bytes: 0\n$/);
    assert.equal(await valid(blobStorePath(fileSha(MODEL, 'model.safetensors'))), false, 'nothing was added to the store');
    assert.deepEqual(snapshotOf(hfCache), before);
    const clash = await runCli(['fetch', MODEL.id, '--dry-run', '--no-build'], env());
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /--dry-run cannot be combined with --no-build/);
  });

  it('fetch takes the LFS files from it: zero CDN bytes, the same store path, and the cache untouched', async () => {
    const before = snapshotOf(hfCache);
    hub.resetStats();
    const r = await runCli(['fetch', MODEL.id, '--json'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(cdnGets().length, 0, cdnGets().map((g) => g.url).join('\n'));
    assert.match(r.stderr, /2 LFS file\(s\) selected: 2 from the local Hugging Face cache \(250 kB\), nothing to download/);
    const out = (JSON.parse(r.stdout) as { storePath: string }).storePath;
    assert.equal(readlinkSync(join(out, 'model.safetensors')), blobStorePath(fileSha(MODEL, 'model.safetensors')));
    assert.ok(readFileSync(join(out, 'sub/extra.bin')).equals(Buffer.from(hub.repo(MODEL.id).filesAt().get('sub/extra.bin')!)));
    assert.deepEqual(snapshotOf(hfCache), before, 'the HF cache was not written');
    const s = JSON.parse((await runCli(['scan', '--json'], env())).stdout) as { repos: { revisions: { inNixStore: boolean; nixSnapshots: string[]; lfsInNixStore: number }[] }[] };
    assert.deepEqual([s.repos[0]!.revisions[0]!.inNixStore, s.repos[0]!.revisions[0]!.nixSnapshots, s.repos[0]!.revisions[0]!.lfsInNixStore], [true, [out], 2]);
  });

  it('a cached file with other bytes is refused (named) and downloaded; --no-hf-cache downloads', async () => {
    const cache = join(tmp, 'corrupt');
    const st = await downloadFileToCacheDir({ repo: { type: 'model', name: OTHER.id }, path: 'w.safetensors', revision: hub.repo(OTHER.id).refs.main!, cacheDir: cache, hubUrl: hub.url });
    const blob = join(cache, 'models--cache--other', 'blobs', fileSha(OTHER, 'w.safetensors'));
    assert.equal(readlinkSync(st).endsWith(fileSha(OTHER, 'w.safetensors')), true);
    writeFileSync(blob, Buffer.alloc(30_000, 1)); // same size, other bytes
    hub.resetStats();
    const r = await runCli(['fetch', OTHER.id], env({ HF_HUB_CACHE: cache }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /'w\.safetensors' in the Hugging Face cache \(.*\) was not taken: .*; downloading it/);
    assert.equal(cdnGets().length, 1);
    assert.ok(readFileSync(blob).equals(Buffer.alloc(30_000, 1)), 'the cache file was left as it was');
  });
});

describe('fetch --hf-cache DIR', () => {
  it('writes the native layout the real client scans and reads offline, and reuses blobs on a second run', async () => {
    const dir = join(tmp, 'written');
    const r = await runCli(['fetch', MODEL.id, '--ref', 'v1', '--hf-cache', dir], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /wrote model cache\/model at [0-9a-f]{12} to the Hugging Face cache .*models--cache--model: 4 blob\(s\) copied \(.*\), 0 already there/);
    const rev = hub.repo(MODEL.id).refs.v1!;
    assert.equal(readFileSync(join(dir, 'models--cache--model', 'refs', 'v1'), 'utf8'), rev);
    assert.equal(readlinkSync(join(dir, 'models--cache--model', 'snapshots', rev, 'sub', 'extra.bin')), `../../../blobs/${fileSha(MODEL, 'sub/extra.bin')}`);
    const info = await scanCacheDir(dir);
    assert.deepEqual(info.warnings.map(String), []);
    assert.deepEqual(info.repos[0]!.revisions.map((x) => [x.commitOid, x.refs]), [[rev, ['v1']]]);
    const offline: typeof fetch = async (input) => {
      throw new Error(`went to the network: ${String(input)}`);
    };
    for (const [path, bytes] of hub.repo(MODEL.id).filesAt(rev)) {
      const got = await downloadFileToCacheDir({ repo: { type: 'model', name: MODEL.id }, path, revision: rev, cacheDir: dir, fetch: offline });
      assert.ok(readFileSync(got).equals(Buffer.from(bytes)), path);
    }
    const again = await runCli(['fetch', MODEL.id, '--hf-cache', dir], env());
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /0 blob\(s\) copied \(0 B\), 4 already there/);
    assert.equal(readFileSync(join(dir, 'models--cache--model', 'refs', 'main'), 'utf8'), rev);
    const bad = await runCli(['fetch', MODEL.id, '--hf-cache', join(dir, 'models--cache--model', 'refs', 'main')], env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--hf-cache .* is not a folder/);
  });
});
