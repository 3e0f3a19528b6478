/**
 * Turns SIGINT/SIGTERM into an AbortSignal, so a long command stops its
 * child processes and removes its temporary files instead of dying mid-way.
 *
 * A signal is process-wide, and so is its AbortSignal: while a command has
 * one installed, every Hub request, retry back-off and child process
 * (`capture`, `nixBuild`) stops on it, also in steps that were not handed it
 * and in steps that start after it fired.
 */
import { InterruptedError } from './errors.js';

export interface Interrupt {
  signal: AbortSignal;
  /** Aborts `signal` as a signal would, for another reason (the exit code stays the command's). */
  abort(reason: Error): void;
  /** Stops listening (call when the command is done). */
  dispose(): void;
}

let active: AbortController | null = null;

function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    InterruptedError.signalExitCode = sig === 'SIGTERM' ? 143 : 130;
    process.exitCode = InterruptedError.signalExitCode;
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  active = controller;
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose() {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
      if (active === controller) active = null;
    },
  };
}

/** `signal`, aborted also when the running command is interrupted (undefined when there is neither). */
export function withInterrupt(signal?: AbortSignal): AbortSignal | undefined {
  const interrupt = active?.signal;
  if (!interrupt || interrupt === signal) return signal;
  if (!signal) return interrupt;
  // AbortSignal.any holds its sources weakly: no listener piles up on the long-lived interrupt signal.
  return AbortSignal.any([signal, interrupt]);
}

/** What a command's steps see while it runs under `interruptible`. */
export interface Steps {
  /** Aborted by SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Starts the next step (named for the message if a signal stops it); throws if a signal came meanwhile. */
  step(what: string): void;
  /**
   * Ends the command with `err`, which work running beside the steps found
   * (a missing Nix): everything the command began stops as on a signal
   * (requests, child processes), and `err`, not an interrupt, is what it throws.
   */
  fail(err: Error): void;
}

/**
 * Runs a command's work with SIGINT/SIGTERM handled: a signal aborts
 * `signal` (and every request and child process of the command, see
 * `withInterrupt`), and whatever the work then throws — or the next `step`
 * — becomes one "interrupted while <step>" error with the shell's exit code.
 */
export async function interruptible<T>(first: string, work: (steps: Steps) => Promise<T>): Promise<T> {
  const interrupt = onInterrupt();
  let current = first;
  let failure: Error | null = null;
  const steps: Steps = {
    signal: interrupt.signal,
    step(what) {
      if (interrupt.signal.aborted) throw failure ?? new InterruptedError(current);
      current = what;
    },
    fail(err) {
      if (interrupt.signal.aborted) return;
      failure = err;
      interrupt.abort(err);
    },
  };
  try {
    const result = await work(steps);
    if (failure) throw failure;
    return result;
  } catch (err) {
    if (failure) throw failure;
    if (interrupt.signal.aborted && !(err instanceof InterruptedError)) throw new InterruptedError(current);
    throw err;
  } finally {
    interrupt.dispose();
  }
}
