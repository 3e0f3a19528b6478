/** The completion script for one shell, from the command registry. */
import { COMMANDS, GLOBAL_OPTIONS, type Shell } from '../commands/registry.js';
import type { bashScript } from './bash.js';
import { completionTree } from './model.js';

/**
 * A writer for every shell of COMPLETION_SHELLS (a shell added there without
 * one does not compile), loaded when asked for: `nix-hug completion bash`
 * runs at every shell start-up and needs no other shell's writer.
 */
const WRITERS: Record<Shell, () => Promise<typeof bashScript>> = {
  bash: async () => (await import('./bash.js')).bashScript,
  zsh: async () => (await import('./zsh.js')).zshScript,
  fish: async () => (await import('./fish.js')).fishScript,
};

export async function completionScript(shell: Shell): Promise<string> {
  const write = await WRITERS[shell]();
  return write(completionTree(COMMANDS, GLOBAL_OPTIONS));
}
