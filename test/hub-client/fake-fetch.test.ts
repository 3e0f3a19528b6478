import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { HubClient, nextLink, parseRetryAfter, type FetchFn, type HubClientOptions } from '../../src/hub/client.ts';
import { httpSettingsFromEnv } from '../../src/settings/http.ts';
import { HubApiError, HubUnreachableError } from '../../src/hub/errors.ts';
import { listRepoFiles } from '../../src/hub/tree.ts';
import { findToken, tokenFilePath } from '../../src/settings/token.ts';
import { hubEndpoint } from '../../src/settings/endpoint.ts';
import { createLogger } from '../../src/ui/logger.ts';
import { NixHugError, UsageError } from '../../src/errors.ts';
import { readBody } from '../support/http.ts';

const EP = 'https://hub.test';
const SHA = 'c'.repeat(40);
const TOKEN = 'hf_abcdefghijklmnopqrstuvwxyz012345';

interface Call {
  url: string;
  auth: string | null;
  method: string;
}

function json(body: unknown, init: ResponseInit = {}): Response {
  return new Response(JSON.stringify(body), { status: 200, ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
}

function errorResponse(status: number, code: string | null, message = 'nope', headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: message }), { status, headers: { ...(code ? { 'x-error-code': code } : {}), 'x-request-id': 'req-1', ...headers } });
}

/** A fake Hub: `route(url, call#)` answers each request. */
function fakeHub(route: (url: string, n: number, init?: RequestInit) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch: FetchFn = async (url, init) => {
    const headers = new Headers(init?.headers);
    calls.push({ url, auth: headers.get('authorization'), method: init?.method ?? 'GET' });
    return route(url, calls.length, init);
  };
  return { fetch, calls };
}

function client(fetch: FetchFn, extra: Partial<HubClientOptions> = {}) {
  const delays: number[] = [];
  let clock = 0;
  const lines: string[] = [];
  const c = new HubClient({
    endpoint: EP,
    fetch,
    retry: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, totalBudgetMs: 60_000 },
    sleep: async (ms) => {
      delays.push(ms);
      clock += ms;
    },
    now: () => clock,
    random: () => 0.5,
    logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    ...extra,
  });
  return { c, delays, lines };
}

const model = { type: 'model' as const, repoId: 'org/repo' };

describe('an explicit commit', () => {
  it('is pinned only when the Hub answers that very commit', async () => {
    const asked = 'a'.repeat(40);
    const { c } = client(fakeHub(() => json({ sha: SHA })).fetch);
    await assert.rejects(c.resolveRevision(model, asked), (err: unknown) => {
      assert.ok(err instanceof NixHugError);
      assert.match(err.message, new RegExp(`asked for commit ${asked} of model org/repo, the Hub at https://hub.test answered ${SHA}`));
      assert.match(err.hint ?? '', /HF_ENDPOINT/);
      return true;
    });
    // Upper-case hex names the same commit.
    const same = client(fakeHub(() => json({ sha: asked })).fetch).c;
    assert.equal(await same.resolveRevision(model, asked.toUpperCase()), asked);
    assert.equal(await same.resolveRevision(model, 'main'), asked, 'a branch may name any commit');
  });
});

