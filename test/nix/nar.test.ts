/**
 * The CLI's NAR hashing against Nix's own (`nix hash path`): every kind of
 * entry, names whose byte order differs from git's or from UTF-16's, names
 * that are not UTF-8, sizes around the 8-byte padding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { narHashOfPath } from '../../src/nix/nar.ts';
import { nixTestEnv, ok, run } from '../support/index.ts';

test('narHashOfPath is what `nix hash path` prints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-nar-'));
  const { env, cleanup } = nixTestEnv();
  try {
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'a', 'deep'), { recursive: true });
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'a.txt'), 'x'); // sorts before the folder "a" in git, after it in a NAR
    writeFileSync(join(root, 'a', 'deep', 'f'), '');
    for (const n of [1, 7, 8, 9, 4096, 100_003]) writeFileSync(join(root, `size-${n}`), Buffer.alloc(n, n % 251));
    writeFileSync(join(root, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(root, 'run.sh'), 0o755);
    symlinkSync('a.txt', join(root, 'link'));
    symlinkSync('../../a.txt', join(root, 'a', 'deep', 'up'));
    writeFileSync(join(root, 'ünï "quoted" $x'), 'u');
    writeFileSync(join(root, '🤗'), 'astral: after U+FFFF in UTF-16, not in UTF-8');
    writeFileSync(join(root, '\uff5e'), 'U+FF5E: its UTF-16 unit is above the 🤗 surrogate, its UTF-8 bytes below');
    writeFileSync(Buffer.concat([Buffer.from(`${root}/latin1-`), Buffer.from([0xe9])]), 'not UTF-8');
    const nix = ok(await run('nix', ['hash', 'path', root], env), 'nix hash path').stdout.trim();
    assert.equal(await narHashOfPath(root), nix);
    // A single file and a single link are archives too.
    assert.equal(await narHashOfPath(join(root, 'run.sh')), ok(await run('nix', ['hash', 'path', join(root, 'run.sh')], env), 'nix hash path').stdout.trim());
    assert.equal(await narHashOfPath(join(root, 'link')), ok(await run('nix', ['hash', 'path', join(root, 'link')], env), 'nix hash path').stdout.trim());
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
