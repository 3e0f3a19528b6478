/**
 * The transport of large downloads (`bulk` requests of the Hub client): one
 * HTTP/1.1 request on a connection of its own, its body read straight into
 * buffers that are reused once the consumer has written them out.
 *
 * Why: Node's http module copies every body chunk into a new 64 KiB Buffer
 * and passes it through a stream; on two cores that CPU is taken from Nix's
 * hashing of the same bytes. Here the socket reads up to 256 KiB at a time
 * into a buffer this reader lends out (`onread`), and a consumer that gives
 * a chunk back (`BodyReader.release`) after writing it lets that memory be
 * read into again. Reading 1 GiB over four connections cost ~0.85 CPU
 * seconds through node:http and ~0.2 this way (bench/README.md).
 *
 * `Connection: close`: a handshake per file is nothing next to a large file,
 * and no idle connection is kept. Bodies are framed by Content-Length, by
 * chunks, or by the end of the connection; an encoded body (none is asked
 * for) is decoded as nodeTransport decodes it. It fails as nodeTransport
 * does: the request's promise rejects with Node's error code (ECONNREFUSED,
 * a TLS code, ERR_INVALID_PROTOCOL), and a read fails once the connection
 * breaks off, the signal aborts or the reader is cancelled.
 */
import { connect as netConnect, isIP, type OnReadOpts, type Socket } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { decoderFor, nodeReader, type BodyReader, type HttpAnswer, type Transport } from './transport.js';

/** Bytes one socket read may bring. */
const READ_SIZE = 256 << 10;
/** Chunks read ahead of the consumer before the socket stops reading. */
const READ_AHEAD = 4;
/** Free buffers kept per connection for the next reads. */
const KEEP_FREE = 8;
/** The longest response head accepted (status line and headers). */
const MAX_HEAD = 64 << 10;
/** The longest chunk-size line or trailer line accepted. */
const MAX_LINE = 4096;

type Framing = { kind: 'length'; left: number } | { kind: 'chunked'; left: number; part: 'size' | 'data' | 'crlf' | 'trailer'; line: string } | { kind: 'close' };

/** An error with Node's `code`, as the client reads it. */
function coded(message: string, code: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? {} : { cause }), { code });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(coded('The operation was aborted', 'ABORT_ERR', signal.reason), { name: 'AbortError' });
}

/** The request head; header values must not carry line breaks (they would end the head early). */
function requestHead(url: URL, method: string, headers: Record<string, string>): string {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  const given = { 'accept-encoding': 'identity', ...headers, connection: 'close' };
  for (const [name, value] of Object.entries(given)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) throw coded(`invalid header ${JSON.stringify(name)}`, 'ERR_INVALID_CHAR');
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface Head {
  status: number;
  headers: Map<string, string[]>;
}

/** Status line and headers; null when the head is not HTTP/1.x. */
function parseHead(text: string): Head | null {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (!m) return null;
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).trim().toLowerCase();
    const list = headers.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(name, list);
  }
  return { status: Number(m[1]), headers };
}

/** How the body ends (RFC 9112 §6.3); null when there is none. */
function framingOf(method: string, head: Head): Framing | null {
  const { status, headers } = head;
  if (method === 'HEAD' || status === 204 || status === 304) return null;
  if ((headers.get('transfer-encoding') ?? []).join(',').toLowerCase().includes('chunked')) return { kind: 'chunked', left: 0, part: 'size', line: '' };
  const length = headers.get('content-length')?.[0];
  if (length !== undefined) {
    if (!/^\d+$/.test(length)) throw coded(`invalid Content-Length ${JSON.stringify(length)}`, 'HPE_INVALID_CONTENT_LENGTH');
    return { kind: 'length', left: Number(length) };
  }
  return { kind: 'close' };
}

/** One response read off its socket: the head, then the body as chunks lent out of reused buffers. */
class Exchange implements BodyReader {
  private readonly free: Buffer[] = [];
  /** Chunks lent out of each buffer and not given back yet (weakly: a chunk the consumer drops is not kept alive here). */
  private readonly lent = new WeakMap<ArrayBufferLike, number>();
  private readonly queue: Buffer[] = [];
  private head = '';
  private framing: Framing | null = null;
  private bodyStarted = false;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private paused = false;
  socket!: Socket;

