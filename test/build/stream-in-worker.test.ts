/**
 * Streamed downloads run in a worker thread (stream-in-worker.ts), against
 * the emulator and real Nix: the blobs land at the library's paths with
 * their progress reported on the main thread, also when the worker was
 * started before they were known, and an unused worker ends; the worker's --debug lines
 * and waits reach the command's logger; a failure in the worker arrives as
 * the same user-facing error (message and hint); an abort stops the worker
 * and adds nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningHub } from '../../hub-emulator/types.ts';
import type { BlobToFetch } from '../../src/build/blob-download.ts';
import { StreamWorker, type StreamReport } from '../../src/build/stream-in-worker.ts';
import { InterruptedError, NixHugError } from '../../src/errors.ts';
import { nixEnv } from '../../src/nix/nix.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';
import { createLogger } from '../../src/ui/logger.ts';
import { type BlobHub, isValidPath, nixTestEnv, startBlobHub } from '../support/index.ts';

const SIZE = 300_000;
const ID = 'worker/model';
const FILES = ['a.bin', 'b.bin', 'c.bin', 'd.bin', 'e.bin'];
const HTTP = { ...DEFAULT_HTTP, retry: { ...DEFAULT_HTTP.retry, maxRetries: 1, baseDelayMs: 10, maxDelayMs: 50 } };

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

/** A worker for `ID`, with the main thread's logger writing into `lines`. */
function startWorker(lines: string[], storeEnv: NodeJS.ProcessEnv = env): StreamWorker {
  return StreamWorker.start(
    { env: storeEnv, endpoint: hub.url, token: null, http: HTTP, repo: { type: 'model', repoId: ID }, progressMs: 10 },
    createLogger({ level: 'debug', write: (line) => void lines.push(line) }),
  );
}

/** `worker` prepared for `blobs` (no binary cache in tests: all of them to stream), then streaming them. */
async function prepareAndStream(worker: StreamWorker, blobs: BlobToFetch[], report: StreamReport = {}): Promise<void> {
  const readiness = await worker.prepare({ blobs, parallel: 2, ...(report.signal ? { signal: report.signal } : {}) });
  assert.deepEqual(readiness, { kind: 'ready', substitutable: [] });
  return worker.stream(report);
}

/** `blobs` streamed by a new worker. */
function streamInWorker(blobs: BlobToFetch[], lines: string[], report: StreamReport = {}): Promise<void> {
  return prepareAndStream(startWorker(lines), blobs, report);
}

