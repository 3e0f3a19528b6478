/**
 * Follows the LFS downloads of a `nix build` from its internal-json log:
 * which files started, how many bytes arrived, which finished. Pure state;
 * rendering is the UI's job.
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
  private readonly downloads = new Map<number, DownloadState>();
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
      const url = String(ev.fields?.[0] ?? '');
      if (!this.counts(url)) return null;
      const d = { url, done: 0, expected: 0, finished: false };
      this.downloads.set(ev.id, d);
      return d;
    }
    if (typeof ev.id !== 'number') return null;
    const d = this.downloads.get(ev.id);
    if (!d) return null;
    if (ev.action === 'result' && ev.type === RES_PROGRESS) {
      d.done = Number(ev.fields?.[0] ?? d.done);
      d.expected = Number(ev.fields?.[1] ?? d.expected);
      return d;
    }
    if (ev.action === 'stop') {
      d.finished = true;
      this.finishedFiles++;
      this.finishedBytes += Math.max(d.done, d.expected);
      this.downloads.delete(ev.id);
      return d;
    }
    return null;
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
