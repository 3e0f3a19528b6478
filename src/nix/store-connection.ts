/**
 * A worker-protocol connection to the Nix store, reached as `nix` reaches it
 * (store-transport.ts): a user of a multi-user install talks to the system
 * daemon with that user's rights (as `nix-store --add` has); root with a
 * local store talks to `nix-daemon --stdio`, which is the store itself.
 *
 * Why: a downloaded file can be streamed into the store as it arrives. Nix
 * hashes the bytes while it writes them and names the path by that hash, so
 * the download, Nix's content hash and its copy run at once instead of one
 * after another (docs/design.md, "Blob downloads").
 */
import { openTransport, StoreUnavailable, type Transport } from './store-transport.js';
import { DaemonError, Op, readWork, u64, WireError, WireReader, wireString, wireStrings, WORKER_MAGIC_1, WORKER_MAGIC_2 } from './daemon-wire.js';
import type { NixLogEvent } from './nix.js';

/** The newest protocol minor version this client speaks; 25 is the first with today's AddToStore. */
const CLIENT_MINOR = 34;
const MIN_MINOR = 25;
/** How long `close` waits for the other side to let go after its input ended. */
const EXIT_GRACE_MS = 5000;
/** Bytes queued for the daemon's pipe before a write waits: a few chunks, so the pipe never runs dry. */
const BUFFERED = 256 << 10;

export interface AddedPath {
  path: string;
  narSize: number;
}

/**
 * Writes one chunk of a file being added; resolves when the connection can
 * take more. `written` is called once the chunk has left for the store (its
 * memory may then be reused), or the connection failed.
 */
export type WriteChunk = (chunk: Buffer, written?: () => void) => Promise<void>;

export class StoreConnection {
  private readonly reader: WireReader;
  /** Why the connection cannot be used any more, once it cannot. */
  private broken: Error | null = null;
  private minor = 0;
  /** The daemon's Nix version, when it says (protocol 1.33 and later). */
  daemonVersion: string | null = null;

  private constructor(private readonly transport: Transport) {
    this.reader = new WireReader(transport.output);
    transport.input.on('error', (err) => this.fail(new WireError(`writing to the Nix store (${transport.name}) failed: ${err.message}`)));
    void transport.closed.then(() => this.fail(new WireError(`the connection to the Nix store (${transport.name}) closed${transport.note()}`)));
  }

  /** What the transport is: `nix-daemon --stdio`, or the daemon socket's path. */
  get via(): string {
    return this.transport.name;
  }

  private fail(err: Error): void {
    this.broken ??= err;
    this.reader.end(err);
  }

