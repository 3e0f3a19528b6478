/**
 * How the Hub client's requests reach the network: GET or HEAD with
 * headers and an abort signal, redirects returned (the client follows them
 * itself), bodies decoded as their Content-Encoding says, and each answer's
 * body read chunk by chunk as the socket delivers it. `nodeTransport` does
 * this with Node's http and https modules; `fetchTransport` adapts a
 * `fetch` (tests answer with `Response`s).
 *
 * Why not Node's `fetch` (undici): it passes every chunk of a model file
 * through several layers of web streams (reading 1 GiB over four
 * connections here cost ~1.6 CPU-seconds that way, ~1.1 from the Node
 * stream: on two cores, time that Nix's hashing of the same bytes no longer
 * gets); its first use costs ~40 MB of memory (~10 MB of it only for its
 * `Response` and `Headers`) and tens of milliseconds; and it refuses to
 * connect to ports of other protocols (6000, 10080, …) that a mirror may
 * well use. bench/README.md has the measurements.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

export interface HttpRequest {
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  signal: AbortSignal;
}

/** Reads a body chunk by chunk; `cancel` ends it (and its connection), and a read under way then fails. */
export interface BodyReader {
  read(): Promise<IteratorResult<Uint8Array, undefined>>;
  cancel(): void;
  /**
   * Gives a chunk back once its bytes are no longer needed (written out):
   * a reader that has this reads into that memory again (http1.ts). A
   * chunk not given back stays the caller's.
   */
  release?(chunk: Uint8Array): void;
}

export interface HttpAnswer {
  readonly status: number;
  /** 200–299. */
  readonly ok: boolean;
  /** A header's value (repeated ones joined by ", "), or null. */
  readonly headers: { get(name: string): string | null };
  /** Null for HEAD, 204 and 304. Read it once; an answer not read to its end must be cancelled. */
  readonly body: BodyReader | null;
}

export type Transport = (url: string, request: HttpRequest) => Promise<HttpAnswer>;

/** The `fetch` of tests: answers are `Response`s. */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** Statuses whose answers have no body. */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

/** The decoders of the Content-Encodings `fetch` decodes (one encoding; stacked ones are not sent in practice). */
const DECODERS: Record<string, () => Readable & NodeJS.WritableStream> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** A decoder of a body in `encoding` (a Content-Encoding), or null when it is read as it is (none, identity, unknown). */
export function decoderFor(encoding: string | null | undefined): (Readable & NodeJS.WritableStream) | null {
  const make = DECODERS[(encoding ?? '').trim().toLowerCase()];
  return make ? make() : null;
}

/** The body as its Content-Encoding says to read it (as `fetch` does); an unknown encoding is left as it is. */
function decoded(res: IncomingMessage): Readable {
  const decoder = decoderFor(res.headers['content-encoding']);
  if (!decoder) return res;
  // A failure or destruction of either end ends both (a cancelled body closes its connection).
  return pipeline(res, decoder, () => undefined);
}

/**
 * Chunks as the socket delivers them: flowing mode, paused while one
 * waits to be read. (A Node stream's async iterator instead joins what is
 * buffered into a new Buffer on each read: a copy of every byte.)
 */
export function nodeReader(node: Readable): BodyReader {
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

function nodeHeaders(res: IncomingMessage): HttpAnswer['headers'] {
  return {
    get(name) {
      const value = res.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * Requests with Node's http and https modules. It fails as `fetch` does: a
 * rejected promise for a request that got no answer (the error carries
 * Node's `code`, e.g. ECONNREFUSED; ERR_INVALID_PROTOCOL for a URL that is
 * not http or https), and a body whose read fails when the connection
 * breaks off or the signal aborts.
 */
export const nodeTransport: Transport = (input, { method, headers, signal }) => {
  const url = new URL(input);
  const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : null;
  if (!send) return Promise.reject(Object.assign(new TypeError(`${input}: only http and https URLs are supported`), { code: 'ERR_INVALID_PROTOCOL' }));
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers: headers as OutgoingHttpHeaders, signal });
    req.once('error', reject);
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      const hasBody = method !== 'HEAD' && !NO_BODY.has(status);
      if (!hasBody) res.resume();
      resolve({ status, ok: status >= 200 && status < 300, headers: nodeHeaders(res), body: hasBody ? nodeReader(decoded(res)) : null });
    });
    req.end();
  });
};

/** A reader of a web stream (a `Response`'s body). */
function webReader(body: ReadableStream<Uint8Array>): BodyReader {
  const reader = body.getReader();
  return {
    read: async () => {
      const next = await reader.read();
      return next.done ? { done: true, value: undefined } : { done: false, value: next.value };
    },
    cancel: () => void reader.cancel().catch(() => undefined),
  };
}

/** A transport over `fetch` (tests answer with `Response`s). */
export function fetchTransport(fetchFn: FetchFn): Transport {
  return async (url, { method, headers, signal }) => {
    const res = await fetchFn(url, { method, headers, signal, redirect: 'manual' });
    return { status: res.status, ok: res.ok, headers: res.headers, body: res.body ? webReader(res.body) : null };
  };
}
