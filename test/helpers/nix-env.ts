/**
 * The environment every test gives to `nix`: no substituters (there is no
 * network), flakes on, a fresh fetcher cache (Nix's git cache ignores the URL
 * once a rev is known: a stale cache would hide a wrong endpoint), no LFS
 * smudging inside fetchGit (docs/nix-versions.md), and the Nix version and
 * sandbox mode the test run asked for (see `testNix` below).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyTestNix, testNix } from './nix-matrix.ts';

// Importing this module is what puts the requested Nix first on PATH when a test file runs on its own.
applyTestNix(process.env);

export interface NixTestEnv {
  env: NodeJS.ProcessEnv;
  /** Removes the temporary cache directory. */
  cleanup(): void;
}

/** The NIX_CONFIG text of every test's nix: offline, flakes on, and the sandbox mode the run selected. */
export function testNixConfig(): string {
  return ['substituters =', 'experimental-features = nix-command flakes', 'warn-dirty = false', ...testNix().sandboxConfig].join('\n');
}

export function nixTestEnv(extra: NodeJS.ProcessEnv = {}): NixTestEnv {
  const cacheHome = mkdtempSync(join(tmpdir(), 'nix-hug-test-cache-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NIX_CONFIG: testNixConfig(),
    XDG_CACHE_HOME: cacheHome,
    GIT_LFS_SKIP_SMUDGE: '1',
    ...extra,
  };
  return { env, cleanup: () => rmSync(cacheHome, { recursive: true, force: true }) };
}
