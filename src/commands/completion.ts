/**
 * `nix-hug completion bash|zsh|fish`: prints the shell's completion script,
 * generated from the command registry (the flake package installs the three).
 */
import { completionScript } from '../completion/script.js';
import type { CommandContext } from './context.js';
import type { Shell } from './registry.js';

/** `shell` is one of COMPLETION_SHELLS: the registry's check refused any other word. */
export async function run(ctx: CommandContext, shell: Shell): Promise<void> {
  await ctx.stdout.write(await completionScript(shell));
}
