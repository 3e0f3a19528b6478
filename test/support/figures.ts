/**
 * The figures `npm run reliability` prints: what each hardening suite tried,
 * what passed, and what was observed — each written by the test itself, a
 * case as tried when it starts and as passed only once its assertions have
 * passed, so a failing case shows ("15 of 16") instead of vanishing.
 *
 * Each call appends a JSON line to $NIX_HUG_RELIABILITY_DIR (set by
 * `npm run reliability`); without it they do nothing.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Cases, counted as tried and as passed. */
export interface CaseFigures {
  /** Fault scenarios: success after bounded retries, or one clear error with nothing half-done. */
  faultScenarios?: number;
  /** Malformed invocations through the CLI. */
  badInputs?: number;
  /** Generated inputs of property tests. */
  generatedInputs?: number;
  /** Hostile repositories fetched exactly or refused. */
  hostileRepos?: number;
  /** Symlink loops in a repository copied out with --out. */
  symlinkLoops?: number;
  /** Canary files that would exist had a name or value been executed. */
  canaries?: number;
  /** Places the token was looked for (outputs, files and file names, store paths, logs). */
  secretChecks?: number;
  /** Interruptions (SIGINT/SIGTERM) in every phase. */
  interruptions?: number;
  /** Concurrent runs that must race without loss. */
  concurrentRuns?: number;
  /** HF_ENDPOINT values a URL parser would rewrite. */
  endpointTricks?: number;
  /** Builds where git must send the token to the Hub and not to another git host. */
  tokenScopes?: number;
  /** Commands matching many-star patterns against near-matching names. */
  regexBombs?: number;
}

/** Quantities observed while cases ran (summed). */
export interface ObservedFigures {
  /** Faulty responses the emulator served (its request log), or connection attempts refused. */
  faultsInjected?: number;
  /** Process command lines read (all of /proc, polled while commands ran). */
  commandLinesRead?: number;
  /** Commands run with a token and --debug. */
  secretCommands?: number;
}

/** The largest value seen of each. */
export interface SlowestFigures {
  /** Milliseconds from a signal to the CLI's exit, less the time the CLI waited for a CPU. */
  interruptMs?: number;
  /** The same signal's wall-clock milliseconds. */
  interruptWallMs?: number;
}

export type Figures = CaseFigures & ObservedFigures & SlowestFigures;
export type Phase = 'tried' | 'passed' | 'observed' | 'slowest';

/** One line of the figures file. */
export interface FigureLine {
  suite: string;
  phase: Phase;
  figures: Figures;
}

function write(suite: string, phase: Phase, figures: Figures): void {
  const dir = process.env.NIX_HUG_RELIABILITY_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${suite}-${process.pid}.jsonl`), JSON.stringify({ suite, phase, figures } satisfies FigureLine) + '\n');
}

/**
 * Counts `n` cases of `figure` as tried now, and returns what counts them as
 * passed: call it after their assertions (with fewer when only some passed).
 */
export function attempt(suite: string, figure: keyof CaseFigures, n = 1): (passed?: number) => void {
  write(suite, 'tried', { [figure]: n });
  return (passed = n) => write(suite, 'passed', { [figure]: passed });
}

/** Adds observed quantities, once the assertions that establish them have passed. */
export function observed(suite: string, figures: ObservedFigures): void {
  write(suite, 'observed', figures);
}

/** Keeps the largest value of each, once the assertions behind it have passed. */
export function slowest(suite: string, figures: SlowestFigures): void {
  write(suite, 'slowest', figures);
}
