/**
 * The local Hugging Face cache: where it is, what `scan` reads from it, and
 * what `--hf-cache` writes into it — judged by the real client
 * (@huggingface/hub's scanCacheDir and downloadFileToCacheDir, offline).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import { hfCacheLocation } from '../../src/settings/hf-cache.ts';
import { indexLfsBlobs, parseRepoFolder, scanHfCache } from '../../src/hf-cache/scan.ts';
import { writeHfCacheSnapshot } from '../../src/hf-cache/write.ts';
import type { RepoFile } from '../../src/types.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const REV = 'a'.repeat(40);
const offline: typeof fetch = async (input) => {
  throw new Error(`the cache reader went to the network: ${String(input)}`);
};

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'nix-hug-hfcache-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A snapshot folder standing in for the built store path, and its files as the tree API lists them. */
function snapshot(name: string, contents: Record<string, { bytes: Buffer; lfs: boolean }>): { dir: string; files: { file: RepoFile; source: string }[] } {
  const dir = join(tmp, name);
  const files: { file: RepoFile; source: string }[] = [];
  for (const [path, { bytes, lfs }] of Object.entries(contents)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), bytes, { mode: 0o444 });
    files.push({ file: { path, size: bytes.length, oid: gitSha1(bytes), lfs: lfs ? { sha256: sha256(bytes), size: bytes.length } : null }, source: join(dir, path) });
  }
  return { dir, files };
}

describe('hfCacheLocation', () => {
  it('follows HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, then ~/.cache', () => {
    assert.deepEqual(hfCacheLocation({ HF_HUB_CACHE: '/a', HF_HOME: '/b' }), { dir: '/a', from: 'HF_HUB_CACHE' });
    assert.deepEqual(hfCacheLocation({ HUGGINGFACE_HUB_CACHE: '/old' }), { dir: '/old', from: 'HUGGINGFACE_HUB_CACHE' });
    assert.deepEqual(hfCacheLocation({ HF_HOME: '/b', XDG_CACHE_HOME: '/x' }), { dir: '/b/hub', from: 'HF_HOME' });
    assert.deepEqual(hfCacheLocation({ XDG_CACHE_HOME: '/x', HOME: '/h' }), { dir: '/x/huggingface/hub', from: 'XDG_CACHE_HOME' });
    assert.deepEqual(hfCacheLocation({ HOME: '/h' }), { dir: '/h/.cache/huggingface/hub', from: 'the default' });
    assert.equal(hfCacheLocation({ HOME: '/h', HF_HOME: '~/hf' }).dir, '/h/hf/hub');
  });

  it('reads repository folders of every type', () => {
    assert.deepEqual(parseRepoFolder('models--org--name'), { type: 'model', repoId: 'org/name' });
    assert.deepEqual(parseRepoFolder('datasets--o--d'), { type: 'dataset', repoId: 'o/d' });
    assert.deepEqual(parseRepoFolder('spaces--o--s'), { type: 'space', repoId: 'o/s' });
    assert.equal(parseRepoFolder('.locks'), null);
    assert.equal(parseRepoFolder('models--only'), null);
  });
});

