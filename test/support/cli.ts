/**
 * Running the built CLI (`node dist/bin.cjs`, package.json's `bin`) the way a user runs it: a real
 * process, real pipes, an exit code; in a clean environment of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchJson } from '../../src/commands/fetch.ts';
import { CLI } from './paths.ts';
import { run, type Ran } from './process.ts';

/** Fails loudly (not skips) when the build is missing. */
export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

/** A clean environment: no token anywhere, fast retries, a HOME of its own. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): { env: NodeJS.ProcessEnv; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), 'nix-hug-cli-home-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_CONFIG_HOME: join(home, '.config'),
    NIX_HUG_MAX_RETRIES: '2',
    NIX_HUG_RETRY_BASE_MS: '5',
    NIX_HUG_RETRY_MAX_DELAY_MS: '20',
    NIX_HUG_HTTP_TIMEOUT_MS: '10000',
    // Who downloads public files follows the Nix and the machine's cores (auto); a test run may force one for every CLI.
    ...(process.env.NIX_HUG_DOWNLOADER ? { NIX_HUG_DOWNLOADER: process.env.NIX_HUG_DOWNLOADER } : {}),
    ...extra,
  };
  return { env, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/**
 * Preloaded into the CLI (`node --import`): at exit, writes the process's own
 * peak RSS (getrusage, KiB) to NIX_HUG_BENCH_RSS_FILE. Only this process: the
 * `nix` it spawns is a separate process with its own memory.
 */
const RSS_PROBE =
  'data:text/javascript,' +
  encodeURIComponent(
    "import{writeFileSync}from'node:fs';" +
      "process.on('exit',()=>{const f=process.env.NIX_HUG_BENCH_RSS_FILE;if(f)writeFileSync(f,String(process.resourceUsage().maxRSS))});",
  );

export interface CliRun extends Ran {
  /** Peak RSS of the CLI process in bytes, when asked for. */
  peakRss?: number;
}

export interface CliRunOptions {
  /** Measure the CLI process's peak RSS, through a file in this directory. */
  rssDir?: string;
  /** Keep only the first N bytes of stderr. */
  stderrLimit?: number;
  /** The folder the CLI runs in (default: the repository's root). */
  cwd?: string;
}

/**
 * Where a test's CLI runs: its temporary HOME (fetch makes its `./result`
 * link there, never in the checkout), else the system's temp folder.
 */
export function cliCwd(env: NodeJS.ProcessEnv): string {
  return env.HOME && existsSync(env.HOME) && env.HOME.startsWith(tmpdir()) ? env.HOME : tmpdir();
}

/** Runs `node dist/bin.cjs ARGS` to completion, in `cliCwd(env)`; never throws on a non-zero exit. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, opts: CliRunOptions = {}): Promise<CliRun> {
  const limit = { cwd: opts.cwd ?? cliCwd(env), ...(opts.stderrLimit === undefined ? {} : { stderrLimit: opts.stderrLimit }) };
  if (opts.rssDir === undefined) return run(process.execPath, [CLI, ...args], env, limit);
  const file = join(opts.rssDir, `rss-${process.pid}-${Date.now()}`);
  const r = await run(process.execPath, ['--import', RSS_PROBE, CLI, ...args], { ...env, NIX_HUG_BENCH_RSS_FILE: file }, limit);
  let peakRss: number | undefined;
  try {
    peakRss = Number(readFileSync(file, 'utf8')) * 1024;
  } catch {
    peakRss = undefined;
  }
  rmSync(file, { force: true });
  return peakRss === undefined ? r : { ...r, peakRss };
}

/** `nix-hug fetch ARGS --json`, which must succeed: its output, its talk, and how long it took. */
export async function fetchJson(args: string[], env: NodeJS.ProcessEnv): Promise<{ out: FetchJson; stderr: string; ms: number }> {
  const r = await runCli(['fetch', ...args, '--json'], env);
  if (r.code !== 0) throw new Error(`nix-hug fetch ${args.join(' ')} --json exited ${r.code}:\n${r.stderr}`);
  return { out: JSON.parse(r.stdout) as FetchJson, stderr: r.stderr, ms: Math.round(r.seconds * 1000) };
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves when the process has exited and its pipes closed. `at`: when it
   * exited (a child it left behind may hold the pipes open longer: that is
   * checked on its own, not counted as the CLI's time).
   */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts the built CLI; the caller decides when (and whether) to signal it. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd: cliCwd(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let exitedAt = 0;
  child.on('exit', () => (exitedAt = Date.now()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, at: exitedAt || Date.now() })),
  );
  return { child, stdout: () => out, stderr: () => err, done };
}

/** How long a process took to exit after a signal. */
export interface SignalTiming {
  /** Wall clock, from the signal to the exit. */
  wallMs: number;
  /** Of that, the time the process sat ready to run with no CPU free (from /proc/PID/schedstat). */
  cpuWaitMs: number;
  /** wallMs − cpuWaitMs: what the process itself took — sleeping, waiting for a child, or running. */
  ownMs: number;
}

/** Nanoseconds `pid` has spent waiting on a run queue, or null once it is gone. */
function runQueueNs(pid: number): number | null {
  try {
    const wait = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(wait) ? wait : null;
  } catch {
    return null;
  }
}

/**
 * Sends `signal` and times the exit. On a machine whose run queue is longer
 * than its cores (this project's shared 2-core VM runs at load 20–40 when
 * several engineers test at once), wall time stretches by the wait for a CPU;
 * `ownMs` leaves that wait out — and only that: time spent sleeping, waiting
 * on a child or a socket, or computing still counts. The wait is read
 * before the signal and every 5 ms until the exit (what accrues after the
 * last read is counted against the process, never for it).
 */
export async function signalAndTime(run: Running, signal: NodeJS.Signals): Promise<SignalTiming> {
  const pid = run.child.pid!;
  const first = runQueueNs(pid);
  let last = first;
  const poll = setInterval(() => {
    const w = runQueueNs(pid);
    if (w !== null) last = w;
  }, 5);
  const sent = Date.now();
  run.child.kill(signal);
  const end = await run.done;
  clearInterval(poll);
  const wallMs = end.at - sent;
  const cpuWaitMs = first !== null && last !== null ? Math.max(0, Math.round((last - first) / 1e6)) : 0;
  return { wallMs, cpuWaitMs, ownMs: wallMs - cpuWaitMs };
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

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
