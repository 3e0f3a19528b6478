/**
 * A user of the CLI with real Nix: fresh HOME/XDG dirs, fast retries, Nix
 * without substituters, and a private TMPDIR (so leftovers are ours to
 * count); and the "nothing half-done" checks.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { HubOptions, RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, requireBuild } from './cli.ts';
import { nixTestEnv } from './nix.ts';
import { STUB_DIR } from './paths.ts';

export interface Sandbox {
  /** For the CLI: fresh HOME/XDG dirs, fast retries, Nix without substituters, a private TMPDIR. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  home: string;
  tmp: string;
  /** Nix's own environment (fresh fetcher cache), for checks with `nix-store`. */
  nixEnv: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A user of the CLI against `hubUrl`; every call to env() shares HOME, caches and TMPDIR. */
export function sandbox(hubUrl: () => string, base: NodeJS.ProcessEnv = {}): Sandbox {
  const cli = cliEnv();
  const nix = nixTestEnv();
  const tmp = mkdtempSync(join(tmpdir(), 'nix-hug-hardening-tmp-'));
  // Nix makes its build directories in TMPDIR for the nixbld users: they must be able to enter it.
  chmodSync(tmp, 0o755);
  return {
    env: (extra = {}) => ({
      ...cli.env,
      NIX_CONFIG: nix.env.NIX_CONFIG,
      XDG_CACHE_HOME: nix.env.XDG_CACHE_HOME,
      TMPDIR: tmp,
      HF_ENDPOINT: hubUrl(),
      NIX_HUG_NIXPKGS: STUB_DIR,
      ...base,
      ...extra,
    }),
    home: cli.env.HOME!,
    tmp,
    nixEnv: nix.env,
    cleanup() {
      cli.cleanup();
      nix.cleanup();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * A suite's emulator and sandboxed user: started before its tests (after
 * checking the CLI is built), closed and removed after them. Read `hub` and
 * `box` inside tests, not at load time.
 */
export function hubSandbox(options: HubOptions): { readonly hub: RunningHub; readonly box: Sandbox } {
  let hub: RunningHub | undefined;
  let box: Sandbox | undefined;
  before(async () => {
    requireBuild();
    hub = await startHub(options);
    box = sandbox(() => hub!.url);
  });
  after(async () => {
    await hub?.close();
    box?.cleanup();
  });
  return {
    get hub() {
      if (!hub) throw new Error('the emulator starts before the tests: read hub inside a test');
      return hub;
    },
    get box() {
      if (!box) throw new Error('the sandbox is made before the tests: read box inside a test');
      return box;
    },
  };
}

/** What nix-hug and Nix leave in TMPDIR while they work; none of it may outlive a run. */
export function tmpLeftovers(tmp: string): string[] {
  if (!existsSync(tmp)) return [];
  return readdirSync(tmp).filter((n) => /^nix-hug-(build|blobs|head-start)-|^nix-build-/.test(n));
}

/** `.DIR.nix-hug-tmp-*` / `-old-*` siblings of an `--out` directory. */
export function outSiblings(out: string): string[] {
  const parent = dirname(out);
  if (!existsSync(parent)) return [];
  const prefix = `.${basename(out)}.nix-hug-`;
  return readdirSync(parent).filter((n) => n.startsWith(prefix));
}
