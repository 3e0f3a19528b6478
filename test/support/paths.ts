/** Where things are, from the repository's root (tests, scripts and the bench all run from anywhere). */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built executable (`npm run build`): package.json's `bin`, as users run it. */
export const CLI = join(REPO_ROOT, 'dist', 'bin.cjs');
/** The built CLI module the executable loads for every command (runnable on its own too). */
export const CLI_MODULE = join(REPO_ROOT, 'dist', 'cli.js');
/** The Nix library. */
export const LIB_DIR = join(REPO_ROOT, 'lib');
/** The tiny nixpkgs stand-in (`runCommand` only) the library's tests build with. */
export const STUB_DIR = join(REPO_ROOT, 'test', 'nixpkgs-stub');
