/**
 * Case 5, start-up: `node dist/cli.js --version`, wall clock from spawn to
 * exit, alternating with `node -e 0` (Node's own start-up, the floor).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../context.ts';
import { ok, REPO_ROOT, run, runCli } from '../../test/support/index.ts';
import { atMost } from '../report.ts';

export async function startupCase(ctx: BenchContext): Promise<void> {
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const env = ctx.benv.env(ctx.benv.freshCache());
  // One untimed run: the first start reads dist/ from disk, the others from the page cache.
  ok(await runCli(['--version'], env), 'nix-hug --version');
  const ms: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < ctx.config.startupReps; i++) {
    const r = ok(await runCli(['--version'], env), 'nix-hug --version');
    if (r.stdout.trim() !== version) throw new Error(`nix-hug --version printed ${JSON.stringify(r.stdout)}, expected ${version}`);
    ms.push(r.seconds * 1000);
    floor.push(ok(await run(process.execPath, ['-e', '0'], env), 'node -e 0').seconds * 1000);
  }
  ctx.log(`start-up: ${ms.map((x) => x.toFixed(0)).join(' ')} ms (node -e 0: ${floor.map((x) => x.toFixed(0)).join(' ')} ms)`);
  ctx.rows.push(
    { case: '5 start-up', metric: `nix-hug --version (${ms.length} runs)`, unit: 'ms', values: ms, target: atMost(100, 'ms') },
    { case: '5 start-up', metric: 'node -e 0 (Node\'s own start-up, for reference)', unit: 'ms', values: floor },
    { case: '5 start-up', metric: '--version minus node -e 0, run by run', unit: 'ms', values: ms.map((x, i) => x - floor[i]!) },
  );
}
