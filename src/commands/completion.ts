/**
 * `nix-hug completion bash|zsh|fish`: prints the shell's completion script,
 * generated from the command registry (the flake package installs the three).
 */
import { UsageError } from '../errors.js';
import { completionScript, isShell } from '../completion/script.js';
import type { CommandContext } from './context.js';

export async function run(ctx: CommandContext, shell: string): Promise<void> {
  if (!isShell(shell)) throw new UsageError(`unknown shell '${shell}'`, 'choose one of bash, zsh, fish');
  await ctx.stdout.write(completionScript(shell));
}