  constructor(
    private readonly method: string,
    private readonly answered: (answer: HttpAnswer) => void,
    private readonly refused: (err: Error) => void,
  ) {}

  /** A buffer for the next socket read. */
  take = (): Buffer => this.free.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE);

  /** The socket read `n` bytes into `buf`; false stops reading until the consumer catches up. */
  onRead = (n: number, buf: Buffer): boolean => {
    try {
      this.parse(buf, n);
    } catch (err) {
      this.fail(err as Error);
      this.socket.destroy();
    }
    if (!this.lent.has(buf.buffer)) this.giveBack(buf.buffer);
    this.paused = this.queue.length >= READ_AHEAD;
    return !this.paused;
  };

  private parse(buf: Buffer, end: number): void {
    let at = 0;
    while (at < end && !this.ended) {
      if (!this.bodyStarted) at = this.parseHead(buf, at, end);
      else at = this.parseBody(buf, at, end);
    }
  }

  private parseHead(buf: Buffer, at: number, end: number): number {
    const before = this.head.length;
    this.head += buf.toString('latin1', at, end);
    const stop = this.head.indexOf('\r\n\r\n');
    if (stop < 0) {
      if (this.head.length > MAX_HEAD) throw coded(`a response head over ${MAX_HEAD} bytes`, 'HPE_HEADER_OVERFLOW');
      return end;
    }
    const next = at + stop + 4 - before;
    const head = parseHead(this.head.slice(0, stop));
    this.head = '';
    if (!head) throw coded('the server did not answer in HTTP/1.1', 'HPE_INVALID_CONSTANT');
    // Interim answers (100 Continue, 103 Early Hints) precede the real one.
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) throw coded('the server switched protocols', 'HPE_INVALID_CONSTANT');
      return next;
    }
    this.bodyStarted = true;
    this.framing = framingOf(this.method, head);
    if (this.framing?.kind === 'length' && this.framing.left === 0) this.framing = null;
    const headers = {
      get: (name: string) => head.headers.get(name.toLowerCase())?.join(', ') ?? null,
    };
    const body = this.framing ? this.bodyReader(headers.get('content-encoding')) : null;
    if (!this.framing) this.finish();
    this.answered({ status: head.status, ok: head.status >= 200 && head.status < 300, headers, body });
    return next;
  }

  private parseBody(buf: Buffer, at: number, end: number): number {
    const f = this.framing;
    if (!f) return end;
    if (f.kind === 'close') {
      this.lend(buf, at, end);
      return end;
    }
    if (f.kind === 'length') {
      const upTo = Math.min(end, at + f.left);
      this.lend(buf, at, upTo);
      f.left -= upTo - at;
      if (f.left === 0) this.finish();
      return end; // anything after the body is not ours (the connection closes)
    }
    switch (f.part) {
      case 'data': {
        const upTo = Math.min(end, at + f.left);
        this.lend(buf, at, upTo);
        f.left -= upTo - at;
        if (f.left === 0) f.part = 'crlf';
        return upTo;
      }
      case 'crlf':
        if (buf[at] === 0x0a) f.part = 'size';
        return at + 1;
      default: {
        // A chunk-size line (its extensions ignored), or a trailer line.
        const nl = buf.subarray(0, end).indexOf(0x0a, at);
        const upTo = nl < 0 ? end : nl;
        f.line += buf.toString('latin1', at, upTo);
        if (f.line.length > MAX_LINE) throw coded('a chunk line over 4 KiB', 'HPE_CHUNK_EXTENSIONS_OVERFLOW');
        if (upTo === end) return end;
        const line = f.line.trim();
        f.line = '';
        if (f.part === 'trailer') {
          if (line === '') this.finish();
          return upTo + 1;
        }
        const size = /^[0-9a-fA-F]+/.exec(line);
        if (!size) throw coded(`an invalid chunk size ${JSON.stringify(line.slice(0, 40))}`, 'HPE_INVALID_CHUNK_SIZE');
        f.left = parseInt(size[0], 16);
        f.part = f.left === 0 ? 'trailer' : 'data';
        return upTo + 1;
      }
    }
  }

  /** Queues `buf[from, to)` for the consumer; the buffer is not read into again until it is given back. */
  private lend(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.lent.set(buf.buffer, (this.lent.get(buf.buffer) ?? 0) + 1);
    this.queue.push(buf.subarray(from, to));
    this.poke();
  }

  private giveBack(memory: ArrayBufferLike): void {
    if (this.free.length < KEEP_FREE) this.free.push(Buffer.from(memory, 0, READ_SIZE));
  }

  release(chunk: Uint8Array): void {
    const count = this.lent.get(chunk.buffer);
    if (count === undefined) return; // not one of ours (a decoded chunk)
    if (count > 1) this.lent.set(chunk.buffer, count - 1);
    else {
      this.lent.delete(chunk.buffer);
      this.giveBack(chunk.buffer);
    }
  }

  private finish(): void {
    this.ended = true;
    this.poke();
    // The body is complete: the connection (asked to close) has nothing more to give.
    this.socket.destroy();
  }

  /** The connection failed or closed: before the head, the request fails; in the body, reads do. */
  fail(err: Error): void {
    if (this.ended) return;
    if (!this.bodyStarted) {
      this.ended = true;
      this.refused(err);
      return;
    }
    this.failure ??= err;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async read(): Promise<IteratorResult<Uint8Array, undefined>> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) {
        if (this.paused && this.queue.length < READ_AHEAD) {
          this.paused = false;
          this.socket.resume();
        }
        return { done: false, value: chunk };
      }
      if (this.failure) throw this.failure;
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The server closed its side: the end of a body that lasts until then. */
  endOfStream(): void {
    if (this.bodyStarted && this.framing?.kind === 'close') this.finish();
  }

  cancel(): void {
    this.fail(new Error('the body was cancelled'));
    this.socket.destroy();
  }

  /** The raw body, or the decoded one when the server encoded it anyway. */
  private bodyReader(encoding: string | null): BodyReader {
    const decoder = decoderFor(encoding);
    if (!decoder) return this;
    const raw = this;
    async function* chunks() {
      for (let next = await raw.read(); !next.done; next = await raw.read()) yield next.value;
    }
    const decoded = pipeline(Readable.from(chunks()), decoder, () => undefined);
    const reader = nodeReader(decoded);
    return { read: () => reader.read(), cancel: () => (reader.cancel(), raw.cancel()) };
  }
}

