import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { lfsContent, lfsSha256 } from '../../hub-emulator/content.ts';
import { AWKWARD_NAMES, TOKEN_ALL, TOKEN_NONE, sampleHubOptions } from '../../hub-emulator/fixtures/sample.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

const exec = promisify(execFile);

describe('git smart HTTP and the LFS batch API', () => {
  let hub: RunningHub;
  let work: string;
  // No user config, no prompts: a failure must fail, not hang.
  const baseEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' };

  /** Runs git asynchronously (the emulator serves from this very process). */
  async function git(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const { stdout } = await exec('git', args, { env: { ...baseEnv, ...env }, cwd: work, maxBuffer: 64 << 20 });
    return stdout;
  }
  const withToken = (url: string, token: string) => url.replace('http://', `http://user:${token}@`);

  before(async () => {
    hub = await startHub(sampleHubOptions());
    work = mkdtempSync(join(tmpdir(), 'hub-git-test-'));
  });
  after(async () => {
    await hub.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('clones a public repo with pointer files (GIT_LFS_SKIP_SMUDGE=1)', async () => {
    const dir = join(work, 'public');
    await git(['clone', '-q', `${hub.url}/emu/history`, dir], { GIT_LFS_SKIP_SMUDGE: '1' });
    const sha = await lfsSha256('weights/model.safetensors', 300_000);
    assert.equal(
      readFileSync(join(dir, 'weights/model.safetensors'), 'utf8'),
      `version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize 300000\n`,
    );
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"v":2}\n');
    assert.equal(readlinkSync(join(dir, 'link-to-config')), 'config.json');
    for (const name of AWKWARD_NAMES) assert.equal(readFileSync(join(dir, name), 'utf8'), `content of ${name}\n`);
    assert.equal((await git(['-C', dir, 'rev-parse', 'HEAD'])).trim(), hub.repo('emu/history').commits[3]);
  });

  it('advertises branches, tags and refs/pr/N; a commit on a PR ref can be fetched by sha', async () => {
    const out = await git(['ls-remote', `${hub.url}/emu/history.git`]);
    const { commits } = hub.repo('emu/history');
    assert.match(out, new RegExp(`^${commits[3]}\\tHEAD$`, 'm'));
    assert.match(out, new RegExp(`^${commits[2]}\\trefs/heads/dev$`, 'm'));
    assert.match(out, new RegExp(`^${commits[1]}\\trefs/pr/1$`, 'm'));
    assert.match(out, new RegExp(`^${commits[0]}\\trefs/tags/v1.0$`, 'm'));
    const dir = join(work, 'bysha');
    await git(['init', '-q', dir]);
    await git(['-C', dir, 'fetch', '-q', '--depth=1', `${hub.url}/emu/history.git`, commits[1]!]);
    assert.equal((await git(['-C', dir, 'rev-parse', 'FETCH_HEAD'])).trim(), commits[1]);
  });

  it('clones datasets under /datasets/ and with or without .git', async () => {
    const out = await git(['ls-remote', `${hub.url}/datasets/emu/data.git`]);
    assert.match(out, /refs\/heads\/main/);
    const out2 = await git(['ls-remote', `${hub.url}/datasets/emu/data`]);
    assert.equal(out2, out);
  });

  it('smudges LFS files through the batch API and the CDN', async () => {
    const dir = join(work, 'smudged');
    hub.resetStats();
    await git(['clone', '-q', `${hub.url}/emu/history`, dir]);
    assert.deepEqual(readFileSync(join(dir, 'weights/model.safetensors')), lfsContent('weights/model.safetensors', 300_000));
    assert.deepEqual(readFileSync(join(dir, 'big file with space.bin')), lfsContent('big file with space.bin', 5000));
    assert.ok(hub.requests.some((r) => r.route === 'lfs-batch' && r.status === 200));
    assert.ok(hub.cdnBytes() >= 300_000);
  });

  it('answers the batch API by the spec: download actions, 404 per unknown object, no upload', async () => {
    const known = await lfsSha256('extra', 1234);
    const r = await fetch(`${hub.url}/emu/history.git/info/lfs/objects/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.git-lfs+json', Accept: 'application/vnd.git-lfs+json' },
      body: JSON.stringify({ operation: 'download', transfers: ['basic'], objects: [{ oid: known, size: 1234 }, { oid: 'f'.repeat(64), size: 1 }] }),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/vnd\.git-lfs\+json/);
    const body = (await r.json()) as { objects: { oid: string; actions?: { download: { href: string } }; error?: { code: number } }[] };
    assert.equal(body.objects[0]?.oid, known);
    const href = body.objects[0]!.actions!.download.href;
    assert.ok(href.startsWith(hub.cdnUrl));
    assert.deepEqual(Buffer.from(await (await fetch(href)).arrayBuffer()), lfsContent('extra', 1234));
    assert.equal(body.objects[1]?.error?.code, 404);
    const up = await fetch(`${hub.url}/emu/history.git/info/lfs/objects/batch`, {
      method: 'POST',
      body: JSON.stringify({ operation: 'upload', objects: [] }),
    });
    assert.equal(up.status, 403);
  });

  it('clones a private repo with the token as password, refuses without', async () => {
    const url = `${hub.url}/emu/private`;
    await assert.rejects(git(['ls-remote', url]), /Authentication failed|could not read Username|401/);
    await assert.rejects(git(['ls-remote', withToken(url, TOKEN_NONE)]), /not found|404/i);
    const dir = join(work, 'private');
    await git(['clone', '-q', withToken(url, TOKEN_ALL), dir]);
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"private":true}\n');
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), lfsContent('model.safetensors', 4096));
    // Credentials as an extra header work the same (what nix-hug gives git).
    const viaHeader = await git(['-c', `http.extraHeader=Authorization: Bearer ${TOKEN_ALL}`, 'ls-remote', url]);
    assert.match(viaHeader, /refs\/heads\/main/);
  });

  it('guards gated repos: 401 without a token, 403 not granted, works with a grant', async () => {
    const url = `${hub.url}/emu/gated.git`;
    await assert.rejects(git(['ls-remote', url]));
    await assert.rejects(git(['ls-remote', withToken(url, TOKEN_NONE)]), /403/);
    assert.match(await git(['ls-remote', withToken(url, TOKEN_ALL)]), /refs\/heads\/main/);
    const r = await fetch(`${url}/info/refs?service=git-upload-pack`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('x-error-code'), 'GatedRepo');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  });

  it('accepts gzip-encoded and chunked upload-pack requests', async () => {
    const want = hub.repo('emu/history').commits[0]!;
    const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
    const request = Buffer.from(`${pkt(`want ${want}\n`)}0000${pkt('done\n')}`);
    const endpoint = `${hub.url}/emu/history.git/git-upload-pack`;
    const headers = { 'Content-Type': 'application/x-git-upload-pack-request', Accept: 'application/x-git-upload-pack-result' };
    const gz = await fetch(endpoint, { method: 'POST', headers: { ...headers, 'Content-Encoding': 'gzip' }, body: gzipSync(request) });
    assert.equal(gz.status, 200);
    assert.ok(Buffer.from(await gz.arrayBuffer()).includes('PACK'));
    const chunked = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: new ReadableStream({
        start(c) {
          c.enqueue(request.subarray(0, 10));
          c.enqueue(request.subarray(10));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 200);
    assert.ok(Buffer.from(await chunked.arrayBuffer()).includes('PACK'));
    const push = await fetch(`${hub.url}/emu/history.git/info/refs?service=git-receive-pack`);
    assert.equal(push.status, 403);
  });
});
