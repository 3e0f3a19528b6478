/**
 * Concurrent runs: two fetches of the same repository at once (public, so
 * two `nix build`s race for the same downloads; gated, so two CLIs race to
 * add the same blob to the store), and exports racing imports on one
 * manifest while a reader keeps parsing it. Everything succeeds, the
 * results agree, the manifest is valid JSON at every moment and loses no
 * entry.
 */
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHub } from '../hub/server.ts';
import type { RunningHub } from '../hub/types.ts';
import { requireBuild, runCli } from '../cli/helpers.ts';
import { collect } from '../persist/helpers/nix-fixture.ts';
import { isValidPath, record, RUN, sandbox, seeded, tmpLeftovers, type Sandbox } from './helpers.ts';

const ORG = `conc-${RUN}`;
const TOKEN = `hf_concurrencyTest${RUN}`;
const FILES = ['a', 'b', 'c', 'd', 'e', 'f'];

let hub: RunningHub;
let box: Sandbox;
let runs = 0;

before(async () => {
  requireBuild();
  hub = await startHub({
    repos: [
      { id: `${ORG}/pub`, commits: [{ files: { 'config.json': '{}\n', 'a.safetensors': seeded('pub-a', 1 << 20), 'b.safetensors': seeded('pub-b', 1 << 20) } }] },
      { id: `${ORG}/gated`, gated: 'auto', commits: [{ files: { 'config.json': '{}\n', 'g.safetensors': seeded('gated', 1 << 20) } }] },
      { id: `${ORG}/many`, commits: [{ files: { 'config.json': '{}\n', ...Object.fromEntries(FILES.map((f) => [`${f}.bin`, seeded(`many-${f}`, 20_000)])) } }] },
    ],
    tokens: { [TOKEN]: { grants: [`${ORG}/gated`] } },
  });
  box = sandbox(() => hub.url);
});
after(async () => {
  record('concurrency', { concurrentRuns: runs });
  await hub?.close();
  box?.cleanup();
});

async function fetchTwice(id: string, extra: NodeJS.ProcessEnv): Promise<void> {
  const [one, two] = await Promise.all([runCli(['fetch', id, '--json'], box.env(extra)), runCli(['fetch', id, '--json'], box.env(extra))]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  assert.equal(one.stdout, two.stdout, 'the same expression and store path');
  const { storePath } = JSON.parse(one.stdout) as { storePath: string };
  assert.ok(await isValidPath(box.nixEnv, storePath));
  assert.deepEqual(tmpLeftovers(box.tmp), []);
  runs += 2;
}

describe('two fetches of the same repository at once', () => {
  it('public repo: both succeed with the same store path', async () => {
    await fetchTwice(`${ORG}/pub`, {});
  });

  it('gated repo (both CLIs download and add the same blob): both succeed with the same store path', async () => {
    await fetchTwice(`${ORG}/gated`, { HF_TOKEN: TOKEN });
  });
});

describe('exports racing imports on one manifest', () => {
  it('every export is recorded, every import succeeds, and the manifest always parses', { timeout: 120_000 }, async () => {
    const id = `${ORG}/many`;
    const persist = join(box.home, 'persist');
    const env = box.env({ NIX_HUG_PERSIST_DIR: persist });
    const file = join(persist, 'nix-hug-manifest.json');
    // Two exports first, then collected: the imports below have real copying to do.
    const first = ['a', 'b'];
    const exported = new Map<string, string>();
    for (const f of first) {
      const r = await runCli(['export', id, '--file', `${f}.bin`], env);
      assert.equal(r.code, 0, r.stderr);
      exported.set(f, r.stdout.trim());
    }
    await collect(box.nixEnv, [...exported.values()]);

    // A reader parses the manifest as fast as it can while the race runs.
    let racing = true;
    let reads = 0;
    const bad: string[] = [];
    const reader = (async () => {
      while (racing) {
        try {
          const text = readFileSync(file, 'utf8');
          JSON.parse(text);
          reads++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') bad.push(String(err));
        }
        await sleep(1);
      }
    })();
    const rest = FILES.filter((f) => !first.includes(f));
    const results = await Promise.all([
      ...rest.map((f) => runCli(['export', id, '--file', `${f}.bin`], env).then((r) => ({ kind: 'export', f, r }))),
      ...first.map((f) => runCli(['import', '--all', '--yes'], env).then((r) => ({ kind: 'import', f, r }))),
    ]);
    racing = false;
    await reader;
    for (const { kind, f, r } of results) {
      assert.equal(r.code, 0, `${kind} ${f}: ${r.stderr}`);
      if (kind === 'export') exported.set(f, r.stdout.trim());
    }
    assert.deepEqual(bad, [], 'the manifest was unreadable at some moment');
    assert.ok(reads > 0, 'the reader saw the manifest');

    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { entries: Array<{ filters: { files: string[] }; storePath: string }> };
    const byFile = new Map(manifest.entries.map((e) => [e.filters.files[0]!, e.storePath]));
    assert.deepEqual([...byFile.keys()].sort(), FILES.map((f) => `${f}.bin`), 'one entry per export, none lost');
    for (const [f, path] of exported) assert.equal(byFile.get(`${f}.bin`), path, f);
    for (const f of first) assert.ok(await isValidPath(box.nixEnv, exported.get(f)!), `the collected export of ${f}.bin was imported`);
    const ls = await runCli(['store', 'ls', '--json'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal((JSON.parse(ls.stdout) as { entries: unknown[] }).entries.length, FILES.length);
    assert.ok(!existsSync(`${file}.lock`), 'the lock was released');
    runs += results.length;
  });
});
