/**
 * Shared by the hardening suites: an environment for the built CLI with real
 * Nix and a private TMPDIR (so leftovers are ours to count), a spawned CLI
 * that can be interrupted, the "nothing half-done" checks, and the figures
 * `npm run reliability` prints (written only after the assertions behind
 * them passed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, cliEnv } from '../cli/helpers.ts';
import { nixTestEnv } from '../helpers/nix-env.ts';
import { STUB_DIR } from '../helpers/nix-lib.ts';
import { capture } from '../../src/nix/nix.ts';

/** Unique per test process: seeds LFS contents and names, so nothing is already in the shared Nix store. */
export const RUN = randomBytes(6).toString('hex');

/** An LFS file of `size` bytes no other run has. */
export const seeded = (name: string, size: number) => ({ lfs: { size, seed: `hardening-${RUN}-${name}` } });

export interface Sandbox {
  /** For the CLI: fresh HOME/XDG dirs, fast retries, Nix without substituters, a private TMPDIR. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  home: string;
  tmp: string;
  /** Nix's own environment (fresh fetcher cache), for checks with `nix-store`. */
  nixEnv: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A user of the CLI against `hubUrl`; every call to env() shares HOME, caches and TMPDIR. */
export function sandbox(hubUrl: () => string, base: NodeJS.ProcessEnv = {}): Sandbox {
  const cli = cliEnv();
  const nix = nixTestEnv();
  const tmp = mkdtempSync(join(tmpdir(), 'nix-hug-hardening-tmp-'));
  // Nix makes its build directories in TMPDIR for the nixbld users: they must be able to enter it.
  chmodSync(tmp, 0o755);
  return {
    env: (extra = {}) => ({
      ...cli.env,
      NIX_CONFIG: nix.env.NIX_CONFIG,
      XDG_CACHE_HOME: nix.env.XDG_CACHE_HOME,
      TMPDIR: tmp,
      HF_ENDPOINT: hubUrl(),
      NIX_HUG_NIXPKGS: STUB_DIR,
      ...base,
      ...extra,
    }),
    home: cli.env.HOME!,
    tmp,
    nixEnv: nix.env,
    cleanup() {
      cli.cleanup();
      nix.cleanup();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** What nix-hug and Nix leave in TMPDIR while they work; none of it may outlive a run. */
export function tmpLeftovers(tmp: string): string[] {
  if (!existsSync(tmp)) return [];
  return readdirSync(tmp).filter((n) => /^nix-hug-(build|blobs)-|^nix-build-/.test(n));
}

/** `.DIR.nix-hug-tmp-*` / `-old-*` siblings of an `--out` directory. */
export function outSiblings(out: string): string[] {
  const parent = dirname(out);
  if (!existsSync(parent)) return [];
  const prefix = `.${basename(out)}.nix-hug-`;
  return readdirSync(parent).filter((n) => n.startsWith(prefix));
}

export async function isValidPath(env: NodeJS.ProcessEnv, path: string): Promise<boolean> {
  return (await capture('nix-store', ['--check-validity', path], env)).code === 0;
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited and its pipes closed. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts the built CLI; the test decides when (and whether) to signal it. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Polls `check` every 10 ms until it returns a value, for at most `ms`. */
export async function waitFor<T>(what: string, check: () => T | null | undefined | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = check();
    if (v) return v;
    await sleep(10);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The CLI's error report: exactly one `nix-hug: error:` line, at most one `hint:` line, no stack trace. */
export function oneErrorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('nix-hug: error:') || l.startsWith('hint:') || /^\s+at /.test(l));
  const errors = lines.filter((l) => l.startsWith('nix-hug: error:'));
  if (errors.length !== 1) throw new Error(`expected one error line, got ${errors.length}:\n${stderr}`);
  if (lines.some((l) => /^\s+at /.test(l))) throw new Error(`stack trace in:\n${stderr}`);
  const last = stderr.trimEnd().split('\n');
  const tail = last.slice(last.findIndex((l) => l.startsWith('nix-hug: error:')));
  if (tail.length > 2 || (tail.length === 2 && !tail[1]!.startsWith('hint: '))) throw new Error(`lines after the error:\n${stderr}`);
  return errors[0]!;
}

// ---- figures for `npm run reliability` -------------------------------------

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