/** A real HTTP server on 127.0.0.1 whose handler writes the answer; counts the body bytes it got out. */
async function httpServer(handler: (res: ServerResponse, sent: (n: number) => void) => void) {
  let bytes = 0;
  const server = createServer((_req, res) => handler(res, (n) => (bytes += n)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => bytes,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('bodies are read within the timeout and a size limit', () => {
  const realClient = (timeoutMs: number) =>
    new HubClient({ endpoint: EP, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1, totalBudgetMs: 1000 }, timeoutMs });

  it('an error answer whose body trickles: get() gives up at the timeout', { timeout: 10_000 }, async () => {
    const srv = await httpServer((res, sent) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write('x');
        sent(1);
      }, 50);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const t0 = Date.now();
      await assert.rejects(realClient(500).get(`${srv.url}/file`), NixHugError);
      const ms = Date.now() - t0;
      assert.ok(ms < 2000, `get() returned after ${ms} ms with a 500 ms timeout`);
    } finally {
      await srv.close();
    }
  });

  it('an error answer with an endless body: read no further than a small limit', { timeout: 20_000 }, async () => {
    const chunk = Buffer.alloc(64 * 1024, 'e');
    const srv = await httpServer((res, sent) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      let left = 3200; // 200 MiB unless the client stops reading
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          left--;
          sent(chunk.length);
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    try {
      await assert.rejects(realClient(10_000).get(`${srv.url}/file`), (err: unknown) => err instanceof HubApiError && err.status === 503);
      assert.ok(srv.sent() < 16 << 20, `the client took ${srv.sent()} bytes of an error body`);
    } finally {
      await srv.close();
    }
  });

  it('an API answer larger than any the Hub sends: a clear error, not all of it in memory', { timeout: 20_000 }, async () => {
    const chunk = Buffer.alloc(1 << 20, ' ');
    const srv = await httpServer((res, sent) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let left = 400; // 400 MiB of JSON whitespace
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          left--;
          sent(chunk.length);
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('{}');
      };
      pump();
    });
    try {
      const c = new HubClient({ endpoint: srv.url, retry: { maxRetries: 0 }, timeoutMs: 60_000 });
      await assert.rejects(c.repoInfo(model), (err: unknown) => err instanceof NixHugError && /larger than/.test(err.message));
      assert.ok(srv.sent() < 200 << 20, `the client took ${srv.sent()} bytes`);
    } finally {
      await srv.close();
    }
  });
});

