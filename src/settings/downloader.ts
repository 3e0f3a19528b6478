/**
 * Who downloads the LFS files of public repos (NIX_HUG_DOWNLOADER): `stream`,
 * the CLI, streaming each file into the Nix store as it arrives; `nix`, Nix's
 * own fixed-output downloads (also what happens without a usable
 * `nix-daemon`); `auto` (the default) streams on machines with
 * STREAM_MIN_CORES cores or more. Both give the same store paths, every byte
 * hashed by Nix.
 *
 * Why by cores: streaming moves every byte through the CLI to overlap
 * Nix's content hash with the download. Where the network is the limit that
 * wins; on 2 cores fed at local-network speed everything is CPU-bound, and
 * the CLI's receiving costs more than it saves on Nix 2.8 (0.5–0.8
 * CPU-seconds per GiB more than Nix's downloads, and a slower fetch); on
 * 2.26, which copies every downloaded file once more, the two trade places
 * from run to run, and streaming would cost the memory target (its peak RSS
 * is over 120 MB). bench/README.md has the measurements.
 */
import { availableParallelism } from 'node:os';
import { NixHugError } from '../errors.js';

export type Downloader = 'stream' | 'nix';

const CHOICES = ['auto', 'stream', 'nix'] as const;

/** Cores from which `auto` streams: the CLI's copying then has a core of its own beside Nix's hashing. */
export const STREAM_MIN_CORES = 4;

/** What `auto` picks on a machine with `cores` cores. */
export function autoDownloader(cores: number): Downloader {
  return cores >= STREAM_MIN_CORES ? 'stream' : 'nix';
}

/** The downloader NIX_HUG_DOWNLOADER asks for (`auto`, unset or empty: by this machine's cores). */
export function downloaderFromEnv(env: NodeJS.ProcessEnv, cores: number = availableParallelism()): Downloader {
  const value = env.NIX_HUG_DOWNLOADER;
  if (value === undefined || value === '' || value === 'auto') return autoDownloader(cores);
  if (value === 'stream' || value === 'nix') return value;
  throw new NixHugError(
    `NIX_HUG_DOWNLOADER=${JSON.stringify(value)} is not a downloader`,
    `set it to one of ${CHOICES.map((c) => `\`${c}\``).join(', ')} (\`stream\`: the CLI streams into the Nix store; \`nix\`: Nix downloads), or unset it`,
  );
}
