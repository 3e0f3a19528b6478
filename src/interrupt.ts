/**
 * Turns SIGINT/SIGTERM into an AbortSignal, so a long command stops its
 * child processes and removes its temporary files instead of dying mid-way.
 */
export interface Interrupt {
  signal: AbortSignal;
  /** Stops listening (call when the command is done). */
  dispose(): void;
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    process.exitCode = sig === 'SIGINT' ? 130 : 143;
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
