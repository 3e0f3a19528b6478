/**
 * `--debug` shows every command nix-hug runs (nix, nix-store, git…) as a
 * line a user can paste into a shell — with the variables nix-hug set for
 * it — and, when it ends, its exit code and how long it took. Lines go
 * through the logger, so tokens (e.g. in a git `http.extraHeader`) are
 * redacted like everywhere else.
 */
import type { Logger } from './logger.js';

let logger: Logger | null = null;

/** Commands are traced to this logger's debug level from now on (null: not at all). */
export function traceCommandsTo(target: Logger | null): void {
  logger = target?.debugEnabled ? target : null;
}

/** A word as a POSIX shell reads it back: bare when safe, else quoted (`$'…'` for control characters). */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(word)) {
    const body = word.replace(/[\\']/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f]/g, (c) => {
      const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
      return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    });
    return `$'${body}'`;
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The variables of `env` that differ from this process's own: what nix-hug set for the command. */
function changedVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v !== undefined && process.env[k] !== v)
    .map(([k, v]) => `${k}=${shellWord(v ?? '')}`);
}

/** The command line as `VAR=value … cmd args…`. */
export function commandLine(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): string {
  return [...(env ? changedVariables(env) : []), ...[cmd, ...args].map(shellWord)].join(' ');
}

let sequence = 0;

export interface CommandTrace {
  /** It ended, with its exit code (null when it was killed or could not start). */
  end(code: number | null, signal?: NodeJS.Signals | null): void;
}

const NOT_TRACED: CommandTrace = { end: () => undefined };

/** Call when a command starts. */
export function traceCommand(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): CommandTrace {
  const log = logger;
  if (!log) return NOT_TRACED;
  const started = Date.now();
  // Commands run side by side (one nix per core): the number pairs each start with its end.
  const id = ++sequence;
  log.debug(`[${id}] $ ${commandLine(cmd, args, env)}`);
  return {
    end(code, signal) {
      const seconds = ((Date.now() - started) / 1000).toFixed(2);
      const how = code !== null ? `exit ${code}` : signal ? `killed by ${signal}` : 'did not start';
      log.debug(`[${id}] ${cmd}: ${how} after ${seconds} s`);
    },
  };
}
