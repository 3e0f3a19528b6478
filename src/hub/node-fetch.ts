/**
 * The Hub client's transport: what the client asks of `fetch` (GET or
 * HEAD, headers, an abort signal, redirects returned, not followed, bodies
 * decoded as their Content-Encoding says), done with Node's own http and
 * https modules and answered as a standard `Response`, whose body a
 * download reads as the Node stream it is (`bodyReader`).
 *
 * Why not Node's `fetch` (undici): it passes every chunk of a model file
 * through several layers of web streams (reading 1 GiB over four
 * connections here cost ~1.6 CPU-seconds that way, ~1.1 from the Node
 * stream: on two cores, time that Nix's hashing of the same bytes no longer
 * gets), its first use costs ~40 MB of memory and 40–150 ms of start-up,
 * and it refuses to connect to ports of other protocols (6000, 10080, …)
 * that a mirror may well use. bench/README.md has the measurements.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** Statuses whose answers have no body (a `Response` refuses one for them). */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

/** Each answer's body as Node reads it off the socket (decoded, if it was encoded). */
const nodeBodies = new WeakMap<Response, Readable>();

/** The decoders of the Content-Encodings `fetch` decodes (of one encoding; several are not sent in practice). */
const DECODERS: Record<string, () => Readable & NodeJS.WritableStream> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The body as its Content-Encoding says to read it (as `fetch` does); an unknown encoding is left as it is. */
function decoded(res: IncomingMessage): Readable {
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = DECODERS[encoding];
  if (!decoder) return res;
  // A failure or destruction of either end ends both (a cancelled body closes its connection).
  return pipeline(res, decoder(), () => undefined);
}

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

function plainHeaders(init: HeadersInit | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  new Headers(init).forEach((value, name) => (out[name] = value));
  return out;
}

/**
 * The Node stream as the `Response`'s body, without reading it: the web
 * stream that `Response` makes of it pulls from it only if someone reads
 * `res.body` (an error's message, `text()`), and cancelling that stream (a
 * redirect's body) destroys it. A download reads the Node stream instead.
 */
function lazyBody(node: Readable): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      let it: AsyncIterator<Uint8Array> | null = null;
      return {
        next: () => (it ??= node[Symbol.asyncIterator]()).next(),
        return: async () => {
          node.destroy();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/**
 * A `fetch` for the Hub client's downloads. It fails as `fetch` does: a
 * rejected promise for a request that got no answer (the error carries
 * Node's `code`, e.g. ECONNREFUSED), and a body that errors when the
 * connection breaks off or the signal aborts.
 */
export function nodeFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(input);
  const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : null;
  if (!send) return Promise.reject(Object.assign(new TypeError(`${input}: only http and https URLs are supported`), { code: 'ERR_INVALID_PROTOCOL' }));
  const method = init.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers: plainHeaders(init.headers), ...(init.signal ? { signal: init.signal } : {}) });
    req.once('error', reject);
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      const hasBody = method !== 'HEAD' && !NO_BODY.has(status);
      if (!hasBody) res.resume();
      const body = hasBody ? decoded(res) : null;
      let answer: Response;
      try {
        // Undici takes any async iterable as a body; the DOM's types do not say so.
        answer = new Response(body ? (lazyBody(body) as unknown as ReadableStream<Uint8Array>) : null, { status, statusText: res.statusMessage ?? '', headers: headersOf(res) });
      } catch (err) {
        // A status a Response cannot carry (under 200, over 599): no Hub sends one.
        res.destroy();
        return reject(err);
      }
      if (body) nodeBodies.set(answer, body);
      resolve(answer);
    });
    req.end();
  });
}

/** Reads a body chunk by chunk; `cancel` ends it, and a read under way then fails or ends. */
export interface BodyReader {
  read(): Promise<IteratorResult<Uint8Array>>;
  cancel(): void;
}

/** A reader of `res`'s body: the Node stream of a `nodeFetch` answer, else its web stream. */
export function bodyReader(res: Response): BodyReader | null {
  const node = nodeBodies.get(res);
  if (node) return nodeReader(node);
  if (!res.body) return null;
  const reader = res.body.getReader();
  return {
    read: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    cancel: () => void reader.cancel().catch(() => undefined),
  };
}

/**
 * Chunks as the socket delivers them: flowing mode, paused while one is
 * waiting. (A Node stream's async iterator instead joins what is buffered
 * into a new Buffer on each read: a copy of every byte.)
 */
function nodeReader(node: Readable): BodyReader {
  let waiting: Buffer | null = null;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  node.on('data', (chunk: Buffer) => {
    waiting = chunk;
    node.pause();
    poke();
  });
  node.once('end', () => {
    ended = true;
    poke();
  });
  node.once('error', (err) => {
    failure ??= err;
    poke();
  });
  node.once('close', () => {
    if (!ended) failure ??= new Error('the connection closed before the body ended');
    poke();
  });
  return {
    async read() {
      while (!waiting) {
        if (failure) throw failure;
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const chunk: Buffer = waiting;
      waiting = null;
      node.resume();
      return { done: false, value: chunk };
    },
    cancel: () => void node.destroy(),
  };
}
