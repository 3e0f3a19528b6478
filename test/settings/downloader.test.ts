/** NIX_HUG_DOWNLOADER: `auto` by the machine's cores and whether its Nix copies its downloads, `stream` and `nix` on request, anything else a clear error. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NixHugError } from '../../src/errors.ts';
import { downloaderFromEnv, STREAM_MIN_CORES } from '../../src/settings/downloader.ts';

describe('NIX_HUG_DOWNLOADER', () => {
  it('unset, empty or auto: the CLI streams with enough cores, or when Nix copies its downloads; Nix downloads otherwise', () => {
    for (const value of [undefined, '', 'auto']) {
      const env = value === undefined ? {} : { NIX_HUG_DOWNLOADER: value };
      for (const nixCopiesDownloads of [false, true]) {
        assert.equal(downloaderFromEnv(env, { cores: STREAM_MIN_CORES, nixCopiesDownloads }), 'stream');
        assert.equal(downloaderFromEnv(env, { cores: 16, nixCopiesDownloads }), 'stream');
      }
      assert.equal(downloaderFromEnv(env, { cores: STREAM_MIN_CORES - 1, nixCopiesDownloads: false }), 'nix');
      assert.equal(downloaderFromEnv(env, { cores: 2, nixCopiesDownloads: false }), 'nix');
      assert.equal(downloaderFromEnv(env, { cores: 2, nixCopiesDownloads: true }), 'stream');
      assert.equal(downloaderFromEnv(env, { cores: 1, nixCopiesDownloads: true }), 'stream');
    }
  });

  it('stream and nix as given, whatever the machine', () => {
    assert.equal(downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'stream' }, { cores: 1, nixCopiesDownloads: false }), 'stream');
    assert.equal(downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'nix' }, { cores: 64, nixCopiesDownloads: true }), 'nix');
  });

  it('another value: an error that names it and the choices', () => {
    assert.throws(
      () => downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'curl' }, { nixCopiesDownloads: true }),
      (e: unknown) => e instanceof NixHugError && /NIX_HUG_DOWNLOADER="curl"/.test(e.message) && /`auto`, `stream`, `nix`/.test(e.hint ?? ''),
    );
  });
});
