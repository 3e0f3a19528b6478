/**
 * The Hub client's transports against a real HTTP server on 127.0.0.1:
 * transport.ts (every request) and http1.ts (large downloads) answer alike,
 * as `fetch` would for what the Hub client asks (status, headers,
 * redirects returned, HEAD, refused connections, encoded bodies decoded),
 * and read a body as the socket delivers it, failing when the connection
 * breaks off, the signal aborts or the reader cancels; over TLS too, with a
 * certificate made by openssl for the test. http1.ts alone: the framings a
 * server may choose, the request it sends, and the reuse of given-back
 * chunks (never of one still held).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { http1Transport } from '../../src/hub/http1.ts';
import { fetchTransport, nodeTransport, type BodyReader, type HttpAnswer, type HttpRequest, type Transport } from '../../src/hub/transport.ts';
import { readBody } from '../support/http.ts';
import { REPO_ROOT, run } from '../support/index.ts';

const BIG = Buffer.alloc(3 << 20, 7);
const JSON_BODY = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ path: `file-${i}.bin`, size: i })));
let server: Server;
let base: string;
/** Requests the server saw: method, path, and the headers the tests look at. */
const seen: { method: string; path: string; auth: string | undefined; range: string | undefined }[] = [];

function route(req: IncomingMessage, res: ServerResponse): void {
  seen.push({ method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization, range: req.headers.range });
  switch (req.url) {
    case '/big':
      res.writeHead(200, { 'content-length': BIG.length, 'x-part': ['one', 'two'] });
      return void res.end(BIG);
    case '/moved':
      res.writeHead(302, { location: '/big', 'content-type': 'text/plain' });
      return void res.end('moved to /big');
    case '/empty':
      res.writeHead(204);
      return void res.end();
    case '/broken':
      // Half of what it promises, then the connection drops.
      res.writeHead(200, { 'content-length': BIG.length });
      res.write(BIG.subarray(0, BIG.length / 2));
      return void setTimeout(() => res.socket?.destroy(), 50);
    case '/slow':
      // One chunk, then nothing: the client must stop it.
      res.writeHead(200, { 'content-length': BIG.length });
      return void res.write(BIG.subarray(0, 1024));
    case '/gzip':
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return void res.end(gzipSync(JSON_BODY));
    case '/br':
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
      return void res.end(brotliCompressSync(JSON_BODY));
    case '/error':
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end('{"error":"Internal Error"}');
    default:
      res.writeHead(404);
      res.end();
  }
}

before(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A request as the client makes it: GET unless said, these headers, this signal. */
function request(transport: Transport, path: string, options: Partial<HttpRequest> = {}): Promise<HttpAnswer> {
  const url = path.includes('://') ? path : `${base}${path}`;
  return transport(url, { method: 'GET', headers: {}, signal: new AbortController().signal, ...options });
}

async function readAll(reader: BodyReader): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Buffer[] = [];
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    parts.push(Buffer.from(next.value));
  }
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

