/**
 * The CLI's own downloads across runs (prefetch-blobs.ts): what an earlier
 * run left in the partial folder is resumed with a Range request, a partial
 * file another live run is writing is left alone, and bytes that turn out not
 * to be the file's are dropped, never resumed from. Real emulator, real
 * `nix-store --add-fixed`. (An interrupted CLI resuming: test/hardening/interrupt.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import { lfsContent } from '../../hub-emulator/content.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { prefetchBlobs, type BlobToFetch } from '../../src/build/prefetch-blobs.ts';
import { nixEnv } from '../../src/nix/nix.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';
import { HubClient } from '../../src/hub/client.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';
import { fileSha, isValidPath, nixTestEnv, runNix, seeded, seedOf } from '../support/index.ts';

const SIZE = 300_000;
const ID = 'resume/model';
const FILES = ['a.bin', 'b.bin', 'c.bin'];

let hub: RunningHub;
let dir: string;
const nix = nixTestEnv();

before(async () => {
  hub = await startHub({ repos: [{ id: ID, commits: [{ files: Object.fromEntries([['config.json', '{}\n'], ...FILES.map((f) => [f, seeded(`resume-${f}`, SIZE)])]) }] }] });
  dir = mkdtempSync(join(tmpdir(), 'nix-hug-resume-'));
});
after(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
  nix.cleanup();
});

function blob(path: string): BlobToFetch {
  const rev = hub.repo(ID).refs['main']!;
  return { path, url: `${hub.url}/${ID}/resolve/${rev}/${path}`, lfs: { sha256: fileSha(hub, { id: ID }, path), size: SIZE } };
}

const partialFile = (partials: string, b: BlobToFetch) => join(partials, `hf-blob-${b.lfs.sha256}.part`);

function fetchInto(partials: string, b: BlobToFetch, resumed: number[] = []): Promise<void> {
  return prefetchBlobs({
    blobs: [b],
    get: (url, request) => hubClient().get(url, request),
    // Every file as large downloads are (hub/http1.ts): the small ones of this test would take the shared connections.
    bulkFrom: 0,
    env: nixEnv(nix.env),
    http: DEFAULT_HTTP,
    repoId: ID,
    partialDir: partials,
    onResume: (_b, bytes) => resumed.push(bytes),
  });
}

/** The CLI's client of this Hub: downloads go through its transport (http1.ts for large files), as in a real run. */
const hubClient = () => new HubClient({ endpoint: hub.url, retry: DEFAULT_HTTP.retry });

/** The CDN's answers for this blob since `mark`: [status, bytes]. */
const cdnSince = (mark: number, b: BlobToFetch) => hub.requests.slice(mark).filter((q) => q.route === 'cdn' && q.url.includes(b.lfs.sha256)).map((q) => [q.status, q.bytes]);

describe("resuming the CLI's own downloads", () => {
  it('goes on from what an earlier run left: only the rest is asked for, the file is verified and stored, nothing is left', async () => {
    const b = blob('a.bin');
    const partials = join(dir, 'a');
    mkdirSync(partials);
    writeFileSync(partialFile(partials, b), lfsContent(seedOf('resume-a.bin'), SIZE).subarray(0, 120_000));
    const resumed: number[] = [];
    const mark = hub.requests.length;
    await fetchInto(partials, b, resumed);
    assert.deepEqual(resumed, [120_000]);
    assert.deepEqual(cdnSince(mark, b), [[206, SIZE - 120_000]]);
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), true);
    assert.deepEqual(readdirSync(partials), []);
    await runNix(['store', 'delete', blobStorePath(b.lfs.sha256)], nix.env);
  });

  it('leaves alone a partial file another live run holds: downloads the whole file to one of its own', async () => {
    const b = blob('b.bin');
    const partials = join(dir, 'b');
    mkdirSync(partials);
    const theirs = lfsContent(seedOf('resume-b.bin'), SIZE).subarray(0, 50_000);
    writeFileSync(partialFile(partials, b), theirs);
    writeFileSync(`${partialFile(partials, b)}.lock`, String(process.ppid)); // alive: the test runner
    const mark = hub.requests.length;
    await fetchInto(partials, b);
    assert.deepEqual(cdnSince(mark, b), [[200, SIZE]]);
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), true);
    assert.deepEqual(readFileSync(partialFile(partials, b)), theirs, 'the other run’s file untouched');
    assert.equal(readFileSync(`${partialFile(partials, b)}.lock`, 'utf8'), String(process.ppid), 'its lock too');
    assert.deepEqual(readdirSync(partials).sort(), [`hf-blob-${b.lfs.sha256}.part`, `hf-blob-${b.lfs.sha256}.part.lock`]);
    await runNix(['store', 'delete', blobStorePath(b.lfs.sha256)], nix.env);
  });

  it('takes over the lock of a run that is gone; bytes that are not the file’s fail the check and are dropped', async () => {
    const b = blob('c.bin');
    const partials = join(dir, 'c');
    mkdirSync(partials);
    writeFileSync(partialFile(partials, b), Buffer.alloc(80_000, 7)); // not the file's first bytes
    writeFileSync(`${partialFile(partials, b)}.lock`, '2147483646'); // no such process
    await assert.rejects(fetchInto(partials, b), /'c\.bin' of resume\/model does not match its pin: expected sha256/);
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), false);
    assert.equal(existsSync(partialFile(partials, b)), false, 'wrong bytes are not kept for the next run');
    assert.deepEqual(readdirSync(partials), [], 'lock released');
    // The next run starts from zero and succeeds.
    const mark = hub.requests.length;
    await fetchInto(partials, b);
    assert.deepEqual(cdnSince(mark, b), [[200, SIZE]]);
    await runNix(['store', 'delete', blobStorePath(b.lfs.sha256)], nix.env);
  });
});
