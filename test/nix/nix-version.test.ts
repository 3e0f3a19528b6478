import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { copiesFixedOutputs, parseNixVersion } from '../../src/nix/nix.ts';
import { cliEnv, requireBuild, runCli } from '../support/index.ts';

test('nix --version output of Nix, Lix and Determinate Nix is understood', () => {
  assert.deepEqual(parseNixVersion('nix (Nix) 2.8.0\n'), { version: '2.8.0', major: 2, minor: 8, patch: 0, isLix: false });
  assert.deepEqual(parseNixVersion('nix (Nix) 2.24.10'), { version: '2.24.10', major: 2, minor: 24, patch: 10, isLix: false });
  assert.deepEqual(parseNixVersion('nix (Lix, like Nix) 2.91.1'), { version: '2.91.1', major: 2, minor: 91, patch: 1, isLix: true });
  assert.deepEqual(parseNixVersion('nix (Determinate Nix 3.6.2) 2.29.0'), { version: '2.29.0', major: 2, minor: 29, patch: 0, isLix: false });
  assert.deepEqual(parseNixVersion('nix (Nix) 2.26'), { version: '2.26', major: 2, minor: 26, patch: 0, isLix: false });
  assert.equal(parseNixVersion('bash: nix: command not found'), null);
});

test('which Nix copies a fixed-output download once more (the CVE-2024-27297 fix): 2.20.5 on, and the security releases of 2.3, 2.18, 2.19', () => {
  const copies = (text: string) => copiesFixedOutputs(parseNixVersion(text)!);
  for (const v of ['2.3.18', '2.18.2', '2.18.9', '2.19.4', '2.20.5', '2.21.0', '2.24.10', '2.26.3']) assert.equal(copies(`nix (Nix) ${v}`), true, v);
  for (const v of ['2.3.17', '2.8.0', '2.13.6', '2.18.1', '2.19.3', '2.20.4']) assert.equal(copies(`nix (Nix) ${v}`), false, v);
  assert.equal(copies('nix (Lix, like Nix) 2.91.1'), true);
  assert.equal(copies('nix (Determinate Nix 3.6.2) 2.29.0'), true);
});

test('fetch without nix on PATH says how to install it (exit 1, one line, no stack), at once although the Hub does not answer', async () => {
  requireBuild();
  // A PATH with node and nothing else.
  const bin = mkdtempSync(join(tmpdir(), 'no-nix-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  // A Hub that takes connections and never answers: Nix is looked for beside the first requests, and
  // its absence stops them, so the fetch never waits on that Hub (a request awaited first would wait
  // for its timeout).
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