  /**
   * Connects as `nix` would with `env` (the daemon's socket, or
   * `nix-daemon --stdio`) and shakes hands; StoreUnavailable when that is
   * not possible.
   */
  static async open(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<StoreConnection> {
    const transport = await openTransport(env, signal);
    const conn = new StoreConnection(transport);
    const onAbort = () => conn.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await conn.handshake();
      return conn;
    } catch (err) {
      conn.abort();
      if (err instanceof StoreUnavailable) throw err;
      await transport.closed;
      throw new StoreUnavailable(`cannot talk to the Nix store through ${transport.name}: ${(err as Error).message}${transport.note()}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async handshake(): Promise<void> {
    await this.send(u64(WORKER_MAGIC_1));
    if ((await this.reader.u64()) !== WORKER_MAGIC_2) throw new StoreUnavailable(`${this.transport.name} does not speak the worker protocol`);
    const server = await this.reader.u64();
    const serverMinor = server & 0xff;
    if (server >> 8 !== 1 || serverMinor < MIN_MINOR) {
      throw new StoreUnavailable(`the Nix daemon speaks protocol ${server >> 8}.${serverMinor}; streaming into the store needs 1.${MIN_MINOR} (Nix 2.4) or later`);
    }
    this.minor = Math.min(serverMinor, CLIENT_MINOR);
    // Our version, then two obsolete settings (CPU affinity, reserve space): none.
    await this.send(Buffer.concat([u64((1 << 8) | this.minor), u64(0), u64(0)]));
    if (this.minor >= 33) this.daemonVersion = await this.reader.string();
    await readWork(this.reader, this.minor);
  }

  /** Writes to the daemon; waits once more than BUFFERED bytes are queued for its pipe. `written`: see WriteChunk. */
  private async send(data: Buffer, more?: Buffer, written?: () => void): Promise<void> {
    if (this.broken) throw this.broken;
    const { input } = this.transport;
    if (more) {
      input.cork();
      input.write(data);
      input.write(more, written && (() => written()));
      input.uncork();
    } else input.write(data);
    if (input.writableLength < BUFFERED) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        input.off('drain', done);
        input.off('close', done);
        resolve();
      };
      input.on('drain', done);
      input.on('close', done);
    });
    if (this.broken) throw this.broken;
  }

  /**
   * Which of `paths` a binary cache (the store's substituters) can provide:
   * every cache is asked, as a build would (not only those that welcome
   * mass queries).
   */
  async querySubstitutable(paths: readonly string[], onEvent?: (ev: NixLogEvent) => void): Promise<Set<string>> {
    // Protocol 1.22 and later take each path with its content address (none given: looked up by path).
    const request = this.minor >= 22 ? Buffer.concat([u64(paths.length), ...paths.flatMap((p) => [wireString(p), wireString('')])]) : wireStrings(paths);
    await this.send(Buffer.concat([u64(Op.QuerySubstitutablePathInfos), request]));
    await readWork(this.reader, this.minor, onEvent);
    const found = new Set<string>();
    for (let n = await this.reader.u64(); n > 0; n--) {
      found.add(await this.reader.string());
      await this.reader.string(); // deriver
      await this.reader.strings(); // references
      await this.reader.u64(); // download size
      await this.reader.u64(); // NAR size
    }
    return found;
  }

  /**
   * Adds a flat file (no references) named `name`, content-addressed by its
   * sha256 as the daemon computes it from the bytes `produce` writes. If
   * `produce` throws, nothing is added and the connection is closed (the
   * daemon drops what it received).
   */
  async addFlat(name: string, produce: (write: WriteChunk) => Promise<void>, onEvent?: (ev: NixLogEvent) => void): Promise<AddedPath> {
    await this.send(Buffer.concat([u64(Op.AddToStore), wireString(name), wireString('fixed:sha256'), wireStrings([]), u64(0)]));
    const work = readWork(this.reader, this.minor, onEvent);
    // A daemon that fails mid-file (a full disk) says so at once: the download stops there.
    let refused: unknown = null;
    const watched = work.catch((err: unknown) => void (refused ??= err));
    try {
      await produce(async (chunk, written) => {
        if (refused) throw refused;
        if (chunk.length > 0) await this.send(u64(chunk.length), chunk, written);
        else written?.();
      });
      await this.send(u64(0));
    } catch (err) {
      // The connection broke: the daemon's reason, if it gave one, is the better message.
      if (err instanceof WireError) await watched;
      const reason = refused instanceof DaemonError ? refused : err;
      this.abort();
      await watched;
      throw reason;
    }
    await work;
    const path = await this.reader.string();
    await this.reader.string(); // deriver
    await this.reader.string(); // NAR hash
    await this.reader.strings(); // references
    await this.reader.u64(); // registration time
    const narSize = await this.reader.u64();
    if (this.minor >= 16) {
      await this.reader.u64(); // ultimate
      await this.reader.strings(); // signatures
      await this.reader.string(); // content address
    }
    return { path, narSize };
  }

  /** Ends the connection and waits until it is closed (dropped if it lingers). */
  async close(): Promise<void> {
    this.transport.end();
    const timer = setTimeout(() => this.transport.destroy(), EXIT_GRACE_MS);
    try {
      await this.transport.closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the connection now: the daemon discards an unfinished file (a temporary directory it removes). */
  abort(): void {
    this.fail(new WireError('the connection to the Nix daemon was closed'));
    this.transport.destroy();
  }

  /** Resolves once the connection is closed (after `close` or `abort`). */
  get closed(): Promise<void> {
    return this.transport.closed;
  }
}

export { DaemonError, StoreUnavailable };
