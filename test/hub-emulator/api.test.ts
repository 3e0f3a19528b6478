import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { lfsSha256 } from '../../hub-emulator/content.ts';
import { history, manyFiles, sampleHubOptions } from '../../hub-emulator/fixtures/sample.ts';
import { HUB_LFS_PATTERNS } from '../../hub-emulator/gitattributes.ts';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';

const exec = promisify(execFile);

interface TreeEntry {
  type: 'file' | 'directory';
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

async function getJson<T>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T, headers: r.headers };
}

/** `git` against the emulator's bare repo (async: the server runs in this process). */
async function git(hub: RunningHub, id: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', ['--git-dir', `${hub.dataDir}/git/models/${id}.git`, ...args]);
  return stdout;
}

describe('hub API', () => {
  let hub: RunningHub;
  before(async () => {
    hub = await startHub(sampleHubOptions({ repos: [...sampleHubOptions().repos, manyFiles('emu/many', 2500)] }));
  });
  after(() => hub.close());

  it('builds the same commit hashes from the same description', async () => {
    const again = await startHub({ repos: [history] });
    try {
      assert.deepEqual(again.repo('emu/history').commits, hub.repo('emu/history').commits);
      assert.deepEqual(again.repo('emu/history').refs, hub.repo('emu/history').refs);
      assert.notEqual(again.dataDir, hub.dataDir);
    } finally {
      await again.close();
    }
    const commits = hub.repo('emu/history').commits;
    assert.equal(commits.length, 4);
    assert.equal(new Set(commits).size, 4);
    // What git itself has: the refs, and main's history.
    const log = (await git(hub, 'emu/history', 'log', '--format=%H', 'main')).trim().split('\n');
    assert.deepEqual(log, [commits[3], commits[1], commits[0]]);
    const refs = await git(hub, 'emu/history', 'for-each-ref', '--format=%(refname) %(objectname)');
    assert.match(refs, new RegExp(`refs/heads/dev ${commits[2]}`));
    assert.match(refs, new RegExp(`refs/pr/1 ${commits[1]}`));
    assert.match(refs, new RegExp(`refs/tags/v1.0 ${commits[0]}`));
  });

  it('answers repo info like the Hub', async () => {
    const { status, body, headers } = await getJson<Record<string, unknown>>(`${hub.url}/api/models/emu/history`);
    assert.equal(status, 200);
    assert.ok(headers.get('x-request-id'));
    const state = hub.repo('emu/history');
    assert.equal(body.id, 'emu/history');
    assert.equal(body.modelId, 'emu/history');
    assert.equal(body.author, 'emu');
    assert.equal(body.sha, state.commits[3]);
    assert.equal(body.private, false);
    assert.equal(body.gated, false);
    assert.match(String(body._id), /^[0-9a-f]{24}$/);
    assert.ok(!Number.isNaN(Date.parse(String(body.lastModified))));
    const siblings = (body.siblings as { rfilename: string }[]).map((s) => s.rfilename).sort();
    assert.deepEqual(siblings, [...state.filesAt().keys()].sort());
    assert.ok(siblings.includes('README.md') && !siblings.includes('gone.txt'));

    const ds = await getJson<Record<string, unknown>>(`${hub.url}/api/datasets/emu/data`);
    assert.equal(ds.status, 200);
    assert.equal(ds.body.id, 'emu/data');
    assert.equal('modelId' in ds.body, false);
    // The dataset is not a model.
    const wrong = await fetch(`${hub.url}/api/models/emu/data`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('x-error-code'), 'RepoNotFound');
  });

  it('adds the blob id, size and LFS facts of every sibling with ?blobs=true, as the tree lists them', async () => {
    type Sibling = { rfilename: string; blobId?: string; size?: number; lfs?: { sha256: string; size: number; pointerSize: number } };
    type Entry = { type: string; path: string; oid: string; size: number; lfs?: { oid: string; size: number; pointerSize: number } };
    const info = await getJson<{ siblings: Sibling[] }>(`${hub.url}/api/models/emu/history/revision/v1.0?blobs=true`);
    const tree = await getJson<Entry[]>(`${hub.url}/api/models/emu/history/tree/v1.0?recursive=true`);
    const files = tree.body.filter((e) => e.type === 'file');
    assert.equal(info.body.siblings.length, files.length);
    for (const e of files) {
      const s = info.body.siblings.find((x) => x.rfilename === e.path);
      assert.deepEqual(s, { rfilename: e.path, blobId: e.oid, size: e.size, ...(e.lfs ? { lfs: { sha256: e.lfs.oid, size: e.lfs.size, pointerSize: e.lfs.pointerSize } } : {}) }, e.path);
    }
    assert.ok(info.body.siblings.some((s) => s.lfs), 'an LFS file among them');
    // Without it, names only.
    const plain = await getJson<{ siblings: Sibling[] }>(`${hub.url}/api/models/emu/history`);
    assert.ok(plain.body.siblings.every((s) => Object.keys(s).join() === 'rfilename'));
  });

  it('resolves branches, tags, commits and PR refs (raw and encoded)', async () => {
    const { commits } = hub.repo('emu/history');
    const cases: [string, string | undefined][] = [
      ['main', commits[3]],
      ['dev', commits[2]],
      ['v1.0', commits[0]],
      ['v2.0', commits[3]],
      [commits[1]!, commits[1]],
      ['refs/pr/1', commits[1]],
      ['refs%2Fpr%2F1', commits[1]],
      ['refs%2Fheads%2Fdev', commits[2]],
    ];
    for (const [rev, sha] of cases) {
      const { status, body } = await getJson<{ sha: string }>(`${hub.url}/api/models/emu/history/revision/${rev}`);
      assert.equal(status, 200, rev);
      assert.equal(body.sha, sha, rev);
    }
    for (const rev of ['nope', 'refs%2Fpr%2F9', '0123456789abcdef0123456789abcdef01234567']) {
      const r = await fetch(`${hub.url}/api/models/emu/history/revision/${rev}`);
      assert.equal(r.status, 404, rev);
      assert.equal(r.headers.get('x-error-code'), 'RevisionNotFound');
      assert.ok(((await r.json()) as { error: string }).error);
    }
    // The revision's siblings are those of that commit.
    const v1 = await getJson<{ siblings: { rfilename: string }[] }>(`${hub.url}/api/models/emu/history/revision/v1.0`);
    assert.ok(v1.body.siblings.some((s) => s.rfilename === 'gone.txt'));
  });

  it('lists refs and resolves extra refs such as refs/convert/parquet', async () => {
    const { commits } = hub.repo('emu/data', 'dataset');
    for (const rev of ['refs/convert/parquet', 'refs%2Fconvert%2Fparquet']) {
      const { status, body } = await getJson<{ sha: string }>(`${hub.url}/api/datasets/emu/data/revision/${rev}`);
      assert.equal(status, 200);
      assert.equal(body.sha, commits[1]);
    }
    const tree = await getJson<TreeEntry[]>(`${hub.url}/api/datasets/emu/data/tree/refs%2Fconvert%2Fparquet/default/train`);
    assert.deepEqual(tree.body.map((e) => e.path), ['default/train/0000.parquet']);
    const refs = await getJson<Record<string, { name: string; ref: string; targetCommit: string }[]>>(
      `${hub.url}/api/models/emu/history/refs?include_prs=1`,
    );
    const h = hub.repo('emu/history').commits;
    assert.deepEqual(refs.body.branches?.map((b) => [b.name, b.targetCommit]).sort(), [['dev', h[2]], ['main', h[3]]]);
    assert.deepEqual(refs.body.tags?.map((b) => [b.ref, b.targetCommit]).sort(), [['refs/tags/v1.0', h[0]], ['refs/tags/v2.0', h[3]]]);
    assert.deepEqual(refs.body.pullRequests?.map((b) => [b.ref, b.targetCommit]), [['refs/pr/1', h[1]]]);
    const dsRefs = await getJson<Record<string, { name: string; ref: string }[]>>(`${hub.url}/api/datasets/emu/data/refs`);
    assert.deepEqual(dsRefs.body.converts?.map((c) => [c.name, c.ref]), [['parquet', 'refs/convert/parquet']]);
    await assert.rejects(startHub({ repos: [{ id: 'emu/x', commits: [{ files: {}, refs: ['refs/bad..name'] }] }] }), /bad extra ref/);
    await assert.rejects(startHub({ repos: [{ id: 'emu/x', commits: [{ files: {}, tags: ['a b'] }] }] }), /bad tag name/);
  });

  it('lists the tree with blob/tree oids that match git, LFS details, folders', async () => {
    const { body } = await getJson<TreeEntry[]>(`${hub.url}/api/models/emu/history/tree/main?recursive=true`);
    const byPath = new Map(body.map((e) => [e.path, e]));
    const lsTree = await git(hub, 'emu/history', 'ls-tree', '-r', '-t', '-z', 'main');
    const gitEntries = lsTree.split('\0').filter(Boolean).map((l) => {
      const [meta, path] = l.split('\t') as [string, string];
      const [, type, oid] = meta.split(' ') as [string, string, string];
      return { path, type, oid };
    });
    assert.equal(body.length, gitEntries.length);
    for (const g of gitEntries) {
      const e = byPath.get(g.path);
      assert.ok(e, g.path);
      assert.equal(e.oid, g.oid, g.path);
      assert.equal(e.type, g.type === 'tree' ? 'directory' : 'file', g.path);
    }
    const model = byPath.get('weights/model.safetensors');
    assert.deepEqual(model?.lfs, {
      oid: await lfsSha256('weights/model.safetensors', 300_000),
      size: 300_000,
      pointerSize: model?.lfs?.pointerSize,
    });
    assert.equal(model?.size, 300_000);
    assert.ok(model!.lfs!.pointerSize > 100 && model!.lfs!.pointerSize < 140);
    assert.deepEqual(byPath.get('weights'), { type: 'directory', oid: byPath.get('weights')!.oid, size: 0, path: 'weights' });
    assert.equal(byPath.get('config.json')?.size, 8);
    assert.equal(byPath.get('config.json')?.lfs, undefined);

    // Non-recursive: direct children only; a sub-folder.
    const top = await getJson<TreeEntry[]>(`${hub.url}/api/models/emu/history/tree/main`);
    assert.ok(top.body.every((e) => !e.path.includes('/')));
    assert.ok(top.body.some((e) => e.path === 'weights' && e.type === 'directory'));
    for (const p of ['weights', 'weights/']) {
      const sub = await getJson<TreeEntry[]>(`${hub.url}/api/models/emu/history/tree/main/${p}`);
      assert.deepEqual(sub.body.map((e) => e.path).sort(), ['weights/extra.bin', 'weights/model.safetensors']);
    }
    // A tree at a PR ref given raw, then a path.
    const pr = await getJson<TreeEntry[]>(`${hub.url}/api/models/emu/history/tree/refs/pr/1/weights`);
    assert.equal(pr.status, 200);
    assert.equal(pr.body.length, 2);

    const missing = await fetch(`${hub.url}/api/models/emu/history/tree/main/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-error-code'), 'EntryNotFound');
  });

  it('paginates 2,500 files in pages of 1000 with absolute Link URLs, each file once', async () => {
    let url: string | null = `${hub.url}/api/models/emu/many/tree/main?recursive=true`;
    const seen: string[] = [];
    const sizes: number[] = [];
    for (let pages = 0; url && pages < 10; pages++) {
      const r: Response = await fetch(url);
      assert.equal(r.status, 200);
      const page = (await r.json()) as TreeEntry[];
      sizes.push(page.length);
      seen.push(...page.filter((e) => e.type === 'file').map((e) => e.path));
      const link = r.headers.get('link');
      url = link ? (/^<(http:\/\/127\.0\.0\.1:\d+\/[^>]+)>; rel="next"$/.exec(link)?.[1] ?? 'bad link') : null;
      if (url) assert.ok(new URL(url).searchParams.get('cursor'), 'next link carries a cursor');
    }
    assert.equal(url, null);
    // 2,500 files + .gitattributes + 13 + 65 folders = 2,579 entries.
    assert.deepEqual(sizes, [1000, 1000, 579]);
    assert.equal(seen.length, 2501);
    assert.deepEqual(new Set(seen), new Set(hub.repo('emu/many').filesAt().keys()));
  });

  it('lists a revision\'s history newest first, as git log --first-parent does, in linked pages (list_repo_commits)', async () => {
    type Commit = { id: string; title: string; message: string; authors: { user: string }[]; date: string };
    for (const rev of ['main', 'dev', 'v1.0']) {
      const { status, body } = await getJson<Commit[]>(`${hub.url}/api/models/emu/history/commits/${rev}`);
      assert.equal(status, 200, rev);
      const log = (await git(hub, 'emu/history', 'log', '--first-parent', '--format=%H%x00%s%x00%aI', rev)).trim().split('\n').map((l) => l.split('\0'));
      assert.deepEqual(body.map((c) => [c.id, c.title, new Date(c.date).getTime()]), log.map(([id, title, date]) => [id, title, new Date(date!).getTime()]), rev);
      assert.ok(body.every((c) => c.authors.length === 1 && c.authors[0]!.user && c.message === ''), rev);
    }
    const missing = await fetch(`${hub.url}/api/models/emu/history/commits/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-error-code'), 'RevisionNotFound');
    const long = await startHub({ repos: [{ id: 'emu/long', commits: Array.from({ length: 55 }, (_, i) => ({ files: { 'n.txt': `${i}\n` } })) }] });
    try {
      const first = await fetch(`${long.url}/api/models/emu/long/commits/main`);
      const page1 = (await first.json()) as Commit[];
      const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
      assert.ok(next, 'a Link to the next page');
      const second = await fetch(next);
      const page2 = (await second.json()) as Commit[];
      assert.equal(second.headers.get('link'), null);
      assert.deepEqual([...page1, ...page2].map((c) => c.id), [...long.repo('emu/long').commits].reverse());
    } finally {
      await long.close();
    }
  });

  it('honours pageSize and keeps other query parameters in the Link', async () => {
    const small = await startHub({ repos: [manyFiles('emu/small', 30)], pageSize: 7 });
    try {
      const r = await fetch(`${small.url}/api/models/emu/small/tree/main?recursive=1&expand=false`);
      assert.equal(((await r.json()) as unknown[]).length, 7);
      const next = new URL(/<([^>]+)>/.exec(r.headers.get('link') ?? '')![1]!);
      assert.equal(next.searchParams.get('recursive'), '1');
      assert.equal(next.searchParams.get('expand'), 'false');
      const bad = await fetch(`${small.url}/api/models/emu/small/tree/main?cursor=garbage`);
      assert.equal(bad.status, 400);
    } finally {
      await small.close();
    }
  });

  it("writes the Hub's .gitattributes plus exact lines for uncovered LFS files", async () => {
    const attrs = Buffer.from(hub.repo('emu/history').filesAt().get('.gitattributes')!).toString('utf8');
    const lines = attrs.trimEnd().split('\n');
    assert.deepEqual(
      lines.slice(0, HUB_LFS_PATTERNS.length),
      HUB_LFS_PATTERNS.map((p) => `${p} filter=lfs diff=lfs merge=lfs -text`),
    );
    assert.deepEqual(lines.slice(HUB_LFS_PATTERNS.length), ['notes/custom.weights filter=lfs diff=lfs merge=lfs -text']);
    // git agrees on which files are LFS.
    // (git 2.39 has no `check-attr --source`: read main into a scratch index.)
    const index = join(mkdtempSync(join(tmpdir(), 'hub-attr-')), 'index');
    const env = { ...process.env, GIT_INDEX_FILE: index };
    const gitDir = `${hub.dataDir}/git/models/emu/history.git`;
    await exec('git', ['--git-dir', gitDir, 'read-tree', 'main'], { env });
    const names = ['notes/custom.weights', 'weights/extra.bin', 'config.json', 'big file with space.bin'];
    const { stdout: checked } = await exec('git', ['--git-dir', gitDir, 'check-attr', '--cached', 'filter', '--', ...names], { env });
    rmSync(dirname(index), { recursive: true, force: true });
    assert.match(checked, /notes\/custom.weights: filter: lfs/);
    assert.match(checked, /weights\/extra.bin: filter: lfs/);
    assert.match(checked, /config.json: filter: unspecified/);
    assert.match(checked, /big file with space.bin: filter: lfs/);
  });

  it('answers unknown routes with a JSON 404 and a request id', async () => {
    const r = await fetch(`${hub.url}/nothing/here/at/all`);
    assert.equal(r.status, 404);
    assert.ok(r.headers.get('x-request-id'));
    assert.ok(((await r.json()) as { error: string }).error);
  });
});
