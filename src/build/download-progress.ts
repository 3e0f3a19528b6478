/**
 * Shows the LFS downloads of a build: a live bar on a TTY (files, bytes,
 * rate, ETA), plain lines otherwise (one per finished file, and a heartbeat
 * so a long download is never silent), nothing with --quiet.
 */
import cliProgress from 'cli-progress';
import type { NixLogEvent } from '../nix/nix.js';
import { DownloadTracker } from '../nix/progress.js';

export interface DownloadProgressOptions {
  files: number;
  bytes: number;
  stream: NodeJS.WriteStream;
  mode: 'bar' | 'lines' | 'quiet';
  formatBytes: (n: number) => string;
  /** Seconds between heartbeat lines in 'lines' mode. */
  heartbeatSeconds?: number;
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

export class DownloadProgress {
  private readonly tracker: DownloadTracker;
  private bar: cliProgress.SingleBar | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly started = Date.now();

  constructor(private readonly opts: DownloadProgressOptions) {
    this.tracker = new DownloadTracker(opts.files, opts.bytes);
  }

  start(): void {
    if (this.opts.files === 0 || this.opts.mode === 'quiet') return;
    const fmt = this.opts.formatBytes;
    if (this.opts.mode === 'bar') {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.opts.stream,
          format: 'downloading {bar} {files} files | {done}/{size} | {rate} | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
          fps: 8,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(1, this.opts.bytes), 0, this.payload());
    } else {
      this.opts.stream.write(`downloading ${this.opts.files} LFS file(s), ${fmt(this.opts.bytes)}\n`);
      const every = (this.opts.heartbeatSeconds ?? 15) * 1000;
      this.heartbeat = setInterval(() => {
        const s = this.tracker.snapshot();
        this.opts.stream.write(`  … ${s.filesDone}/${s.filesTotal} files, ${fmt(s.bytesDone)}/${fmt(s.bytesTotal)}, ${this.rate()}\n`);
      }, every);
      this.heartbeat.unref();
    }
  }

  private rate(): string {
    const secs = (Date.now() - this.started) / 1000;
    const s = this.tracker.snapshot();
    return secs > 0 ? `${this.opts.formatBytes(s.bytesDone / secs)}/s` : '';
  }

  private payload(): Record<string, string> {
    const s = this.tracker.snapshot();
    return {
      files: `${s.filesDone}/${s.filesTotal}`,
      done: this.opts.formatBytes(s.bytesDone),
      size: this.opts.formatBytes(s.bytesTotal),
      rate: `${this.rate()}`,
    };
  }

  onEvent(ev: NixLogEvent): void {
    const changed = this.tracker.onEvent(ev);
    if (!changed) return;
    const s = this.tracker.snapshot();
    if (this.bar) {
      this.bar.setTotal(Math.max(1, s.bytesTotal));
      this.bar.update(s.bytesDone, this.payload());
    } else if (this.opts.mode === 'lines' && changed.finished) {
      const size = this.opts.formatBytes(Math.max(changed.done, changed.expected));
      this.opts.stream.write(`  [${s.filesDone}/${s.filesTotal}] ${pathFromResolveUrl(changed.url)} (${size})\n`);
    }
  }

  stop(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.bar?.stop();
    this.bar = null;
  }
}