for (const [name, transport] of [['nodeTransport, the Hub client\'s requests', nodeTransport], ['http1Transport, its large downloads', http1Transport]] as const) {
  describe(name, () => {
    const get = (path: string, options: Partial<HttpRequest> = {}) => request(transport, path, options);

    it('answers a GET: status, every header, the body read chunk by chunk as the socket delivers it', async () => {
      const res = await get('/big', { headers: { authorization: 'Bearer t', range: 'bytes=0-' } });
      assert.equal(res.status, 200);
      assert.equal(res.ok, true);
      assert.equal(res.headers.get('Content-Length'), String(BIG.length));
      assert.equal(res.headers.get('x-part'), 'one, two');
      assert.equal(res.headers.get('x-absent'), null);
      const { bytes, chunks } = await readAll(res.body!);
      assert.ok(bytes.equals(BIG));
      assert.ok(chunks > 1, 'the body arrives in the socket\'s chunks, not as one buffer');
      assert.deepEqual(seen.at(-1), { method: 'GET', path: '/big', auth: 'Bearer t', range: 'bytes=0-' });
    });

    it('returns a redirect instead of following it; its body can be read, or cancelled', async () => {
      const bigBefore = seen.filter((s) => s.path === '/big').length;
      const res = await get('/moved');
      assert.equal(res.status, 302);
      assert.equal(res.ok, false);
      assert.equal(res.headers.get('location'), '/big');
      assert.equal((await readBody(res)).toString(), 'moved to /big');
      (await get('/moved')).body?.cancel();
      assert.equal(seen.filter((s) => s.path === '/big').length, bigBefore, 'the redirect was not followed');
    });

    it('an error answer\'s body reads as sent (the client takes the Hub\'s message from it)', async () => {
      const res = await get('/error');
      assert.equal(res.status, 500);
      assert.equal((await readBody(res)).toString(), '{"error":"Internal Error"}');
    });

    it('HEAD and 204 answers have no body', async () => {
      const head = await get('/big', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, null);
      const empty = await get('/empty');
      assert.equal(empty.status, 204);
      assert.equal(empty.body, null);
    });

    it('a refused connection rejects with Node\'s code (the client fails at once on it)', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      await assert.rejects(get(`http://127.0.0.1:${port}/x`), (err: unknown) => (err as { code?: string }).code === 'ECONNREFUSED');
    });

    it('refuses URLs of other protocols, with a code the client does not retry', async () => {
      await assert.rejects(get('ftp://127.0.0.1/x'), (err: unknown) => {
        assert.match((err as Error).message, /only http and https URLs are supported/);
        assert.equal((err as { code?: string }).code, 'ERR_INVALID_PROTOCOL');
        return true;
      });
    });

    it('decodes a body as its Content-Encoding says (gzip, br), as fetch does', async () => {
      for (const path of ['/gzip', '/br']) assert.equal((await readBody(await get(path))).toString(), JSON_BODY, path);
    });

    it('a body that breaks off fails the read, after the bytes that did arrive', async () => {
      const reader = (await get('/broken')).body!;
      let got = 0;
      await assert.rejects(async () => {
        for (;;) {
          const next = await reader.read();
          if (next.done) return;
          got += next.value.byteLength;
        }
      });
      assert.equal(got, BIG.length / 2);
    });

    it('cancel stops a read that waits for bytes; the signal stops the body too', async () => {
      const reader = (await get('/slow')).body!;
      assert.equal((await reader.read()).done, false);
      const pending = reader.read();
      reader.cancel();
      await assert.rejects(pending);

      const controller = new AbortController();
      const aborted = (await get('/slow', { signal: controller.signal })).body!;
      assert.equal((await aborted.read()).done, false);
      const waiting = aborted.read();
      controller.abort();
      await assert.rejects(waiting);
    });
  });
}

describe('fetchTransport, for tests that answer with Responses', () => {
  it('reads a fetch Response the same way, its redirects returned', async () => {
    const transport = fetchTransport((url, init) => fetch(url, init));
    const signal = new AbortController().signal;
    const res = await transport(`${base}/big`, { method: 'GET', headers: {}, signal });
    assert.equal(res.headers.get('content-length'), String(BIG.length));
    assert.ok((await readAll(res.body!)).bytes.equals(BIG));
    const moved = await transport(`${base}/moved`, { method: 'GET', headers: {}, signal });
    assert.equal(moved.status, 302);
    moved.body?.cancel();
  });
});

