/**
 * The worker-protocol client: the wire format against hand-made daemon
 * answers (every message is consumed, with or without a listener; errors of
 * both protocol generations), and real Nix through `nix-daemon --stdio`: a
 * file streamed in lands at the path Nix computes from its bytes, a stream
 * that fails adds nothing, and a missing `nix-daemon` is reported as
 * unavailable (the build then lets Nix download).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { DaemonError, readWork, u64, WireReader, wireString, wireStrings } from '../../src/nix/daemon-wire.ts';
import type { NixLogEvent } from '../../src/nix/nix.ts';
import { StoreConnection, StoreUnavailable } from '../../src/nix/store-connection.ts';
import { daemonSocket } from '../../src/nix/store-transport.ts';
import { blobName, blobStorePath } from '../../src/nix/store-path.ts';
import { collect, isValidPath, nixTestEnv } from '../support/nix.ts';

const NEXT = 0x6f6c6d67;
const LAST = 0x616c7473;
const ERROR = 0x63787470;
const START = 0x53545254;
const STOP = 0x53544f50;
const RESULT = 0x52534c54;

/** A daemon's answer: log messages, the end of the work, then a string. */
function answer(): Buffer {
  return Buffer.concat([
    u64(NEXT),
    wireString('warning: SQLite database is busy\n'),
    u64(START),
    u64(7),
    u64(3),
    u64(101),
    wireString('downloading x'),
    Buffer.concat([u64(2), u64(1), wireString('http://x/y'), u64(0), u64(42)]),
    u64(0),
    u64(RESULT),
    u64(7),
    u64(105),
    Buffer.concat([u64(2), u64(0), u64(10), u64(0), u64(20)]),
    u64(STOP),
    u64(7),
    u64(LAST),
    wireString('/nix/store/abc-after'),
  ]);
}

function readerOf(bytes: Buffer, chunk = 3): WireReader {
  const s = new PassThrough();
  const r = new WireReader(s);
  // Arrives a few bytes at a time: no message may assume it is whole in one chunk.
  for (let i = 0; i < bytes.length; i += chunk) s.write(bytes.subarray(i, i + chunk));
  s.end();
  return r;
}

describe('worker protocol wire format', () => {
  it('strings are padded to 8 bytes; sets are a count and strings', () => {
    assert.equal(wireString('abc').length, 16);
    assert.equal(wireString('12345678').length, 16);
    assert.equal(wireString('').length, 8);
    assert.deepEqual(wireStrings(['a', 'b']).subarray(0, 8), u64(2));
  });

  it('reads every log message up to the end of the work, and what follows it', async () => {
    const events: NixLogEvent[] = [];
    const r = readerOf(answer());
    await readWork(r, 34, (ev) => events.push(ev));
    assert.equal(await r.string(), '/nix/store/abc-after');
    assert.deepEqual(events, [
      { action: 'msg', level: 3, msg: 'warning: SQLite database is busy' },
      { action: 'start', id: 7, level: 3, type: 101, text: 'downloading x', fields: ['http://x/y', 42] },
      { action: 'result', id: 7, type: 105, fields: [10, 20] },
      { action: 'stop', id: 7 },
    ]);
  });

  it('consumes the messages without a listener too', async () => {
    const r = readerOf(answer(), 5);
    await readWork(r, 34);
    assert.equal(await r.string(), '/nix/store/abc-after');
  });

  it('an error ends the work with the daemon message, colours removed, traces kept (protocol 1.26 and later)', async () => {
    const err = Buffer.concat([u64(ERROR), wireString('Error'), u64(0), wireString('Error'), wireString('\x1b[31;1merror:\x1b[0m disk \x1b[35;1mfull\x1b[0m'), u64(0), u64(1), u64(0), wireString('while adding x')]);
    await assert.rejects(readWork(readerOf(err), 34), (e: unknown) => e instanceof DaemonError && e.message === 'error: disk full\nwhile adding x');
  });

  it('an error of an older daemon: a message and a status', async () => {
    const err = Buffer.concat([u64(ERROR), wireString('out of space'), u64(1)]);
    await assert.rejects(readWork(readerOf(err), 25), (e: unknown) => e instanceof DaemonError && e.message === 'out of space');
  });

  it('a connection that ends midway is an error, not a hang', async () => {
    await assert.rejects(readWork(readerOf(answer().subarray(0, 30)), 34), /closed the connection/);
  });
});

