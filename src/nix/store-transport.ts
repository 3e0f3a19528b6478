/**
 * Where a worker-protocol connection to the Nix store goes, as `nix` would
 * choose it: the daemon's socket for a store served by a daemon (a user of
 * a multi-user install), else `nix-daemon --stdio`, which is the store
 * itself (root, or a single-user install) or forwards to another store.
 *
 * Why not always `nix-daemon --stdio`: when it forwards to a daemon it
 * splices its standard input and output, which must then be pipes; Node
 * gives a child sockets, and Nix 2.8 and 2.26 both refuse them (EINVAL).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { traceCommand } from '../ui/command-trace.js';

/** The store could not be reached this way: the caller lets Nix do the work instead. */
export class StoreUnavailable extends Error {}

export interface Transport {
  /** What it is, for messages: `nix-daemon --stdio`, or the socket's path. */
  readonly name: string;
  /** Bytes to the store. */
  readonly input: Writable;
  /** Bytes from the store. */
  readonly output: Readable;
  /** Resolves once it is closed (the process exited, the socket closed). */
  readonly closed: Promise<void>;
  /** What the other side said on its way out (`: message`), or ''. */
  note(): string;
  /** Ends it: the store finishes what it read and lets go. */
  end(): void;
  /** Drops it now: the store discards an unfinished write. */
  destroy(): void;
}

/** The last `store = …` of NIX_CONFIG, else NIX_REMOTE, else `auto` (how Nix picks its store). */
function storeUri(env: NodeJS.ProcessEnv): string {
  let fromConfig: string | undefined;
  for (const line of (env.NIX_CONFIG ?? '').split('\n')) {
    const m = /^\s*store\s*=\s*(\S*)\s*$/.exec(line);
    if (m) fromConfig = m[1];
  }
  return fromConfig ?? (env.NIX_REMOTE || 'auto');
}

/** The daemon socket `nix` would use with `env`, or null when it would open the store itself. */
export function daemonSocket(env: NodeJS.ProcessEnv, uid: number = process.getuid?.() ?? 0): string | null {
  const uri = storeUri(env);
  const stateDir = env.NIX_STATE_DIR || '/nix/var/nix';
  const defaultSocket = env.NIX_DAEMON_SOCKET_PATH || join(stateDir, 'daemon-socket', 'socket');
  if (uri === 'daemon') return defaultSocket;
  if (uri.startsWith('unix://')) return uri.slice('unix://'.length).replace(/\?.*$/, '');
  if (uri !== 'auto' && uri !== '') return null;
  // `auto`: the store itself when its state is writable (root, a single-user install), else its daemon.
  if (uid === 0) return null;
  try {
    accessSync(stateDir, constants.W_OK);
    return null;
  } catch {
    return existsSync(defaultSocket) ? defaultSocket : null;
  }
}

/** A connection to the daemon's socket. */
function socketTransport(path: string, signal?: AbortSignal): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    let error = '';
    const onAbort = () => socket.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => {
      error = err.message;
      reject(new StoreUnavailable(`cannot connect to the Nix daemon at ${path}: ${err.message}`));
    });
    socket.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve({
        name: path,
        input: socket,
        output: socket,
        closed,
        note: () => (error ? `: ${error}` : ''),
        end: () => socket.end(),
        destroy: () => socket.destroy(),
      });
    });
  });
}

/** Kept of `nix-daemon --stdio`'s own stderr, for messages. */
const STDERR_KEEP = 4096;

/** `nix-daemon --stdio` with `env`. */
function stdioTransport(env: NodeJS.ProcessEnv): Promise<Transport> {
  const trace = traceCommand('nix-daemon', ['--stdio'], env);
  const child = spawn('nix-daemon', ['--stdio'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_KEEP)));
  const closed = new Promise<void>((done) =>
    child.once('close', (code, killedBy) => {
      trace.end(code, killedBy);
      done();
    }),
  );
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new StoreUnavailable(`cannot run nix-daemon: ${err.message}`)));
    child.once('spawn', () =>
      resolve({
        name: 'nix-daemon --stdio',
        input: child.stdin,
        output: child.stdout,
        closed,
        note: () => (stderr.trim() ? `: ${stderr.trim()}` : ''),
        end: () => child.stdin.end(),
        destroy: () => {
          child.stdin.destroy();
          child.kill('SIGTERM');
        },
      }),
    );
  });
}

/** The transport `nix` would use with `env` (see `daemonSocket`). */
export function openTransport(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Transport> {
  const socket = daemonSocket(env);
  return socket !== null ? socketTransport(socket, signal) : stdioTransport(env);
}
