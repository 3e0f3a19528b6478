/**
 * What a rebuild would build, read from `nix-store --realise --dry-run` as
 * Nix 2.8 and 2.26 print it (texts captured from both): the import of a
 * snapshot for a user the daemon does not trust builds nothing but the
 * snapshot itself. (The rebuild end to end: test/daemon/daemon.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePlannedBuilds } from '../../src/persist/store.ts';

const A = '/nix/store/h3zzbf20kzihjj7212brzg8cyd5w5cha-dry-a.drv';
const B = '/nix/store/zm92r4h5p0vcww6rfww6yvj5a2cfysi6-dry-b.drv';
const BLOB = '/nix/store/vazvsj66lnybwfbhzsi8jwg27dn7rk41-hf-blob-a6';

test('the derivations listed to be built, in both versions\' words', () => {
  assert.deepEqual(parsePlannedBuilds(`these 2 derivations will be built:\n  ${A}\n  ${B}\n`), [A, B]);
  assert.deepEqual(parsePlannedBuilds(`this derivation will be built:\n  ${B}\n`), [B]);
  assert.deepEqual(parsePlannedBuilds(`these derivations will be built:\n  ${A}\n`), [A]);
});

test('paths to fetch are not builds; nothing to do is nothing', () => {
  const text = `these 1 paths will be fetched (0.01 MiB download, 0.02 MiB unpacked):\n  ${BLOB}\nthis derivation will be built:\n  ${B}\n`;
  assert.deepEqual(parsePlannedBuilds(text), [B]);
  assert.deepEqual(parsePlannedBuilds(''), []);
});
