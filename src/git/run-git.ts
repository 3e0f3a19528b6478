/**
 * Runs the host's git for nix-hug's own pointer-only clones, isolated the way
 * nixpkgs' `fetchgit` isolates its builder: no system or user config (no
 * git-lfs filter, no `core.autocrlf`, no `url.insteadOf`), a private HOME, no
 * prompt, and the Hub token (when there is one) only as an HTTP header of
 * this process's environment — never in argv, a file or a URL.
 */
import { spawn } from 'node:child_process';
import { withInterrupt } from '../interrupt.js';
import { withGitConfig } from '../nix/nix.js';
import { traceCommand } from '../ui/command-trace.js';

/** Variables of the caller that would point git at another repository or config. */
const FOREIGN_GIT = /^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|COMMON_DIR|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|CONFIG.*|ATTR_.*|LFS_.*)$/;

export interface GitEnvOptions {
  /** A private, empty HOME for git. */
  home: string;
  /** Sent as `Authorization: Bearer` on git's HTTP requests to `endpoint` only. */
  token?: string | null;
  /** The Hub's URL (no trailing slash): the only place the token goes. */
  endpoint: string;
}

export function isolatedGitEnv(base: NodeJS.ProcessEnv, opts: GitEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!FOREIGN_GIT.test(k) && k !== 'XDG_CONFIG_HOME') env[k] = v;
  Object.assign(env, {
    HOME: opts.home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_LFS_SKIP_SMUDGE: '1',
    LC_ALL: 'C',
  });
  return opts.token ? gitAuthEnv(env, opts.endpoint, opts.token) : env;
}

/**
 * git's own config through the environment: the token reaches git for this run only, never a file or argv.
 * The header is scoped to the endpoint (`http.<url>.extraHeader`, matched by git on scheme, host, port and
 * path prefix): the same build evaluates nixpkgs, which may itself be fetched with git from another host.
 */
export function gitAuthEnv(env: NodeJS.ProcessEnv, endpoint: string, token: string): NodeJS.ProcessEnv {
  return { ...withGitConfig(env, [[`http.${endpoint}/.extraHeader`, `Authorization: Bearer ${token}`]]), GIT_TERMINAL_PROMPT: '0' };
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `git ARGS` to completion (outputs held in memory: small outputs only);
 * stopped by `signal` and by the running command's interrupt. With
 * `onStdout`, stdout is handed to it as it comes instead (and `stdout` is
 * empty); what it throws stops git and is thrown.
 */
export function runGit(args: string[], env: NodeJS.ProcessEnv, stopOn?: AbortSignal, onStdout?: (chunk: Buffer) => void): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const signal = withInterrupt(stopOn);
    const trace = traceCommand('git', args, env);
    const child = spawn('git', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onAbort = () => child.kill('SIGTERM');
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const out: Buffer[] = [];
    let stderr = '';
    let refused: { error: unknown } | null = null;
    child.stdout.on('data', (d: Buffer) => {
      if (refused) return;
      if (!onStdout) return void out.push(d);
      try {
        onStdout(d);
      } catch (error) {
        refused = { error };
        child.kill('SIGTERM');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.on('error', (err) => {
      trace.end(null);
      reject(err);
    });
    child.on('close', (code, sig) => {
      trace.end(code, sig);
      signal?.removeEventListener('abort', onAbort);
      if (refused) return reject(refused.error);
      resolve({ code: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out), stderr });
    });
  });
}
