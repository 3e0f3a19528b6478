/**
 * A worker-protocol connection to the Nix store through `nix-daemon
 * --stdio`: for a user of a multi-user install it is forwarded to the
 * system daemon (with that user's rights, as `nix-store --add` has); as
 * root with a local store it is the store itself. Both Nix versions and the
 * store settings (`NIX_REMOTE`, `store`) are honoured exactly as `nix` would.
 *
 * Why: a downloaded file can be streamed into the store as it arrives. Nix
 * hashes the bytes while it writes them and names the path by that hash, so
 * the download, Nix's content hash and its copy run at once instead of one
 * after another (docs/design.md, "Blob downloads").
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { traceCommand } from '../ui/command-trace.js';
import { DaemonError, Op, readWork, u64, WireError, WireReader, wireString, wireStrings, WORKER_MAGIC_1, WORKER_MAGIC_2 } from './daemon-wire.js';
import type { NixLogEvent } from './nix.js';

/** The store could not be reached this way (no `nix-daemon`, an old protocol, no rights): use `nix` instead. */
export class StoreUnavailable extends Error {}

/** The newest protocol minor version this client speaks; 25 is the first with today's AddToStore. */
const CLIENT_MINOR = 34;
const MIN_MINOR = 25;
/** Kept of the daemon process's own stderr, for messages. */
const STDERR_KEEP = 4096;
/** How long `close` waits for the process to exit after its input ended. */
const EXIT_GRACE_MS = 5000;
/** Bytes queued for the daemon's pipe before a write waits: a few chunks, so the pipe never runs dry. */
const BUFFERED = 256 << 10;

export interface AddedPath {
  path: string;
  narSize: number;
}

/** Writes one chunk of a file being added; resolves when the connection can take more. */
export type WriteChunk = (chunk: Buffer) => Promise<void>;

export class StoreConnection {
  private readonly reader: WireReader;
  private stderr = '';
  /** Why the connection cannot be used any more, once it cannot. */
  private broken: Error | null = null;
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private minor = 0,
    /** The daemon's Nix version, when it says (protocol 1.33 and later). */
    public daemonVersion: string | null = null,
  ) {
    this.reader = new WireReader(child.stdout);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-STDERR_KEEP)));
    child.stdin.on('error', (err) => this.fail(new WireError(`writing to the Nix daemon failed: ${err.message}`)));
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.once('close', (code, signal) => this.fail(new WireError(`nix-daemon --stdio exited (${signal ?? `code ${code}`})${this.stderrNote()}`)));
  }

  private stderrNote(): string {
    const text = this.stderr.trim();
    return text ? `: ${text}` : '';
  }

  private fail(err: Error): void {
    this.broken ??= err;
    this.reader.end(err);
  }

  /** Starts `nix-daemon --stdio` with `env` and shakes hands; StoreUnavailable when that is not possible. */
  static async open(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<StoreConnection> {
    const trace = traceCommand('nix-daemon', ['--stdio'], env);
    const child = spawn('nix-daemon', ['--stdio'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new StoreUnavailable(`cannot run nix-daemon: ${err.message}`)));
    });
    child.once('close', (code, killedBy) => trace.end(code, killedBy));
    const conn = new StoreConnection(child);
    const onAbort = () => conn.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await spawned;
      await conn.handshake();
      return conn;
    } catch (err) {
      conn.abort();
      if (err instanceof StoreUnavailable) throw err;
      throw new StoreUnavailable(`cannot talk to the Nix store through nix-daemon --stdio: ${(err as Error).message}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async handshake(): Promise<void> {
    await this.send(u64(WORKER_MAGIC_1));
    if ((await this.reader.u64()) !== WORKER_MAGIC_2) throw new StoreUnavailable('nix-daemon --stdio does not speak the worker protocol');
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

  /** Writes to the daemon; waits once more than BUFFERED bytes are queued for its pipe. */
  private async send(data: Buffer, more?: Buffer): Promise<void> {
    if (this.broken) throw this.broken;
    const { stdin } = this.child;
    if (more) {
      stdin.cork();
      stdin.write(data);
      stdin.write(more);
      stdin.uncork();
    } else stdin.write(data);
    if (stdin.writableLength < BUFFERED) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        this.child.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      this.child.on('close', done);
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
      await produce(async (chunk) => {
        if (refused) throw refused;
        if (chunk.length > 0) await this.send(u64(chunk.length), chunk);
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

  /** Ends the connection and waits for the process (stopped if it lingers). */
  async close(): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGTERM'), EXIT_GRACE_MS);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the connection now: the daemon discards an unfinished file (a temporary directory it removes). */
  abort(): void {
    this.fail(new WireError('the connection to the Nix daemon was closed'));
    this.child.stdin.destroy();
    this.child.kill('SIGTERM');
  }

  /** Resolves once the process has exited (after `close` or `abort`). */
  get closed(): Promise<void> {
    return this.exited;
  }
}

export { DaemonError };
