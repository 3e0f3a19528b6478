/**
 * Errors meant for users. The CLI prints `message` (one line) and `hint`
 * (what to do next) and exits with `exitCode`; a stack trace only with --debug.
 */
export class NixHugError extends Error {
  readonly exitCode: number = 1;
  constructor(
    message: string,
    /** What the user can do about it, printed after the message. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line input (exit code 2), found before any network request. */
export class UsageError extends NixHugError {
  override readonly exitCode: number = 2;
}

/** The user stopped the command (SIGINT/SIGTERM); temporary files were removed. */
export class InterruptedError extends NixHugError {
  /** 128 + the signal's number, as a shell reports it: set by interrupt.ts when the signal arrives. */
  static signalExitCode = 130;
  override readonly exitCode: number = InterruptedError.signalExitCode;
  constructor(what: string, hint = 'run the command again to continue') {
    super(`interrupted while ${what}; nothing was left half-done`, hint);
  }
}