describe('HubClient retries', () => {
  it('retries 5xx with exponential backoff and jitter, then succeeds', async () => {
    const hub = fakeHub((_u, n) => (n < 3 ? errorResponse(503, null, 'busy') : json({ sha: SHA })));
    const { c, delays } = client(hub.fetch);
    assert.equal(await c.resolveRevision(model, 'main'), SHA);
    assert.equal(hub.calls.length, 3);
    // base 100 ms doubling, jitter factor 0.5 + 0.5*0.5 = 0.75
    assert.deepEqual(delays, [75, 150]);
  });

  it('gives up after the retry budget with a one-line error naming the repo', async () => {
    const hub = fakeHub(() => errorResponse(500, null, 'internal'));
    const { c } = client(hub.fetch);
    await assert.rejects(c.resolveRevision(model, 'main'), (err: unknown) => {
      assert.ok(err instanceof HubApiError);
      assert.equal(err.status, 500);
      assert.equal(err.attempts, 4);
      assert.match(err.message, /model org\/repo: HTTP 500: internal \(gave up after 4 attempts\)/);
      assert.ok(err.hint);
      return true;
    });
    assert.equal(hub.calls.length, 4);
  });

  it('honours Retry-After on 429, capped at the maximum delay', async () => {
    const hub = fakeHub((_u, n) => (n === 1 ? errorResponse(429, null, 'slow down', { 'retry-after': '0.25' }) : n === 2 ? errorResponse(429, null, 'x', { 'retry-after': '3600' }) : json({ sha: SHA })));
    const { c, delays } = client(hub.fetch);
    assert.equal(await c.resolveRevision(model, 'main'), SHA);
    assert.deepEqual(delays, [250, 1000]);
  });

  it('429 past the budget says rate limited', async () => {
    const hub = fakeHub(() => errorResponse(429, null, 'slow down', { 'retry-after': '1' }));
    const { c } = client(hub.fetch);
    await assert.rejects(c.repoInfo(model), /rate-limited the requests for model org\/repo .*gave up after 4 attempts/);
  });

  it('stops when the total time budget would be exceeded', async () => {
    const hub = fakeHub(() => errorResponse(502, null));
    const { c, delays } = client(hub.fetch, { retry: { maxRetries: 10, baseDelayMs: 100, maxDelayMs: 10_000, totalBudgetMs: 500 } });
    await assert.rejects(c.repoInfo(model), HubApiError);
    // 75 + 150 = 225; the next (300) would end at 525 > 500.
    assert.deepEqual(delays, [75, 150]);
  });

  it('retries connection errors and reports the Hub unreachable', async () => {
    const reset = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    const hub = fakeHub(() => {
      throw reset;
    });
    const { c } = client(hub.fetch);
    await assert.rejects(c.resolveRevision(model, 'main'), (err: unknown) => {
      assert.ok(err instanceof HubUnreachableError);
      assert.equal(err.code, 'ECONNRESET');
      assert.match(err.message, /cannot reach the Hub at https:\/\/hub\.test .*model org\/repo: ECONNRESET \(gave up after 4 attempts\)/);
      assert.equal(err.hint, 'check your network or HF_ENDPOINT');
      return true;
    });
    assert.equal(hub.calls.length, 4);
  });

  it('fails at once when nothing listens at the endpoint (ECONNREFUSED), naming it; retries once the endpoint has answered', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const never = fakeHub(() => {
      throw refused;
    });
    const { c, delays } = client(never.fetch);
    await assert.rejects(c.resolveRevision(model, 'main'), (err: unknown) => {
      assert.ok(err instanceof HubUnreachableError);
      assert.equal(err.code, 'ECONNREFUSED');
      assert.equal(err.message, 'cannot reach the Hub at https://hub.test while resolving the revision main for model org/repo: ECONNREFUSED (nothing accepts connections at hub.test)');
      assert.match(err.hint ?? '', /check HF_ENDPOINT \(https:\/\/hub\.test\): is the Hub or mirror running, on that port\?/);
      return true;
    });
    assert.equal(never.calls.length, 1, 'not retried');
    assert.deepEqual(delays, []);
    let calls = 0;
    const restarting = fakeHub(() => {
      calls++;
      if (calls === 2) throw refused;
      return json({ sha: 'a'.repeat(40) });
    });
    const second = client(restarting.fetch);
    await second.c.resolveRevision(model, 'main');
    // Another ref than main: main's commit is known now, v1 is asked for.
    assert.equal(await second.c.resolveRevision(model, 'v1'), 'a'.repeat(40));
    assert.equal(restarting.calls.length, 3);
  });

  it('retries a body that breaks off mid-way', async () => {
    const hub = fakeHub((_u, n) => {
      if (n === 1) {
        const body = new ReadableStream<Uint8Array>({
          start(ctrl) {
            ctrl.enqueue(new TextEncoder().encode('{"sha":"'));
            ctrl.error(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
          },
        });
        return new Response(body, { status: 200 });
      }
      return json({ sha: SHA });
    });
    const { c } = client(hub.fetch);
    assert.equal(await c.resolveRevision(model, 'main'), SHA);
    assert.equal(hub.calls.length, 2);
  });

  it('times out a request that never answers, and retries it', async () => {
    const hub = fakeHub((_u, n, init) =>
      n === 1
        ? new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)))
        : json({ sha: SHA }),
    );
    const { c } = client(hub.fetch, { timeoutMs: 50 });
    assert.equal(await c.resolveRevision(model, 'main'), SHA);
    const never = fakeHub((_u, _n, init) => new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))));
    const { c: c2 } = client(never.fetch, { timeoutMs: 20, retry: { maxRetries: 1 } });
    await assert.rejects(c2.repoInfo(model), (err: unknown) => err instanceof HubUnreachableError && err.code === 'TIMEOUT' && /did not answer within/.test(err.message));
  });

  it('does not retry 4xx answers', async () => {
    const hub = fakeHub(() => errorResponse(404, 'RevisionNotFound', 'Invalid rev id: nope'));
    const { c } = client(hub.fetch);
    await assert.rejects(c.resolveRevision(model, 'nope'), (err: unknown) => {
      assert.ok(err instanceof HubApiError);
      assert.equal(err.errorCode, 'RevisionNotFound');
      assert.equal(err.requestId, 'req-1');
      assert.equal(err.message, "revision 'nope' not found in model org/repo");
      return true;
    });
    assert.equal(hub.calls.length, 1);
  });
});

