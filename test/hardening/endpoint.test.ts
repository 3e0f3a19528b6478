/**
 * Where the token goes. HF_ENDPOINT values that a URL parser quietly
 * rewrites (a newline or tab inside, an empty `?` or `#`, a backslash) are
 * refused before any request, and a capture server standing in for the host
 * they would have reached sees nothing. Accepted values are used in their
 * normalised form, in requests and in the printed expression. And the
 * header that gives git the token is scoped to the endpoint: a nixpkgs that
 * Nix fetches with git from another host during the same build gets no
 * Authorization.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import { attempt, hubSandbox, oneErrorLine, RUN, runCli, seeded, STUB_DIR } from '../support/index.ts';
import { nixString } from '../../src/nix/expr.ts';

const ORG = `ep-${RUN}`;
const MODEL = `${ORG}/model`;
const GATED = `${ORG}/gated`;
const PROBE = `other-${RUN}/nixpkgs-probe`;
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

const suite = hubSandbox({
  repos: [
    { id: MODEL, commits: [{ files: { 'config.json': '{}\n' } }] },
    { id: GATED, gated: 'manual', commits: [{ files: { 'config.json': '{}\n', 'w.safetensors': seeded('endpoint-gated', 20_000) } }] },
  ],
  tokens: { [TOKEN]: { grants: [GATED] } },
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
      const passed = attempt('endpoint', 'endpointTricks', tricks.length);
      for (const [value, what] of tricks) {
        const r = await runCli(['ls', MODEL], suite.box.env({ HF_ENDPOINT: value, HF_TOKEN: TOKEN }));
        assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
        assert.match(oneErrorLine(r.stderr), /HF_ENDPOINT/, what);
        assert.equal(r.stdout, '', what);
      }
      assert.deepEqual(capture.seen.map((c) => c.url), [], 'no request reached the capture server');
      passed();
    } finally {
      await capture.close();
    }
  });

  it('an accepted value is used in its normalised form: requests and the printed expression', async () => {
    const [, port] = /:(\d+)$/.exec(suite.hub.url)!;
    const r = await runCli(['fetch', MODEL, '--no-build'], suite.box.env({ HF_ENDPOINT: `HTTP://127.0.0.1:${port}//` }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`endpoint = "http://127\\.0\\.0\\.1:${port}";`));
  });
});

describe('the token given to git', () => {
  it('reaches the Hub only: a nixpkgs fetched with git from another host during the build gets no Authorization', async () => {
    // Another git host: a second emulator (its own port, so its own origin), serving a repo the
    // nixpkgs stand-in below fetches with builtins.fetchGit while the gated repo is built.
    const passed = attempt('endpoint', 'tokenScopes');
    const other = await startHub({ repos: [{ id: PROBE, commits: [{ files: { 'default.nix': '{ }\n' } }] }] });
    const dir = mkdtempSync(join(tmpdir(), 'nix-hug-nixpkgs-probe-'));
    try {
      const probeRev = other.repo(PROBE).refs.main!;
      writeFileSync(
        join(dir, 'default.nix'),
        [
          '# nixpkgs as a user may have it: fetched with git (here from another host), then the test stand-in.',
          'args:',
          `let probe = builtins.fetchGit { url = ${nixString(`${other.url}/${PROBE}.git`)}; rev = "${probeRev}"; ref = "main"; };`,
          `in builtins.seq probe.outPath (import ${nixString(STUB_DIR)} args)`,
          '',
        ].join('\n'),
      );
      const r = await runCli(['fetch', GATED, '--json'], suite.box.env({ HF_TOKEN: TOKEN, NIX_HUG_NIXPKGS: dir }));
      assert.equal(r.code, 0, r.stderr);
      const otherGit = other.requests.filter((q) => q.route === 'git');
      assert.ok(otherGit.length > 0, 'the build fetched the other host with git');
      assert.deepEqual(otherGit.filter((q) => q.authorized).map((q) => q.url), [], 'no Authorization to the other git host');
      const hubGit = suite.hub.requests.filter((q) => q.route === 'git' && q.url.includes(`/${GATED}.git/`));
      assert.ok(hubGit.length > 0 && hubGit.every((q) => q.authorized), "git sent the token to the Hub's repository");
      passed();
    } finally {
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
