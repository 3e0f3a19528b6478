/**
 * Everything nix-hug reads from the environment and its config file, in one
 * typed object made once at start-up (src/commands/context.ts) and passed
 * down; nothing deeper reads `process.env` for a setting. Each value is
 * parsed on first use and kept: a malformed HF_ENDPOINT stops `fetch` with
 * a usage error, but not `nix-hug completion bash`, which never needs it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { colorAllowed } from '../ui/color.js';
import { registerSecret } from '../ui/logger.js';
import { hubEndpoint } from './endpoint.js';
import { hfCacheLocation, type HfCacheLocation } from './hf-cache.js';
import { httpSettingsFromEnv, type HttpSettings } from './http.js';
import { findLibrary, nixpkgsPath } from './nix-inputs.js';
import { loadPersistConfig, type PersistConfig } from './persist.js';
import { findToken, type TokenSource } from './token.js';

export interface Settings {
  /** The environment as the process got it: handed to child processes (nix, git), never read for a setting. */
  readonly env: NodeJS.ProcessEnv;
  /** The working directory (relative NIX_HUG_PERSIST_DIR and --out are taken from it). */
  readonly cwd: string;
  /** HOME: `--out` refuses it, `~` in persist_dir expands to it. */
  readonly home: string;
  /** nix-hug's own cache (`${XDG_CACHE_HOME:-~/.cache}/nix-hug`): the gitRepoHash of each pinned commit. */
  readonly cacheDir: string;
  /** Colours are allowed where a terminal reads them (no NO_COLOR, TERM is not dumb). */
  readonly colorAllowed: boolean;
  /** HF_ENDPOINT normalised, default https://huggingface.co; a UsageError when malformed. */
  endpoint(): string;
  /** HF_TOKEN, else the token file (HF_TOKEN_PATH, HF_HOME/token); null for anonymous access. */
  token(): TokenSource | null;
  /** The Hub client's retry policy and request timeout (Nix's own downloads get the same bounds). */
  http(): HttpSettings;
  /** The Nix library's directory (NIX_HUG_LIB, else this package's lib/). */
  libDir(): string;
  /** NIX_HUG_NIXPKGS as given, or null for `<nixpkgs>` / the registry's flake. */
  readonly nixpkgs: string | null;
  /** The persist store and auto_persist (config file, NIX_HUG_PERSIST_DIR, NIX_HUG_AUTO_PERSIST). */
  persist(): Promise<PersistConfig>;
  /** The local Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub). */
  hfCache(): HfCacheLocation;
  /** NIX_HUG_LOCK as given: the lock file when no --lock is given (null: ./nix-hug.lock). */
  readonly lockFile: string | null;
}

/** `compute` once, on first call (a failure is not kept: it is thrown again, the same way, next time). */
function once<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}

export function readSettings(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Settings {
  const home = env.HOME || homedir();
  return {
    env,
    cwd,
    home,
    cacheDir: join(env.XDG_CACHE_HOME || join(home, '.cache'), 'nix-hug'),
    colorAllowed: colorAllowed(env),
    endpoint: once(() => hubEndpoint(env)),
    token: once(() => {
      const found = findToken(env);
      // From here on every line nix-hug prints hides it, a token of any shape (not only `hf_…`).
      if (found) registerSecret(found.token);
      return found;
    }),
    http: once(() => httpSettingsFromEnv(env)),
    libDir: once(() => findLibrary(env)),
    nixpkgs: nixpkgsPath(env),
    persist: once(() => loadPersistConfig(env, cwd)),
    hfCache: once(() => hfCacheLocation(env)),
    lockFile: env.NIX_HUG_LOCK || null,
  };
}

export type { HttpSettings, PersistConfig, TokenSource };
