/**
 * The emulator changes while it runs, as the Hub does: a push moves a branch
 * (the API, `resolve` and git all see the new commit; old commits stay
 * fetchable and keep their ids), a tag is moved, a repository is deleted
 * (then it answers as one that never existed).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lfsSha256 } from '../../hub-emulator/content.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

const exec = promisify(execFile);
const TOKEN = 'hf_mutateTestToken000000000001';

describe('changing repositories while the emulator runs', () => {
  let hub: RunningHub;
  let work: string;
  const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '' };
  const git = async (args: string[]) => (await exec('git', args, { env: gitEnv, cwd: work })).stdout;
  const json = async (path: string, token?: string) => {
    const res = await fetch(`${hub.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, code: res.headers.get('x-error-code'), body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    hub = await startHub({
      repos: [
        { id: 'mut/model', commits: [{ files: { 'config.json': '{"v":1}\n', 'w.bin': { lfs: { size: 1000, seed: 'mut-w1' } } }, tags: ['v1'] }] },
        { id: 'mut/set', type: 'dataset', commits: [{ files: { 'a.txt': 'a\n' } }] },
      ],
      tokens: { [TOKEN]: { grants: [] } },
    });
    work = mkdtempSync(join(tmpdir(), 'hub-mutate-test-'));
  });
  after(async () => {
    await hub.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('push: main moves for the API, resolve and git; the old commit keeps its id and stays reachable', async () => {
    const [first] = hub.repo('mut/model').commits;
    const sha = await hub.push('mut/model', { message: 'new weights', files: { 'w.bin': { lfs: { size: 1200, seed: 'mut-w2' } }, 'extra.txt': 'x\n' } });
    assert.match(sha, /^[0-9a-f]{40}$/);
    assert.deepEqual(hub.repo('mut/model').commits, [first, sha]);
    assert.equal((await json('/api/models/mut/model/revision/main')).body.sha, sha);
    assert.equal((await json(`/api/models/mut/model/revision/${first}`)).body.sha, first);
    assert.equal((await json('/api/models/mut/model')).body.sha, sha);
    const tree = (await fetch(`${hub.url}/api/models/mut/model/tree/main?recursive=true`).then((r) => r.json())) as { path: string; lfs?: { oid: string } }[];
    assert.deepEqual(tree.map((e) => e.path).sort(), ['.gitattributes', 'config.json', 'extra.txt', 'w.bin']);
    assert.equal(tree.find((e) => e.path === 'w.bin')?.lfs?.oid, await lfsSha256('mut-w2', 1200));
    const resolved = await fetch(`${hub.url}/mut/model/resolve/main/extra.txt`);
    assert.equal(resolved.headers.get('x-repo-commit'), sha);
    assert.equal(await resolved.text(), 'x\n');
    const refs = await git(['ls-remote', `${hub.url}/mut/model.git`]);
    assert.match(refs, new RegExp(`^${sha}\\trefs/heads/main$`, 'm'));
    assert.match(refs, new RegExp(`^${first}\\trefs/tags/v1$`, 'm'));
    const dir = join(work, 'clone');
    await git(['init', '-q', dir]);
    await git(['-C', dir, 'fetch', '-q', `${hub.url}/mut/model.git`, first!]);
    assert.equal((await git(['-C', dir, 'cat-file', '-t', first!])).trim(), 'commit');
  });

  it('push to a new branch starts it at main, leaving main alone', async () => {
    const main = (await json('/api/models/mut/model/revision/main')).body.sha;
    const sha = await hub.push('mut/model', { branch: 'dev', files: { 'dev.txt': 'dev\n' } });
    assert.equal((await json('/api/models/mut/model/revision/dev')).body.sha, sha);
    assert.equal((await json('/api/models/mut/model/revision/main')).body.sha, main);
  });

  it('moveTag re-points a tag for the API and git', async () => {
    const main = (await json('/api/models/mut/model/revision/main')).body.sha as string;
    assert.equal(await hub.moveTag('mut/model', 'v1', 'main'), main);
    assert.equal((await json('/api/models/mut/model/revision/v1')).body.sha, main);
    assert.match(await git(['ls-remote', `${hub.url}/mut/model.git`]), new RegExp(`^${main}\\trefs/tags/v1$`, 'm'));
    assert.equal(hub.repo('mut/model').refs.v1, main);
    await assert.rejects(hub.moveTag('mut/model', 'v1', 'no-such-branch'), /no revision no-such-branch/);
  });

  it('deleteRepo: 401 RepoNotFound without a token, 404 with one, and git fails', async () => {
    await hub.deleteRepo('mut/set', 'dataset');
    const anon = await json('/api/datasets/mut/set/revision/main');
    assert.deepEqual([anon.status, anon.code], [401, 'RepoNotFound']);
    const authed = await json('/api/datasets/mut/set', TOKEN);
    assert.deepEqual([authed.status, authed.code], [404, 'RepoNotFound']);
    await assert.rejects(git(['ls-remote', `${hub.url}/datasets/mut/set.git`]));
    assert.throws(() => hub.repo('mut/set', 'dataset'), /no dataset mut\/set/);
    // The model of the same hub is untouched.
    assert.equal((await json('/api/models/mut/model')).status, 200);
  });
});
