/** The completion script for one shell, from the command registry. */
import { COMMANDS, GLOBAL_OPTIONS } from '../commands/registry.js';
import { bashScript } from './bash.js';
import { fishScript } from './fish.js';
import { completionTree } from './model.js';
import { zshScript } from './zsh.js';

export type Shell = 'bash' | 'zsh' | 'fish';

const WRITERS: Record<Shell, typeof bashScript> = { bash: bashScript, zsh: zshScript, fish: fishScript };

export function isShell(s: string): s is Shell {
  return Object.hasOwn(WRITERS, s);
}

export function completionScript(shell: Shell): string {
  return WRITERS[shell](completionTree(COMMANDS, GLOBAL_OPTIONS));
}
