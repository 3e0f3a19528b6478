/**
 * Where the Nix library and nixpkgs come from when the CLI builds, and the
 * small expression file that wires them to a printed fetch expression.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NixHugError } from '../errors.js';
import { nixString } from './expr.js';

/**
 * The library directory: `NIX_HUG_LIB`, else `lib/` of the package this CLI
 * belongs to (a checkout, an npm install, or the flake package).
 */
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

/** A Nix expression for the path `p` (works for paths with spaces, unlike a literal). */
export function nixPath(p: string): string {
  return `(/. + ${nixString(p)})`;
}

/** The three ways to give nix-hug a nixpkgs, for the error that says none was found. */
export const NIXPKGS_HINT =
  'give it one of three ways: set NIX_HUG_NIXPKGS=/path/to/nixpkgs (a checkout or an unpacked channel); ' +
  'or add a channel (`nix-channel --add https://nixos.org/channels/nixpkgs-unstable nixpkgs && nix-channel --update`, ' +
  'or NIX_PATH=nixpkgs=/path/to/nixpkgs); or name it in the flake registry (`nix registry add nixpkgs github:NixOS/nixpkgs/nixos-unstable`)';

/**
 * The nixpkgs the library gets its `runCommand` from: `NIX_HUG_NIXPKGS` (a
 * path, set by the flake package to its pinned nixpkgs), else `<nixpkgs>`
 * from NIX_PATH, else the `nixpkgs` flake from the registry.
 */
export function nixpkgsExpression(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.NIX_HUG_NIXPKGS;
  if (fromEnv) return `import ${nixPath(resolve(fromEnv))} { }`;
  return [
    '(let fromPath = builtins.tryEval <nixpkgs>; in',
    '  if fromPath.success then import fromPath.value { }',
    '  else (builtins.getFlake "nixpkgs").legacyPackages.${builtins.currentSystem})',
  ].join('\n');
}

/**
 * Where that nixpkgs lives, found the same way without evaluating the package
 * set: `<nixpkgs>`, else the registry's flake (which fetches its source, as
 * the build would). Null when `NIX_HUG_NIXPKGS` names it (a plain path).
 */
export function nixpkgsSourceExpression(env: NodeJS.ProcessEnv): string | null {
  if (env.NIX_HUG_NIXPKGS) return null;
  return 'let fromPath = builtins.tryEval <nixpkgs>; in if fromPath.success then toString fromPath.value else (builtins.getFlake "nixpkgs").outPath';
}

/**
 * A file body evaluating `body` with `nix-hug-lib` in scope, e.g. the exact
 * expression `fetch` prints.
 */
export function buildFile(env: NodeJS.ProcessEnv, body: string): string {
  return [
    'let',
    `  pkgs = ${nixpkgsExpression(env).split('\n').join('\n  ')};`,
    `  nix-hug-lib = import ${nixPath(findLibrary(env))} { inherit pkgs; };`,
    'in',
    body,
    '',
  ].join('\n');
}
