/**
 * What the CLI's builds evaluate with: the Nix library (NIX_HUG_LIB, else
 * the `lib/` of the package this CLI belongs to) and nixpkgs
 * (NIX_HUG_NIXPKGS, set by the flake package to its pinned nixpkgs).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NixHugError } from '../errors.js';

/** The library directory: `NIX_HUG_LIB`, else `lib/` of this package (a checkout, an npm install, or the flake package). */
export function findLibrary(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.NIX_HUG_LIB;
  const dir = fromEnv ? resolve(fromEnv) : resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib');
  if (!existsSync(resolve(dir, 'default.nix'))) {
    throw new NixHugError(
      `the nix-hug Nix library was not found at ${dir}`,
      fromEnv ? 'NIX_HUG_LIB must name the lib/ folder of nix-hug (the one holding default.nix)' : 'reinstall nix-hug, or set NIX_HUG_LIB to its lib/ folder',
    );
  }
  return dir;
}

/** `NIX_HUG_NIXPKGS` as given (relative to the working directory), or null: then `<nixpkgs>`, else the registry's `nixpkgs` flake. */
export function nixpkgsPath(env: NodeJS.ProcessEnv): string | null {
  return env.NIX_HUG_NIXPKGS || null;
}
