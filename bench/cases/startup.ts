/**
 * Case 5, start-up: `node dist/bin.cjs --version` (the executable), `--help` and
 * `completion bash`, wall clock from spawn to exit, each round alternating
 * with `node -e 0` (Node's own start-up, the floor). The target is a ratio to
 * that floor, run by run, so a busy moment weighs on both sides.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../context.ts';
import { ok, REPO_ROOT, run, runCli } from '../../test/support/index.ts';
import { atMost } from '../report.ts';

/** `--version`, `--help`, `completion` may take at most this multiple of `node -e 0`. */
const STARTUP_RATIO = 1.2;

export async function startupCase(ctx: BenchContext): Promise<void> {
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const env = ctx.benv.env(ctx.benv.freshCache());
  const probes: { args: string[]; check: (stdout: string) => boolean }[] = [
    { args: ['--version'], check: (out) => out.trim() === version },
    { args: ['--help'], check: (out) => out.startsWith('Usage: nix-hug ') },
    { args: ['completion', 'bash'], check: (out) => out.includes('complete -F') },
  ];
  // One untimed run each: the first start reads dist/ from disk, the others from the page cache.
  for (const p of probes) ok(await runCli(p.args, env), `nix-hug ${p.args.join(' ')}`);
  const ms = probes.map(() => [] as number[]);
  const floor: number[] = [];
  for (let i = 0; i < ctx.config.startupReps; i++) {
    floor.push(ok(await run(process.execPath, ['-e', '0'], env), 'node -e 0').seconds * 1000);
    for (const [k, p] of probes.entries()) {
      const r = ok(await runCli(p.args, env), `nix-hug ${p.args.join(' ')}`);
      if (!p.check(r.stdout)) throw new Error(`nix-hug ${p.args.join(' ')} printed ${JSON.stringify(r.stdout.slice(0, 200))}`);
      ms[k]!.push(r.seconds * 1000);
    }
  }
  ctx.log(`start-up (ms): node -e 0 ${floor.map((x) => x.toFixed(0)).join(' ')}; ${probes.map((p, k) => `${p.args.join(' ')} ${ms[k]!.map((x) => x.toFixed(0)).join(' ')}`).join('; ')}`);
  ctx.rows.push({ case: '5 start-up', metric: `node -e 0 (Node's own start-up, the floor; ${floor.length} runs)`, unit: 'ms', values: floor });
  for (const [k, p] of probes.entries()) {
    const what = `nix-hug ${p.args.join(' ')}`;
    ctx.rows.push(
      { case: '5 start-up', metric: what, unit: 'ms', values: ms[k]! },
      { case: '5 start-up', metric: `${what} / node -e 0`, unit: 'x', values: ms[k]!.map((x, i) => x / floor[i]!), target: atMost(STARTUP_RATIO, 'x') },
    );
  }
}
