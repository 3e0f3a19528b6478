/**
 * Multi-user Nix for the tests: a private `nix-daemon` (started as root on
 * its own socket, so it never meets the machine's daemon or another test's,
 * and stopped afterwards), and the CLI run as a normal user in `nix-users`
 * (`nix-hug-test`) through that daemon with `NIX_REMOTE=unix://SOCKET`, the
 * way most users run Nix. The daemon shares the machine's /nix/store.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './paths.ts';

/** The normal user the tests run the CLI as (scripts/install-test-deps.sh creates it). */
export const TEST_USER = 'nix-hug-test';

export interface TestUser {
  uid: number;
  gid: number;
  /** Numeric group ids, `nix-users` among them. */
  groups: number[];
}

/** The test user, or an error saying how to create it. */
export function testUser(): TestUser {
  if (process.getuid?.() !== 0) throw new Error('the multi-user tests start their own nix-daemon, which needs root: run the tests as root');
  const id = (flag: string) => spawnSync('id', [flag, TEST_USER], { encoding: 'utf8' });
  const [u, g, gs] = [id('-u'), id('-g'), id('-G')];
  const nixUsers = spawnSync('getent', ['group', 'nix-users'], { encoding: 'utf8' }).stdout.split(':')[2];
  const groups = gs.stdout.trim().split(/\s+/).map(Number);
  if (u.status !== 0 || !nixUsers || !groups.includes(Number(nixUsers))) {
    throw new Error(`the multi-user tests run the CLI as the user ${TEST_USER}, in the group nix-users: create it with \`bash scripts/install-test-deps.sh\` (as root)`);
  }
  return { uid: Number(u.stdout), gid: Number(g.stdout), groups };
}

export interface PrivateDaemon {
  /** For NIX_REMOTE. */
  remote: string;
  /** What the daemon logged so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `nix-daemon` (the one beside the `nix` on PATH) on a socket in a
 * fresh folder only root and `nix-users` may enter, with `nixConfig` as its
 * NIX_CONFIG (its own settings decide builds: sandbox, substituters, keys).
 */
export async function startDaemon(nixConfig: string): Promise<PrivateDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-daemon-'));
  const nixUsers = Number(spawnSync('getent', ['group', 'nix-users'], { encoding: 'utf8' }).stdout.split(':')[2]);
  chownSync(dir, 0, nixUsers);
  chmodSync(dir, 0o750);
  const socket = join(dir, 'socket');
  let log = '';
  const child: ChildProcess = spawn('nix-daemon', [], {
    env: { ...process.env, NIX_DAEMON_SOCKET_PATH: socket, NIX_CONFIG: nixConfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100 && !existsSync(socket); i++) {
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  if (!existsSync(socket)) {
    await stop();
    throw new Error(`nix-daemon did not create ${socket} within 10 s:\n${log}`);
  }
  return { remote: `unix://${socket}`, log: () => log, stop };
}

/**
 * The built CLI as the test user would have it installed: dist/, lib/ and the runtime
 * dependencies, copied to a folder that user can read (the checkout may be in root's home).
 */
export function installForUser(): { cli: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-install-'));
  chmodSync(dir, 0o755);
  const runtime = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (runtime.status !== 0) throw new Error(`npm ls failed: ${runtime.stderr}`);
  const modules = runtime.stdout.split('\n').filter((p) => p.includes('node_modules'));
  for (const p of ['package.json', 'dist', 'lib', ...modules.map((m) => relative(REPO_ROOT, m))]) {
    cpSync(join(REPO_ROOT, p), join(dir, p), { recursive: true });
  }
  return { cli: join(dir, 'dist', 'bin.cjs'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh home folder owned by the test user, with a TMPDIR inside. */
export function userHome(user: TestUser): { home: string; tmp: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), 'nix-hug-user-home-'));
  const tmp = join(home, 'tmp');
  mkdirSync(tmp);
  for (const p of [home, tmp]) chownSync(p, user.uid, user.gid);
  chmodSync(home, 0o755);
  return { home, tmp, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export interface UserRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs PROGRAM as the test user (with its groups: nix-users), asynchronously: the emulator lives in this process. */
export function runAsUser(program: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<UserRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', ['--reuid', TEST_USER, '--regid', TEST_USER, '--init-groups', '--', program, ...args], {
      env,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run setpriv: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}
