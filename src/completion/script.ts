/** The completion script for one shell, from the command registry. */
import { COMMANDS, GLOBAL_OPTIONS, type Shell } from '../commands/registry.js';
import { bashScript } from './bash.js';
import { fishScript } from './fish.js';
import { completionTree } from './model.js';
import { zshScript } from './zsh.js';

/** A writer for every shell of COMPLETION_SHELLS (a shell added there without one does not compile). */
const WRITERS: Record<Shell, typeof bashScript> = { bash: bashScript, zsh: zshScript, fish: fishScript };

export function completionScript(shell: Shell): string {
  return WRITERS[shell](completionTree(COMMANDS, GLOBAL_OPTIONS));
}