describe('both transports over TLS (the real Hub and its CDN are HTTPS)', () => {
  it('fetch from an https server whose certificate the process trusts, and refuse one it does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nix-hug-tls-'));
    const tls = createTlsServer();
    try {
      // A certificate for 127.0.0.1, trusted only by the child process below (NODE_EXTRA_CA_CERTS is read at start).
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      tls.setSecureContext({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
      tls.on('request', route);
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
      const script = [
        `import { nodeTransport } from ${JSON.stringify(join(REPO_ROOT, 'src/hub/transport.ts'))};`,
        `import { http1Transport } from ${JSON.stringify(join(REPO_ROOT, 'src/hub/http1.ts'))};`,
        `import { createHash } from 'node:crypto';`,
        `const results = [];`,
        `const transports = { nodeTransport, http1Transport };`,
        `for (const name of process.env.TRANSPORTS.split(',')) {`,
        `  const transport = transports[name];`,
        `  const get = (path) => transport(${JSON.stringify(url)} + path, { method: 'GET', headers: {}, signal: new AbortController().signal });`,
        `  const big = await get('/big'); const hash = createHash('sha256');`,
        `  for (let n = await big.body.read(); !n.done; n = await big.body.read()) { hash.update(n.value); big.body.release?.(n.value); }`,
        `  const gz = await get('/gzip'); let text = ''; for (let n = await gz.body.read(); !n.done; n = await gz.body.read()) text += Buffer.from(n.value);`,
        `  results.push({ status: big.status, sha256: hash.digest('hex'), json: text.length });`,
        `}`,
        `console.log(JSON.stringify(results));`,
      ].join('\n');
      const child = (env: NodeJS.ProcessEnv) => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], env, { cwd: REPO_ROOT });
      const trusted = await child({ ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'), TRANSPORTS: 'nodeTransport,http1Transport' });
      assert.equal(trusted.code, 0, trusted.stderr);
      const expected = { status: 200, sha256: createHash('sha256').update(BIG).digest('hex'), json: JSON_BODY.length };
      assert.deepEqual(JSON.parse(trusted.stdout), [expected, expected]);
      for (const name of ['nodeTransport', 'http1Transport']) {
        const untrusted = await child({ ...process.env, NODE_EXTRA_CA_CERTS: '', TRANSPORTS: name });
        assert.notEqual(untrusted.code, 0, name);
        assert.match(untrusted.stderr, /self-signed certificate|SELF_SIGNED|unable to verify/i, name);
      }
    } finally {
      tls.closeAllConnections();
      await new Promise<void>((resolve) => tls.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('http1Transport: what only it does', () => {
  /** A server that answers every connection with `answer`'s bytes, written in pieces of `piece` bytes, then closes. */
  async function rawServer(answer: Buffer, piece = answer.length): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
    const requests: string[] = [];
    const raw = createNetServer((socket) => {
      let head = '';
      socket.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        requests.push(head);
        void (async () => {
          for (let at = 0; at < answer.length; at += piece) {
            socket.write(answer.subarray(at, at + piece));
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
          socket.end();
        })();
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/file`;
    return { url, requests, close: () => new Promise<void>((resolve) => raw.close(() => resolve())) };
  }

  const send = (url: string, headers: Record<string, string> = {}) => http1Transport(url, { method: 'GET', headers, signal: new AbortController().signal });
  const PAYLOAD = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));

  it('reads a body framed by chunks (extensions and trailers too), by the end of the connection, or after interim answers, however the bytes are split', async () => {
    const chunked = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
      ...[PAYLOAD.subarray(0, 7000), PAYLOAD.subarray(7000, 7001), PAYLOAD.subarray(7001)].map((part, i) =>
        Buffer.concat([Buffer.from(`${part.length.toString(16)}${i === 1 ? ';name=value' : ''}\r\n`), part, Buffer.from('\r\n')]),
      ),
      Buffer.from('0\r\nx-checksum: none\r\n\r\n'),
    ]);
    const closeDelimited = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n'), PAYLOAD]);
    const interim = Buffer.concat([Buffer.from('HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'), PAYLOAD.subarray(0, 10)]);
    for (const [answer, expected] of [[chunked, PAYLOAD], [closeDelimited, PAYLOAD], [interim, PAYLOAD.subarray(0, 10)]] as const) {
      // Whole, and one byte at a time (heads and chunk lines split across reads).
      for (const piece of [answer.length, 1]) {
        if (piece === 1 && answer.length > 20_000) continue;
        const server = await rawServer(answer, piece === 1 ? 1 : answer.length);
        try {
          const res = await send(server.url);
          assert.equal(res.status, 200);
          assert.ok((await readAll(res.body!)).bytes.equals(expected), `${answer.subarray(0, 40).toString()} in pieces of ${piece}`);
        } finally {
          await server.close();
        }
      }
    }
  });

  it('sends one request on a connection it closes after: the given headers, no compression asked, no line breaks let into the head', async () => {
    const server = await rawServer(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'));
    try {
      const res = await send(`${server.url}?a=1%20b`, { authorization: 'Bearer t', range: 'bytes=5-' });
      assert.equal(res.body, null);
      const [head = ''] = server.requests;
      assert.match(head, /^GET \/file\?a=1%20b HTTP\/1\.1\r\n/);
      for (const line of [`host: ${new URL(server.url).host}`, 'authorization: Bearer t', 'range: bytes=5-', 'accept-encoding: identity', 'connection: close']) assert.ok(head.includes(`\r\n${line}\r\n`), line);
      await assert.rejects(send(server.url, { range: 'bytes=0-\r\nx-evil: 1' }), (err: unknown) => (err as { code?: string }).code === 'ERR_INVALID_CHAR');
      assert.equal(server.requests.length, 1, 'the bad request was never sent');
    } finally {
      await server.close();
    }
  });

  it('a server that does not speak HTTP/1.x fails the request', async () => {
    const server = await rawServer(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'));
    try {
      await assert.rejects(send(server.url), /did not answer in HTTP\/1\.1/);
    } finally {
      await server.close();
    }
  });

  it('reads again into the memory of chunks given back, and never into a chunk still held', async () => {
    const res = await request(http1Transport, '/big');
    const reader = res.body!;
    const first = await reader.read();
    assert.equal(first.done, false);
    const held = first.value!;
    const heldCopy = Buffer.from(held);
    const hash = createHash('sha256').update(held);
    const memories = new Set<ArrayBufferLike>();
    let chunks = 1;
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      hash.update(next.value);
      memories.add(next.value.buffer);
      chunks++;
      reader.release!(next.value);
    }
    assert.equal(hash.digest('hex'), createHash('sha256').update(BIG).digest('hex'));
    assert.ok(Buffer.from(held).equals(heldCopy), 'the chunk held was not read into');
    assert.ok(!memories.has(held.buffer), 'the memory of the chunk held was not lent again');
    assert.ok(memories.size < chunks - 1, `${chunks} chunks came in ${memories.size} buffers: given-back memory was read into again`);
  });
});
