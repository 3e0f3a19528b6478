/** Facts about the machine a run happened on, for RESULTS.md. */
import { cpus, getPriority, loadavg, totalmem } from 'node:os';
import { run } from '../test/support/index.ts';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  nix: string;
  node: string;
  curl: string;
  openssl: string;
  kernel: string;
  /** The bench's nice value (e.g. -10 with `nice -n -10 npm run bench`). */
  nice: number;
  /** The Python peer's line (python-peer.ts), once looked for. */
  pythonPeer?: string;
}

async function firstLine(program: string, args: string[]): Promise<string> {
  try {
    const r = await run(program, args, process.env);
    return (r.stdout || r.stderr).split('\n')[0]!.trim() || 'unknown';
  } catch {
    return 'not found';
  }
}

/** `nixDirs`: the folders of `--nix` (`PATH`: the nix on PATH); each version is listed. */
export async function describeMachine(nixDirs: readonly string[] = ['PATH']): Promise<Machine> {
  const list = cpus();
  return {
    cores: list.length,
    cpu: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: totalmem() / 2 ** 30,
    nix: (await Promise.all(nixDirs.map(async (d) => `${await firstLine(d === 'PATH' ? 'nix' : `${d}/nix`, ['--version'])} (${d === 'PATH' ? 'the nix on PATH' : d})`))).join(', '),
    node: process.version,
    curl: await firstLine('curl', ['--version']),
    openssl: await firstLine('openssl', ['version']),
    kernel: await firstLine('uname', ['-sr']),
    nice: getPriority(),
  };
}

/** 1-minute load average: other work on the machine skews timings. */
export const load = () => loadavg()[0]!;
