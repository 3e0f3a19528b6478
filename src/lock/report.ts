/**
 * What `outdated` and `update` print: one line per entry on stdout (or one
 * JSON document), in the lock's order —
 *
 *   gpt2        unchanged 3f1c2a9 (main)
 *   tiny-llama  3f1c2a9 → 8b7d6e5 (main): 2 LFS files differ, 1.20 MB
 *   squad       pinned 1a2b3c4 (a commit: nothing to follow)
 *   old-model   gone: model acme/old is gone from https://huggingface.co …
 */
import type { NixHugError } from '../errors.js';
import type { Colors } from '../ui/color.js';
import { humanSize } from '../ui/size.js';
import { printable } from '../ui/text.js';
import type { EntryState, LfsChange } from './check.js';
import type { LockEntry } from './format.js';

export type ReportState = EntryState['kind'];

/** One entry in `--json`. */
export interface EntryReport {
  name: string;
  type: LockEntry['type'];
  repoId: string;
  ref: string | null;
  /** The recorded commit (before an update). */
  rev: string;
  state: ReportState;
  /** The commit the ref names now (moved entries). */
  newRev: string | null;
  /** Selected LFS files the new commit has that the old one had not, and their bytes (moved entries). */
  lfsFiles: number | null;
  lfsBytes: number | null;
  /** `update`: the entry was rewritten in the lock. */
  updated?: boolean;
  /** `update`: the built snapshot (null with --no-build or when nothing was built). */
  storePath?: string | null;
  error: { message: string; hint: string | null } | null;
}

export function entryReport(entry: LockEntry, state: EntryState, change: LfsChange | null = null): EntryReport {
  const error = state.kind === 'gone' || state.kind === 'failed' ? { message: state.error.message, hint: state.error.hint ?? null } : null;
  return {
    name: entry.name,
    type: entry.type,
    repoId: entry.repoId,
    ref: entry.ref,
    rev: entry.rev,
    state: state.kind,
    newRev: state.kind === 'moved' ? state.rev : null,
    lfsFiles: change?.files ?? null,
    lfsBytes: change?.bytes ?? null,
    error,
  };
}

/** A failure met while updating a moved entry: the entry becomes 'failed' with it. */
export function failedReport(report: EntryReport, error: NixHugError): EntryReport {
  return { ...report, state: 'failed', error: { message: error.message, hint: error.hint ?? null } };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The line for one entry, its name padded to `width`. */
export function reportLine(r: EntryReport, width: number, c: Colors): string {
  const name = printable(r.name).padEnd(width);
  const ref = r.ref === null ? '' : ` (${printable(r.ref)})`;
  const rev7 = r.rev.slice(0, 7);
  switch (r.state) {
    case 'unchanged':
      return `${name}  ${c.dim('unchanged')} ${rev7}${ref}`;
    case 'pinned':
      return `${name}  ${c.dim('pinned')} ${rev7} (a commit: nothing to follow)`;
    case 'moved': {
      const lfs = r.lfsFiles === null ? '' : r.lfsFiles === 0 ? ': no LFS file differs' : `: ${plural(r.lfsFiles, 'LFS file')} ${r.lfsFiles === 1 ? 'differs' : 'differ'}, ${humanSize(r.lfsBytes ?? 0)}`;
      return `${name}  ${c.yellow(`${rev7} → ${(r.newRev ?? '').slice(0, 7)}`)}${ref}${lfs}`;
    }
    case 'gone':
    case 'failed':
      return `${name}  ${c.red(r.state)}: ${printable(r.error?.message ?? '')}`;
  }
}

/** The width names are padded to. */
export function nameWidth(entries: readonly { name: string }[]): number {
  return Math.max(0, ...entries.map((e) => printable(e.name).length));
}

/** Counts for the closing line on stderr. */
export function summary(reports: readonly EntryReport[], movedWord: string): string {
  const count = (s: ReportState) => reports.filter((r) => r.state === s).length;
  const parts = [
    `${count('moved')} ${movedWord}`,
    `${count('unchanged')} unchanged`,
    count('pinned') > 0 ? `${count('pinned')} pinned` : '',
    count('gone') > 0 ? `${count('gone')} gone` : '',
    count('failed') > 0 ? `${count('failed')} failed` : '',
  ].filter((p) => p !== '');
  return `${plural(reports.length, 'entry').replace(/entrys$/, 'entries')}: ${parts.join(', ')}`;
}
