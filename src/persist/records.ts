/**
 * Export records: what nix-hug knows about each snapshot it exported to a
 * persist store (repo, commit, selection, store path, when). One shape for
 * records read from the store's own index and from the manifest files
 * older versions kept, with one validation and one rule for which record
 * of a selection counts (the newest).
 */
import type { Filters, RepoType, SnapshotKey, SnapshotRecord } from '../types.js';
import { isRepoType } from '../hub/repo-type.js';

export interface ExportRecord extends SnapshotRecord {
  /** The fileTreeHash of the expression the snapshot was built from (absent in older records). */
  fileTreeHash?: string;
  /** The Hub it came from, when not the default one. */
  endpoint?: string;
  /** The public key of the nix-hug that exported it, as that record says (informative: never trusted for being here). */
  publicKey?: string;
  /** Where in the store's index the record lives; absent for records from an old manifest file. */
  slot?: number;
}

/** Sorted lists, no empty lists; `null` when nothing is filtered. Two equal selections compare equal. */
export function canonicalFilters(filters: Filters | null | undefined): Filters | null {
  if (!filters) return null;
  const out: Filters = {};
  for (const key of ['include', 'exclude', 'files'] as const) {
    const list = filters[key];
    if (list && list.length > 0) out[key] = [...new Set(list)].sort();
  }
  return Object.keys(out).length > 0 ? out : null;
}

export function selectionKey(e: SnapshotKey): string {
  return JSON.stringify([e.repoId, e.type, e.rev, canonicalFilters(e.filters)]);
}

const HEX40 = /^[0-9a-f]{40}$/;
const STORE_PATH = /^\/[^\0]*\/[0-9a-z]{32}-[^/]+$/;
const TREE_HASH = /^sha256-[A-Za-z0-9+/]{43}=$/;

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/**
 * Checks a record read from JSON and keeps the fields nix-hug knows
 * (unknown fields, added by a newer version, are ignored). Throws an Error
 * saying which field is wrong.
 */
export function checkRecord(raw: unknown): ExportRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
  const e = raw as Record<string, unknown>;
  if (typeof e.repoId !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(e.repoId) || e.repoId.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error('repoId must be "org/name"');
  }
  if (!isRepoType(e.type)) throw new Error('type must be "model", "dataset" or "space"');
  if (typeof e.rev !== 'string' || !HEX40.test(e.rev)) throw new Error('rev must be a 40-hex commit');
  if (typeof e.storePath !== 'string' || !STORE_PATH.test(e.storePath)) throw new Error('storePath is not a store path');
  if (typeof e.exportedAt !== 'string' || Number.isNaN(Date.parse(e.exportedAt))) throw new Error('exportedAt is not a date');
  let filters: Filters | null = null;
  if (e.filters !== null && e.filters !== undefined) {
    if (typeof e.filters !== 'object' || Array.isArray(e.filters)) throw new Error('filters must be an object or null');
    const f = e.filters as Record<string, unknown>;
    for (const [k, v] of Object.entries(f)) {
      if (!['include', 'exclude', 'files'].includes(k) || !isStringList(v)) throw new Error(`filters.${k} is not a list of strings`);
    }
    filters = canonicalFilters(f as Filters);
  }
  const record: ExportRecord = { repoId: e.repoId, type: e.type, rev: e.rev, filters, storePath: e.storePath, exportedAt: e.exportedAt };
  // Optional fields: kept when well-formed, dropped (not fatal) otherwise.
  if (typeof e.fileTreeHash === 'string' && TREE_HASH.test(e.fileTreeHash)) record.fileTreeHash = e.fileTreeHash;
  if (typeof e.endpoint === 'string' && /^https?:\/\/[^\s"\\]+$/.test(e.endpoint)) record.endpoint = e.endpoint;
  if (typeof e.publicKey === 'string' && /^[^:\s]+:[A-Za-z0-9+/]{43}=$/.test(e.publicKey)) record.publicKey = e.publicKey;
  return record;
}

/**
 * One record per selection: the newest export wins (on a tie, the later
 * slot of the index). Sorted by repo, then newest first.
 */
export function latestPerSelection(records: ExportRecord[]): ExportRecord[] {
  const best = new Map<string, ExportRecord>();
  for (const r of records) {
    const key = selectionKey(r);
    const cur = best.get(key);
    const newer = !cur || Date.parse(r.exportedAt) > Date.parse(cur.exportedAt) || (r.exportedAt === cur.exportedAt && (r.slot ?? -1) > (cur.slot ?? -1));
    if (newer) best.set(key, r);
  }
  return [...best.values()].sort((a, b) => a.repoId.localeCompare(b.repoId) || a.type.localeCompare(b.type) || Date.parse(b.exportedAt) - Date.parse(a.exportedAt));
}

/** The record for exactly this selection, if any. */
export function findExact<T extends ExportRecord>(records: T[], want: SnapshotKey): T | undefined {
  const key = selectionKey(want);
  return records.find((e) => selectionKey(e) === key);
}

/** Records of a repo (optionally at one commit), newest export first. */
export function entriesFor<T extends ExportRecord>(records: T[], repoId: string, type: RepoType, rev?: string): T[] {
  return records
    .filter((e) => e.repoId === repoId && e.type === type && (rev === undefined || e.rev === rev))
    .sort((a, b) => Date.parse(b.exportedAt) - Date.parse(a.exportedAt));
}
