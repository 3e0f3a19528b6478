/**
 * Who downloads the LFS files of public repos (NIX_HUG_DOWNLOADER): `stream`,
 * the CLI, streaming each file into the Nix store as it arrives; or `nix`,
 * Nix's own fixed-output downloads (the route every Nix without a usable
 * `nix-daemon` takes anyway). Both give the same store paths, every byte
 * verified by Nix; bench/README.md compares them.
 */
import { NixHugError } from '../errors.js';

export type Downloader = 'stream' | 'nix';

export const DEFAULT_DOWNLOADER: Downloader = 'stream';

export function downloaderFromEnv(env: NodeJS.ProcessEnv): Downloader {
  const value = env.NIX_HUG_DOWNLOADER;
  if (value === undefined || value === '') return DEFAULT_DOWNLOADER;
  if (value === 'stream' || value === 'nix') return value;
  throw new NixHugError(`NIX_HUG_DOWNLOADER=${JSON.stringify(value)} is not a downloader`, 'set it to `stream` (the CLI streams into the Nix store) or `nix` (Nix downloads), or unset it');
}
