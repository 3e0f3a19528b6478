/** The Hub client over real HTTP against the emulator: downloads, redirects, gated access. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HubClient } from '../../src/hub/client.ts';
import { HubApiError } from '../../src/hub/errors.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { GRANTED, readBody, UNGRANTED } from '../support/index.ts';

let hub: RunningHub;
before(async () => {
  hub = await startHub({
    repos: [{ id: 'acme/gated', gated: 'manual', commits: [{ files: { 'w.bin': { lfs: { size: 70_000 } }, 'config.json': '{}\n' }, tags: ['v1'] }] }],
    tokens: { [GRANTED]: { grants: ['acme/gated'] }, [UNGRANTED]: { grants: [] } },
  });
});
after(() => hub.close());

const repo = { type: 'model' as const, repoId: 'acme/gated' };
const make = (token: string | null) => new HubClient({ endpoint: hub.url, token, retry: { maxRetries: 1, baseDelayMs: 1 } });

describe('HubClient against the emulator', () => {
  it('downloads a gated LFS file with a granted token; the token is not sent to the CDN', async () => {
    const rev = hub.repo('acme/gated').refs.main!;
    hub.resetStats();
    const res = await make(GRANTED).get(`${hub.url}/acme/gated/resolve/${rev}/w.bin`, { context: { what: 'downloading w.bin', repo, rev, path: 'w.bin' } });
    const bytes = await readBody(res);
    assert.deepEqual(bytes, Buffer.from(hub.repo('acme/gated').filesAt().get('w.bin')!));
    const routes = hub.requests.map((r) => [r.route, r.status, r.authorized]);
    assert.deepEqual(routes, [
      ['resolve', 302, true],
      ['cdn', 200, false],
    ]);
  });

  it('gated without a token, and with an ungranted one: errors that say what to do', async () => {
    const rev = hub.repo('acme/gated').refs.main!;
    const url = `${hub.url}/acme/gated/resolve/${rev}/w.bin`;
    const ctx = { context: { what: 'downloading w.bin', repo, rev, path: 'w.bin' } };
    await assert.rejects(make(null).get(url, ctx), (err: unknown) => {
      assert.ok(err instanceof HubApiError && err.status === 401 && err.errorCode === 'GatedRepo');
      assert.equal(err.message, 'model acme/gated is gated: it needs a Hugging Face token');
      assert.equal(err.hint, `request access at ${hub.url}/acme/gated and set HF_TOKEN`);
      return true;
    });
    await assert.rejects(make(UNGRANTED).get(url, ctx), (err: unknown) => {
      assert.ok(err instanceof HubApiError && err.status === 403);
      assert.equal(err.message, 'your token has not been granted access to the gated model acme/gated');
      assert.match(err.hint ?? '', new RegExp(`request access at ${hub.url}/acme/gated`));
      return true;
    });
  });

  it('a missing file is EntryNotFound, named', async () => {
    const rev = hub.repo('acme/gated').refs.main!;
    await assert.rejects(
      make(GRANTED).get(`${hub.url}/acme/gated/resolve/${rev}/nope.bin`, { context: { what: 'downloading nope.bin', repo, rev, path: 'nope.bin' } }),
      /file 'nope\.bin' not found in model acme\/gated/,
    );
  });

  it('reads the revision and the info of a gated repo without a token (metadata is public)', async () => {
    const c = make(null);
    assert.equal(await c.resolveRevision(repo, 'main'), hub.repo('acme/gated').refs.main);
    const info = await c.repoInfo(repo);
    assert.equal(info.gated, 'manual');
  });

  it("asks nothing twice: a bare id's lookup gives main's commit and the info; another ref is asked for", async () => {
    const c = make(null);
    hub.resetStats();
    const found = await c.identify('acme/gated');
    assert.deepEqual(found, repo);
    assert.equal(await c.resolveRevision(found, 'main'), hub.repo('acme/gated').refs.main);
    assert.equal((await c.repoInfo(found)).gated, 'manual');
    assert.deepEqual(hub.requests.map((r) => r.url).sort(), ['/api/datasets/acme/gated', '/api/models/acme/gated', '/api/spaces/acme/gated']);
    hub.resetStats();
    assert.equal(await c.resolveRevision(found, 'v1'), hub.repo('acme/gated').refs.v1);
    assert.deepEqual(hub.requests.map((r) => r.url), ['/api/models/acme/gated/revision/v1']);
  });

  it("a typed id: main's revision answers the info too", async () => {
    const c = make(null);
    hub.resetStats();
    assert.equal(await c.resolveRevision(repo, 'main'), hub.repo('acme/gated').refs.main);
    assert.deepEqual(await c.repoInfo(repo), { repoId: 'acme/gated', sha: hub.repo('acme/gated').refs.main, private: false, gated: 'manual' });
    assert.deepEqual(hub.requests.map((r) => r.url), ['/api/models/acme/gated/revision/main']);
  });
});
