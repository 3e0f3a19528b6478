/**
 * Real servers for the tests of sharing a persist store between machines,
 * each on 127.0.0.1 with its own configuration in a temporary directory,
 * started and stopped by the test: Debian's OpenSSH server (key login, its
 * own host key) and nginx (serving a directory as an HTTP binary cache).
 * Missing programs are a failure that says what to install, never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** An absolute path of `name` from PATH or the sbin folders (where Debian puts daemons), or an error naming the package. */
function findProgram(name: string, pkg: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is needed by the persist sharing tests: apt-get install -y ${pkg} (.ci/run installs it)`);
}

/** A port free right now (servers that cannot bind port 0 themselves get one of these, and a retry if it is taken). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts `cmd` and waits (bounded) until `ready(log)` says it serves; returns
 * null when it exited and `retry(log)` says why was the port (taken meanwhile).
 */
async function startDaemon(
  cmd: string,
  args: string[],
  logFile: () => string,
  ready: (log: string) => boolean | Promise<boolean>,
  retry: (log: string) => boolean,
): Promise<ChildProcess | null> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  for (let i = 0; i < 200; i++) {
    const log = out + logFile();
    if (!exited && (await ready(log))) return child;
    if (exited) {
      if (retry(log)) return null;
      throw new Error(`${cmd} exited at start: ${log.slice(-2000)}`);
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${cmd} did not come up within 10 s: ${(out + logFile()).slice(-2000)}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

const readOr = (file: string) => () => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

export interface RunningSshd {
  port: number;
  user: string;
  /** For `NIX_SSHOPTS`: port, key, known-hosts file of this test only, no prompts. */
  sshOpts: string;
  /** The folder for scripts the remote side runs (e.g. a `remote-program` wrapper). */
  dir: string;
  /**
   * The URL of a separate Nix store in `remoteStore` on "the other machine":
   * `ssh-ng://` (the remote runs `nix-daemon --stdio`) or `ssh://` (`nix-store
   * --serve`), with the remote program from the same Nix as the local one
   * unless `remoteProgram` is given.
   */
  storeUrl(kind: 'ssh' | 'ssh-ng', remoteStore: string, remoteProgram?: string): string;
  close(): Promise<void>;
}

/** The folder of the `nix` the tests run (its nix-daemon and nix-store serve the remote side). */
export function nixBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync('sh', ['-c', 'command -v nix'], { env, encoding: 'utf8' });
  const nix = r.stdout.trim();
  if (r.status !== 0 || !nix) throw new Error('nix is not on PATH');
  return dirname(nix);
}

export async function startSshd(): Promise<RunningSshd> {
  const sshd = findProgram('sshd', 'openssh-server');
  const keygen = findProgram('ssh-keygen', 'openssh-client');
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-sshd-'));
  for (const key of ['host', 'client']) {
    const r = spawnSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')), { mode: 0o600 });
  // Debian's sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = userInfo().username;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        `AllowUsers ${user}`,
        '',
      ].join('\n'),
    );
    const child = await startDaemon(sshd, ['-D', '-e', '-f', config], () => '', (log) => log.includes('Server listening on'), (log) => /Address already in use/.test(log));
    if (!child) continue;
    const sshOpts = [
      `-p ${port}`,
      `-i ${join(dir, 'client')}`,
      '-F /dev/null',
      `-o UserKnownHostsFile=${join(dir, 'known_hosts')}`,
      '-o StrictHostKeyChecking=accept-new',
      '-o BatchMode=yes',
      '-o IdentitiesOnly=yes',
      '-o LogLevel=ERROR',
    ].join(' ');
    return {
      port,
      user,
      sshOpts,
      dir,
      storeUrl(kind, remoteStore, remoteProgram) {
        const program = remoteProgram ?? join(nixBinDir(), kind === 'ssh-ng' ? 'nix-daemon' : 'nix-store');
        return `${kind}://${user}@127.0.0.1?remote-store=${remoteStore}&remote-program=${program}`;
      },
      async close() {
        await stop(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('sshd: no free port after 5 attempts');
}

export interface RunningNginx {
  /** `http://127.0.0.1:PORT`, serving `root`. */
  url: string;
  /** Request lines (`GET /x.narinfo`) with their status, from nginx's access log. */
  requests(): Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

/**
 * nginx serving the files of `root`, as a web server in front of a binary
 * cache directory would: read-only, or `writable` (WebDAV PUT, which Nix
 * uses to upload to an HTTP binary cache).
 */
export async function startNginx(root: string, opts: { writable?: boolean } = {}): Promise<RunningNginx> {
  const nginx = findProgram('nginx', 'nginx');
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-nginx-'));
  const errorLog = join(dir, 'error.log');
  const accessLog = join(dir, 'access.log');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, 'nginx.conf');
    writeFileSync(
      config,
      [
        // One process as the user running the tests: no workers, no privilege drop, nothing global touched.
        'daemon off;',
        'master_process off;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${errorLog} info;`,
        'events { worker_connections 64; }',
        'http {',
        `  access_log ${accessLog};`,
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
        `  server { listen 127.0.0.1:${port}; root ${root};${opts.writable ? ' dav_methods PUT; create_full_put_path on; client_max_body_size 0;' : ''} }`,
        '}',
        '',
      ].join('\n'),
    );
    const url = `http://127.0.0.1:${port}`;
    const answers = async () => {
      try {
        await (await fetch(`${url}/`)).arrayBuffer();
        return true;
      } catch {
        return false;
      }
    };
    const child = await startDaemon(nginx, ['-p', dir, '-c', config, '-e', errorLog], readOr(errorLog), answers, (log) => /Address already in use/.test(log));
    if (!child) continue;
    return {
      url,
      requests() {
        return readOr(accessLog)()
          .split('\n')
          .flatMap((line) => {
            const m = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/.exec(line);
            return m ? [{ method: m[1]!, path: m[2]!, status: Number(m[3]) }] : [];
          });
      },
      async close() {
        await stop(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('nginx: no free port after 5 attempts');
}
