/**
 * Ids the Hub still answers for: legacy ids without an owner (`gpt2` is
 * `openai-community/gpt2`) and former names. The API answers under them with
 * the canonical `id`; `resolve` and git URLs redirect (307) to the canonical
 * ones, which clients follow.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

const exec = promisify(execFile);
let hub: RunningHub;

before(async () => {
  hub = await startHub({
    repos: [
      { id: 'openai-community/gpt2', aliases: ['gpt2', 'old-org/gpt-2'], commits: [{ files: { 'config.json': '{"n":1}\n', 'model.safetensors': { lfs: { size: 1000 } } } }] },
      { id: 'rajpurkar/squad', type: 'dataset', aliases: ['squad'], commits: [{ files: { 'data/train.parquet': { lfs: { size: 500 } }, 'README.md': '# squad\n' } }] },
    ],
  });
});
after(() => hub.close());

describe('aliases', () => {
  it('the API answers under a legacy id or a former name with the canonical id', async () => {
    for (const path of ['/api/models/gpt2', '/api/models/old-org/gpt-2', '/api/models/openai-community/gpt2']) {
      const r = await fetch(`${hub.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(((await r.json()) as { id: string }).id, 'openai-community/gpt2', path);
    }
    const rev = (await (await fetch(`${hub.url}/api/models/gpt2/revision/main`)).json()) as { id: string; sha: string };
    assert.deepEqual([rev.id, rev.sha], ['openai-community/gpt2', hub.repo('openai-community/gpt2').refs.main]);
    const tree = (await (await fetch(`${hub.url}/api/datasets/squad/tree/main?recursive=true`)).json()) as { path: string }[];
    assert.deepEqual(tree.map((e) => e.path).sort(), ['.gitattributes', 'README.md', 'data', 'data/train.parquet']);
    assert.equal((await fetch(`${hub.url}/api/datasets/gpt2`)).status, 401, 'an alias belongs to its kind');
    assert.equal((await fetch(`${hub.url}/api/models/gpt3`)).status, 401);
  });

  it('resolve URLs under an alias redirect (307) to the canonical path; the bytes follow', async () => {
    const r = await fetch(`${hub.url}/gpt2/resolve/main/config.json?download=true`, { redirect: 'manual' });
    assert.equal(r.status, 307);
    assert.equal(r.headers.get('location'), '/openai-community/gpt2/resolve/main/config.json?download=true');
    assert.equal(await (await fetch(`${hub.url}/gpt2/resolve/main/config.json`)).text(), '{"n":1}\n');
    const d = await fetch(`${hub.url}/datasets/squad/resolve/main/README.md`, { redirect: 'manual' });
    assert.equal(d.headers.get('location'), '/datasets/rajpurkar/squad/resolve/main/README.md');
  });

  it('git clones under an alias (git follows the redirect)', async () => {
    const work = mkdtempSync(join(tmpdir(), 'hub-alias-git-'));
    try {
      const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
      await exec('git', ['clone', '-q', `${hub.url}/gpt2`, join(work, 'c')], { env });
      assert.equal(readFileSync(join(work, 'c', 'config.json'), 'utf8'), '{"n":1}\n');
      assert.match(readFileSync(join(work, 'c', 'model.safetensors'), 'utf8'), /^version https:\/\/git-lfs\.github\.com\/spec\/v1\n/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
