/**
 * The answers of the fast start-up paths, written once at build time (`npm
 * run build` runs this module) to `dist/prebuilt.json`: every shell's
 * completion script (`nix-hug completion SHELL` runs at each shell's
 * start-up) and every help page at the width a pipe gets (80 columns). The
 * CLI prints them from that one file instead of loading the registry and a
 * writer or the help renderer; without the file (a build that skipped this
 * step), or for a terminal of another width, it renders them as before.
 * Tests check that the file holds exactly what the registry produces.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { completionScript } from '../completion/script.js';
import { findCommand, renderHelp } from './help.js';
import { COMMANDS, COMPLETION_SHELLS, type CommandSpec, type Shell } from './registry.js';

/** Where the build writes them: `dist/prebuilt.json`, next to cli.js (which reads it). */
export const PREBUILT_FILE = new URL('../prebuilt.json', import.meta.url);

/** The width of a help page written to anything but a terminal. */
export const PIPE_WIDTH = 80;

export interface Prebuilt {
  completion: Record<Shell, string>;
  /** Help pages at PIPE_WIDTH columns, by `helpKey` of their command path (`[]`: the program's). */
  help: Record<string, string>;
}

/** The key of a command path's help page: unambiguous for any words (`["store","ls"]`). */
export const helpKey = (path: readonly string[]): string => JSON.stringify(path);

/** Every command path that has a help page: the program, each command and each subcommand. */
export function helpPaths(): string[][] {
  const out: string[][] = [[]];
  const walk = (specs: readonly CommandSpec[], prefix: string[]) => {
    for (const spec of specs) {
      out.push([...prefix, spec.name]);
      walk(spec.subcommands ?? [], [...prefix, spec.name]);
    }
  };
  walk(COMMANDS, []);
  return out.filter((p) => findCommand(p) !== undefined);
}

export async function prebuiltAnswers(): Promise<Prebuilt> {
  const scripts = await Promise.all(COMPLETION_SHELLS.map(async (shell) => [shell, await completionScript(shell)] as const));
  return {
    completion: Object.fromEntries(scripts) as Record<Shell, string>,
    help: Object.fromEntries(helpPaths().map((p) => [helpKey(p), renderHelp(p, PIPE_WIDTH)])),
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(PREBUILT_FILE, JSON.stringify(await prebuiltAnswers()));
}
