/**
 * `nix-hug remove NAME...`: drop entries from the lock file (and their
 * manifest files beside it). Every name must exist, or nothing is removed.
 */
import { selectEntries } from '../lock/entry.js';
import { changeLock, lockLocation, readLock } from '../lock/lock-file.js';
import { printable } from '../ui/text.js';
import type { CommandContext } from './context.js';
import type { RemoveOptions } from './registry.js';

export async function run(ctx: CommandContext, names: string[], opts: RemoveOptions): Promise<void> {
  const loc = lockLocation(opts.lock, ctx.settings.lockFile, ctx.settings.cwd);
  await readLock(loc); // a missing file: say how to start one, not "no entry"
  const removed = await changeLock(loc, async (current) => {
    const entries = current?.entries ?? [];
    const gone = new Set(selectEntries(entries, names, loc.shown).map((e) => e.name));
    return { lock: { entries: entries.filter((e) => !gone.has(e.name)) }, result: [...gone] };
  });
  for (const name of removed) await ctx.stdout.write(`${printable(name)}  removed\n`);
}
