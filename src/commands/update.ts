/**
 * `nix-hug update [NAME...] [--no-build] [--dry-run]`: one revision request
 * per entry; every entry whose ref moved is pinned again at its new commit,
 * built (unless --no-build: only LFS files the old pin lacked are
 * downloaded) and written back to the lock, one at a time, so an
 * interrupted update keeps what it finished. Entries that did not move are
 * never rewritten. A gone repository or a deleted ref is reported, its entry
 * kept, and the exit code is 1.
 */
import { startNixpkgsCheck } from '../nix/nixpkgs.js';
import { InterruptedError, NixHugError } from '../errors.js';
import { interruptible } from '../interrupt.js';
import { buildForLock } from '../lock/build.js';
import { checkEntries, emptiedByMove } from '../lock/check.js';
import { sameSelection, selectEntries } from '../lock/entry.js';
import { entryHubs } from '../lock/entry-hub.js';
import type { LockEntry } from '../lock/format.js';
import { changeLock, lockLocation, manifestForLock, readLock, type LockLocation } from '../lock/lock-file.js';
import { describeMoves, measureMove } from '../lock/moves.js';
import { entryReport, failedReport, type EntryReport } from '../lock/report.js';
import { detectNix } from '../nix/nix.js';
import { pinCommit, type PinnedFetch } from '../pin/pin.js';
import type { CommandContext } from './context.js';
import type { UpdateOptions } from './registry.js';
import { reportPrinter } from './lock-output.js';

/** The error that ends a run in which some entries could not be updated (after every line was printed). */
function notAllUpdated(reports: readonly EntryReport[], verb: string): NixHugError | null {
  const bad = reports.filter((r) => r.state === 'gone' || r.state === 'failed');
  if (bad.length === 0) return null;
  return new NixHugError(
    `${bad.length} of ${reports.length} entries could not be ${verb}: ${bad.map((r) => `${r.name} (${r.state})`).join(', ')}`,
    'their lines above say why; those entries were kept as they were',
  );
}

/** Writes the re-pinned entry, unless another command changed that entry meanwhile (then false). */
async function recordMove(loc: LockLocation, old: LockEntry, pinned: PinnedFetch): Promise<boolean> {
  const { pin } = pinned;
  return changeLock(loc, async (current) => {
    const now = current?.entries.find((e) => e.name === old.name);
    if (!current || !now || now.rev !== old.rev || !sameSelection(now, old)) return { lock: null, result: false };
    const moved: LockEntry = { ...now, rev: pin.rev, fileTreeHash: pin.fileTreeHash, gitRepoHash: pin.gitRepoHash!, manifest: await manifestForLock(loc, pinned) };
    return { lock: { entries: current.entries.map((e) => (e.name === old.name ? moved : e)) }, result: true };
  });
}

export async function run(ctx: CommandContext, names: string[], opts: UpdateOptions): Promise<void> {
  const { settings } = ctx;
  const loc = lockLocation(opts.lock, settings.lockFile, settings.cwd);
  const entries = selectEntries((await readLock(loc)).entries, names, loc.shown);
  const hubs = entryHubs(settings, () => ctx.hub(), ctx.logger);
  const printer = reportPrinter(ctx, loc, entries, opts.json);
  if (opts.dryRun) {
    await describeMoves(hubs, loc, entries, (r) => printer.add(r));
    const failure = notAllUpdated(await printer.end('would move'), 'checked');
    if (failure) throw failure;
    return;
  }
  const nix = opts.build ? await detectNix(settings.env) : undefined; // no request when nothing could be built
  await interruptible(`asking the Hub about ${entries.length} lock entries`, async ({ signal, step }) => {
    const nixpkgs = opts.build ? startNixpkgsCheck(settings, signal) : undefined;
    const states = await checkEntries(hubs, entries);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const state = states[i]!;
      const base = { ...entryReport(entry, state), updated: false, storePath: null };
      if (state.kind !== 'moved') {
        await printer.add(base);
        continue;
      }
      step(`updating ${entry.name}`);
      try {
        const at = hubs.of(entry.endpoint);
        const resolved = { repo: { type: entry.type, repoId: entry.repoId }, ref: entry.ref ?? state.rev, rev: state.rev };
        const pinned = await pinCommit(at.hub, resolved, { filtersFor: () => entry.filters, mayRefuse: entry.filters !== null, refuseEmpty: null }, at.settings, ctx.logger, signal);
        try {
          // Only for the report: a recorded manifest that cannot be read does not stop the move.
          const change = await measureMove(hubs, loc, entry, state.rev, pinned.files).catch((err: unknown) => {
            if (!(err instanceof NixHugError)) throw err;
            ctx.logger.warn(`${entry.name}: ${err.message}; the LFS bytes that differ are not known`);
            return null;
          });
          const emptied = change && emptiedByMove(entry, state.rev, change);
          if (emptied) throw emptied; // before any download
          const storePath = opts.build
            ? await buildForLock({ settings: at.settings, hub: () => at.hub, logger: ctx.logger, stderr: ctx.stderr }, pinned, {
                quiet: opts.quiet,
                signal: signal,
                ...(nix ? { nix } : {}),
                ...(nixpkgs ? { nixpkgs } : {}),
              })
            : null;
          if (await recordMove(loc, entry, pinned)) {
            await printer.add({ ...entryReport(entry, state, change), updated: true, storePath });
          } else {
            await printer.add(failedReport({ ...base, storePath }, new NixHugError(`the entry ${entry.name} was changed by another command meanwhile`, 'run nix-hug update again')));
          }
          await pinned.checkout.remember();
        } finally {
          await pinned.checkout.dispose();
        }
      } catch (err) {
        if (signal.aborted || err instanceof InterruptedError) throw err;
        if (!(err instanceof NixHugError)) throw err;
        await printer.add(failedReport(base, err));
      }
    }
    const failure = notAllUpdated(await printer.end('updated'), 'updated');
    if (failure) throw failure;
  });
}
