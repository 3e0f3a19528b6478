/**
 * `nix-hug outdated [NAME...] [--json]`: what `update` would change, without
 * changing anything. One revision request per entry; for an entry that
 * moved, its new file list, to say how many LFS bytes differ. Exit code 1
 * when an entry moved or could not be checked, 0 when all are current.
 */
import { selectEntries } from '../lock/entry.js';
import { entryHubs } from '../lock/entry-hub.js';
import { lockLocation, readLock } from '../lock/lock-file.js';
import { describeMoves } from '../lock/moves.js';
import type { CommandContext } from './context.js';
import type { OutdatedOptions } from './registry.js';
import { reportPrinter } from './lock-output.js';

export async function run(ctx: CommandContext, names: string[], opts: OutdatedOptions): Promise<void> {
  const loc = lockLocation(opts.lock, ctx.settings.lockFile, ctx.settings.cwd);
  const entries = selectEntries((await readLock(loc)).entries, names, loc.shown);
  const printer = reportPrinter(ctx, loc, entries, opts.json);
  await describeMoves(entryHubs(ctx.settings, () => ctx.hub(), ctx.logger), loc, entries, (r) => printer.add(r));
  const reports = await printer.end('outdated');
  if (reports.some((r) => r.state !== 'unchanged' && r.state !== 'pinned')) ctx.exitCode = 1;
}
