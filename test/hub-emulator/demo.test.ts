import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TINY_LLAMA, TINY_SQUAD, demoHubOptions } from '../../hub-emulator/fixtures/demo.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

describe('demo fixtures', () => {
  let hub: RunningHub;
  before(async () => {
    hub = await startHub(demoHubOptions());
  });
  after(() => hub.close());

  it('serves a valid 1–2 MiB safetensors file as LFS', async () => {
    const tree = (await (await fetch(`${hub.url}/api/models/${TINY_LLAMA}/tree/main`)).json()) as { path: string; lfs?: { oid: string; size: number } }[];
    const entry = tree.find((e) => e.path === 'model.safetensors');
    assert.ok(entry?.lfs);
    assert.ok(entry.lfs.size > 1 << 20 && entry.lfs.size < 2 << 20);
    const bytes = Buffer.from(await (await fetch(`${hub.url}/${TINY_LLAMA}/resolve/main/model.safetensors`)).arrayBuffer());
    assert.equal(createHash('sha256').update(bytes).digest('hex'), entry.lfs.oid);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { dtype?: string; shape?: number[]; data_offsets?: [number, number] }>;
    const tensor = header['model.embed_tokens.weight']!;
    assert.equal(tensor.dtype, 'F32');
    assert.equal(tensor.data_offsets![1], bytes.length - 8 - headerLen);
    assert.equal(tensor.shape![0]! * tensor.shape![1]! * 4, tensor.data_offsets![1]);
    const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + headerLen, bytes.byteOffset + bytes.length));
    assert.ok(floats.every((f) => Number.isFinite(f)));
  });

  it('serves the model files as JSON and the dataset with an LFS parquet file', async () => {
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      const r = await fetch(`${hub.url}/${TINY_LLAMA}/resolve/main/${f}`);
      assert.equal(r.status, 200, f);
      assert.equal(typeof (await r.json()), 'object');
    }
    const tree = (await (await fetch(`${hub.url}/api/datasets/${TINY_SQUAD}/tree/main?recursive=true`)).json()) as { path: string; lfs?: unknown }[];
    assert.ok(tree.find((e) => e.path === 'data/train-00000-of-00001.parquet')?.lfs);
    assert.equal(tree.find((e) => e.path === 'data/validation.jsonl')?.lfs, undefined);
    const jsonl = await (await fetch(`${hub.url}/datasets/${TINY_SQUAD}/resolve/main/data/validation.jsonl`)).text();
    assert.ok(jsonl.trim().split('\n').every((l) => typeof JSON.parse(l) === 'object'));
    assert.equal(hub.repo(TINY_LLAMA).refs['v1.0'], hub.repo(TINY_LLAMA).commits[0]);
  });
});