describe('streaming in a worker thread', () => {
  it('lands every blob, with its progress and its debug lines on the main thread', async () => {
    const blobs = [blob('a.bin'), blob('b.bin')];
    const lines: string[] = [];
    const started: string[] = [];
    const stored: string[] = [];
    const last = new Map<string, number>();
    await streamInWorker(blobs, lines, {
      onStart: (b) => started.push(b.path),
      onBytes: (b, bytes) => last.set(b.path, bytes),
      onStored: (b) => stored.push(b.path),
    });
    assert.deepEqual(started.sort(), ['a.bin', 'b.bin']);
    assert.deepEqual(stored.sort(), ['a.bin', 'b.bin']);
    // The last progress of each blob arrives before it is reported stored: the display ends full.
    assert.deepEqual([...last].sort(), [['a.bin', SIZE], ['b.bin', SIZE]]);
    for (const b of blobs) assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), true, b.path);
    const text = lines.join('');
    assert.match(text, /GET http:\/\/127\.0\.0\.1:\d+\/worker\/model\/resolve\/[0-9a-f]{40}\/a\.bin -> 302/, 'the Hub client\'s request lines');
    assert.match(text, /download .*b\.bin: done in \d+\.\d{3} s/, 'the streaming\'s own debug lines');
  });

  it('started before the blobs are known: runs them when given, and an unused one is ended', async () => {
    const lines: string[] = [];
    const early = startWorker(lines);
    await new Promise((r) => setTimeout(r, 300)); // the worker is ready and waiting
    const b = blob('e.bin');
    await prepareAndStream(early, [b]);
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), true);
    assert.throws(() => void early.prepare({ blobs: [b], parallel: 1 }), /prepared once/);
    assert.throws(() => void early.stream({}), /once/);
    const unused = startWorker(lines);
    unused.dispose();
    await unused.exited; // without dispose the idle thread would wait for ever (and keep this test alive)
  });

  it('prepared, then not needed: dispose ends it and its open connections, and nothing is downloaded', async () => {
    const lines: string[] = [];
    const worker = startWorker(lines);
    const b = blob('e.bin');
    const before = hub.cdnBytes();
    const readiness = await worker.prepare({ blobs: [blob('a.bin'), b], parallel: 2 });
    assert.equal(readiness.kind, 'ready');
    assert.match(lines.join(''), /streaming into the Nix store through nix-daemon --stdio|streaming into the Nix store through \//, 'the first connection says where it goes');
    worker.dispose();
    await worker.exited;
    assert.equal(hub.cdnBytes() - before, 0, 'no download started');
  });

  it('a store it cannot reach: prepare says why, the thread ends, nothing is downloaded', async () => {
    const lines: string[] = [];
    const socket = '/nonexistent-nix-hug-test/daemon-socket';
    const worker = startWorker(lines, { ...env, NIX_REMOTE: `unix://${socket}` });
    const before = hub.cdnBytes();
    const readiness = await worker.prepare({ blobs: [blob('a.bin')], parallel: 1 });
    assert.equal(readiness.kind, 'unavailable');
    assert.match(readiness.kind === 'unavailable' ? readiness.reason : '', new RegExp(`cannot connect to the Nix daemon at ${socket}: .*ENOENT`));
    await worker.exited;
    assert.equal(hub.cdnBytes() - before, 0);
  });

  it('a failure in the worker arrives as the same error: the file, the repo and what to do', async () => {
    const b = blob('c.bin');
    hub.addFault({ match: b.lfs.sha256, kind: { corrupt: true }, times: 1 });
    const lines: string[] = [];
    await assert.rejects(streamInWorker([b], lines), (e: unknown) => {
      assert.ok(e instanceof NixHugError && !(e instanceof InterruptedError), String(e));
      assert.match(e.message, /'c\.bin' of worker\/model does not match its pin: expected sha256 [0-9a-f]{64} \(300000 bytes\), got other bytes/);
      assert.match(e.hint ?? '', /re-pin with `nix-hug fetch`/);
      return true;
    });
    hub.clearFaults();
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), false);
  });

  it('an abort stops the worker at once, adds nothing, and is an interrupt', async () => {
    const b = blob('d.bin');
    hub.addFault({ match: b.lfs.sha256, kind: { slowBytesPerSecond: 20_000 }, times: 1 });
    const stop = new AbortController();
    let abortedAt = 0;
    const abort = (): void => {
      if (abortedAt !== 0) return;
      abortedAt = Date.now();
      stop.abort();
    };
    let progressed = false;
    const lines: string[] = [];
    // Abort at the first progress, so the download is surely under way however slowly the
    // worker starts on a loaded machine; the backstop aborts anyway (and the test fails) if none comes.
    const run = streamInWorker([b], lines, { signal: stop.signal, onBytes: () => {
      progressed = true;
      abort();
    } });
    const backstop = setTimeout(abort, 10_000);
    await assert.rejects(run, (e: unknown) => e instanceof InterruptedError);
    clearTimeout(backstop);
    assert.ok(progressed, 'progress came while it ran');
    // The slowed blob needs 15 s; stopping well within that did not wait for it or for a grace period.
    assert.ok(Date.now() - abortedAt < 4000, 'stopped without waiting for the download or the grace period');
    hub.clearFaults();
    assert.equal(await isValidPath(nix.env, blobStorePath(b.lfs.sha256)), false);
  });
});
