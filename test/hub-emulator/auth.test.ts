import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TOKEN_ALL, TOKEN_NONE, sampleHubOptions } from '../../hub-emulator/fixtures/sample.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const basic = (t: string, user = 'someone') => ({ Authorization: `Basic ${Buffer.from(`${user}:${t}`).toString('base64')}` });

describe('auth: private, gated and unknown repos', () => {
  let hub: RunningHub;
  before(async () => {
    hub = await startHub(sampleHubOptions());
  });
  after(() => hub.close());

  async function expect(path: string, headers: Record<string, string>, status: number, code: string | null) {
    const r = await fetch(`${hub.url}${path}`, { headers, redirect: 'manual' });
    assert.equal(r.status, status, `${path} ${JSON.stringify(headers)}`);
    assert.equal(r.headers.get('x-error-code'), code, path);
    assert.ok(r.headers.get('x-request-id'));
    return r;
  }

  const privatePaths = [
    '/api/models/emu/private',
    '/api/models/emu/private/revision/main',
    '/api/models/emu/private/tree/main',
    '/emu/private/resolve/main/config.json',
  ];

  it('hides private repos: 401 without auth, 404 with a token not granted, 200 with a grant', async () => {
    for (const p of privatePaths) {
      const r = await expect(p, {}, 401, 'RepoNotFound');
      assert.match(((await r.json()) as { error: string }).error, /not found/i);
      await expect(p, bearer(TOKEN_NONE), 404, 'RepoNotFound');
      await expect(p, bearer(TOKEN_ALL), 200, null);
      await expect(p, basic(TOKEN_ALL), 200, null);
      await expect(p, basic(TOKEN_NONE), 404, 'RepoNotFound');
    }
    // The LFS file: a redirect for the granted token only.
    await expect('/emu/private/resolve/main/model.safetensors', basic(TOKEN_ALL, 'x'), 302, null);
  });

  it('answers unknown repos like private ones', async () => {
    await expect('/api/models/emu/nope', {}, 401, 'RepoNotFound');
    await expect('/api/models/emu/nope', bearer(TOKEN_ALL), 404, 'RepoNotFound');
    await expect('/emu/nope/resolve/main/x', {}, 401, 'RepoNotFound');
    await expect('/api/datasets/emu/nope', bearer(TOKEN_NONE), 404, 'RepoNotFound');
  });

  it('shows gated repos but guards their files: 401 / 403 GatedRepo', async () => {
    await expect('/api/models/emu/gated', {}, 200, null);
    await expect('/api/models/emu/gated/tree/main', {}, 200, null);
    const info = (await (await fetch(`${hub.url}/api/models/emu/gated`)).json()) as { gated: unknown };
    assert.equal(info.gated, 'manual');
    for (const file of ['config.json', 'model.safetensors']) {
      const r401 = await expect(`/emu/gated/resolve/main/${file}`, {}, 401, 'GatedRepo');
      assert.match(((await r401.json()) as { error: string }).error, /Access to model emu\/gated is restricted/);
      const r403 = await expect(`/emu/gated/resolve/main/${file}`, bearer(TOKEN_NONE), 403, 'GatedRepo');
      assert.match(((await r403.json()) as { error: string }).error, /restricted and you are not in the authorized list/);
    }
    await expect('/emu/gated/resolve/main/config.json', bearer(TOKEN_ALL), 200, null);
    await expect('/emu/gated/resolve/main/model.safetensors', basic(TOKEN_ALL), 302, null);
  });

  it('rejects a token it does not know, accepts any user name with Basic', async () => {
    const r = await fetch(`${hub.url}/api/models/emu/history`, { headers: bearer('hf_unknown') });
    assert.equal(r.status, 401);
    assert.match(((await r.json()) as { error: string }).error, /Invalid credentials/);
    await expect('/api/models/emu/private', bearer('hf_unknown'), 401, 'RepoNotFound');
    await expect('/api/models/emu/nope', basic('hf_unknown'), 401, 'RepoNotFound');
    await expect('/emu/gated/resolve/main/config.json', bearer('hf_unknown'), 401, 'GatedRepo');
    await expect('/api/models/emu/private', basic(TOKEN_ALL, 'hf_user'), 200, null);
    await expect('/api/models/emu/private', basic(TOKEN_ALL, ''), 200, null);
    const who = await fetch(`${hub.url}/api/whoami-v2`, { headers: bearer(TOKEN_ALL) });
    assert.equal(who.status, 200);
    assert.equal((await fetch(`${hub.url}/api/whoami-v2`)).status, 401);
  });

  it('records whether requests carried Authorization', async () => {
    hub.resetStats();
    await fetch(`${hub.url}/api/models/emu/history`);
    await fetch(`${hub.url}/api/models/emu/private`, { headers: bearer(TOKEN_ALL) });
    assert.deepEqual(hub.requests.map((r) => [r.route, r.status, r.authorized]), [['api', 200, false], ['api', 200, true]]);
  });

  it('needs no auth on the CDN, and the client drops Authorization on the redirect', async () => {
    hub.resetStats();
    const r = await fetch(`${hub.url}/emu/private/resolve/main/model.safetensors`, { headers: bearer(TOKEN_ALL) });
    assert.equal(r.status, 200);
    assert.equal((await r.arrayBuffer()).byteLength, 4096);
    const cdn = hub.requests.find((q) => q.route === 'cdn');
    assert.equal(cdn?.authorized, false);
  });
});
