/**
 * The environment the CLI and nix run in during the bench: the emulator as
 * HF_ENDPOINT, the nixpkgs stand-in, no substituters, no token, an empty
 * HOME and config (no auto-persist), and a fetcher cache (XDG_CACHE_HOME,
 * where Nix keeps its git clones) that a cold run gets fresh.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/support/index.ts';

export class BenchEnv {
  /** Scratch space of this run; removed by `close()`. */
  readonly root: string;
  private caches = 0;

  constructor(private readonly endpoint: string) {
    this.root = mkdtempSync(join(tmpdir(), 'nix-hug-bench-'));
    mkdirSync(join(this.root, 'home'));
    mkdirSync(join(this.root, 'config'));
  }

  /** A new, empty directory under the scratch space. */
  dir(label: string): string {
    const d = join(this.root, `${label}-${++this.caches}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** A fresh XDG_CACHE_HOME: Nix's git fetcher cache starts empty. */
  freshCache(): string {
    return this.dir('xdg-cache');
  }

  /** The environment for `nix-hug` and `nix`, with the given fetcher cache. */
  env(cacheHome: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) {
      if (/^(HF_|HUGGING_FACE_|HUGGINGFACE_|NIX_HUG_)/.test(k)) delete env[k];
    }
    return {
      ...env,
      HOME: join(this.root, 'home'),
      XDG_CONFIG_HOME: join(this.root, 'config'),
      XDG_CACHE_HOME: cacheHome,
      HF_ENDPOINT: this.endpoint,
      NIX_HUG_NIXPKGS: join(REPO_ROOT, 'test', 'nixpkgs-stub'),
      NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes\nwarn-dirty = false',
      GIT_LFS_SKIP_SMUDGE: '1',
      NO_COLOR: '1',
    };
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
