/**
 * Runs Nix: finds it, checks its version, and builds an expression file with
 * the settings nix-hug needs, streaming Nix's internal-json log to a callback.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError, NixHugError } from '../errors.js';
import { downloadLimits, type DownloadLimits, type HttpSettings } from '../settings/http.js';
import { withInterrupt } from '../interrupt.js';
import { traceCommand } from '../ui/command-trace.js';

export const MIN_NIX = { major: 2, minor: 8 } as const;

export interface NixInfo {
  /** e.g. `2.8.0`. */
  version: string;
  major: number;
  minor: number;
  /** 0 when the version has none (`2.8`). */
  patch: number;
  /** Lix reports `nix (Lix, like Nix) 2.91.1`. */
  isLix: boolean;
}

const INSTALL_HINT =
  'install Nix (https://nixos.org/download; on Debian/Ubuntu: apt-get install nix-bin) and make sure `nix` is on PATH';

/** Parses `nix --version` output. */
export function parseNixVersion(text: string): NixInfo | null {
  const m = /^nix \(([^)]*)\) (\d+)\.(\d+)(\.\d+)?\S*/m.exec(text.trim());
  if (!m) return null;
  return {
    version: `${m[2]}.${m[3]}${m[4] ?? ''}`,
    major: Number(m[2]),
    minor: Number(m[3]),
    patch: m[4] ? Number(m[4].slice(1)) : 0,
    isLix: /lix/i.test(m[1] ?? ''),
  };
}

/**
 * The first release of each series that copies a fixed-output derivation's
 * output once more before registering it: Nix's fix for CVE-2024-27297
 * (March 2024), in 2.20.5 and every later Nix, and in the security releases
 * of the older series still maintained then. A file Nix downloads then
 * costs one more pass over its bytes than one added to the store directly.
 */
const FIXED_OUTPUT_COPY_SINCE: Record<string, number> = { '2.3': 18, '2.18': 2, '2.19': 4, '2.20': 5 };

/** Whether this Nix copies each fixed-output derivation's output before registering it (see above; Lix has the fix from its first release, 2.90). */
export function copiesFixedOutputs(nix: NixInfo): boolean {
  if (nix.isLix || nix.major > 2) return true;
  if (nix.major < 2) return false;
  if (nix.minor > 20) return true;
  const since = FIXED_OUTPUT_COPY_SINCE[`${nix.major}.${nix.minor}`];
  return since !== undefined && nix.patch >= since;
}

interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output (small outputs only). `signal` stops it (SIGTERM). */
export function capture(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string, signal?: AbortSignal): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const stop = withInterrupt(signal);
    const trace = traceCommand(cmd, args, env);
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const onAbort = () => child.kill('SIGTERM');
    if (stop?.aborted) onAbort();
    else stop?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      trace.end(null);
      reject(err);
    });
    child.on('close', (code, killedBy) => {
      trace.end(code, killedBy);
      stop?.removeEventListener('abort', onAbort);
      resolve({ code, stdout, stderr });
    });
    // A child that exits without reading stdin makes this write fail with EPIPE: not an error of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

export async function detectNix(env: NodeJS.ProcessEnv): Promise<NixInfo> {
  let out: Captured;
  try {
    out = await capture('nix', ['--version'], env);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NixHugError('`nix` was not found on PATH', INSTALL_HINT);
    }
    throw err;
  }
  const info = parseNixVersion(out.stdout);
  if (out.code !== 0 || !info) {
    throw new NixHugError(`could not tell the Nix version from \`nix --version\`: ${out.stdout.trim() || out.stderr.trim()}`, INSTALL_HINT);
  }
  if (!info.isLix && (info.major < MIN_NIX.major || (info.major === MIN_NIX.major && info.minor < MIN_NIX.minor))) {
    throw new NixHugError(`Nix ${info.version} is too old: nix-hug needs Nix ${MIN_NIX.major}.${MIN_NIX.minor} or newer`, INSTALL_HINT);
  }
  return info;
}

/**
 * Git config that turns the LFS filter off (empty commands: git applies no
 * filter; not required: no error). What git-lfs itself passes to the git it runs.
 */