/** A request on a connection of its own (see the module's comment). */
export const http1Transport: Transport = (input, { method, headers, signal }) => {
  const url = new URL(input);
  const tls = url.protocol === 'https:';
  if (!tls && url.protocol !== 'http:') return Promise.reject(coded(`${input}: only http and https URLs are supported`, 'ERR_INVALID_PROTOCOL'));
  if (signal.aborted) return Promise.reject(abortError(signal));
  let head: string;
  try {
    head = requestHead(url, method, headers);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise<HttpAnswer>((resolve, reject) => {
    const exchange = new Exchange(method, resolve, reject);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port) || (tls ? 443 : 80);
    const onread: OnReadOpts = { buffer: exchange.take, callback: exchange.onRead };
    // tls.connect takes `onread` as net.connect does (Node's documentation); its types leave it out.
    const secure: ConnectionOptions & { onread: OnReadOpts } = { host, port, ALPNProtocols: ['http/1.1'], onread, ...(isIP(host) ? {} : { servername: host }) };
    const socket = tls ? tlsConnect(secure) : netConnect({ host, port, onread });
    exchange.socket = socket;
    const onAbort = () => {
      exchange.fail(abortError(signal));
      socket.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => exchange.fail(err));
    socket.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      exchange.fail(coded('the connection closed before the body ended', 'ECONNRESET'));
    });
    // A body that ends with the connection ends here.
    socket.once('end', () => exchange.endOfStream());
    socket.write(head);
  });
};
