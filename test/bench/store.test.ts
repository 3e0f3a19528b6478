/**
 * The benchmark's store clean-up on a fresh machine: before Nix has created
 * /nix/store there is nothing to list, which must mean "nothing to delete",
 * not a crash (ENOENT).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { selectPaths, storeEntries } from '../../bench/store.ts';

test('a store folder that does not exist yet holds nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-no-store-'));
  try {
    assert.deepEqual(storeEntries(join(dir, 'nix', 'store')), []);
    assert.deepEqual(selectPaths({ prefixes: ['hf-model-a--b-0123456'], blobs: ['a'.repeat(64)] }, storeEntries(join(dir, 'nix', 'store'))), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only the selected names are picked', () => {
  const sha = 'b'.repeat(64);
  const names = [
    `${'1'.repeat(32)}-hf-model-a--b-0123456`,
    `${'2'.repeat(32)}-hf-model-a--b-0123456.drv`,
    `${'3'.repeat(32)}-hf-blob-${sha}`,
    `${'4'.repeat(32)}-hf-model-a--bc-0123456`,
    `${'5'.repeat(32)}-something-else`,
  ];
  assert.deepEqual(selectPaths({ prefixes: ['hf-model-a--b-0123456'], blobs: [sha] }, names), names.slice(0, 3).map((n) => `/nix/store/${n}`));
});