describe('writeHfCacheSnapshot', () => {
  it('writes blobs, relative links and refs the real client scans and reads offline', async () => {
    const cache = join(tmp, 'cache1');
    const weights = Buffer.alloc(5000, 7);
    const snap = snapshot('snap1', {
      'config.json': { bytes: Buffer.from('{"v":1}\n'), lfs: false },
      'sub/deeper/model.safetensors': { bytes: weights, lfs: true },
      'copy-of-weights.bin': { bytes: weights, lfs: true },
    });
    const out = await writeHfCacheSnapshot({ dir: cache, repo: { type: 'model', repoId: 'org/tiny' }, rev: REV, ref: 'main', files: snap.files });
    assert.deepEqual([out.written, out.writtenBytes, out.reused], [2, 5008, 0], 'the shared weights are stored once');
    const repoDir = join(cache, 'models--org--tiny');
    assert.deepEqual(readdirSync(join(repoDir, 'blobs')).sort(), [gitSha1(Buffer.from('{"v":1}\n')), sha256(weights)].sort());
    assert.equal(readlinkSync(join(repoDir, 'snapshots', REV, 'sub/deeper/model.safetensors')), `../../../../blobs/${sha256(weights)}`);
    assert.equal(readlinkSync(join(repoDir, 'snapshots', REV, 'config.json')), `../../blobs/${gitSha1(Buffer.from('{"v":1}\n'))}`);
    assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), REV, 'no trailing newline');
    assert.equal(statSync(join(repoDir, 'blobs', sha256(weights))).mode & 0o777, 0o644, 'blobs are writable by their owner, like the client leaves them');

    const info = await scanCacheDir(cache);
    assert.deepEqual(info.warnings, []);
    assert.equal(info.repos.length, 1);
    assert.equal(info.repos[0]!.size, 5008);
    // huggingface.js lists the files at the top of a snapshot only; every file is read below.
    assert.deepEqual(info.repos[0]!.revisions.map((r) => [r.commitOid, r.refs, r.files.length]), [[REV, ['main'], 2]]);
    for (const { file } of snap.files) {
      const got = await downloadFileToCacheDir({ repo: { type: 'model', name: 'org/tiny' }, path: file.path, revision: REV, cacheDir: cache, fetch: offline });
      assert.ok(readFileSync(got).equals(readFileSync(join(snap.dir, file.path))), file.path);
    }
    // The blobs carry the names the client gives them: with a snapshot link gone, it links the blob
    // it finds again instead of downloading (the Hub is asked only which blob the file is).
    const lfsFile = snap.files[1]!.file;
    rmSync(join(repoDir, 'snapshots', REV, lfsFile.path));
    const pathsInfo: typeof fetch = async (input) => {
      if (!String(input).includes('/paths-info/')) throw new Error(`the client downloaded: ${String(input)}`);
      const entry = { type: 'file', path: lfsFile.path, oid: lfsFile.oid, size: lfsFile.size, lfs: { oid: lfsFile.lfs!.sha256, size: lfsFile.size, pointerSize: 130 }, lastCommit: { id: REV, title: 't', date: new Date().toISOString() } };
      return new Response(JSON.stringify([entry]), { headers: { 'content-type': 'application/json' } });
    };
    const again = await downloadFileToCacheDir({ repo: { type: 'model', name: 'org/tiny' }, path: lfsFile.path, revision: 'main', cacheDir: cache, fetch: pathsInfo });
    assert.ok(readFileSync(again).equals(weights));
    assert.deepEqual(readdirSync(join(repoDir, 'blobs')).length, 2, 'no second copy of the weights');
  });

  it('reuses blobs already there, keeps other revisions, writes nested refs (refs/pr/1) and Spaces', async () => {
    const cache = join(tmp, 'cache2');
    const a = snapshot('snap2a', { 'w.bin': { bytes: Buffer.alloc(3000, 1), lfs: true }, 'a.txt': { bytes: Buffer.from('a\n'), lfs: false } });
    await writeHfCacheSnapshot({ dir: cache, repo: { type: 'model', repoId: 'org/m' }, rev: REV, ref: 'main', files: a.files });
    const before = statSync(join(cache, 'models--org--m', 'blobs', sha256(Buffer.alloc(3000, 1))));
    const b = snapshot('snap2b', { 'w.bin': { bytes: Buffer.alloc(3000, 1), lfs: true }, 'b.txt': { bytes: Buffer.from('b\n'), lfs: false } });
    const REV2 = 'b'.repeat(40);
    const out = await writeHfCacheSnapshot({ dir: cache, repo: { type: 'model', repoId: 'org/m' }, rev: REV2, ref: 'refs/pr/1', files: b.files });
    assert.deepEqual([out.written, out.reused, out.reusedBytes], [1, 1, 3000]);
    const afterStat = statSync(join(cache, 'models--org--m', 'blobs', sha256(Buffer.alloc(3000, 1))));
    assert.equal(afterStat.ino, before.ino, 'the blob was not copied again');
    assert.equal(readFileSync(join(cache, 'models--org--m', 'refs', 'refs', 'pr', '1'), 'utf8'), REV2);
    const space = snapshot('snap2s', { 'app.py': { bytes: Buffer.from('print(1)\n'), lfs: false } });
    await writeHfCacheSnapshot({ dir: cache, repo: { type: 'space', repoId: 'org/app' }, rev: REV, ref: 'main', files: space.files });
    // A commit asked for by its id writes no ref.
    await writeHfCacheSnapshot({ dir: cache, repo: { type: 'dataset', repoId: 'org/d' }, rev: REV, ref: REV, files: space.files });
    assert.deepEqual(readdirSync(join(cache, 'datasets--org--d', 'refs')), []);

    const info = await scanCacheDir(cache);
    assert.deepEqual(info.warnings.map(String), []);
    assert.deepEqual(info.repos.map((r) => `${r.id.type}:${r.id.name}`).sort(), ['dataset:org/d', 'model:org/m', 'space:org/app']);

    // nix-hug's own reading of it.
    const scan = await scanHfCache(cache);
    assert.deepEqual(scan.warnings, []);
    const m = scan.repos.find((r) => r.repoId === 'org/m')!;
    assert.deepEqual(m.revisions.map((r) => [r.commit, r.refs, r.files, r.size]), [[REV, ['main'], 2, 3002], [REV2, ['refs/pr/1'], 2, 3002]]);
    assert.deepEqual([m.blobs, m.size], [3, 3004]);
    const index = await indexLfsBlobs(cache);
    assert.deepEqual([...index.keys()], [sha256(Buffer.alloc(3000, 1))]);
  });

  it('scan of a missing cache is empty; stray folders and dangling refs are reported, not fatal', async () => {
    assert.deepEqual(await scanHfCache(join(tmp, 'nope')), { dir: join(tmp, 'nope'), exists: false, repos: [], warnings: [] });
    const cache = join(tmp, 'cache3');
    mkdirSync(join(cache, 'not-a-repo'), { recursive: true });
    mkdirSync(join(cache, 'models--o--r', 'refs'), { recursive: true });
    mkdirSync(join(cache, 'models--o--r', 'snapshots', 'zzz'), { recursive: true });
    writeFileSync(join(cache, 'models--o--r', 'refs', 'main'), REV);
    const scan = await scanHfCache(cache);
    assert.equal(scan.repos.length, 1);
    assert.deepEqual(scan.repos[0]!.danglingRefs, { main: REV });
    assert.equal(scan.warnings.length, 2, scan.warnings.join('\n'));
  });
});
