/**
 * Follows LFS downloads: those of a `nix build` from its internal-json log,
 * and the CLI's own (told directly): which files started, how many bytes
 * arrived, which finished. Pure state; rendering is the UI's job.
 */
import type { NixLogEvent } from './nix.js';

/** Nix's activity and result type numbers (src/libutil/logging.hh). */
const ACT_FILE_TRANSFER = 101;
const RES_PROGRESS = 105;

export interface DownloadState {
  url: string;
  done: number;
  expected: number;
  finished: boolean;
}

export interface ProgressSnapshot {
  /** Files whose download finished. */
  filesDone: number;
  /** Files the build is expected to download (known in advance from the listing). */
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Downloads under way right now. */
  active: DownloadState[];
}

export class DownloadTracker {
  private readonly downloads = new Map<number | string, DownloadState>();
  private finishedBytes = 0;
  private finishedFiles = 0;

  constructor(
    /** Files and bytes to expect (LFS files not yet in the store). */
    private readonly expectedFiles: number,
    private readonly expectedBytes: number,
    /** Which transfers count: by default LFS `resolve` downloads. */
    private readonly counts: (url: string) => boolean = (url) => url.includes('/resolve/'),
  ) {}

  /** Feeds one log event; returns the download it changed (`finished` once it stopped), or null. */
  onEvent(ev: NixLogEvent): DownloadState | null {
    if (ev.action === 'start' && ev.type === ACT_FILE_TRANSFER && typeof ev.id === 'number') {
      return this.begin(ev.id, String(ev.fields?.[0] ?? ''));
    }
    if (typeof ev.id !== 'number') return null;
    if (ev.action === 'result' && ev.type === RES_PROGRESS) return this.advance(ev.id, Number(ev.fields?.[0] ?? NaN), Number(ev.fields?.[1] ?? NaN));
    if (ev.action === 'stop') return this.finish(ev.id);
    return null;
  }

  /** A transfer of `url` started (`key`: Nix's activity id, or the CLI's own name for it). */
  begin(key: number | string, url: string): DownloadState | null {
    if (!this.counts(url)) return null;
    const d = { url, done: 0, expected: 0, finished: false };
    this.downloads.set(key, d);
    return d;
  }

  /** `done` of `expected` bytes have arrived (a number that is not one leaves the value as it was). */
  advance(key: number | string, done: number, expected: number): DownloadState | null {
    const d = this.downloads.get(key);
    if (!d) return null;
    if (Number.isFinite(done)) d.done = done;
    if (Number.isFinite(expected)) d.expected = expected;
    return d;
  }

  finish(key: number | string): DownloadState | null {
    const d = this.downloads.get(key);
    if (!d) return null;
    d.finished = true;
    this.finishedFiles++;
    this.finishedBytes += Math.max(d.done, d.expected);
    this.downloads.delete(key);
    return d;
  }

  snapshot(): ProgressSnapshot {
    const active = [...this.downloads.values()];
    const activeBytes = active.reduce((n, d) => n + d.done, 0);
    return {
      filesDone: this.finishedFiles,
      filesTotal: Math.max(this.expectedFiles, this.finishedFiles + active.length),
      bytesDone: this.finishedBytes + activeBytes,
      bytesTotal: Math.max(this.expectedBytes, this.finishedBytes + activeBytes),
      active,
    };
  }
}
