/**
 * What `outdated` and `update --dry-run` report: every entry checked, and
 * each moved one measured — its files at the new commit against the
 * recorded manifest. Reports come out in the lock's order, each as soon as
 * it is known.
 */
import type { ManifestFile } from '../canonical-manifest.js';
import { NixHugError } from '../errors.js';
import { listRepoFiles } from '../hub/tree.js';
import { checkEntries, emptiedByMove, lfsChange, type LfsChange } from './check.js';
import type { EntryHubs } from './entry-hub.js';
import type { LockEntry } from './format.js';
import { entryManifest, type LockLocation } from './lock-file.js';
import { entryReport, failedReport, type EntryReport } from './report.js';

/** How much of a moved entry's selection is new: its files at `rev` (listed unless given) against the recorded manifest. */
export async function measureMove(hubs: EntryHubs, loc: LockLocation, entry: LockEntry, rev: string, newFiles?: readonly ManifestFile[]): Promise<LfsChange> {
  const files = newFiles ?? (await listRepoFiles(hubs.of(entry.endpoint).hub, { type: entry.type, repoId: entry.repoId }, rev));
  return lfsChange(await entryManifest(loc, entry), files, entry.filters);
}

/** Every entry's report, handed to `onReport` in the lock's order; a failed measurement makes the entry 'failed'. */
export async function describeMoves(hubs: EntryHubs, loc: LockLocation, entries: readonly LockEntry[], onReport: (r: EntryReport) => Promise<void>): Promise<void> {
  const states = await checkEntries(hubs, entries);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const state = states[i]!;
    if (state.kind !== 'moved') {
      await onReport(entryReport(entry, state));
      continue;
    }
    try {
      const change = await measureMove(hubs, loc, entry, state.rev);
      const emptied = emptiedByMove(entry, state.rev, change);
      await onReport(emptied ? failedReport(entryReport(entry, state, change), emptied) : entryReport(entry, state, change));
    } catch (err) {
      if (!(err instanceof NixHugError)) throw err;
      await onReport(failedReport(entryReport(entry, state), err));
    }
  }
}
