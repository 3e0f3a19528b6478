/**
 * The small expression file that wires the Nix library and nixpkgs to a
 * printed fetch expression, for the CLI's builds.
 */
import { resolve } from 'node:path';
import { nixString } from './expr.js';

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
 * The nixpkgs the library gets its `runCommand` from: `nixpkgs` (the path
 * NIX_HUG_NIXPKGS gives, set by the flake package to its pinned nixpkgs),
 * else `<nixpkgs>` from NIX_PATH, else the `nixpkgs` flake from the registry.
 */
export function nixpkgsExpression(nixpkgs: string | null): string {
  if (nixpkgs !== null) return `import ${nixPath(resolve(nixpkgs))} { }`;
  return [
    '(let fromPath = builtins.tryEval <nixpkgs>; in',
    '  if fromPath.success then import fromPath.value { }',
    '  else (builtins.getFlake "nixpkgs").legacyPackages.${builtins.currentSystem})',
  ].join('\n');
}

/** Where the library and nixpkgs are (the settings' `libDir()` and `nixpkgs`). */
export interface NixInputs {
  libDir: string;
  /** NIX_HUG_NIXPKGS as given, or null. */
  nixpkgs: string | null;
}

/**
 * Where that nixpkgs lives, found the same way without evaluating the package
 * set: `<nixpkgs>`, else the registry's flake (which fetches its source, as
 * the build would). Null when `NIX_HUG_NIXPKGS` names it (a plain path).
 */
export function nixpkgsSourceExpression(nixpkgs: string | null): string | null {
  if (nixpkgs !== null) return null;
  return 'let fromPath = builtins.tryEval <nixpkgs>; in if fromPath.success then toString fromPath.value else (builtins.getFlake "nixpkgs").outPath';
}

/**
 * A file body evaluating `body` with `nix-hug-lib` in scope, e.g. the exact
 * expression `fetch` prints.
 */
export function buildFile(inputs: NixInputs, body: string): string {
  return [
    'let',
    `  pkgs = ${nixpkgsExpression(inputs.nixpkgs).split('\n').join('\n  ')};`,
    `  nix-hug-lib = import ${nixPath(inputs.libDir)} { inherit pkgs; };`,
    'in',
    body,
    '',
  ].join('\n');
}
