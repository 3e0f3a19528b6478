/**
 * The environment every test gives to `nix`: no substituters (there is no
 * network), flakes on, a fresh fetcher cache (Nix's git cache ignores the URL
 * once a rev is known: a stale cache would hide a wrong endpoint), no LFS
 * smudging inside fetchGit (Nix < 2.20 would run the git-lfs filter), and the Nix version and
 * sandbox mode the test run asked for (see `testNix` below).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
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

/** Host folders every sandboxed builder of this test process also sees, at the same path. */
const sharedWithBuilders: string[] = [];

/**
 * A fresh folder for canaries — files that exist only if a file name was run as code — at
 * the same path for the test, for Nix's evaluation and for every builder: with the sandbox
 * on, a builder has a private /tmp, so a canary it wrote anywhere else would vanish with it.
 * Call it before `nixTestEnv()`; the caller removes it.
 */
export function canaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-canaries-'));
  // Builders run as the nixbld users.
  chmodSync(dir, 0o1777);
  sharedWithBuilders.push(dir);
  return dir;
}

/** The NIX_CONFIG text of every test's nix: offline, flakes on, and the sandbox mode the run selected. */
export function testNixConfig(): string {
  const { sandbox, sandboxConfig } = testNix();
  const shared = sandbox !== false && sharedWithBuilders.length > 0 ? [`extra-sandbox-paths = ${sharedWithBuilders.join(' ')}`] : [];
  return ['substituters =', 'experimental-features = nix-command flakes', 'warn-dirty = false', ...sandboxConfig, ...shared].join('\n');
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
