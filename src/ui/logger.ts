/**
 * The CLI's voice on stderr. Levels: `quiet` (warnings and errors only),
 * `normal`, `debug` (every HTTP request and nix command). Every line passes
 * through redaction: Hugging Face tokens (`hf_…`), any secret registered
 * with `addSecret` and the signatures of pre-signed URLs never reach the
 * terminal or a log file.
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
}

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
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'normal';
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const colors = options.colors ?? makeColors(false);
  const secrets = new Set<string>();
  const redact = (text: string) => redactTokens(text, secrets);
  // Embedded newlines are kept (multi-line notes); every other control character is escaped.
  const clean = (text: string) => redact(text.split('\n').map(printable).join('\n'));
  const emit = (prefix: string, text: string) => write(`${prefix}${clean(text)}\n`);
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
  };
}
