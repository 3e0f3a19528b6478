/**
 * What `outdated` and `update` ask first: for each entry that follows a
 * ref, one revision request — has its branch or tag moved? Requests run a
 * few at a time; one entry's failure (the repository is gone, the branch was
 * deleted, the Hub is down) is that entry's status, not the end of the run.
 */
import { NixHugError } from '../errors.js';
import { HubApiError } from '../hub/errors.js';
import { selector } from '../filters.js';
import type { ManifestFile } from '../canonical-manifest.js';
import type { Filters } from '../types.js';
import { quote } from '../ui/text.js';
import { describeEntry } from './entry.js';
import type { EntryHub, EntryHubs } from './entry-hub.js';
import type { LockEntry } from './format.js';

/** Revision requests in flight at once: quick for 50 entries, gentle with the Hub. */
export const CHECK_CONCURRENCY = 8;

export type EntryState =
  /** Its ref still names the recorded commit. */
  | { kind: 'unchanged' }
  /** Its ref names another commit now. */
  | { kind: 'moved'; rev: string }
  /** Pinned to a commit by the user: nothing to follow. */
  | { kind: 'pinned' }
  /** The repository is not on its Hub any more (or is private and no token reached it). */
  | { kind: 'gone'; error: NixHugError }
  /** Anything else: the ref was deleted, the Hub failed, access was refused. */
  | { kind: 'failed'; error: NixHugError };

function gone(at: EntryHub, entry: LockEntry): NixHugError {
  return new NixHugError(
    `${describeEntry(entry)} is gone from ${at.settings.endpoint()} (or is private and ${at.sendsToken ? 'your token cannot read it' : 'no token was sent'})`,
    `the entry was kept; if the repository moved, \`nix-hug add\` its new name and \`nix-hug remove ${entry.name}\``,
  );
}

/** One entry's state: a single revision request. */
export async function checkEntry(hubs: EntryHubs, entry: LockEntry): Promise<EntryState> {
  if (entry.ref === null) return { kind: 'pinned' };
  const at = hubs.of(entry.endpoint);
  try {
    const rev = await at.hub.resolveRevision({ type: entry.type, repoId: entry.repoId }, entry.ref);
    return rev === entry.rev ? { kind: 'unchanged' } : { kind: 'moved', rev };
  } catch (err) {
    if (err instanceof HubApiError && err.isRepoNotFound) return { kind: 'gone', error: gone(at, entry) };
    if (err instanceof HubApiError && err.errorCode === 'RevisionNotFound') {
      return {
        kind: 'failed',
        error: new NixHugError(
          `${quote(entry.ref)} no longer exists in ${describeEntry(entry)}`,
          `the entry was kept at ${entry.rev.slice(0, 7)}; follow another ref with \`nix-hug add --force --name ${entry.name} ... --ref REF\``,
        ),
      };
    }
    if (err instanceof NixHugError) return { kind: 'failed', error: err };
    throw err;
  }
}

/** Every entry's state, in the entries' order. */
export async function checkEntries(hubs: EntryHubs, entries: readonly LockEntry[], concurrency = CHECK_CONCURRENCY): Promise<EntryState[]> {
  const states: EntryState[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      states[i] = await checkEntry(hubs, entries[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
  return states;
}

export interface LfsChange {
  /** Selected LFS files whose content the old pin did not have. */
  files: number;
  /** Their bytes: what a build downloads when the old pin is in the store. */
  bytes: number;
  /** How many LFS files the filters select, before and after. */
  selectedBefore: number;
  selectedAfter: number;
}

/** Selected LFS files of `after` whose sha256 no selected file of `before` has. */
export function lfsChange(before: readonly ManifestFile[], after: readonly ManifestFile[], filters: Filters | null): LfsChange {
  const selected = selector(filters);
  const old = before.filter((f) => f.lfs && selected(f));
  const had = new Set(old.map((f) => f.lfs!.sha256));
  const counted = new Set<string>();
  let files = 0;
  let bytes = 0;
  let selectedAfter = 0;
  for (const f of after) {
    if (!f.lfs || !selected(f)) continue;
    selectedAfter++;
    if (had.has(f.lfs.sha256)) continue;
    files++;
    if (!counted.has(f.lfs.sha256)) bytes += f.lfs.size; // the same bytes twice download once
    counted.add(f.lfs.sha256);
  }
  return { files, bytes, selectedBefore: old.length, selectedAfter };
}

/**
 * The error for a move after which the entry's filters select none of the
 * LFS files any more (the weights were renamed or moved): such a pin would
 * build a snapshot without weights, so the entry is kept instead. Null when
 * the move is fine.
 */
export function emptiedByMove(entry: LockEntry, rev: string, change: LfsChange): NixHugError | null {
  if (change.selectedBefore === 0 || change.selectedAfter > 0) return null;
  return new NixHugError(
    `at ${rev.slice(0, 7)} the filters of ${quote(entry.name)} select none of the LFS files of ${describeEntry(entry)} (${change.selectedBefore} at ${entry.rev.slice(0, 7)}): the weights were renamed or removed`,
    `the entry was kept; pin it again with filters that fit: \`nix-hug add --force --name ${entry.name} ...\``,
  );
}