describe('HubClient requests', () => {
  it('percent-encodes the revision and sends the token only to the endpoint', async () => {
    const hub = fakeHub((url) => (url.startsWith(EP) ? json({ sha: SHA }) : json({})));
    const { c, lines } = client(hub.fetch, { token: TOKEN });
    await c.resolveRevision(model, 'refs/pr/1');
    assert.equal(hub.calls[0]?.url, `${EP}/api/models/org/repo/revision/refs%2Fpr%2F1`);
    assert.equal(hub.calls[0]?.auth, `Bearer ${TOKEN}`);
    await c.get('https://cdn.elsewhere.test/blob');
    assert.equal(hub.calls[1]?.auth, null);
    assert.ok(lines.some((l) => l.includes('GET https://hub.test/api/models/org/repo/revision/refs%2Fpr%2F1 -> 200')));
    assert.ok(lines.every((l) => !l.includes(TOKEN)));
  });

  it('follows redirects itself and drops the token when leaving the endpoint', async () => {
    const hub = fakeHub((url) =>
      url.startsWith(EP) ? new Response(null, { status: 302, headers: { location: 'https://cdn.test/x?sig=1' } }) : new Response('bytes', { status: 200 }),
    );
    const { c } = client(hub.fetch, { token: TOKEN });
    const res = await c.get(`${EP}/org/repo/resolve/${SHA}/w.bin`);
    assert.equal((await readBody(res)).toString(), 'bytes');
    assert.deepEqual(hub.calls.map((x) => [x.url, x.auth]), [
      [`${EP}/org/repo/resolve/${SHA}/w.bin`, `Bearer ${TOKEN}`],
      ['https://cdn.test/x?sig=1', null],
    ]);
  });

  it('asks for the API\'s answers compressed, and for a download as it is', async () => {
    const encodings: (string | null)[] = [];
    const hub = fakeHub((url, _n, init) => {
      encodings.push(new Headers(init?.headers).get('accept-encoding'));
      return url.includes('/api/') ? json({ sha: SHA }) : new Response('bytes');
    });
    const { c } = client(hub.fetch);
    await c.resolveRevision(model, 'main');
    await c.get(`${EP}/org/repo/resolve/${SHA}/w.bin`);
    assert.deepEqual(encodings, ['gzip, deflate, br', null]);
  });

  it('refuses a revision answer without a commit', async () => {
    const { c } = client(fakeHub(() => json({ sha: 'main' })).fetch);
    await assert.rejects(c.resolveRevision(model, 'main'), NixHugError);
  });
});

