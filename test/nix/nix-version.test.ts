import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseNixVersion } from '../../src/nix/nix.ts';
import { cliEnv, requireBuild, runCli } from '../support/index.ts';

test('nix --version output of Nix, Lix and Determinate Nix is understood', () => {
  assert.deepEqual(parseNixVersion('nix (Nix) 2.8.0\n'), { version: '2.8.0', major: 2, minor: 8, isLix: false });
  assert.deepEqual(parseNixVersion('nix (Nix) 2.24.10'), { version: '2.24.10', major: 2, minor: 24, isLix: false });
  assert.deepEqual(parseNixVersion('nix (Lix, like Nix) 2.91.1'), { version: '2.91.1', major: 2, minor: 91, isLix: true });
  assert.deepEqual(parseNixVersion('nix (Determinate Nix 3.6.2) 2.29.0'), { version: '2.29.0', major: 2, minor: 29, isLix: false });
  assert.equal(parseNixVersion('bash: nix: command not found'), null);
});

test('fetch without nix on PATH says how to install it (exit 1, one line, no stack), at once although the Hub does not answer', async () => {
  requireBuild();
  // A PATH with node and nothing else.
  const bin = mkdtempSync(join(tmpdir(), 'no-nix-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  // A Hub that takes connections and never answers: Nix is looked for before any request, so the
  // fetch never waits on it (a request first would wait for its timeout).
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => void sockets.add(socket));
  await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
  const { env, cleanup } = cliEnv({ PATH: bin, HF_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, NIX_HUG_HTTP_TIMEOUT_MS: '60000' });
  try {
    const started = performance.now();
    const r = await runCli(['fetch', 'org/repo'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /`nix` was not found on PATH/);
    assert.match(r.stderr, /install Nix/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(performance.now() - started < 30_000, 'no request waited for the silent Hub');
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
    cleanup();
    rmSync(bin, { recursive: true, force: true });
  }
});
