/** Where things are, from the repository's root (tests, scripts and the bench all run from anywhere). */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI (`npm run build`). */
export const CLI = join(REPO_ROOT, 'dist', 'cli.js');
/** The Nix library. */
export const LIB_DIR = join(REPO_ROOT, 'lib');
/** The tiny nixpkgs stand-in (`runCommand` only) the library's tests build with. */
export const STUB_DIR = join(REPO_ROOT, 'test', 'nixpkgs-stub');
