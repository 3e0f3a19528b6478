/**
 * A mutex between processes: an exclusive file (`open(..., 'wx')`, i.e.
 * O_CREAT|O_EXCL) held for the few milliseconds of a read-modify-write of a
 * shared file. A mutex left by a process that died is detected (its pid is
 * gone on this host, or it is older than `staleMs`) and broken; waiting is
 * bounded.
 *
 * Breaking a stale mutex is itself guarded by a second `wx` file, so two
 * waiters that both judged the same mutex stale cannot remove one the other
 * has just taken.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { NixHugError } from '../errors.js';
import { pidAlive } from '../pid.js';

export interface MutexOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** A mutex older than this is stale even if its owner cannot be checked (another host). Default 60 s. */
  staleMs?: number;
  /** What the mutex guards, for the timeout message (e.g. "the lock file nix-hug.lock"). */
  guards?: string;
}

interface MutexBody {
  pid: number;
  host: string;
  token: string;
  at: number;
}

async function tryCreate(path: string, body: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o644);
    try {
      await fh.writeFile(body);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Whether the mutex at `path` was left by a dead process. Unreadable (half-written) ones go by their age. */
async function isStale(path: string, staleMs: number): Promise<boolean> {
  let mtime: number;
  let text: string;
  try {
    mtime = (await stat(path)).mtimeMs;
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // released meanwhile: just retry
    throw err;
  }
  const age = Date.now() - mtime;
  let body: Partial<MutexBody> | null;
  try {
    body = JSON.parse(text) as Partial<MutexBody>;
  } catch {
    body = null;
  }
  if (body && body.host === hostname() && typeof body.pid === 'number') {
    return !pidAlive(body.pid) || age > staleMs * 10;
  }
  return age > staleMs;
}

/** Removes a stale mutex under the guard of `PATH.break`, re-checking staleness while holding it. */
async function breakStale(path: string, staleMs: number): Promise<void> {
  const guard = `${path}.break`;
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex'), at: Date.now() });
  if (!(await tryCreate(guard, mine))) {
    // Someone else is breaking it; a guard left by a crash in that short window is broken by age.
    if (await isStale(guard, Math.min(staleMs, 10_000))) await rm(guard, { force: true });
    return;
  }
  try {
    if (await isStale(path, staleMs)) await rm(path, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/** Runs `fn` while holding the mutex file `path`. */
export async function withMutex<T>(path: string, fn: () => Promise<T>, opts: MutexOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const staleMs = opts.staleMs ?? 60_000;
  const token = randomBytes(8).toString('hex');
  const body = JSON.stringify({ pid: process.pid, host: hostname(), token, at: Date.now() } satisfies MutexBody);
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      if (await tryCreate(path, body)) break;
    } catch (err) {
      throw new NixHugError(`cannot create ${path}: ${(err as Error).message}`, 'check that its folder exists and is writable');
    }
    if (await isStale(path, staleMs)) {
      await breakStale(path, staleMs);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new NixHugError(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${path}`,
        `another nix-hug is changing ${opts.guards ?? 'the file it guards'}; if none is running, remove ${path}`,
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 200);
  }
  try {
    return await fn();
  } finally {
    // Remove only our own mutex (it could have been broken as stale and retaken if we hung for minutes).
    try {
      const now = JSON.parse(await readFile(path, 'utf8')) as MutexBody;
      if (now.token === token) await rm(path, { force: true });
    } catch {
      // already gone or replaced: nothing of ours to release
    }
  }
}
