/** NIX_HUG_DOWNLOADER: `auto` by the machine's cores, `stream` and `nix` on request, anything else a clear error. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NixHugError } from '../../src/errors.ts';
import { downloaderFromEnv, STREAM_MIN_CORES } from '../../src/settings/downloader.ts';

describe('NIX_HUG_DOWNLOADER', () => {
  it('unset, empty or auto: the CLI streams with enough cores, Nix downloads on fewer', () => {
    for (const value of [undefined, '', 'auto']) {
      const env = value === undefined ? {} : { NIX_HUG_DOWNLOADER: value };
      assert.equal(downloaderFromEnv(env, STREAM_MIN_CORES), 'stream');
      assert.equal(downloaderFromEnv(env, 16), 'stream');
      assert.equal(downloaderFromEnv(env, STREAM_MIN_CORES - 1), 'nix');
      assert.equal(downloaderFromEnv(env, 2), 'nix');
    }
  });

  it('stream and nix as given, whatever the cores', () => {
    assert.equal(downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'stream' }, 1), 'stream');
    assert.equal(downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'nix' }, 64), 'nix');
  });

  it('another value: an error that names it and the choices', () => {
    assert.throws(
      () => downloaderFromEnv({ NIX_HUG_DOWNLOADER: 'curl' }),
      (e: unknown) => e instanceof NixHugError && /NIX_HUG_DOWNLOADER="curl"/.test(e.message) && /`auto`, `stream`, `nix`/.test(e.hint ?? ''),
    );
  });
});
