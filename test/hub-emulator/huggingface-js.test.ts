import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { datasetInfo, downloadFile, fileDownloadInfo, listFiles, modelInfo } from '@huggingface/hub';
import { lfsContent, lfsSha256 } from '../../hub-emulator/content.ts';
import { TOKEN_ALL, manyFiles, sampleHubOptions } from '../../hub-emulator/fixtures/sample.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

// The emulator as a real Hugging Face client (huggingface.js) sees it.
describe('huggingface.js against the emulator', () => {
  let hub: RunningHub;
  before(async () => {
    hub = await startHub(sampleHubOptions({ repos: [...sampleHubOptions().repos, manyFiles('emu/many', 2500)] }));
  });
  after(() => hub.close());

  it('lists every file across pages', async () => {
    const paths: string[] = [];
    for await (const e of listFiles({ repo: 'emu/many', recursive: true, hubUrl: hub.url })) {
      if (e.type === 'file') paths.push(e.path);
    }
    assert.equal(paths.length, 2501);
    assert.equal(new Set(paths).size, 2501);
    assert.equal(hub.requests.filter((r) => r.url.startsWith('/api/models/emu/many/tree/')).length, 3);
  });

  it('reads model and dataset info, privately with a token', async () => {
    const info = await modelInfo({ name: 'emu/history', hubUrl: hub.url });
    assert.equal(info.name, 'emu/history');
    assert.equal(info.private, false);
    const priv = await modelInfo({ name: 'emu/private', hubUrl: hub.url, accessToken: TOKEN_ALL });
    assert.equal(priv.private, true);
    await assert.rejects(modelInfo({ name: 'emu/private', hubUrl: hub.url }));
    const ds = await datasetInfo({ name: 'emu/data', hubUrl: hub.url });
    assert.equal(ds.name, 'emu/data');
  });

  it('gets download info and bytes of regular and LFS files', async () => {
    const lfs = await fileDownloadInfo({ repo: 'emu/history', path: 'weights/extra.bin', hubUrl: hub.url });
    assert.equal(lfs?.size, 1234);
    assert.equal(lfs?.etag, `"${await lfsSha256('extra', 1234)}"`);
    const reg = await fileDownloadInfo({ repo: 'emu/history', path: 'config.json', hubUrl: hub.url });
    assert.equal(reg?.size, 8);
    const blob = await downloadFile({ repo: 'emu/history', path: 'weights/extra.bin', hubUrl: hub.url });
    assert.deepEqual(Buffer.from(await blob!.arrayBuffer()), lfsContent('extra', 1234));
    const ds = await downloadFile({ repo: { type: 'dataset', name: 'emu/data' }, path: 'README.md', hubUrl: hub.url });
    assert.equal(await ds!.text(), '# data\n');
    assert.equal(await fileDownloadInfo({ repo: 'emu/history', path: 'nope', hubUrl: hub.url }), null);
    const gated = await downloadFile({ repo: 'emu/gated', path: 'model.safetensors', hubUrl: hub.url, accessToken: TOKEN_ALL });
    assert.equal((await gated!.arrayBuffer()).byteLength, 4096);
  });
});
