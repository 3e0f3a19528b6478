/**
 * The environment every test gives to `nix`: no substituters (there is no
 * network), flakes on, a fresh fetcher cache (Nix's git cache ignores the URL
 * once a rev is known: a stale cache would hide a wrong endpoint), and no LFS
 * smudging inside fetchGit (see NIX-NOTES.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NixTestEnv {
  env: NodeJS.ProcessEnv;
  /** Removes the temporary cache directory. */
  cleanup(): void;
}

export function nixTestEnv(extra: NodeJS.ProcessEnv = {}): NixTestEnv {
  const cacheHome = mkdtempSync(join(tmpdir(), 'nix-hug-test-cache-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes\nwarn-dirty = false',
    XDG_CACHE_HOME: cacheHome,
    GIT_LFS_SKIP_SMUDGE: '1',
    ...extra,
  };
  return { env, cleanup: () => rmSync(cacheHome, { recursive: true, force: true }) };
}
