/**
 * The figures `npm run reliability` prints: what each hardening suite did
 * and survived, written only after the assertions behind them passed.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** What a suite did and survived; summed over every suite by scripts/reliability.ts. */
export interface Figures {
  /** Faulty responses the emulator served (503, 429, dropped, stalled, wrong bytes, Hub gone). */
  faultsInjected?: number;
  /** Fault scenarios that ended well: success after retries, or one clear error with nothing half-done. */
  faultScenariosSurvived?: number;
  faultScenarios?: number;
  /** Malformed invocations tried through the CLI. */
  badInputs?: number;
  /** Generated inputs checked by property tests. */
  generatedInputs?: number;
  /** Hostile repositories fetched or refused. */
  hostileRepos?: number;
  /** Canary files that would exist had a name or value been executed, checked absent. */
  canariesIntact?: number;
  /** Places the token was looked for (outputs, files and file names, store paths, logs) and not found. */
  secretChecks?: number;
  /** Process command lines read (all of /proc, polled while commands ran) without the token. */
  commandLinesRead?: number;
  /** Commands run with a token and --debug. */
  secretCommands?: number;
  /** Interruptions (SIGINT/SIGTERM) after which the command exited promptly, clean, and a re-run worked. */
  interruptions?: number;
  /** Concurrent runs that raced without loss. */
  concurrentRuns?: number;
  /** HF_ENDPOINT values refused before any request. */
  endpointTricks?: number;
  /** Builds in which git sent the token to the Hub and not to another git host. */
  tokenScopes?: number;
  /** Commands that matched many-star patterns against near-matching names in seconds. */
  regexBombs?: number;
}

/**
 * Adds to this suite's figures (a JSON line per call in
 * $NIX_HUG_RELIABILITY_DIR, which `npm run reliability` sets); a no-op
 * otherwise. Call it after the assertions that establish the numbers.
 */
export function record(suite: string, figures: Figures): void {
  const dir = process.env.NIX_HUG_RELIABILITY_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${suite}-${process.pid}.jsonl`), JSON.stringify({ suite, ...figures }) + '\n');
}