const NO_LFS_FILTER: ReadonlyArray<readonly [string, string]> = [
  ['filter.lfs.process', ''],
  ['filter.lfs.smudge', ''],
  ['filter.lfs.required', 'false'],
];

/** `env` plus git config entries (GIT_CONFIG_COUNT/KEY_n/VALUE_n), after the ones it already has. */
export function withGitConfig(env: NodeJS.ProcessEnv, entries: ReadonlyArray<readonly [string, string]>): NodeJS.ProcessEnv {
  const n = Number(env.GIT_CONFIG_COUNT ?? 0) || 0;
  const out: NodeJS.ProcessEnv = { ...env, GIT_CONFIG_COUNT: String(n + entries.length) };
  entries.forEach(([key, value], i) => {
    out[`GIT_CONFIG_KEY_${n + i}`] = key;
    out[`GIT_CONFIG_VALUE_${n + i}`] = value;
  });
  return out;
}

/**
 * The environment nix runs in. Nix < 2.20 runs `git archive`, which would
 * apply a host's git-lfs filter and download every weight at evaluation time
 * (docs/design.md, Nix versions). `GIT_LFS_SKIP_SMUDGE=1` stops the download, but git still
 * pipes every LFS pointer through a git-lfs process (0.2–0.6 s of `git
 * archive` for 1,000 pointers here, against 0.07 s without) and fails when
 * that git-lfs is broken or missing: the filter is turned off instead.
 */
export function nixEnv(base: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return withGitConfig({ ...base, GIT_LFS_SKIP_SMUDGE: '1', ...extra }, NO_LFS_FILTER);
}

/** Flags every nix-hug call of `nix` shares. */
export const COMMON_FLAGS = ['--extra-experimental-features', 'nix-command flakes'];

/** One line of `--log-format internal-json` (after the `@nix ` prefix). */
export interface NixLogEvent {
  action: 'start' | 'stop' | 'result' | 'msg' | string;
  id?: number;
  type?: number;
  level?: number;
  text?: string;
  msg?: string;
  fields?: Array<string | number>;
}

/**
 * What `nix build` builds: a `.nix` file (its value a derivation or a list
 * of them), or a derivation instantiated earlier (`drv`, a .drv store path),
 * which needs no evaluation.
 */
export type BuildTarget = { file: string } | { drv: string; nix: NixInfo };

/**
 * The installable for an instantiated derivation's output: `DRV^out` from
 * Nix 2.13 on (and in Lix), where the bare path names the .drv file itself;
 * before 2.13 the bare path, which builds it.
 */
export function drvInstallable(drv: string, nix: NixInfo): string {
  return nix.isLix || nix.major > 2 || nix.minor >= 13 ? `${drv}^out` : drv;
}

export interface BuildOptions {
  target: BuildTarget;
  env: NodeJS.ProcessEnv;
  /** Parallel builds (each LFS file is one fixed-output download). */
  maxJobs: number;
  onEvent?: (event: NixLogEvent) => void;
  /** `trace:` lines from the library (e.g. a fileTreeHash mismatch), as they come. */
  onTrace?: (line: string) => void;
  signal?: AbortSignal;
  extraArgs?: string[];
  /** The Hub client's knobs: they bound Nix's own downloads (builtin:fetchurl) and the retries of git failures. */
  http: HttpSettings;
  /** Make this symlink to the result, a GC root (`nix build --out-link`); default: no link. */
  outLink?: string;
}

export function downloadOptions(limits: DownloadLimits): string[] {
  const seconds = String(Math.max(1, Math.ceil(limits.timeoutMs / 1000)));
  return [
    '--option', 'download-attempts', String(Math.max(1, limits.attempts)),
    '--option', 'stalled-download-timeout', seconds,
    '--option', 'connect-timeout', seconds,
  ];
}

