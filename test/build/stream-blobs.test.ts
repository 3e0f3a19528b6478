/**
 * Public blobs streamed into the store by the CLI (stream-blobs.ts), against
 * the emulator and real Nix: each lands at the library's `hf-blob-<sha256>`
 * path; a body that breaks off or stalls is resumed with a Range request into
 * the same store write; bytes that are not the pinned file's are refused (Nix names
 * them by their own hash) and leave nothing behind; an interrupt stops every
 * download and adds nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningHub } from '../../hub-emulator/types.ts';
import type { BlobToFetch } from '../../src/build/blob-download.ts';
import { streamBlobs } from '../../src/build/stream-blobs.ts';
import { InterruptedError } from '../../src/errors.ts';
import { nixEnv } from '../../src/nix/nix.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';
import { HubClient } from '../../src/hub/client.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';
import { type BlobHub, isValidPath, nixTestEnv, startBlobHub } from '../support/index.ts';

const SIZE = 400_000;
const ID = 'stream/model';
const FILES = ['a.bin', 'b.bin', 'c.bin', 'd.bin', 'e.bin', 'f.bin'];
// Fast retries: a test of a broken body should not wait for the default back-off.
const HTTP = { ...DEFAULT_HTTP, retry: { ...DEFAULT_HTTP.retry, baseDelayMs: 10, maxDelayMs: 50 } };

let blobHub: BlobHub;
let hub: RunningHub;
const nix = nixTestEnv();
const env = nixEnv(nix.env);

before(async () => {
  blobHub = await startBlobHub(ID, FILES, SIZE);
  hub = blobHub.hub;
});
after(async () => {
  await blobHub?.close(nix.env);
  nix.cleanup();
});

const blob = (path: string): BlobToFetch => blobHub.blob(path);

async function stream(blobs: BlobToFetch[], signal?: AbortSignal, stored: string[] = [], http = HTTP): Promise<void> {
  await streamBlobs({
    blobs,
    parallel: 2,
    env,
    get: (url, request) => hubClient().get(url, request),
    // Every file as large downloads are (hub/http1.ts): the small ones of this test would take the shared connections.
    bulkFrom: 0,
    http,
    repoId: ID,
    ...(signal ? { signal } : {}),
    onStored: (b) => stored.push(b.path),
  });
}

/** The CLI's client of this Hub: downloads go through its transport (http1.ts for large files), as in a real run. */
const hubClient = () => new HubClient({ endpoint: hub.url, retry: HTTP.retry });

/** The CDN's answers for this blob since `mark`: [status, bytes]. */
const cdnSince = (mark: number, b: BlobToFetch) => hub.requests.slice(mark).filter((q) => q.route === 'cdn' && q.url.includes(b.lfs.sha256)).map((q) => [q.status, q.bytes]);

describe('streaming public LFS files into the store', () => {
  it('each file lands at the library\'s blob path, downloaded once', async () => {
    const blobs = [blob('a.bin'), blob('b.bin'), blob('c.bin')];
    const mark = hub.requests.length;
    const stored: string[] = [];
    await stream(blobs, undefined, stored);
    assert.deepEqual(stored.sort(), ['a.bin', 'b.bin', 'c.bin']);
    for (const b of blobs) {
      assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), true, b.path);
      assert.deepEqual(cdnSince(mark, b), [[200, SIZE]]);
    }
  });

  it('a body that breaks off goes on with a Range request into the same store write', async () => {
    const b = blob('d.bin');
    hub.addFault({ match: b.lfs.sha256, kind: { dropAfterBytes: 150_000 }, times: 1 });
    const mark = hub.requests.length;
    await stream([b]);
    hub.clearFaults();
    const answers = cdnSince(mark, b);
    assert.equal(answers.length, 2, JSON.stringify(answers));
    assert.equal(answers[1]![0], 206, 'the rest was asked for, not the whole file');
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), true);
  });

  it('a body that stalls is dropped and resumed with a Range request', async () => {
    const b = blob('f.bin');
    // 2 kB/s: under 1 KiB in each 400 ms window, a stall.
    hub.addFault({ match: b.lfs.sha256, kind: { slowBytesPerSecond: 2_000 }, times: 1 });
    const mark = hub.requests.length;
    await stream([b], undefined, [], { ...HTTP, timeoutMs: 400 });
    hub.clearFaults();
    const answers = cdnSince(mark, b);
    assert.equal(answers.length, 2, JSON.stringify(answers));
    assert.equal(answers[1]![0], 206, 'the rest was asked for, not the whole file');
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), true);
  });

  it('other bytes than the pin: refused with the file named, nothing kept under the blob\'s path', async () => {
    const b = blob('e.bin');
    hub.addFault({ match: b.lfs.sha256, kind: { corrupt: true }, times: 1 });
    await assert.rejects(stream([b]), /'e\.bin' of stream\/model does not match its pin: expected sha256 [0-9a-f]{64} \(400000 bytes\), got other bytes/);
    hub.clearFaults();
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), false);
  });

  it('an interrupt stops the downloads at once and adds nothing', async () => {
    const b = blob('e.bin');
    hub.addFault({ match: b.lfs.sha256, kind: { slowBytesPerSecond: 20_000 }, times: 1 });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 500);
    const started = Date.now();
    await assert.rejects(stream([b], stop.signal), (e: unknown) => e instanceof InterruptedError);
    assert.ok(Date.now() - started < 5000, 'stopped without waiting for the download');
    hub.clearFaults();
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), false);
  });
});
