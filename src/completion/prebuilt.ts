/**
 * The completion scripts of every shell, written once at build time (`npm
 * run build` runs this module) to `scripts.json` next to it in dist/:
 * `nix-hug completion SHELL` runs at every shell's start-up, and reading one
 * file costs less than loading the registry and a writer for each start.
 * The CLI generates the script as before when the file is missing (a build
 * that skipped this step); a test checks that the file holds exactly what
 * the registry produces.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMPLETION_SHELLS, type Shell } from '../commands/registry.js';
import { completionScript } from './script.js';

/** Where the build writes them: `dist/completion/scripts.json` (cli.ts reads the same file). */
export const PREBUILT_SCRIPTS = new URL('./scripts.json', import.meta.url);

/** Every shell's script, by shell name: the file's content. */
export async function prebuiltScripts(): Promise<Record<Shell, string>> {
  const scripts = await Promise.all(COMPLETION_SHELLS.map(async (shell) => [shell, await completionScript(shell)] as const));
  return Object.fromEntries(scripts) as Record<Shell, string>;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(PREBUILT_SCRIPTS, JSON.stringify(await prebuiltScripts()));
}
