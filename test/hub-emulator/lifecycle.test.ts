import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lfsSha256 } from '../../hub-emulator/content.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec } from '../../hub-emulator/types.ts';

const exec = promisify(execFile);
const big: RepoSpec = { id: 'emu/big', commits: [{ files: { 'w.bin': { lfs: { size: 8 << 20 } } } }] };

/** Starts a GET and resolves once the first body bytes arrived; the caller decides what to do next. */
function startDownload(url: string): Promise<{ abort: () => void; ended: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const ended = new Promise<string>((r) => {
        res.on('end', () => r(res.complete ? 'complete' : 'cut'));
        res.on('error', () => r('error'));
        res.on('aborted', () => r('aborted'));
        res.on('close', () => r(res.complete ? 'complete' : 'closed'));
      });
      res.once('data', () => resolve({ abort: () => req.destroy(), ended }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('emulator lifecycle', () => {
  it('survives clients that disconnect mid-body, and keeps serving', async () => {
    const hub = await startHub({ repos: [big] });
    try {
      hub.addFault({ match: await lfsSha256('w.bin', 8 << 20), kind: { slowBytesPerSecond: 100_000 }, times: 1 });
      const loc = (await fetch(`${hub.url}/emu/big/resolve/main/w.bin`, { redirect: 'manual' })).headers.get('location')!;
      for (let i = 0; i < 3; i++) {
        const d = await startDownload(loc);
        d.abort();
        await d.ended;
      }
      // A git request whose client goes away.
      const git = await startDownload(`${hub.url}/emu/big.git/info/refs?service=git-upload-pack`);
      git.abort();
      const r = await fetch(loc);
      assert.equal((await r.arrayBuffer()).byteLength, 8 << 20);
      assert.ok(hub.requests.filter((q) => q.route === 'cdn').length >= 4);
    } finally {
      await hub.close();
    }
  });

  it('close() ends open downloads at once and removes its temp dir', async () => {
    const hub = await startHub({ repos: [big] });
    hub.addFault({ match: await lfsSha256('w.bin', 8 << 20), kind: { slowBytesPerSecond: 1000 }, times: Infinity });
    const loc = (await fetch(`${hub.url}/emu/big/resolve/main/w.bin`, { redirect: 'manual' })).headers.get('location')!;
    const slow = await startDownload(loc);
    const t0 = Date.now();
    await hub.close();
    assert.notEqual(await slow.ended, 'complete');
    assert.ok(Date.now() - t0 < 2000, `close took ${Date.now() - t0} ms`);
    assert.equal(existsSync(hub.dataDir), false);
    await hub.close(); // idempotent
    await assert.rejects(fetch(`${hub.url}/api/models/emu/big`));
  });

  it('keeps a dataDir it was given, and fails clearly on a bad description', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-given-'));
    try {
      const hub = await startHub({ repos: [big], dataDir: dir });
      await hub.close();
      assert.ok(readdirSync(join(dir, 'lfs')).length === 1);
      assert.ok(existsSync(join(dir, 'git/models/emu/big.git/HEAD')));
      const { stdout } = await exec('git', ['--git-dir', join(dir, 'git/models/emu/big.git'), 'fsck', '--no-progress']);
      assert.equal(stdout, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await assert.rejects(startHub({ repos: [{ id: 'emu/bad', commits: [{ files: { 'a/../b': 'x' } }] }] }), /invalid file path/);
    await assert.rejects(startHub({ repos: [{ id: 'no-slash', commits: [{ files: {} }] }] }), /invalid repo id/);
    await assert.rejects(startHub({ repos: [big, big] }), /defined twice/);
    await assert.rejects(startHub({ repos: [{ id: 'emu/none', commits: [] }] }), /no commits/);
  });

  it('npm run hub prints HF_ENDPOINT, serves the demo and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'hub-emulator/cli.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`hub exited ${code}`)));
        setTimeout(() => reject(new Error('no HF_ENDPOINT line within 20 s')), 20_000).unref();
      });
      const m = /^HF_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      assert.ok(m, line);
      const info = (await (await fetch(`${m[1]}/api/models/nix-hug/tiny-llama`)).json()) as { siblings: { rfilename: string }[] };
      assert.deepEqual(info.siblings.map((s) => s.rfilename).sort(), [
        '.gitattributes', 'README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json',
      ]);
      const ds = await fetch(`${m[1]}/api/datasets/nix-hug/tiny-squad/tree/main/data`);
      assert.deepEqual(((await ds.json()) as { path: string }[]).map((e) => e.path), ['data/train-00000-of-00001.parquet', 'data/validation.jsonl']);
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
