/**
 * ANSI colours, only where a human reads them: on a TTY and never when
 * NO_COLOR is set (https://no-color.org: any non-empty value).
 */
export interface Colors {
  enabled: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** Whether the environment allows colours at all: NO_COLOR unset (or empty) and TERM not `dumb`. */
export function colorAllowed(env: NodeJS.ProcessEnv): boolean {
  return (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

/** Colours on this stream: allowed by the environment, and a terminal reads it. */
export function colorsEnabled(stream: { isTTY?: boolean }, allowed: boolean): boolean {
  return allowed && stream.isTTY === true;
}

export function makeColors(enabled: boolean): Colors {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled,
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}
