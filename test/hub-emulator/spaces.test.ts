import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { downloadFile, listFiles, spaceInfo } from '@huggingface/hub';
import { lfsContent, lfsSha256 } from '../../hub-emulator/content.ts';
import { sampleHubOptions, space } from '../../hub-emulator/fixtures/sample.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

const exec = promisify(execFile);

// Spaces live where the Hub keeps them: /api/spaces/…, /spaces/{id}.git, /spaces/{id}/resolve/….
describe('Spaces on the emulator', () => {
  let hub: RunningHub;
  before(async () => {
    hub = await startHub(sampleHubOptions());
  });
  after(() => hub.close());

  it('answers the Spaces API (info, revision, tree) and only under /spaces', async () => {
    const info = (await (await fetch(`${hub.url}/api/spaces/${space.id}`)).json()) as Record<string, unknown>;
    const { commits } = hub.repo(space.id, 'space');
    assert.equal(info.id, space.id);
    assert.equal(info.sha, commits[1]);
    assert.equal(info.sdk, 'gradio');
    assert.equal('modelId' in info, false);
    const rev = (await (await fetch(`${hub.url}/api/spaces/${space.id}/revision/v1`)).json()) as { sha: string };
    assert.equal(rev.sha, commits[0]);
    const pr = (await (await fetch(`${hub.url}/api/spaces/${space.id}/revision/refs%2Fpr%2F1`)).json()) as { sha: string };
    assert.equal(pr.sha, commits[1]);
    const tree = (await (await fetch(`${hub.url}/api/spaces/${space.id}/tree/main?recursive=true`)).json()) as { path: string; lfs?: { oid: string } }[];
    assert.deepEqual(tree.map((e) => e.path).sort(), ['.gitattributes', 'README.md', 'app.py', 'assets', 'assets/logo.png', 'requirements.txt']);
    assert.equal(tree.find((e) => e.path === 'assets/logo.png')?.lfs?.oid, await lfsSha256('assets/logo.png', 3000));
    const asModel = await fetch(`${hub.url}/api/models/${space.id}`);
    assert.equal(asModel.status, 401);
    assert.equal(asModel.headers.get('x-error-code'), 'RepoNotFound');
  });

  it('resolves files under /spaces/{id}/resolve (LFS through the CDN) and not at the model path', async () => {
    const small = await fetch(`${hub.url}/spaces/${space.id}/resolve/main/app.py`);
    assert.equal(small.status, 200);
    assert.equal(await small.text(), 'import gradio as gr\n');
    const lfs = await fetch(`${hub.url}/spaces/${space.id}/resolve/main/assets/logo.png`, { redirect: 'manual' });
    assert.equal(lfs.status, 302);
    assert.equal(lfs.headers.get('x-linked-etag'), `"${await lfsSha256('assets/logo.png', 3000)}"`);
    const bytes = Buffer.from(await (await fetch(`${hub.url}/spaces/${space.id}/resolve/main/assets/logo.png`)).arrayBuffer());
    assert.ok(bytes.equals(Buffer.from(lfsContent('assets/logo.png', 3000))));
    assert.equal((await fetch(`${hub.url}/${space.id}/resolve/main/app.py`)).status, 401);
  });

  it('serves git at /spaces/{id}.git with LFS pointers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emu-space-'));
    try {
      await exec('git', ['clone', '-q', `${hub.url}/spaces/${space.id}.git`, dir], { env: { ...process.env, GIT_LFS_SKIP_SMUDGE: '1', GIT_TERMINAL_PROMPT: '0' } });
      assert.equal(await readFile(join(dir, 'app.py'), 'utf8'), 'import gradio as gr\n');
      assert.match(await readFile(join(dir, 'assets/logo.png'), 'utf8'), /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:[0-9a-f]{64}\nsize 3000\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is read by huggingface.js as a Space', async () => {
    const info = await spaceInfo({ name: space.id, hubUrl: hub.url });
    assert.equal(info.name, space.id);
    assert.equal(info.sdk, 'gradio');
    const paths: string[] = [];
    for await (const e of listFiles({ repo: { type: 'space', name: space.id }, recursive: true, hubUrl: hub.url })) if (e.type === 'file') paths.push(e.path);
    assert.ok(paths.includes('assets/logo.png'));
    const blob = await downloadFile({ repo: { type: 'space', name: space.id }, path: 'assets/logo.png', hubUrl: hub.url });
    assert.ok(blob);
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(lfsContent('assets/logo.png', 3000))));
  });
});
