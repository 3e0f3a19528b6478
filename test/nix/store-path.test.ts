import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { blobStorePath, blobName } from '../../src/nix/store-path.ts';
import { nixTestEnv } from '../support/index.ts';

test('predicted blob store paths equal what nix-store computes', () => {
  const { env, cleanup } = nixTestEnv();
  try {
    for (const seed of ['a', 'b', 'weights', '']) {
      const sha = createHash('sha256').update(seed).digest('hex');
      const r = spawnSync('nix-store', ['--print-fixed-path', 'sha256', sha, blobName(sha)], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(blobStorePath(sha), r.stdout.trim());
    }
  } finally {
    cleanup();
  }
});
