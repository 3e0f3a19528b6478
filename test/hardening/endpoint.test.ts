/**
 * Where the token goes. HF_ENDPOINT values that a URL parser quietly
 * rewrites (a newline or tab inside, an empty `?` or `#`, a backslash) are
 * refused before any request, and a capture server standing in for the host
 * they would have reached sees nothing. Accepted values are used in their
 * normalised form, in requests and in the printed expression.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../hub/server.ts';
import type { RunningHub } from '../hub/types.ts';
import { requireBuild, runCli } from '../cli/helpers.ts';
import { oneErrorLine, record, RUN, sandbox, type Sandbox } from './helpers.ts';

const ORG = `ep-${RUN}`;
const MODEL = `${ORG}/model`;
const TOKEN = `hf_endpointTest${RUN}`;

interface Captured {
  url: string;
  headers: IncomingHttpHeaders;
}

/** An HTTP server that records every request and answers 404: another host the token must never reach. */
async function captureServer(): Promise<{ port: number; seen: Captured[]; close(): Promise<void> }> {
  const seen: Captured[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"capture"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let hub: RunningHub;
let box: Sandbox;

before(async () => {
  requireBuild();
  hub = await startHub({ repos: [{ id: MODEL, commits: [{ files: { 'config.json': '{}\n' } }] }] });
  box = sandbox(() => hub.url);
});
after(async () => {
  await hub?.close();
  box?.cleanup();
});

describe('HF_ENDPOINT tricks', () => {
  it('values a URL parser would rewrite are refused before any request; the token reaches no host', async () => {
    const capture = await captureServer();
    try {
      const p = capture.port;
      // Each of these reaches 127.0.0.1:p (the capture server) if the raw value is used, or if the
      // parser's cleaned-up reading of it is trusted.
      const tricks: Array<[string, string]> = [
        [`http://127.0.0.1\n:${p}`, 'a newline inside'],
        [`http://127.0.0.1:${p}\n`, 'a trailing newline'],
        [`http://127.0.0.1\t:${p}`, 'a tab inside'],
        [`http://127.0.0.1:${p}?`, 'an empty query'],
        [`http://127.0.0.1:${p}#`, 'an empty fragment'],
        [`http://127.0.0.1:${p}/hf?`, 'an empty query after a path'],
        [`http:\\\\127.0.0.1:${p}`, 'backslashes'],
        [` http://127.0.0.1:${p}`, 'a leading space'],
        [`http://127.0.0.1:${p}/a b`, 'a space in the path'],
      ];
      for (const [value, what] of tricks) {
        const r = await runCli(['ls', MODEL], box.env({ HF_ENDPOINT: value, HF_TOKEN: TOKEN }));
        assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
        assert.match(oneErrorLine(r.stderr), /HF_ENDPOINT/, what);
        assert.equal(r.stdout, '', what);
      }
      assert.deepEqual(capture.seen.map((c) => c.url), [], 'no request reached the capture server');
      record('endpoint', { endpointTricks: tricks.length });
    } finally {
      await capture.close();
    }
  });

  it('an accepted value is used in its normalised form: requests and the printed expression', async () => {
    const [, port] = /:(\d+)$/.exec(hub.url)!;
    const r = await runCli(['fetch', MODEL, '--no-build'], box.env({ HF_ENDPOINT: `HTTP://127.0.0.1:${port}//` }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`endpoint = "http://127\\.0\\.0\\.1:${port}";`));
  });
});
