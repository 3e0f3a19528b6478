/**
 * Concurrent runs: two fetches of the same repository at once (public, so
 * two `nix build`s race for the same downloads; gated, so two CLIs race to
 * add the same blob to the store), and exports racing imports on one
 * persist store while a reader keeps reading its export index. Everything
 * succeeds, the results agree, the index reads whole at every moment and
 * loses no record.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { requireBuild, runCli, collect, isValidPath, attempt, RUN, sandbox, seeded, tmpLeftovers, type Sandbox } from '../support/index.ts';
import { readIndex } from '../../src/persist/export-index.ts';

const ORG = `conc-${RUN}`;
const TOKEN = `hf_concurrencyTest${RUN}`;
const FILES = ['a', 'b', 'c', 'd', 'e', 'f'];

let hub: RunningHub;
let box: Sandbox;

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
  await hub?.close();
  box?.cleanup();
});

async function fetchTwice(id: string, extra: NodeJS.ProcessEnv): Promise<void> {
  const passed = attempt('concurrency', 'concurrentRuns', 2);
  const [one, two] = await Promise.all([runCli(['fetch', id, '--json'], box.env(extra)), runCli(['fetch', id, '--json'], box.env(extra))]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  assert.equal(one.stdout, two.stdout, 'the same expression and store path');
  const { storePath } = JSON.parse(one.stdout) as { storePath: string };
  assert.ok(await isValidPath(box.nixEnv, storePath));
  assert.deepEqual(tmpLeftovers(box.tmp), []);
  passed();
}

describe('two fetches of the same repository at once', () => {
  it('public repo: both succeed with the same store path', async () => {
    await fetchTwice(`${ORG}/pub`, {});
  });

  it('gated repo (both CLIs download and add the same blob): both succeed with the same store path', async () => {
    await fetchTwice(`${ORG}/gated`, { HF_TOKEN: TOKEN });
  });
});

describe('exports racing imports on one persist store', () => {
  it('every export is recorded, every import succeeds, and the index always reads whole', { timeout: 120_000 }, async () => {
    const id = `${ORG}/many`;
    const persist = join(box.home, 'persist');
    const env = box.env({ NIX_HUG_PERSIST_DIR: persist });
    // Two exports first, then collected: the imports below have real copying to do.
    const first = ['a', 'b'];
    const exported = new Map<string, string>();
    for (const f of first) {
      const r = await runCli(['export', id, '--file', `${f}.bin`], env);
      assert.equal(r.code, 0, r.stderr);
      exported.set(f, r.stdout.trim());
    }
    await collect(box.nixEnv, [...exported.values()]);

    // A reader reads the index over and over while the race runs: never a half-written record, never fewer records.
    let racing = true;
    let reads = 0;
    let seen = 0;
    const bad: string[] = [];
    const reader = (async () => {
      while (racing) {
        try {
          const index = await readIndex(`file://${persist}`, box.nixEnv);
          for (const s of index.skipped) bad.push(`record ${s.slot}: ${s.why}`);
          if (index.records.length < seen) bad.push(`${index.records.length} records after ${seen}`);
          seen = index.records.length;
          reads++;
        } catch (err) {
          bad.push(String(err));
        }
        await sleep(1);
      }
    })();
    const rest = FILES.filter((f) => !first.includes(f));
    const passed = attempt('concurrency', 'concurrentRuns', rest.length + first.length);
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
    assert.deepEqual(bad, [], 'the index was unreadable at some moment');
    assert.ok(reads > 0, 'the reader read the index');

    const ls = await runCli(['store', 'ls', '--json'], env);
    assert.equal(ls.code, 0, ls.stderr);
    const entries = (JSON.parse(ls.stdout) as { entries: Array<{ filters: { files: string[] }; storePath: string }> }).entries;
    const byFile = new Map(entries.map((e) => [e.filters.files[0]!, e.storePath]));
    assert.deepEqual([...byFile.keys()].sort(), FILES.map((f) => `${f}.bin`), 'one entry per export, none lost');
    for (const [f, path] of exported) assert.equal(byFile.get(`${f}.bin`), path, f);
    for (const f of first) assert.ok(await isValidPath(box.nixEnv, exported.get(f)!), `the collected export of ${f}.bin was imported`);
    assert.equal(entries.length, FILES.length);
    passed(results.length);
  });
});
