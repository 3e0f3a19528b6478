import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { lfsContent, lfsSha256 } from '../../hub-emulator/content.ts';
import { AWKWARD_NAMES, sampleHubOptions } from '../../hub-emulator/fixtures/sample.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sha1Blob = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const enc = (path: string) => path.split('/').map(encodeURIComponent).join('/');

describe('resolve and the CDN', () => {
  let hub: RunningHub;
  before(async () => {
    hub = await startHub(sampleHubOptions());
  });
  after(() => hub.close());

  it('serves regular files with ETag (git blob sha1), X-Repo-Commit and Content-Length', async () => {
    const head = hub.repo('emu/history').commits[3]!;
    for (const method of ['GET', 'HEAD']) {
      const r = await fetch(`${hub.url}/emu/history/resolve/main/config.json`, { method });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('etag'), `"${sha1Blob(Buffer.from('{"v":2}\n'))}"`);
      assert.equal(r.headers.get('x-repo-commit'), head);
      assert.equal(r.headers.get('content-length'), '8');
      assert.equal(await r.text(), method === 'GET' ? '{"v":2}\n' : '');
    }
    // Binary content with NULs, byte for byte; an older revision by tag.
    const bin = await fetch(`${hub.url}/emu/history/resolve/v1.0/binary.dat`);
    assert.deepEqual(new Uint8Array(await bin.arrayBuffer()), new Uint8Array([0, 1, 2, 0, 255, 0]));
    const old = await fetch(`${hub.url}/emu/history/resolve/v1.0/config.json`);
    assert.equal(await old.text(), '{"v":1}\n');
    assert.equal(old.headers.get('x-repo-commit'), hub.repo('emu/history').commits[0]);
  });

  it('redirects LFS files to a CDN on another host, with the linked headers', async () => {
    const expectedSha = await lfsSha256('weights/model.safetensors', 300_000);
    for (const method of ['GET', 'HEAD']) {
      const r = await fetch(`${hub.url}/emu/history/resolve/main/weights/model.safetensors`, { method, redirect: 'manual' });
      assert.equal(r.status, 302);
      assert.equal(r.headers.get('x-linked-etag'), `"${expectedSha}"`);
      assert.equal(r.headers.get('x-linked-size'), '300000');
      assert.equal(r.headers.get('x-repo-commit'), hub.repo('emu/history').commits[3]);
      assert.ok(r.headers.get('etag'));
      const location = new URL(r.headers.get('location')!);
      assert.notEqual(location.origin, hub.url);
      // Another host name, not only another port: huggingface_hub follows a redirect that keeps the Hub's
      // host name and would then miss X-Repo-Commit, which only the 302 carries.
      assert.notEqual(location.hostname, new URL(hub.url).hostname);
      assert.equal(location.origin, hub.cdnUrl);
      assert.ok(location.pathname.endsWith(expectedSha));
      assert.ok(location.searchParams.get('Expires'));
    }
    hub.resetStats();
    // Following the redirect (fetch drops nothing here, the CDN needs no auth) gives the bytes.
    const r = await fetch(`${hub.url}/emu/history/resolve/main/weights/model.safetensors`);
    assert.equal(r.status, 200);
    const bytes = new Uint8Array(await r.arrayBuffer());
    assert.deepEqual(bytes, new Uint8Array(lfsContent('weights/model.safetensors', 300_000)));
    assert.equal(sha256(bytes), expectedSha);
    assert.equal(hub.cdnBytes(), 300_000);
    assert.deepEqual(hub.requests.map((q) => [q.route, q.status]), [['resolve', 302], ['cdn', 200]]);
    assert.equal(hub.requests[1]!.bytes, 300_000);
  });

  it('serves byte ranges and HEAD on the CDN', async () => {
    const r0 = await fetch(`${hub.url}/emu/history/resolve/main/weights/extra.bin`, { redirect: 'manual' });
    const cdn = r0.headers.get('location')!;
    const all = lfsContent('extra', 1234);
    const head = await fetch(cdn, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '1234');
    assert.equal(head.headers.get('accept-ranges'), 'bytes');
    const tail = await fetch(cdn, { headers: { Range: 'bytes=1000-' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), 'bytes 1000-1233/1234');
    assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), new Uint8Array(all.subarray(1000)));
    const mid = await fetch(cdn, { headers: { Range: 'bytes=10-19' } });
    assert.deepEqual(new Uint8Array(await mid.arrayBuffer()), new Uint8Array(all.subarray(10, 20)));
    const suffix = await fetch(cdn, { headers: { Range: 'bytes=-4' } });
    assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), new Uint8Array(all.subarray(1230)));
    const beyond = await fetch(cdn, { headers: { Range: 'bytes=5000-' } });
    assert.equal(beyond.status, 416);
    const unknown = await fetch(`${hub.cdnUrl}/repos/00/00/${'0'.repeat(64)}`);
    assert.equal(unknown.status, 404);
  });

  it('decodes percent-encoded names (spaces, quotes, $, #, %, unicode)', async () => {
    for (const name of AWKWARD_NAMES) {
      const r = await fetch(`${hub.url}/emu/history/resolve/main/${enc(name)}`);
      assert.equal(r.status, 200, name);
      assert.equal(await r.text(), `content of ${name}\n`);
    }
    const lfs = await fetch(`${hub.url}/emu/history/resolve/main/${enc('big file with space.bin')}`);
    assert.equal(lfs.status, 200);
    assert.equal((await lfs.arrayBuffer()).byteLength, 5000);
    // The tree API reports them with their real names.
    const tree = (await (await fetch(`${hub.url}/api/models/emu/history/tree/main?recursive=true`)).json()) as { path: string }[];
    for (const name of AWKWARD_NAMES) assert.ok(tree.some((e) => e.path === name), name);
  });

  it('resolves at PR refs (raw and encoded) and commits; 404 EntryNotFound / RevisionNotFound', async () => {
    const { commits } = hub.repo('emu/history');
    for (const rev of ['refs/pr/1', 'refs%2Fpr%2F1', commits[1]!]) {
      const r = await fetch(`${hub.url}/emu/history/resolve/${rev}/config.json`);
      assert.equal(r.status, 200, rev);
      assert.equal(r.headers.get('x-repo-commit'), commits[1]);
    }
    const missing = await fetch(`${hub.url}/emu/history/resolve/main/nope.txt`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-error-code'), 'EntryNotFound');
    const deleted = await fetch(`${hub.url}/emu/history/resolve/main/gone.txt`);
    assert.equal(deleted.status, 404);
    const folder = await fetch(`${hub.url}/emu/history/resolve/main/weights`);
    assert.equal(folder.status, 404);
    const badRev = await fetch(`${hub.url}/emu/history/resolve/nope/config.json`);
    assert.equal(badRev.status, 404);
    assert.equal(badRev.headers.get('x-error-code'), 'RevisionNotFound');
  });

  it('serves datasets under /datasets/', async () => {
    const r = await fetch(`${hub.url}/datasets/emu/data/resolve/main/data/train.parquet`);
    assert.equal(r.status, 200);
    assert.equal(sha256(new Uint8Array(await r.arrayBuffer())), await lfsSha256('data/train.parquet', 10_000));
    const asModel = await fetch(`${hub.url}/emu/data/resolve/main/README.md`);
    assert.equal(asModel.status, 401);
  });

  it('returns the real content from filesAt, the pointer from git', () => {
    const files = hub.repo('emu/history').filesAt('v1.0');
    assert.equal(files.get('weights/extra.bin')?.length, 1234);
    assert.equal(Buffer.from(files.get('link-to-config')!).toString(), 'config.json');
    assert.equal(Buffer.from(files.get('gone.txt')!).toString(), 'deleted in the second commit\n');
    assert.throws(() => hub.repo('emu/history').filesAt('nope'));
    assert.throws(() => hub.repo('emu/nope'));
  });
});
