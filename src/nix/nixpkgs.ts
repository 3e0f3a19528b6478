/**
 * Before anything is downloaded: can the build find the nixpkgs whose
 * `runCommand` assembles the snapshot? Debian's and the installer's Nix have
 * no channel, and without network the flake registry cannot be read either;
 * found out only at the build, that would cost every LFS download first.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { NixHugError } from '../errors.js';
import { NIXPKGS_HINT, nixpkgsSourceExpression } from './library.js';
import { downloadLimits, type HttpSettings } from '../settings/http.js';
import { capture, COMMON_FLAGS, downloadOptions, nixEnv } from './nix.js';
import type { Settings } from '../settings/index.js';

/** Nix's own reason, without colours and the evaluation trace: its last `error:` line. */
function nixReason(stderr: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim());
  const errors = lines.filter((l) => l.startsWith('error:'));
  return (errors.at(-1) ?? lines.filter((l) => l !== '').at(-1) ?? '').replace(/^error:\s*/, '');
}

/**
 * Resolves when nixpkgs can be found; a NixHugError saying what is missing
 * and how to give it otherwise. `nixpkgs`: NIX_HUG_NIXPKGS as given, or null.
 */
export async function checkNixpkgs(nixpkgs: string | null, env: NodeJS.ProcessEnv, http: HttpSettings, signal?: AbortSignal): Promise<void> {
  const fromEnv = nixpkgs;
  if (fromEnv !== null) {
    if (!existsSync(resolve(fromEnv))) {
      throw new NixHugError(`NIX_HUG_NIXPKGS=${fromEnv} does not exist: nix-hug assembles snapshots with nixpkgs' runCommand`, 'point NIX_HUG_NIXPKGS at a nixpkgs checkout, or unset it to use <nixpkgs> or the flake registry');
    }
    return;
  }
  // Reading the registry (and the nixpkgs it names) is a download: bounded like the Hub client's.
  const args = [...COMMON_FLAGS, ...downloadOptions(downloadLimits(http)), 'eval', '--impure', '--raw', '--expr', nixpkgsSourceExpression(null)!];
  const r = await capture('nix', args, nixEnv(env), undefined, signal);
  if (r.code === 0 && r.stdout.trim() !== '') return;
  if (signal?.aborted) return;
  const reason = nixReason(r.stderr);
  throw new NixHugError(
    `nixpkgs was not found (nix-hug assembles the snapshot with its runCommand): <nixpkgs> is not on NIX_PATH, and the flake registry has no nixpkgs${reason ? ` (${reason})` : ''}`,
    NIXPKGS_HINT,
  );
}

type NixpkgsSettings = Pick<Settings, 'env' | 'http' | 'nixpkgs'>;

/** `checkNixpkgs` with the command's settings. */
export function checkNixpkgsOf(settings: NixpkgsSettings, signal?: AbortSignal): Promise<void> {
  return checkNixpkgs(settings.nixpkgs, settings.env, settings.http(), signal);
}

/** What the nixpkgs check is doing when it makes the user wait (reading a flake registry offline takes seconds). */
export const NIXPKGS_WAIT = 'waiting for Nix to find nixpkgs (<nixpkgs> on NIX_PATH, else the nixpkgs of the flake registry)';

/**
 * `checkNixpkgs` started now, to run while the Hub is asked; hand it to the
 * build. Its failure waits for that (never an unhandled rejection).
 */
export function startNixpkgsCheck(settings: NixpkgsSettings, signal?: AbortSignal): Promise<void> {
  const check = checkNixpkgsOf(settings, signal);
  check.catch(() => {});
  return check;
}