export interface BuildResult {
  outPaths: string[];
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** Nix's activity and result type numbers (src/libutil/logging.hh). */
const ACT_BUILD = 105;
const RES_BUILD_LOG_LINE = 101;
const BUILD_LOG_LINES = 20;

/**
 * `nix build --no-link --json -f FILE` (or a .drv; or `--out-link`), with Nix's log parsed as it comes.
 * git (fetchGit, during evaluation) has no retries of its own, unlike Nix's
 * downloads: a transient git failure (5xx, 429, connection) runs the build
 * again, up to NIX_HUG_MAX_RETRIES times with the Hub client's backoff; so
 * does a lost race between nix processes over the binary-cache database.
 */
export async function nixBuild(opts: BuildOptions): Promise<BuildResult> {
  const { retry } = opts.http;
  const signal = withInterrupt(opts.signal);
  const options = signal ? { ...opts, signal } : opts;
  for (let attempt = 1; ; attempt++) {
    try {
      return await nixBuildOnce(options);
    } catch (err) {
      const again = err instanceof NixBuildError && (err.gitFailure?.transient === true || err.cacheDbRace);
      if (!again || attempt > retry.maxRetries || signal?.aborted) throw err;
      const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      await sleep(delay, undefined, signal ? { signal } : {}).catch(() => undefined);
    }
  }
}

async function nixBuildOnce(opts: BuildOptions): Promise<BuildResult> {
  // A signal that came before the build (in the Hub phase, say) stops it before it starts.
  if (opts.signal?.aborted) throw new InterruptedError('building with nix');
  const args = [
    ...COMMON_FLAGS,
    'build',
    ...(opts.outLink !== undefined ? ['--out-link', opts.outLink] : ['--no-link']),
    '--json',
    '--log-format',
    'internal-json',
    '-v',
    '--max-jobs',
    String(opts.maxJobs),
    // builtin:fetchurl downloads run in-process; allow as many connections as jobs.
    '--option',
    'http-connections',
    String(Math.max(25, opts.maxJobs)),
    ...downloadOptions(downloadLimits(opts.http)),
    ...(opts.extraArgs ?? []),
    ...('file' in opts.target ? ['-f', opts.target.file] : [drvInstallable(opts.target.drv, opts.target.nix)]),
  ];
  const trace = traceCommand('nix', args, opts.env);
  const child = spawn('nix', args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const onAbort = () => child.kill('SIGTERM');
  // A signal aborted before the spawn never fires its listeners: stop this nix at once then.
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const errors: string[] = [];
  const traces: string[] = [];
  // The last lines each derivation's builder logged: why a download failed is only said there.
  const builds = new Map<number, string>();
  const buildLogs = new Map<string, string[]>();
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    if (line.startsWith('@nix ')) {
      let ev: NixLogEvent;
      try {
        ev = JSON.parse(line.slice(5)) as NixLogEvent;
      } catch {
        return;
      }
      if (ev.action === 'msg' && typeof ev.msg === 'string') {
        // builtins.trace prints at error level: tell the two apart by the prefix.
        const msg = stripAnsi(ev.msg);
        if (msg.startsWith('trace:')) {
          traces.push(msg);
          opts.onTrace?.(msg);
        } else if (ev.level === 0) errors.push(msg);
      } else if (ev.action === 'start' && ev.type === ACT_BUILD && typeof ev.id === 'number') {
        builds.set(ev.id, String(ev.fields?.[0] ?? ''));
      } else if (ev.action === 'result' && ev.type === RES_BUILD_LOG_LINE && typeof ev.id === 'number' && builds.has(ev.id)) {
        const drv = builds.get(ev.id)!;
        const log = buildLogs.get(drv) ?? [];
        log.push(stripAnsi(String(ev.fields?.[0] ?? '')));
        buildLogs.set(drv, log.slice(-BUILD_LOG_LINES));
      }
      opts.onEvent?.(ev);
    } else {
      const plain = stripAnsi(line);
      if (plain.startsWith('trace:')) {
        traces.push(plain);
        opts.onTrace?.(plain);
      } else if (plain.trim()) errors.push(plain);
    }
  });

  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => {
      trace.end(null);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') reject(new NixHugError('`nix` was not found on PATH', INSTALL_HINT));
      else reject(err);
    });
    child.on('close', (c, killedBy) => {
      trace.end(c, killedBy);
      resolve(c);
    });
  });
  opts.signal?.removeEventListener('abort', onAbort);
  if (opts.signal?.aborted) throw new InterruptedError('building with nix');
  if (code !== 0) throw new NixBuildError(errors, traces, buildLogs);
  let parsed: Array<{ outputs?: Record<string, string> }>;
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new NixHugError(`unexpected output from nix build: ${stdout.slice(0, 200)}`);
  }
  return { outPaths: parsed.flatMap((p) => Object.values(p.outputs ?? {})) };
}

