/**
 * Turns SIGINT/SIGTERM into an AbortSignal, so a long command stops its
 * child processes and removes its temporary files instead of dying mid-way.
 */
import { InterruptedError } from './errors.js';

export interface Interrupt {
  signal: AbortSignal;
  /** Stops listening (call when the command is done). */
  dispose(): void;
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    InterruptedError.signalExitCode = sig === 'SIGTERM' ? 143 : 130;
    process.exitCode = InterruptedError.signalExitCode;
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    },
  };
}
