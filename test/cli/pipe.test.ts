import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI, requireBuild } from '../support/index.ts';

test('a reader that goes away early (`nix-hug --help | head -1`) ends the output quietly, exit 0', async () => {
  requireBuild();
  for (const args of [['--help'], ['fetch', '--help'], ['completion', 'bash']]) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Read one chunk, then close our end, as `head -1` does.
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
    assert.doesNotMatch(stderr, /EPIPE|\n\s+at /, args.join(' '));
  }
});
