/**
 * Lock entries and pins, both ways: the entry a fresh pin makes, the pin an
 * entry stands for (what `fromLock` builds), and the questions `add` asks
 * before it records one (is the name taken? is this selection there already?).
 */
import { UsageError } from '../errors.js';
import type { PinnedFetch } from '../pin/pin.js';
import { DEFAULT_ENDPOINT } from '../settings/endpoint.js';
import type { Filters, PinnedRepo } from '../types.js';
import { quote } from '../ui/text.js';
import { entryNameProblem, type LockEntry, type LockManifest } from './format.js';

/** The name `add` gives by default: the repository's own name. */
export function defaultEntryName(repoId: string): string {
  return repoId.slice(repoId.indexOf('/') + 1);
}

export { entryNameProblem };

/** A ref the user gave as a commit pins the entry: `update` leaves it alone. */
export function trackedRef(ref: string): string | null {
  return /^[0-9a-fA-F]{40}$/.test(ref) ? null : ref;
}

/** The entry for a pin; `manifest` says where its manifest lives (see `manifestForLock`). */
export function entryFromPin(pinned: PinnedFetch, name: string, ref: string | null, manifest: LockManifest): LockEntry {
  const { pin } = pinned;
  if (pin.gitRepoHash === null) throw new Error('entryFromPin: a pin without gitRepoHash'); // pinCommit always computes it
  return {
    name,
    type: pin.type,
    repoId: pin.repoId,
    endpoint: pin.endpoint === DEFAULT_ENDPOINT ? null : pin.endpoint,
    ref,
    rev: pin.rev,
    filters: pin.filters,
    fileTreeHash: pin.fileTreeHash,
    gitRepoHash: pin.gitRepoHash,
    manifest,
  };
}

/** The pin an entry stands for, as `fromLock` passes it to fetchModel / fetchDataset. */
export function pinOfEntry(entry: LockEntry): PinnedRepo {
  return {
    type: entry.type,
    repoId: entry.repoId,
    rev: entry.rev,
    fileTreeHash: entry.fileTreeHash,
    filters: entry.filters,
    endpoint: entry.endpoint ?? DEFAULT_ENDPOINT,
    gitRepoHash: entry.gitRepoHash,
  };
}

function filtersKey(filters: Filters | null): string {
  if (!filters) return 'null';
  const sorted = (xs: string[] | undefined) => (xs ? [...xs].sort() : null);
  return JSON.stringify([sorted(filters.files), sorted(filters.include), sorted(filters.exclude)]);
}

/** Same repository (type, id, Hub) with the same filters: one entry is enough. */
export function sameSelection(a: Pick<LockEntry, 'type' | 'repoId' | 'endpoint' | 'filters'>, b: Pick<LockEntry, 'type' | 'repoId' | 'endpoint' | 'filters'>): boolean {
  return a.type === b.type && a.repoId === b.repoId && (a.endpoint ?? DEFAULT_ENDPOINT) === (b.endpoint ?? DEFAULT_ENDPOINT) && filtersKey(a.filters) === filtersKey(b.filters);
}

/** `model org/name` or `dataset org/name`, plus the Hub when it is not the default. */
export function describeEntry(entry: Pick<LockEntry, 'type' | 'repoId' | 'endpoint'>): string {
  return `${entry.type} ${entry.repoId}${entry.endpoint ? ` on ${entry.endpoint}` : ''}`;
}

/** The entries called `names` (all when none is given), in the lock's order; an unknown name is a usage error. */
export function selectEntries(entries: readonly LockEntry[], names: readonly string[], lockShown: string): LockEntry[] {
  if (names.length === 0) return [...entries];
  const known = new Set(entries.map((e) => e.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `${lockShown} has no entry ${unknown.map(quote).join(', ')}`,
      entries.length > 0 ? `its entries: ${entries.map((e) => e.name).join(', ')} (nix-hug ls --lock)` : 'it has no entries yet: add one with `nix-hug add URL`',
    );
  }
  const wanted = new Set(names);
  return entries.filter((e) => wanted.has(e.name));
}
