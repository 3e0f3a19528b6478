import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { lfsContent, lfsSha256 } from '../../hub-emulator/content.ts';
import { sampleHubOptions } from '../../hub-emulator/fixtures/sample.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

/** A raw GET that reports a cut connection instead of throwing. */
function rawGet(url: string): Promise<{ status: number; body: Buffer; complete: boolean; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), complete: res.complete, headers: res.headers });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('fault injection', () => {
  let hub: RunningHub;
  let modelSha: string;
  before(async () => {
    hub = await startHub(sampleHubOptions());
    modelSha = await lfsSha256('weights/model.safetensors', 300_000);
  });
  after(() => hub.close());
  afterEach(() => hub.clearFaults());

  it('answers an injected status for `times` matching requests, then recovers', async () => {
    hub.addFault({ match: '/api/models/emu/history', kind: { status: 503 }, times: 2 });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await fetch(`${hub.url}/api/models/emu/history`)).status);
    assert.deepEqual(codes, [503, 503, 200]);
    // Other paths are not affected.
    hub.addFault({ match: /revision\/v1\.0$/, kind: { status: 500 } });
    assert.equal((await fetch(`${hub.url}/api/models/emu/history`)).status, 200);
    assert.equal((await fetch(`${hub.url}/api/models/emu/history/revision/v1.0`)).status, 500);
    assert.equal((await fetch(`${hub.url}/api/models/emu/history/revision/v1.0`)).status, 200);
  });

  it('sends 429 with Retry-After', async () => {
    hub.addFault({ match: 'tree/main', kind: { status: 429, retryAfter: 7 } });
    const r = await fetch(`${hub.url}/api/models/emu/history/tree/main`);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    assert.equal((await fetch(`${hub.url}/api/models/emu/history/tree/main`)).status, 200);
  });

  it('drops the connection after N body bytes on the CDN', async () => {
    hub.addFault({ match: modelSha, kind: { dropAfterBytes: 1000 } });
    const r0 = await fetch(`${hub.url}/emu/history/resolve/main/weights/model.safetensors`, { redirect: 'manual' });
    const cdn = r0.headers.get('location')!;
    const cut = await rawGet(cdn);
    assert.equal(cut.status, 200);
    assert.equal(cut.headers['content-length'], '300000');
    assert.equal(cut.complete, false);
    assert.equal(cut.body.length, 1000);
    assert.deepEqual(cut.body, lfsContent('weights/model.safetensors', 1000));
    const whole = await rawGet(cdn);
    assert.equal(whole.complete, true);
    assert.equal(whole.body.length, 300_000);
  });

  it('carries a body fault matched on the resolve URL over to the CDN download', async () => {
    // The file name is also in the CDN URL's query: each download still counts once.
    hub.addFault({ match: 'model.safetensors', kind: { corrupt: true }, times: 2 });
    for (let i = 0; i < 2; i++) {
      const bad = await fetch(`${hub.url}/emu/history/resolve/main/weights/model.safetensors`);
      const bytes = Buffer.from(await bad.arrayBuffer());
      assert.equal(bytes.length, 300_000);
      assert.notDeepEqual(bytes, lfsContent('weights/model.safetensors', 300_000));
    }
    const good = await fetch(`${hub.url}/emu/history/resolve/main/weights/model.safetensors`);
    assert.deepEqual(Buffer.from(await good.arrayBuffer()), lfsContent('weights/model.safetensors', 300_000));
  });

  it('corrupts regular files too (same length, different bytes)', async () => {
    hub.addFault({ match: 'config.json', kind: { corrupt: true }, times: Infinity });
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${hub.url}/emu/history/resolve/main/config.json`);
      const body = Buffer.from(await r.arrayBuffer());
      assert.equal(body.length, 8);
      assert.notDeepEqual(body.toString(), '{"v":2}\n');
    }
    hub.clearFaults();
    assert.equal(await (await fetch(`${hub.url}/emu/history/resolve/main/config.json`)).text(), '{"v":2}\n');
  });

  it('throttles a slow body', async () => {
    hub.addFault({ match: modelSha, kind: { slowBytesPerSecond: 20_000 } });
    const r0 = await fetch(`${hub.url}/emu/history/resolve/main/weights/extra.bin`, { redirect: 'manual' });
    const extraCdn = r0.headers.get('location')!;
    // Not the matching blob: untouched by the fault (times stays 1 for the matching one below).
    await (await fetch(extraCdn)).arrayBuffer();
    const cdn = (await fetch(`${hub.url}/emu/history/resolve/main/weights/model.safetensors`, { redirect: 'manual' })).headers.get('location')!;
    const t1 = Date.now();
    const slow = await fetch(cdn, { headers: { Range: 'bytes=290000-' } });
    const body = Buffer.from(await slow.arrayBuffer());
    const slowMs = Date.now() - t1;
    assert.equal(body.length, 10_000);
    assert.deepEqual(body, lfsContent('weights/model.safetensors', 300_000).subarray(290_000));
    assert.ok(slowMs >= 400, `10 kB at 20 kB/s took ${slowMs} ms`);
    const t2 = Date.now();
    await (await fetch(cdn, { headers: { Range: 'bytes=290000-' } })).arrayBuffer();
    assert.ok(Date.now() - t2 < slowMs);
  });

  it('answers late with a latency, HEAD too, then on time', async () => {
    hub.addFault({ match: /^\/api\/models\/emu\/history$/, kind: { latencyMs: 300 }, times: 2 });
    const timed = async (method: 'GET' | 'HEAD') => {
      const t = Date.now();
      const res = await fetch(`${hub.url}/api/models/emu/history`, { method });
      await res.arrayBuffer();
      return { status: res.status, ms: Date.now() - t };
    };
    const get = await timed('GET');
    const head = await timed('HEAD');
    const after = await timed('GET');
    assert.deepEqual([get.status, head.status, after.status], [200, 200, 200]);
    assert.ok(get.ms >= 290 && head.ms >= 290, `GET ${get.ms} ms, HEAD ${head.ms} ms`);
    assert.ok(after.ms < 290, `after the fault: ${after.ms} ms`);
    assert.deepEqual(hub.requests.slice(-3).map((r) => r.fault), [{ latencyMs: 300 }, { latencyMs: 300 }, null]);
  });

  it('counts CDN bytes and can reset its stats', async () => {
    hub.resetStats();
    assert.equal(hub.cdnBytes(), 0);
    assert.equal(hub.requests.length, 0);
    await (await fetch(`${hub.url}/emu/history/resolve/main/weights/extra.bin`)).arrayBuffer();
    await (await fetch(`${hub.url}/emu/history/resolve/main/weights/extra.bin`, { method: 'HEAD' })).arrayBuffer();
    assert.equal(hub.cdnBytes(), 1234);
    assert.deepEqual(hub.requests.map((r) => `${r.method} ${r.route}`), ['GET resolve', 'GET cdn', 'HEAD resolve', 'HEAD cdn']);
  });

  it('rejects nonsense faults', () => {
    assert.throws(() => hub.addFault({ match: 'x', kind: { status: 42 } }));
    assert.throws(() => hub.addFault({ match: 'x', kind: { status: 500 }, times: 0 }));
    assert.throws(() => hub.addFault({ match: 'x', kind: { latencyMs: -1 } }));
  });
});