describe('HubClient.listTree', () => {
  const entry = (i: number) => ({ type: 'file', path: `f/${String(i).padStart(5, '0')}.txt`, size: i, oid: 'o' });

  it('follows every Link rel="next" page (absolute and relative)', async () => {
    const hub = fakeHub((url) => {
      const u = new URL(url);
      const page = Number(u.searchParams.get('cursor') ?? '0');
      const items = [0, 1, 2].map((k) => entry(page * 3 + k));
      if (page === 0) items.unshift({ type: 'directory', path: 'f', size: 0, oid: 'd' } as ReturnType<typeof entry>);
      const headers: Record<string, string> = {};
      if (page === 0) headers.link = `<${EP}/api/models/org/repo/tree/${SHA}?recursive=true&cursor=1>; rel="next"`;
      if (page === 1) headers.link = `</api/models/org/repo/tree/${SHA}?recursive=true&cursor=2>; rel="prev", </api/models/org/repo/tree/${SHA}?recursive=true&cursor=2>; rel="next"`;
      return json(items, { headers });
    });
    const { c } = client(hub.fetch);
    const files = await listRepoFiles(c, model, SHA);
    assert.deepEqual(files.map((f) => f.size), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(hub.calls.length, 3);
    assert.equal(hub.calls[0]?.url, `${EP}/api/models/org/repo/tree/${SHA}?recursive=true`);
  });

  it('retries a failed page without restarting the listing', async () => {
    let failed = false;
    const hub = fakeHub((url) => {
      const page = Number(new URL(url).searchParams.get('cursor') ?? '0');
      if (page === 1 && !failed) {
        failed = true;
        return errorResponse(503, null);
      }
      return json([entry(page)], { headers: page < 2 ? { link: `<${EP}/t?cursor=${page + 1}>; rel="next"` } : {} });
    });
    const { c } = client(hub.fetch);
    const files = await listRepoFiles(c, model, SHA);
    assert.deepEqual(files.map((f) => f.size), [0, 1, 2]);
    assert.deepEqual(hub.calls.map((x) => new URL(x.url).searchParams.get('cursor')), [null, '1', '1', '2']);
  });

  it('bounds the files held in memory: a listing longer than the bound is an error naming the repo', async () => {
    const pages = (n: number) =>
      fakeHub((url) => {
        const page = Number(new URL(url).searchParams.get('cursor') ?? '0');
        const items = Array.from({ length: 100 }, (_, k) => entry(page * 100 + k));
        return json(items, { headers: page + 1 < n ? { link: `<${EP}/t?cursor=${page + 1}>; rel="next"` } : {} });
      });
    assert.equal((await listRepoFiles(client(pages(10).fetch).c, model, SHA, 1000)).length, 1000);
    const over = pages(1000);
    await assert.rejects(listRepoFiles(client(over.fetch).c, model, SHA, 1000), /the file list of model org\/repo has more than 1,000 files/);
    assert.equal(over.calls.length, 11, 'stops reading at the bound');
  });

  it('bounds the number of pages and detects loops', async () => {
    const endless = fakeHub((url) => {
      const n = Number(new URL(url).searchParams.get('cursor') ?? '0');
      return json([entry(n)], { headers: { link: `<${EP}/t?cursor=${n + 1}>; rel="next"` } });
    });
    const { c } = client(endless.fetch, { maxPages: 5 });
    await assert.rejects(listRepoFiles(c, model, SHA), /more than 5 pages/);
    const loop = fakeHub(() => json([entry(1)], { headers: { link: `<${EP}/t?cursor=same>; rel="next"` } }));
    await assert.rejects(listRepoFiles(client(loop.fetch).c, model, SHA), /loops/);
  });

  it('refuses a listing that names a file twice', async () => {
    const hub = fakeHub((url) => {
      const last = url.includes('cursor');
      return json([entry(1)], { headers: last ? {} : { link: `<${EP}/t?cursor=1>; rel="next"` } });
    });
    await assert.rejects(listRepoFiles(client(hub.fetch).c, model, SHA), /twice/);
  });
});

describe('errors users see', () => {
  const cases: [string, Response, RegExp, RegExp][] = [
    ['repo not found', errorResponse(401, 'RepoNotFound', 'Repository not found'), /^model org\/repo not found on https:\/\/hub\.test$/, /check the name; for a private repo set HF_TOKEN/],
    ['gated without token', errorResponse(401, 'GatedRepo', 'gated'), /model org\/repo is gated/, /request access at https:\/\/hub\.test\/org\/repo and set HF_TOKEN/],
    ['gated, not granted', errorResponse(403, 'GatedRepo', 'not in the authorized list'), /your token has not been granted access to the gated model org\/repo/, /request access at https:\/\/hub\.test\/org\/repo/],
    ['entry not found', errorResponse(404, 'EntryNotFound'), /not found in model org\/repo/, /nix-hug ls/],
  ];
  for (const [name, res, message, hint] of cases) {
    it(name, async () => {
      const { c } = client(fakeHub(() => res.clone()).fetch);
      await assert.rejects(c.repoInfo(model), (err: unknown) => {
        assert.ok(err instanceof HubApiError);
        assert.match(err.message, message);
        assert.match(err.hint ?? '', hint);
        return true;
      });
    });
  }
});

describe('detectType', () => {
  const hubWith = (models: string[], datasets: string[], gated: string[] = [], spaces: string[] = []) =>
    fakeHub((url) => {
      const m = /\/api\/(models|datasets|spaces)\/(.+)$/.exec(new URL(url).pathname);
      const [, kind, id] = m ?? [];
      if (gated.includes(`${kind}:${id}`)) return errorResponse(401, 'GatedRepo');
      const list = kind === 'models' ? models : kind === 'datasets' ? datasets : spaces;
      return list.includes(id ?? '') ? json({ id }) : errorResponse(401, 'RepoNotFound', 'Repository not found');
    });

  it('finds a model, a dataset, a gated model', async () => {
    assert.equal(await client(hubWith(['a/m'], []).fetch).c.detectType('a/m'), 'model');
    assert.equal(await client(hubWith([], ['a/d']).fetch).c.detectType('a/d'), 'dataset');
    assert.equal(await client(hubWith([], [], ['models:a/g']).fetch).c.detectType('a/g'), 'model');
    assert.equal(await client(hubWith([], [], [], ['a/s']).fetch).c.detectType('a/s'), 'space');
  });

  it('looks for a model, then a dataset, then a Space, and says which won', async () => {
    const three = client(hubWith(['a/x'], ['a/x'], [], ['a/x']).fetch);
    assert.equal(await three.c.detectType('a/x'), 'model');
    assert.ok(three.lines.some((l) => l.includes('a model, a dataset and a space are named a/x; using the model') && l.includes('datasets/a/x') && l.includes('spaces/a/x')), three.lines.join('\n'));
    const two = client(hubWith([], ['a/y'], [], ['a/y']).fetch);
    assert.equal(await two.c.detectType('a/y'), 'dataset');
    assert.ok(two.lines.some((l) => l.includes('both a dataset and a space are named a/y; using the dataset (for the space, write spaces/a/y)')), two.lines.join('\n'));
  });

  it('prefers the model when both exist, with a note', async () => {
    const { c, lines } = client(hubWith(['a/x'], ['a/x']).fetch);
    assert.equal(await c.detectType('a/x'), 'model');
    assert.ok(lines.some((l) => l.includes('both a model and a dataset are named a/x') && l.includes('datasets/a/x')));
  });

  it('neither: a clear error', async () => {
    await assert.rejects(client(hubWith([], []).fetch).c.detectType('a/none'), /repository a\/none not found on https:\/\/hub\.test: it is neither a model, a dataset nor a Space/);
  });
});

describe('identify at a revision other than main', () => {
  const TAG_SHA = 'd'.repeat(40);
  /** A dataset `a/d` with the tag v1, and `a/legacy` answered as `org/legacy`; `coded`: the Hub's X-Error-Code headers. */
  const hub = (coded = true) =>
    fakeHub((url) => {
      const m = /^\/api\/(models|datasets|spaces)\/([^/]+\/[^/]+|[^/]+)(?:\/revision\/(.+))?$/.exec(new URL(url).pathname);
      const [, kind, id, rev] = m ?? [];
      const known = kind === 'datasets' && (id === 'a/d' || id === 'a/legacy');
      if (!known) return errorResponse(404, coded ? 'RepoNotFound' : null, 'Repository not found');
      if (rev !== undefined && rev !== 'v1' && rev !== 'main') return errorResponse(404, coded ? 'RevisionNotFound' : null, 'Invalid rev id');
      return json({ id: id === 'a/legacy' ? 'org/legacy' : id, sha: rev === 'v1' ? TAG_SHA : SHA, private: false, gated: false });
    });

  it('asks each kind for the revision: the commit and the info come with the kind, nothing is asked again', async () => {
    const h = hub();
    const { c } = client(h.fetch);
    const repo = await c.identify('a/d', 'v1');
    assert.deepEqual(repo, { type: 'dataset', repoId: 'a/d' });
    assert.deepEqual(h.calls.map((x) => new URL(x.url).pathname).sort(), ['/api/datasets/a/d/revision/v1', '/api/models/a/d/revision/v1', '/api/spaces/a/d/revision/v1']);
    assert.equal(await c.resolveRevision(repo, 'v1'), TAG_SHA);
    assert.deepEqual(await c.repoInfo(repo), { repoId: 'a/d', sha: null, private: false, gated: false }, "the info of a tag's answer does not claim main's commit");
    assert.equal(h.calls.length, 3);
    // main is still asked for: the tag's commit is not main's.
    assert.equal(await c.resolveRevision(repo, 'main'), SHA);
    assert.equal(h.calls.length, 4);
  });

  it('a legacy id: the commit is kept under the id the Hub answered', async () => {
    const h = hub();
    const { c } = client(h.fetch);
    const repo = await c.identify('a/legacy', 'v1');
    assert.deepEqual(repo, { type: 'dataset', repoId: 'org/legacy' });
    assert.equal(await c.resolveRevision(repo, 'v1'), TAG_SHA);
    assert.equal(h.calls.length, 3);
  });

  it('a missing revision of a repository that exists: the revision is named, not the repository', async () => {
    for (const coded of [true, false]) {
      const h = hub(coded);
      const { c } = client(h.fetch);
      const repo = await c.identify('a/d', 'v9');
      assert.deepEqual(repo, { type: 'dataset', repoId: 'a/d' }, `coded: ${coded}`);
      await assert.rejects(c.resolveRevision(repo, 'v9'), /revision 'v9' not found in dataset a\/d/);
    }
  });

  it('no such repository: the same error as at main, with one round of requests when the Hub gives error codes', async () => {
    const h = hub();
    await assert.rejects(client(h.fetch).c.identify('a/none', 'v1'), /repository a\/none not found on https:\/\/hub\.test: it is neither a model, a dataset nor a Space/);
    assert.equal(h.calls.length, 3);
    await assert.rejects(client(hub(false).fetch).c.identify('a/none', 'v1'), /it is neither a model, a dataset nor a Space/);
  });
});

describe('settings', () => {
  it('Link parsing', () => {
    assert.equal(nextLink('<https://h/x?cursor=abc>; rel="next"'), 'https://h/x?cursor=abc');
    assert.equal(nextLink('<https://h/a>; rel="prev", <https://h/b>; rel=next'), 'https://h/b');
    assert.equal(nextLink('<https://h/a>; rel="prev"'), null);
    assert.equal(nextLink(null), null);
  });

  it('Retry-After parsing', () => {
    assert.equal(parseRetryAfter('2', 0), 2000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter('soon', 0), null);
  });

  it('retry settings from the environment', () => {
    const s = httpSettingsFromEnv({ NIX_HUG_MAX_RETRIES: '1', NIX_HUG_RETRY_BASE_MS: '5', NIX_HUG_RETRY_MAX_DELAY_MS: '7', NIX_HUG_RETRY_TOTAL_MS: '9', NIX_HUG_HTTP_TIMEOUT_MS: '11' });
    assert.deepEqual(s, { retry: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 7, totalBudgetMs: 9 }, timeoutMs: 11 });
    assert.throws(() => httpSettingsFromEnv({ NIX_HUG_MAX_RETRIES: 'lots' }), NixHugError);
  });

  it('HF_ENDPOINT', () => {
    assert.equal(hubEndpoint({}), 'https://huggingface.co');
    assert.equal(hubEndpoint({ HF_ENDPOINT: 'http://127.0.0.1:9/' }), 'http://127.0.0.1:9');
    assert.throws(() => hubEndpoint({ HF_ENDPOINT: 'ftp://x' }), UsageError);
    assert.throws(() => hubEndpoint({ HF_ENDPOINT: 'not a url' }), UsageError);
  });

  it('HF_ENDPOINT: only scheme://host[:port][/path], used in its normalised form', () => {
    // The URL parser drops tabs and newlines and reads `\\` as `/`: the raw value would reach another host.
    for (const bad of ['https://huggingface.co\n.evil.example', 'https://huggingface.co\t.evil', 'https://hf.co?', 'https://hf.co#', 'https://hf.co/x?', 'https:\\\\hf.co', ' https://hf.co', 'https://hf.co/a b', 'https://hf.co\u0000']) {
      assert.throws(() => hubEndpoint({ HF_ENDPOINT: bad }), UsageError, JSON.stringify(bad));
    }
    assert.equal(hubEndpoint({ HF_ENDPOINT: 'HTTPS://HuggingFace.CO:443/' }), 'https://huggingface.co');
    assert.equal(hubEndpoint({ HF_ENDPOINT: 'http://127.0.0.1:8080/mirror/hf//' }), 'http://127.0.0.1:8080/mirror/hf');
    assert.equal(hubEndpoint({ HF_ENDPOINT: 'https://mirror.example/a/./b/../c' }), 'https://mirror.example/a/c');
  });

  it('token lookup order', () => {
    const files: Record<string, string> = { '/tp': ' hf_from_path \n', '/hh/token': 'hf_from_home\n', '/home/u/.cache/huggingface/token': 'hf_default', '/x/huggingface/token': 'hf_xdg' };
    const read = (p: string) => {
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return v;
    };
    assert.equal(findToken({ HF_TOKEN: ' hf_env ', HF_TOKEN_PATH: '/tp' }, read)?.token, 'hf_env');
    assert.equal(findToken({ HF_TOKEN_PATH: '/tp', HF_HOME: '/hh' }, read)?.token, 'hf_from_path');
    assert.equal(findToken({ HF_HOME: '/hh', HOME: '/home/u' }, read)?.token, 'hf_from_home');
    assert.equal(findToken({ HOME: '/home/u' }, read)?.token, 'hf_default');
    assert.equal(findToken({ HOME: '/home/u', XDG_CACHE_HOME: '/x' }, read)?.token, 'hf_xdg');
    assert.equal(findToken({ HOME: '/nobody' }, read), null);
    assert.equal(findToken({ HF_TOKEN: '  ', HOME: '/nobody' }, read), null);
    assert.equal(tokenFilePath({ HOME: '/home/u' }), '/home/u/.cache/huggingface/token');
  });
});
