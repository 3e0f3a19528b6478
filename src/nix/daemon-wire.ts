/**
 * The wire format of Nix's worker protocol (what `nix` and `nix-daemon`
 * speak over the daemon socket or `nix-daemon --stdio`): little-endian
 * 64-bit integers, strings as a length and bytes padded to 8, and the
 * daemon's log messages ("stderr") that precede every answer. Only what
 * nix-hug sends and reads is here; docs/design.md says why it speaks it.
 */
import type { Readable } from 'node:stream';
import type { NixLogEvent } from './nix.js';

export const WORKER_MAGIC_1 = 0x6e697863;
export const WORKER_MAGIC_2 = 0x6478696f;

/** Operation numbers of the worker protocol. */
export const Op = {
  AddToStore: 7,
  QuerySubstitutablePathInfos: 30,
} as const;

const STDERR_NEXT = 0x6f6c6d67;
const STDERR_READ = 0x64617461;
const STDERR_WRITE = 0x64617416;
const STDERR_LAST = 0x616c7473;
const STDERR_ERROR = 0x63787470;
const STDERR_START_ACTIVITY = 0x53545254;
const STDERR_STOP_ACTIVITY = 0x53544f50;
const STDERR_RESULT = 0x52534c54;

/** An error the daemon reported for an operation (its message, as `nix` would print it). */
export class DaemonError extends Error {}

/** The connection ended or said something this client does not understand. */
export class WireError extends Error {}

export function u64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

export function wireString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const pad = (8 - (bytes.length % 8)) % 8;
  return Buffer.concat([u64(bytes.length), bytes, Buffer.alloc(pad)]);
}

export function wireStrings(list: readonly string[]): Buffer {
  return Buffer.concat([u64(list.length), ...list.map(wireString)]);
}

/** Longest string accepted from the daemon: its messages and store paths are far shorter. */
const MAX_STRING = 16 << 20;

/** Reads the daemon's side of a connection as it arrives. */
export class WireReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: (() => void) | null = null;
  private ended: Error | null = null;

  constructor(stream: Readable) {
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.wake();
    });
    stream.on('end', () => this.end(new WireError('the Nix daemon closed the connection')));
    stream.on('error', (err) => this.end(new WireError(`reading from the Nix daemon failed: ${err.message}`)));
  }

  /** From now on every read fails with `err` (the connection is gone). */
  end(err: Error): void {
    this.ended ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private async take(n: number): Promise<Buffer> {
    while (this.buffered < n) {
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  async u64(): Promise<number> {
    const v = (await this.take(8)).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new WireError(`the Nix daemon sent a number out of range (${v})`);
    return Number(v);
  }

  async string(): Promise<string> {
    const n = await this.u64();
    if (n > MAX_STRING) throw new WireError(`the Nix daemon sent a string of ${n} bytes`);
    const padded = n + ((8 - (n % 8)) % 8);
    return (await this.take(padded)).subarray(0, n).toString('utf8');
  }

  async strings(): Promise<string[]> {
    const n = await this.u64();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.string());
    return out;
  }

  /** An activity's or result's fields: numbers and strings, each tagged. */
  async fields(): Promise<(number | string)[]> {
    const n = await this.u64();
    const out: (number | string)[] = [];
    for (let i = 0; i < n; i++) out.push((await this.u64()) === 0 ? await this.u64() : await this.string());
    return out;
  }
}

/**
 * Reads the daemon's log messages up to the end of an operation's work;
 * activities go to `onEvent` as Nix's internal-json log would give them.
 * Throws DaemonError with the daemon's message when the operation failed.
 */
export async function readWork(r: WireReader, minor: number, onEvent?: (ev: NixLogEvent) => void): Promise<void> {
  for (;;) {
    const kind = await r.u64();
    switch (kind) {
      case STDERR_LAST:
        return;
      case STDERR_NEXT: {
        // Read before the optional call: `onEvent?.(…)` would skip reading its arguments.
        const msg = (await r.string()).trimEnd();
        onEvent?.({ action: 'msg', level: 3, msg });
        break;
      }
      case STDERR_START_ACTIVITY: {
        const id = await r.u64();
        const level = await r.u64();
        const type = await r.u64();
        const text = await r.string();
        const fields = await r.fields();
        await r.u64(); // the parent activity
        onEvent?.({ action: 'start', id, level, type, text, fields });
        break;
      }
      case STDERR_STOP_ACTIVITY: {
        const id = await r.u64();
        onEvent?.({ action: 'stop', id });
        break;
      }
      case STDERR_RESULT: {
        const id = await r.u64();
        const type = await r.u64();
        const fields = await r.fields();
        onEvent?.({ action: 'result', id, type, fields });
        break;
      }
      case STDERR_ERROR:
        throw new DaemonError(await readError(r, minor));
      case STDERR_READ:
      case STDERR_WRITE:
        throw new WireError('the Nix daemon asked for a data transfer this client never starts');
      default:
        throw new WireError(`the Nix daemon sent an unknown message (0x${kind.toString(16)})`);
    }
  }
}

/** An error's message (and its trace lines, as Nix prints them). */
async function readError(r: WireReader, minor: number): Promise<string> {
  if (minor < 26) {
    const msg = await r.string();
    await r.u64(); // exit status
    return msg;
  }
  await r.string(); // the type: always "Error"
  await r.u64(); // verbosity
  await r.string(); // the name (unused)
  const msg = await r.string();
  await r.u64(); // a position: never sent
  const traces: string[] = [];
  for (let n = await r.u64(); n > 0; n--) {
    await r.u64(); // a trace's position: never sent
    traces.push(await r.string());
  }
  // Nix colours the parts it quotes; a message here is plain text.
  return [msg, ...traces].join('\n').replace(/\x1b\[[0-9;]*m/g, '');
}
