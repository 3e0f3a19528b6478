/**
 * Who downloads the LFS files of public repos (NIX_HUG_DOWNLOADER): `stream`,
 * the CLI, streaming each file into the Nix store as it arrives; `nix`, Nix's
 * own fixed-output downloads (also what happens without a usable
 * `nix-daemon`); `auto` (the default) streams, except on a machine of fewer
 * than STREAM_MIN_CORES cores whose Nix does not copy its downloads. Both
 * give the same store paths, every byte hashed by Nix.
 *
 * Why: streamed, Nix hashes the bytes while they arrive and writes them
 * once; its own download writes the file, then reads it back for the
 * content hash, the NAR hash and the reference scan, and Nix with the fix
 * for CVE-2024-27297 (2.20.5 and later, nix/nix.ts) also copies it once
 * more. The CLI's receiving costs CPU too: on 2 cores fed at local-network
 * speed, where everything is CPU-bound, streaming wins on a Nix that copies
 * (Nix 2.26: a cold fetch of 1 GiB ~20% faster, with ~30% less CPU) and
 * loses on one that does not (Nix 2.8: ~25% slower). With more cores, or
 * where the network is the limit, it wins on both. bench/README.md has the
 * measurements.
 */
import { availableParallelism } from 'node:os';
import { NixHugError } from '../errors.js';

export type Downloader = 'stream' | 'nix';

const CHOICES = ['auto', 'stream', 'nix'] as const;

/** Cores from which `auto` streams whatever the Nix: the CLI's receiving then has a core of its own beside Nix's hashing. */
export const STREAM_MIN_CORES = 4;

/** What `auto` weighs. */
export interface Machine {
  /** Whether the Nix that would download copies each download once more before registering it (nix/nix.ts: copiesFixedOutputs). */
  nixCopiesDownloads: boolean;
  /** This machine's cores (default: what Node says). */
  cores?: number;
}

/** What `auto` picks on `machine`. */
export function autoDownloader({ nixCopiesDownloads, cores = availableParallelism() }: Machine): Downloader {
  return cores >= STREAM_MIN_CORES || nixCopiesDownloads ? 'stream' : 'nix';
}

/** The downloader NIX_HUG_DOWNLOADER asks for (`auto`, unset or empty: by `machine`). */
export function downloaderFromEnv(env: NodeJS.ProcessEnv, machine: Machine): Downloader {
  const value = env.NIX_HUG_DOWNLOADER;
  if (value === undefined || value === '' || value === 'auto') return autoDownloader(machine);
  if (value === 'stream' || value === 'nix') return value;
  throw new NixHugError(
    `NIX_HUG_DOWNLOADER=${JSON.stringify(value)} is not a downloader`,
    `set it to one of ${CHOICES.map((c) => `\`${c}\``).join(', ')} (\`stream\`: the CLI streams into the Nix store; \`nix\`: Nix downloads), or unset it`,
  );
}
