/**
 * One request being served: headers the Hub always sends, JSON errors with
 * `X-Error-Code`, and a body pump that counts bytes and applies faults.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { BodyFault, FaultKind } from './faults.ts';
import { isLatencyFault, isStatusFault } from './faults.ts';

export type Route = 'api' | 'resolve' | 'cdn' | 'git' | 'lfs-batch' | 'other';

export interface ErrorSpec {
  status: number;
  message: string;
  code?: string;
  headers?: Record<string, string>;
}

export class Ctx {
  route: Route = 'other';
  bytes = 0;
  readonly method: string;
  /** Raw path (still percent-encoded), without the query. */
  readonly rawPath: string;
  readonly query: URLSearchParams;
  private bodyFault: BodyFault | null = null;
  private statusFault: { status: number; retryAfter?: number } | null = null;
  private latencyFault: { latencyMs: number } | null = null;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    fault: FaultKind | null,
    private readonly isClosing: () => boolean,
    /** Told about every body byte as it is written (live counters). */
    private readonly onBytes: (ctx: Ctx, n: number) => void = () => undefined,
  ) {
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.rawPath = q < 0 ? url : url.slice(0, q);
    this.query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (fault && isStatusFault(fault)) this.statusFault = fault;
    else if (fault && isLatencyFault(fault)) this.latencyFault = fault;
    else this.bodyFault = fault;
    res.setHeader('X-Request-Id', `Root=1-${randomBytes(12).toString('hex')}`);
  }

  /** The fault this response carries (a body fault handed on to a redirect's target is not this one's). */
  get fault(): FaultKind | null {
    return this.statusFault ?? this.latencyFault ?? this.bodyFault;
  }

  /** How long to wait before answering (an injected latency), in ms. */
  get latencyMs(): number {
    return this.latencyFault?.latencyMs ?? 0;
  }

  /** Answers an injected status fault, if any; true when the request is done. */
  answerStatusFault(): boolean {
    const f = this.statusFault;
    if (!f) return false;
    const headers: Record<string, string> = {};
    if (f.retryAfter !== undefined) headers['Retry-After'] = String(f.retryAfter);
    this.error({ status: f.status, message: `Emulated fault: HTTP ${f.status}`, headers });
    return true;
  }

  /** Hands the pending body fault to someone else (e.g. the CDN request a redirect leads to). */
  takeBodyFault(): BodyFault | null {
    const f = this.bodyFault;
    this.bodyFault = null;
    return f;
  }

  error(e: ErrorSpec): void {
    const headers: Record<string, string> = { ...(e.headers ?? {}) };
    if (e.code) headers['X-Error-Code'] = e.code;
    headers['X-Error-Message'] = headerSafe(e.message);
    this.json(e.status, { error: e.message }, headers);
  }

  json(status: number, value: unknown, headers: Record<string, string> = {}): void {
    const body = Buffer.from(JSON.stringify(value));
    this.send(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body);
  }

  send(status: number, headers: Record<string, string | number>, body: Buffer | Readable): void {
    const { res } = this;
    if (res.headersSent) {
      // Too late for another answer (e.g. a CGI failure mid-stream): cut the response.
      if (body instanceof Readable) body.destroy();
      res.destroy();
      return;
    }
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (Buffer.isBuffer(body) && !res.hasHeader('Content-Length')) res.setHeader('Content-Length', body.length);
    void this.pump(body);
  }

  /** Writes the body with backpressure; never throws (a client may be gone). */
  async pump(body: Buffer | Readable | AsyncIterable<Buffer>): Promise<void> {
    const { res } = this;
    const src: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(body) ? [body] : (body as AsyncIterable<Buffer>);
    if (this.method === 'HEAD') {
      if (body instanceof Readable) body.destroy();
      res.end();
      return;
    }
    const fault = this.bodyFault;
    let left = fault && 'dropAfterBytes' in fault ? fault.dropAfterBytes : Infinity;
    try {
      for await (const raw of src) {
        if (res.destroyed || this.isClosing()) break;
        let chunk = raw;
        if (fault && 'corrupt' in fault && chunk.length > 0) {
          chunk = Buffer.from(chunk);
          // Flip a byte in every 64 KiB: same length, a different hash.
          for (let i = 0; i < chunk.length; i += 65536) chunk[i] = (chunk[i] as number) ^ 0xff;
        }
        if (chunk.length >= left) {
          const part = chunk.subarray(0, left);
          this.count(part.length);
          await new Promise<void>((r) => res.write(part, () => r()));
          res.socket?.destroy();
          res.destroy();
          break;
        }
        if (left !== Infinity) left -= chunk.length;
        if (fault && 'slowBytesPerSecond' in fault) {
          await this.slowWrite(chunk, Math.max(1, fault.slowBytesPerSecond));
          continue;
        }
        this.count(chunk.length);
        if (!res.write(chunk)) await drainOrClose(res);
      }
    } catch {
      // Source failed: cut the response so the client sees an error, not a short file.
      res.destroy();
    } finally {
      if (body instanceof Readable) body.destroy();
      if (!res.destroyed && !res.writableEnded) {
        if (fault && 'dropAfterBytes' in fault && left <= 0) {
          res.socket?.destroy();
          res.destroy();
        } else res.end();
      }
    }
  }

  private count(n: number): void {
    this.bytes += n;
    this.onBytes(this, n);
  }

  private async slowWrite(chunk: Buffer, bps: number): Promise<void> {
    const { res } = this;
    const tick = 50;
    const piece = Math.max(1, Math.floor((bps * tick) / 1000));
    for (let i = 0; i < chunk.length; i += piece) {
      // Wait, then write: the last piece is followed by end() at once.
      if (i > 0 || this.bytes > 0) await new Promise((r) => setTimeout(r, (piece / bps) * 1000));
      if (res.destroyed || this.isClosing()) return;
      const part = chunk.subarray(i, i + piece);
      this.count(part.length);
      res.write(part);
    }
  }
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function headerSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x20-\x7e]/g, '?');
}

/** Reads a request body up to `limit` bytes (rejects beyond). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('aborted')));
  });
}

/** Parses `Range: bytes=...` against `size`: the range, null for the whole body, or 'invalid' (416). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // multi-range or garbage: ignore, send everything (allowed by RFC 9110)
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}
