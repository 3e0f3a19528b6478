/**
 * Running child processes. Everything is asynchronous: the Hub emulator
 * lives in the caller's own event loop, and a synchronous spawn would stall
 * it (and deadlock the child that talks to it).
 */
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './paths.ts';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock seconds from spawn to exit. */
  seconds: number;
}

export interface RunOptions {
  /** Default: the repository's root. */
  cwd?: string;
  /** Killed (SIGKILL) after this long; default 30 minutes. */
  timeoutMs?: number;
  /** Keep only the first N bytes of stderr (long debug logs); default: all of it. */
  stderrLimit?: number;
}

/** Runs a program to completion and times it; never throws on a non-zero exit. */
export function run(program: string, args: string[], env: NodeJS.ProcessEnv, opts: RunOptions = {}): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(program, args, { env, cwd: opts.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let errBytes = 0;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      errBytes += b.length;
      if (opts.stderrLimit === undefined || errBytes < opts.stderrLimit) err.push(b);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30 * 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${program}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: Number(process.hrtime.bigint() - start) / 1e9,
      });
    });
  });
}

/** Fails with the command's output when it did not succeed. */
export function ok<T extends Omit<Ran, 'seconds'>>(r: T, what: string): T {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr.slice(-8000)}${r.stdout.slice(-2000)}`);
  return r;
}

/** Strips ANSI colour codes (Nix colours its errors). */
export function plain(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

/** Polls `check` every 10 ms until it returns a value, for at most `ms`. */
export async function waitFor<T>(what: string, check: () => T | null | undefined | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Runs `tasks` with at most `limit` at a time, results in order. */
export async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
