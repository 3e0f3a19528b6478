/**
 * Filters that select none of a repository's LFS files would pin a model
 * without its weights: fetch and export refuse, before any download, saying
 * what the filters did; --allow-empty asks for it; ls warns.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, cliHubOptions, requireBuild, runCli } from '../support/index.ts';

let hub: RunningHub;
let env: ReturnType<typeof cliEnv>;
before(async () => {
  requireBuild();
  hub = await startHub(cliHubOptions);
  env = cliEnv({ HF_ENDPOINT: hub.url });
});
after(async () => {
  await hub?.close();
  env?.cleanup();
});

it('--include that selects no LFS file: refused naming the filters and the count, before any download; --allow-empty pins; ls warns', async () => {
  hub.resetStats();
  const r = await runCli(['fetch', 'acme/folders', '--include', '*.bin', '--no-build'], env.env);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    "nix-hug: error: --include '*.bin' selects none of the 3 LFS file(s) of model acme/folders at main: the result would have none of its weights\n" +
      'hint: see which files there are with `nix-hug ls acme/folders --ref main`; to pin only the other files anyway, add --allow-empty\n',
  );
  const excluded = await runCli(['fetch', 'acme/folders', '--exclude', '*', '--no-build'], env.env);
  assert.equal(excluded.code, 1);
  assert.match(excluded.stderr, /--exclude '\*' selects none of the 3 LFS file/);
  assert.deepEqual(hub.requests.filter((q) => q.route === 'cdn' || q.route === 'resolve' || q.route === 'git'), [], 'nothing downloaded');

  const allowed = await runCli(['fetch', 'acme/folders', '--include', '*.bin', '--allow-empty', '--no-build', '--json'], env.env);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.deepEqual((JSON.parse(allowed.stdout) as { filters: unknown }).filters, { include: ['.*\\.bin'] });

  const ls = await runCli(['ls', 'acme/folders', '--include', '*.bin'], env.env);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stderr, /note: --include '\*\.bin' selects none of the 3 LFS file\(s\): fetch would refuse it .* unless --allow-empty/);
  const some = await runCli(['fetch', 'acme/folders', '--include', '*.onnx', '--no-build'], env.env);
  assert.equal(some.code, 0, some.stderr);
});
