/**
 * CPU time, the currency of a cold fetch on a machine with few cores: how
 * much the bench process used itself (the emulator runs in it) and how much
 * it collected from its children once they exited. A child's count includes
 * every descendant it waited for (the CLI's nix processes, their builders,
 * `nix-daemon --stdio`), so one method's delta is its whole process tree.
 * Work a system daemon does for a user (a multi-user install) is not
 * counted: the bench runs as root with the local store, where there is none.
 * Linux only (/proc/self/stat), as the bench is.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  /** user + system seconds of this process (the emulator, the bench's own work). */
  self: number;
  /** user + system seconds of the children this process has reaped. */
  children: number;
}

let ticksPerSecond: number | undefined;

/** Now, from /proc/self/stat (utime, stime, cutime, cstime: fields 14–17, in clock ticks). */
export function cpuTimes(): CpuTimes {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const at = (field: number) => fields[field - 3]!; // fields[0] is field 3
  return { self: (at(14) + at(15)) / ticksPerSecond, children: (at(16) + at(17)) / ticksPerSecond };
}

/** What `work` cost, beside what it returned. */
export async function measureCpu<T>(work: () => Promise<T>): Promise<{ value: T; cpu: CpuTimes }> {
  const before = cpuTimes();
  const value = await work();
  const after = cpuTimes();
  return { value, cpu: { self: after.self - before.self, children: after.children - before.children } };
}
