/**
 * The CLI's voice on stderr. Levels: `quiet` (warnings and errors only),
 * `normal`, `debug` (every HTTP request and nix command). Every line passes
 * through redaction: Hugging Face tokens (`hf_…`), any secret registered
 * with `addSecret` and the signatures of pre-signed URLs never reach the
 * terminal or a log file.
 *
 * Waits (`waitFor`) are never silent: when one has lasted a second with
 * nothing printed meanwhile, the logger says what it is waiting for.
 */
import { printable } from './text.js';
import type { Colors } from './color.js';
import { makeColors } from './color.js';

export type LogLevel = 'quiet' | 'normal' | 'debug';

export interface Logger {
  readonly level: LogLevel;
  readonly debugEnabled: boolean;
  /** Progress and results meant for people (hidden with --quiet). */
  info(message: string): void;
  /** Something the user should know even with --quiet (e.g. "both a model and a dataset exist"). */
  warn(message: string): void;
  /** Only with --debug. */
  debug(message: string): void;
  /** Never print this string (e.g. the configured token). */
  addSecret(secret: string): void;
  /** The same redaction, for text that goes elsewhere (e.g. an error message). */
  redact(text: string): string;
  /**
   * Starts a wait (a request, a nix process, a copy). If it lasts over a
   * second while nothing else is printed, `… WHAT` is printed (once per
   * text; again with the elapsed time every 30 s). The latest open wait is
   * the one described.
   */
  waitFor(what: string): Wait;
  /** Someone else (a progress display) just wrote to stderr: the user is not left in silence. */
  touch(): void;
}

export interface Wait {
  /** What is awaited now (e.g. the retry after a 503, the phase nix is in). */
  update(what: string): void;
  done(): void;
}

/** Silence longer than this is explained. */
export const WAIT_NOTICE_MS = 1000;
/** A wait still running is mentioned again after this long. */
const WAIT_REPEAT_MS = 30_000;

/** `hf_` followed by a token body; the real ones are 34+ characters, we redact from 8 on. */
const HF_TOKEN_RE = /hf_[A-Za-z0-9]{8,}/g;

/**
 * The query parameters that make a pre-signed URL (CloudFront: Expires, Policy, Signature, Key-Pair-Id;
 * S3/Xet: X-Amz-*): the Hub redirects private and gated files to such URLs, which open the file to anyone
 * who has one until it expires.
 */
const SIGNED_QUERY_RE = /([?&](?:X-Amz-[A-Za-z-]+|Signature|Policy|Key-Pair-Id|Expires)=)[^&#\s"'<>]+/gi;

/** The secrets of this run (the token nix-hug uses): every redaction hides them, whatever they look like. */
const runSecrets = new Set<string>();

/** Registers a secret for every redaction of this process: log lines, error reports, stack traces. */
export function registerSecret(secret: string): void {
  if (secret.length >= 4) runSecrets.add(secret);
}

export function redactTokens(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const s of [...runSecrets, ...secrets]) {
    if (s.length >= 4) out = out.split(s).join('***');
  }
  return out.replace(HF_TOKEN_RE, 'hf_***').replace(SIGNED_QUERY_RE, '$1***');
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (default: process.stderr). */
  write?: (line: string) => void;
  colors?: Colors;
  /** For tests: the clock and how often open waits are looked at. */
  now?: () => number;
  tickMs?: number;
}

interface OpenWait {
  what: string;
  since: number;
  /** The text last printed for it, and when. */
  said: string | null;
  saidAt: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'normal';
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const colors = options.colors ?? makeColors(false);
  const secrets = new Set<string>();
  const redact = (text: string) => redactTokens(text, secrets);
  // Embedded newlines are kept (multi-line notes); every other control character is escaped.
  const clean = (text: string) => redact(text.split('\n').map(printable).join('\n'));
  const now = options.now ?? Date.now;
  let lastOutput = now();
  const emit = (prefix: string, text: string) => {
    lastOutput = now();
    write(`${prefix}${clean(text)}\n`);
  };

  const waits: OpenWait[] = [];
  let ticker: NodeJS.Timeout | null = null;
  const tick = () => {
    const w = waits[waits.length - 1];
    if (!w) return;
    const t = now();
    // Said again when other lines came after it: the latest line on screen must be true.
    if ((w.said !== w.what || lastOutput > w.saidAt) && t - Math.max(w.since, lastOutput) >= WAIT_NOTICE_MS) {
      emit('', `… ${w.what}`);
      w.said = w.what;
      w.saidAt = lastOutput;
    } else if (w.said === w.what && t - lastOutput >= WAIT_REPEAT_MS) {
      emit('', `… ${w.what} (${Math.round((t - w.since) / 1000)} s so far)`);
      w.saidAt = lastOutput;
    }
  };
  const waitFor = (what: string): Wait => {
    const w: OpenWait = { what, since: now(), said: null, saidAt: 0 };
    if (level === 'quiet') return { update: () => undefined, done: () => undefined };
    waits.push(w);
    if (!ticker) {
      ticker = setInterval(tick, options.tickMs ?? 200);
      ticker.unref();
    }
    return {
      update(next) {
        if (next === w.what) return;
        w.what = next;
        w.since = now();
      },
      done() {
        const i = waits.indexOf(w);
        if (i >= 0) waits.splice(i, 1);
        if (waits.length === 0 && ticker) {
          clearInterval(ticker);
          ticker = null;
        }
      },
    };
  };
  return {
    level,
    debugEnabled: level === 'debug',
    info(message) {
      if (level !== 'quiet') emit('', message);
    },
    warn(message) {
      emit(`${colors.yellow('note:')} `, message);
    },
    debug(message) {
      if (level === 'debug') emit(colors.dim('debug: '), message);
    },
    addSecret(secret) {
      if (secret) secrets.add(secret);
    },
    redact,
    waitFor,
    touch() {
      lastOutput = now();
    },
  };
}

/** `promise`, with `what` said if it takes over a second in silence. */
export async function waiting<T>(logger: Logger, what: string, promise: Promise<T>): Promise<T> {
  const w = logger.waitFor(what);
  try {
    return await promise;
  } finally {
    w.done();
  }
}
