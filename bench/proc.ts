/**
 * Running and timing child processes. Everything runs asynchronously: the
 * Hub emulator lives in the bench's own event loop, and a synchronous spawn
 * would stall it (and the measurement with it).
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const CLI = join(REPO_ROOT, 'dist', 'cli.js');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock seconds from spawn to exit. */
  seconds: number;
}

const TIMEOUT_MS = 30 * 60_000;

/** Runs a program to completion and times it; never throws on a non-zero exit. */
export function run(program: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(program, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let errBytes = 0;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      // Keep the head and the tail of long logs: enough to explain a failure.
      errBytes += b.length;
      if (errBytes < 1 << 20) err.push(b);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${program}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds,
      });
    });
  });
}

/** Fails with the command's output when it did not succeed. */
export function ok(r: Ran, what: string): Ran {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr.slice(-4000)}${r.stdout.slice(-2000)}`);
  return r;
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

/** Runs `node dist/cli.js ARGS`, optionally measuring the CLI process's peak RSS. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { rssDir?: string } = {}): Promise<CliRun> {
  if (opts.rssDir === undefined) return run(process.execPath, [CLI, ...args], env);
  const file = join(opts.rssDir, `rss-${process.pid}-${Date.now()}`);
  const r = await run(process.execPath, ['--import', RSS_PROBE, CLI, ...args], { ...env, NIX_HUG_BENCH_RSS_FILE: file });
  let peakRss: number | undefined;
  try {
    peakRss = Number(readFileSync(file, 'utf8')) * 1024;
  } catch {
    peakRss = undefined;
  }
  rmSync(file, { force: true });
  return peakRss === undefined ? r : { ...r, peakRss };
}