const TRANSIENT_GIT = /returned error: (5\d\d|429)|Could not resolve host|Failed to connect|Connection refused|Connection reset|timed out|Empty reply|Recv failure|RPC failed|early EOF/i;

/** A failed `nix build`: Nix's own error text, plus any `trace:` lines from the library. */
export class NixBuildError extends NixHugError {
  constructor(
    readonly nixErrors: string[],
    readonly traces: string[],
    /** Derivation → the last lines its builder logged. */
    readonly buildLogs: ReadonlyMap<string, readonly string[]> = new Map(),
  ) {
    super(summarizeNixError(nixErrors), hintForNixError(nixErrors.join('\n')));
  }

  /** fetchGit's git failed: git's own `fatal:` line, and whether trying again may help. */
  get gitFailure(): { reason: string; transient: boolean } | null {
    const fatal = this.nixErrors.find((l) => /^fatal: /.test(l.trim()));
    if (!fatal && !this.nixErrors.some((l) => /program 'git' failed/.test(l))) return null;
    const reason = fatal ? fatal.trim().replace(/^fatal:\s*/, '') : this.message;
    return { reason, transient: TRANSIENT_GIT.test(reason) };
  }

  /**
   * Nix before 2.13 lets two nix processes that meet a binary cache for the
   * first time (the parallel blob builds) both insert it into their
   * binary-cache-v6.sqlite: one fails with `constraint failed`. Nothing was
   * built wrong; the next attempt finds the cache recorded.
   */
  get cacheDbRace(): boolean {
    return this.nixErrors.some((l) => /SQLite statement .*constraint failed \(in '[^']*binary-cache-v\d+\.sqlite'\)/.test(l));
  }

  /** Derivations whose build failed: their builder failed, or their output had the wrong hash. */
  get failedDerivations(): string[] {
    const found = new Set<string>();
    for (const m of this.nixErrors.join('\n').matchAll(/(?:builder for|hash mismatch in fixed-output derivation) '([^']+\.drv)'/g)) found.add(m[1]!);
    return [...found];
  }
}

/** The useful part of Nix's error: the `error:` paragraph, on as few lines as it takes. */
function summarizeNixError(errors: string[]): string {
  const text = errors.join('\n').trim();
  if (!text) return 'nix build failed';
  // "N dependencies of derivation … failed to build" only repeats that an earlier error happened.
  const paragraphs = text.split(/error:/).map((p) => p.trim()).filter(Boolean);
  const useful = paragraphs.filter((p) => !/^\d+ dependencies of derivation '[^']*' failed to build$/.test(p));
  const body = useful[useful.length - 1] ?? paragraphs[paragraphs.length - 1] ?? text;
  return `nix build failed: ${body.split('\n').map((l) => l.trim()).filter(Boolean).join(' ')}`;
}

function hintForNixError(text: string): string | undefined {
  if (/hash mismatch in fixed-output derivation/.test(text)) {
    return 'the Hub served bytes that do not match the pinned sha256; retry later, or re-pin with `nix-hug fetch`';
  }
  if (/cannot be represented as a Nix string/.test(text)) {
    return 'git-lfs replaced pointer files with real files during fetchGit: set GIT_LFS_SKIP_SMUDGE=1 in the environment of nix (or use Nix >= 2.20)';
  }
  if (/Authentication failed|could not read Username|401|403/.test(text)) {
    return 'the repository needs a token: set HF_TOKEN (and request access on the repo page if it is gated)';
  }
  if (/unable to download|Couldn't connect|Could not resolve host|Connection refused/i.test(text)) {
    return 'the Hub could not be reached from nix: check your network or HF_ENDPOINT, then run the command again';
  }
  return undefined;
}