describe('StoreConnection (real Nix, nix-daemon --stdio)', () => {
  const nix = nixTestEnv();
  const added: string[] = [];
  after(async () => {
    const valid: string[] = [];
    for (const p of added) if (await isValidPath(nix.env, p)) valid.push(p);
    if (valid.length > 0) await collect(nix.env, valid);
    nix.cleanup();
  });

  it('streams a file in chunks to the path Nix computes from its bytes, the library\'s blob path', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const conn = await StoreConnection.open(nix.env);
    try {
      assert.deepEqual(await conn.querySubstitutable([blobStorePath(sha)]), new Set(), 'no substituters in tests');
      const got = await conn.addFlat(blobName(sha), async (write) => {
        for (let i = 0; i < bytes.length; i += 65536) await write(bytes.subarray(i, i + 65536));
      });
      added.push(got.path);
      assert.equal(got.path, blobStorePath(sha));
      assert.ok(got.narSize > bytes.length);
      assert.equal(await isValidPath(nix.env, got.path), true);
      // The connection takes another file after the first.
      const again = await conn.addFlat('nix-hug-test-second', async (write) => write(Buffer.from('second\n')));
      added.push(again.path);
      assert.match(again.path, /-nix-hug-test-second$/);
    } finally {
      await conn.close();
    }
  });

  it('a producer that fails midway adds nothing, and its error is the one thrown', async () => {
    const bytes = randomBytes(256 * 1024);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const conn = await StoreConnection.open(nix.env);
    await assert.rejects(
      conn.addFlat(blobName(sha), async (write) => {
        await write(bytes.subarray(0, 65536));
        throw new Error('the download broke');
      }),
      /the download broke/,
    );
    await conn.closed;
    assert.equal(await isValidPath(nix.env, blobStorePath(sha)), false);
  });

  it('no nix-daemon on PATH: unavailable, so that Nix downloads instead', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'nix-hug-no-daemon-'));
    try {
      mkdirSync(join(bin, 'b'));
      symlinkSync(process.execPath, join(bin, 'b', 'node'));
      await assert.rejects(StoreConnection.open({ ...nix.env, PATH: join(bin, 'b') }), (e: unknown) => e instanceof StoreUnavailable && /nix-daemon/.test(e.message));
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('which way to the store (as nix chooses it)', () => {
  const env = (e: NodeJS.ProcessEnv) => ({ NIX_STATE_DIR: '/nonexistent-nix-state', ...e });
  it('a daemon store: its socket (NIX_DAEMON_SOCKET_PATH, else under the state directory); unix://PATH: that path', () => {
    assert.equal(daemonSocket(env({ NIX_REMOTE: 'daemon' }), 1000), '/nonexistent-nix-state/daemon-socket/socket');
    assert.equal(daemonSocket(env({ NIX_REMOTE: 'daemon', NIX_DAEMON_SOCKET_PATH: '/run/x.sock' }), 1000), '/run/x.sock');
    assert.equal(daemonSocket(env({ NIX_REMOTE: 'unix:///tmp/d/socket?x=1' }), 1000), '/tmp/d/socket');
    // NIX_CONFIG's store setting wins over NIX_REMOTE, as in Nix.
    assert.equal(daemonSocket(env({ NIX_REMOTE: 'local', NIX_CONFIG: 'substituters =\nstore = daemon' }), 1000), '/nonexistent-nix-state/daemon-socket/socket');
  });

  it('root, a local store, another store, or no daemon running: nix-daemon --stdio', () => {
    assert.equal(daemonSocket(env({}), 0), null);
    assert.equal(daemonSocket(env({ NIX_REMOTE: 'local' }), 1000), null);
    assert.equal(daemonSocket(env({ NIX_REMOTE: 'ssh-ng://host' }), 1000), null);
    assert.equal(daemonSocket(env({}), 1000), null, 'auto, no socket: the store itself');
  });
});
