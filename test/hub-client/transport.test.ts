/**
 * The Hub client's transport (transport.ts) against a real HTTP server on
 * 127.0.0.1: it answers as `fetch` would for what the Hub client asks
 * (status, headers, redirects returned, HEAD, refused connections, encoded
 * bodies decoded), and reads a body as the socket delivers it, failing when
 * the connection breaks off, the signal aborts or the reader cancels; over
 * TLS too, with a certificate made by openssl for the test.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { fetchTransport, nodeTransport, type BodyReader, type HttpAnswer, type HttpRequest } from '../../src/hub/transport.ts';
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
function get(path: string, request: Partial<HttpRequest> = {}): Promise<HttpAnswer> {
  const url = path.includes('://') ? path : `${base}${path}`;
  return nodeTransport(url, { method: 'GET', headers: {}, signal: new AbortController().signal, ...request });
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

describe('nodeTransport, the Hub client\'s requests', () => {
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
    const res = await get('/moved');
    assert.equal(res.status, 302);
    assert.equal(res.ok, false);
    assert.equal(res.headers.get('location'), '/big');
    assert.equal((await readBody(res)).toString(), 'moved to /big');
    (await get('/moved')).body?.cancel();
    assert.equal(seen.filter((s) => s.path === '/big').length, 1, 'the redirect was not followed');
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

describe('nodeTransport over TLS (the real Hub and its CDN are HTTPS)', () => {
  it('fetches from an https server whose certificate the process trusts, and refuses one it does not', async () => {
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
        `import { createHash } from 'node:crypto';`,
        `const get = (path) => nodeTransport(${JSON.stringify(url)} + path, { method: 'GET', headers: {}, signal: new AbortController().signal });`,
        `const big = await get('/big'); const hash = createHash('sha256');`,
        `for (let n = await big.body.read(); !n.done; n = await big.body.read()) hash.update(n.value);`,
        `const gz = await get('/gzip'); let text = ''; for (let n = await gz.body.read(); !n.done; n = await gz.body.read()) text += Buffer.from(n.value);`,
        `console.log(JSON.stringify({ status: big.status, sha256: hash.digest('hex'), json: text.length }));`,
      ].join('\n');
      const child = (env: NodeJS.ProcessEnv) => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], env, { cwd: REPO_ROOT });
      const trusted = await child({ ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.deepEqual(JSON.parse(trusted.stdout), { status: 200, sha256: createHash('sha256').update(BIG).digest('hex'), json: JSON_BODY.length });
      const untrusted = await child({ ...process.env, NODE_EXTRA_CA_CERTS: '' });
      assert.notEqual(untrusted.code, 0);
      assert.match(untrusted.stderr, /self-signed certificate|SELF_SIGNED|unable to verify/i);
    } finally {
      tls.closeAllConnections();
      await new Promise<void>((resolve) => tls.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
