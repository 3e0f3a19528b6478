/**
 * Shows the LFS downloads of a build: a live bar on a TTY (files, bytes,
 * rate, ETA), plain lines otherwise (one per finished file, and a heartbeat
 * so a long download is never silent), nothing with --quiet.
 */
import cliProgress from 'cli-progress';
import type { NixLogEvent } from '../nix/nix.js';
import { DownloadTracker, type DownloadState } from '../nix/progress.js';

export interface DownloadProgressOptions {
  files: number;
  bytes: number;
  stream: NodeJS.WriteStream;
  mode: 'bar' | 'lines' | 'quiet';
  formatBytes: (n: number) => string;
  /** Seconds between heartbeat lines in 'lines' mode. */
  heartbeatSeconds?: number;
  /** Called whenever the display writes (and every 250 ms while the bar is shown): stderr is not silent. */
  onOutput?: () => void;
}

/** The file path inside the repository, from a `…/resolve/REV/PATH` URL. */
export function pathFromResolveUrl(url: string): string {
  const m = /\/resolve\/[^/]+\/(.*)$/.exec(url);
  if (!m?.[1]) return url;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/** `42s`, `3m05s`, `1h02m`: how long until the download ends. */
export function formatDuration(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.round(seconds)) : 0;
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Rate and time left of a transfer, as shown: `–` while nothing has arrived
 * (a rate of 0 B/s and an infinite ETA say nothing true).
 */
export function transferRate(bytesDone: number, bytesTotal: number, seconds: number, formatBytes: (n: number) => string): { rate: string; eta: string } {
  if (bytesDone <= 0 || seconds <= 0) return { rate: '–', eta: '–' };
  const perSecond = bytesDone / seconds;
  return { rate: `${formatBytes(perSecond)}/s`, eta: formatDuration(Math.max(0, bytesTotal - bytesDone) / perSecond) };
}

export class DownloadProgress {
  private readonly tracker: DownloadTracker;
  private bar: cliProgress.SingleBar | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** When the first byte arrived: the wait before (Nix evaluating, asking caches) is not transfer time. */
  private firstByteAt: number | null = null;
  private started = false;
  private finished = false;

  constructor(private readonly opts: DownloadProgressOptions) {
    this.tracker = new DownloadTracker(opts.files, opts.bytes);
  }

  /**
   * Lines mode: the header line now. Bar mode: the bar appears with the
   * first download, so that what comes before it (Nix evaluating, asking
   * binary caches) can be said on lines of its own.
   */
  start(): void {
    if (this.opts.files === 0 || this.opts.mode === 'quiet') return;
    this.started = true;
    if (this.opts.mode === 'lines') {
      const fmt = this.opts.formatBytes;
      this.write(`downloading ${this.opts.files} LFS file(s), ${fmt(this.opts.bytes)}\n`);
      const every = (this.opts.heartbeatSeconds ?? 15) * 1000;
      this.heartbeat = setInterval(() => {
        const s = this.tracker.snapshot();
        const { rate, eta } = this.rate();
        this.write(`  … ${s.filesDone}/${s.filesTotal} files, ${fmt(s.bytesDone)}/${fmt(s.bytesTotal)}, ${rate}, ETA ${eta}\n`);
      }, every);
      this.heartbeat.unref();
    }
  }

  private write(text: string): void {
    this.opts.stream.write(text);
    this.opts.onOutput?.();
  }

  private showBar(): void {
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.opts.stream,
        format: 'downloading {bar} {files} files | {done}/{size} | {rate} | ETA {remaining}',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 8,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(1, this.opts.bytes), 0, this.payload());
    const onOutput = this.opts.onOutput;
    if (onOutput) {
      onOutput();
      this.heartbeat = setInterval(onOutput, 250);
      this.heartbeat.unref();
    }
  }

  private rate(): { rate: string; eta: string } {
    const s = this.tracker.snapshot();
    if (this.firstByteAt === null && s.bytesDone > 0) this.firstByteAt = Date.now();
    const seconds = this.firstByteAt === null ? 0 : Math.max(0.1, (Date.now() - this.firstByteAt) / 1000);
    return transferRate(s.bytesDone, s.bytesTotal, seconds, this.opts.formatBytes);
  }

  private payload(): Record<string, string> {
    const s = this.tracker.snapshot();
    const { rate, eta } = this.rate();
    return {
      files: `${s.filesDone}/${s.filesTotal}`,
      done: this.opts.formatBytes(s.bytesDone),
      size: this.opts.formatBytes(s.bytesTotal),
      rate,
      remaining: eta,
    };
  }

  onEvent(ev: NixLogEvent): void {
    this.show(this.tracker.onEvent(ev));
  }

  /** The CLI's own download of `url` (`key` names it): started, `done` bytes so far, finished. */
  transfer(key: string, url: string, change: { started: true; expected: number } | { done: number } | { finished: true }): void {
    if ('started' in change) {
      this.tracker.begin(key, url);
      this.show(this.tracker.advance(key, 0, change.expected));
    } else if ('done' in change) this.show(this.tracker.advance(key, change.done, NaN));
    else this.show(this.tracker.finish(key));
  }

  private show(changed: DownloadState | null): void {
    if (!changed || !this.started || this.finished) return;
    const s = this.tracker.snapshot();
    if (this.opts.mode === 'bar' && !this.bar) this.showBar();
    if (this.bar) {
      this.bar.setTotal(Math.max(1, s.bytesTotal));
      this.bar.update(s.bytesDone, this.payload());
      // Every file is in: the bar goes, and what Nix does next (assembling the snapshot) can be said.
      if (s.filesDone >= this.opts.files && s.active.length === 0) this.stop();
    } else if (this.opts.mode === 'lines' && changed.finished) {
      const size = this.opts.formatBytes(Math.max(changed.done, changed.expected));
      this.write(`  [${s.filesDone}/${s.filesTotal}] ${pathFromResolveUrl(changed.url)} (${size})\n`);
      if (s.filesDone >= this.opts.files && s.active.length === 0) this.stop();
    }
  }

  /** Ends the display (the bar is cleared); later events are ignored. */
  stop(): void {
    this.finished = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.bar?.stop();
    this.bar = null;
  }
}
