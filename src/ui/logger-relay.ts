/**
 * A Logger for work done in a worker thread: its lines and waits travel to
 * the main thread as messages, where `logRelay` hands them to the command's
 * own logger. So there is one display on stderr, one --debug, one set of
 * waits explained after a second of silence, and the redaction of the
 * command's secrets applies to the worker's lines too.
 */
import { redactTokens, type LogLevel, type Logger, type Wait } from './logger.js';

export type LogMessage =
  | { kind: 'info' | 'warn' | 'debug'; text: string }
  | { kind: 'touch' }
  | { kind: 'wait'; id: number; what: string }
  | { kind: 'wait-update'; id: number; what: string }
  | { kind: 'wait-done'; id: number };

/** The worker's side: a Logger whose every call becomes a message for `send`. */
export function messageLogger(send: (message: LogMessage) => void, level: LogLevel): Logger {
  const secrets = new Set<string>();
  // Redacted here already, so that a secret never crosses to the other thread in the clear.
  const redact = (text: string) => redactTokens(text, secrets);
  let nextWait = 0;
  return {
    level,
    debugEnabled: level === 'debug',
    info: (text) => send({ kind: 'info', text: redact(text) }),
    warn: (text) => send({ kind: 'warn', text: redact(text) }),
    // Sent only when asked for: --debug lines are per request.
    debug: (text) => {
      if (level === 'debug') send({ kind: 'debug', text: redact(text) });
    },
    addSecret: (secret) => void secrets.add(secret),
    redact,
    touch: () => send({ kind: 'touch' }),
    waitFor(what): Wait {
      const id = nextWait++;
      send({ kind: 'wait', id, what: redact(what) });
      return {
        update: (next) => send({ kind: 'wait-update', id, what: redact(next) }),
        done: () => send({ kind: 'wait-done', id }),
      };
    },
  };
}

/** The main thread's side: replays a worker's messages on `logger`; `close` ends the waits the worker left open. */
export function logRelay(logger: Logger): { relay(message: LogMessage): void; close(): void } {
  const waits = new Map<number, Wait>();
  return {
    relay(message) {
      switch (message.kind) {
        case 'info':
        case 'warn':
        case 'debug':
          logger[message.kind](message.text);
          return;
        case 'touch':
          logger.touch();
          return;
        case 'wait':
          waits.set(message.id, logger.waitFor(message.what));
          return;
        case 'wait-update':
          waits.get(message.id)?.update(message.what);
          return;
        case 'wait-done':
          waits.get(message.id)?.done();
          waits.delete(message.id);
          return;
      }
    },
    close() {
      for (const wait of waits.values()) wait.done();
      waits.clear();
    },
  };
}
