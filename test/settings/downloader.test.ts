/** NIX_HUG_DOWNLOADER: `stream` by default, `nix` on request, anything else a clear error. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NixHugError } from '../../src/errors.ts';
import { downloaderFromEnv } from '../../src/settings/downloader.ts';

describe('NIX_HUG_DOWNLOADER', () => {
  it('unset or empty: the CLI streams; stream and nix as given', () => {
    assert.equal(downloaderFromEnv({}), 'stream');
    assert.equal(downloaderFromEnv({ NIX_HUG_DOWNLOADER: '' }), 'stream');
    assert.equal(downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'stream' }), 'stream');
    assert.equal(downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'nix' }), 'nix');
  });

  it('another value: an error that names it and the two choices', () => {
    assert.throws(
      () => downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'curl' }),
      (e: unknown) => e instanceof NixHugError && /NIX_HUG_DOWNLOADER="curl"/.test(e.message) && /`stream`.*`nix`/.test(e.hint ?? ''),
    );
  });
});
