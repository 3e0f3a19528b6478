/** `/api/…`: whoami, repo info, revision, refs, the paginated tree, paths-info, the commit history. */
import { createHash } from 'node:crypto';
import { access, authOf } from '../access.ts';
import { COMMITTER, type BuiltCommit, type BuiltRepo, type TreeItem } from '../build.ts';
import { readBody, type Ctx } from '../http.ts';
import { aliasAt, decodeSegs, lookup, mainCommit, resolveRev, splitRev, type HubState } from '../state.ts';
import type { RepoType } from '../types.ts';

const NOT_FOUND = { status: 404, message: "Sorry, we can't find the page you are looking for." };

/** A file of the repo info's `siblings`; with `?blobs=true` its git blob id, size and LFS facts as well. */
function sibling(f: TreeItem, blobs: boolean) {
  if (!blobs) return { rfilename: f.path };
  const lfs = f.lfs ? { lfs: { sha256: f.lfs.sha256, size: f.lfs.size, pointerSize: f.lfs.pointerSize } } : {};
  return { rfilename: f.path, blobId: f.oid, size: f.size, ...lfs };
}

function repoInfo(repo: BuiltRepo, commit: BuiltCommit, blobs: boolean) {
  const iso = (t: number) => new Date(t * 1000).toISOString();
  const files = commit.listing.filter((i) => i.type === 'file');
  const common = {
    _id: createHash('sha1').update(`${repo.type}/${repo.id}`).digest('hex').slice(0, 24),
    id: repo.id,
    author: repo.id.split('/')[0],
    sha: commit.sha,
    lastModified: iso(commit.time),
    private: repo.spec.private ?? false,
    gated: repo.spec.gated ?? false,
    disabled: false,
    downloads: 0,
    likes: 0,
    tags: ['region:us'],
    createdAt: iso(repo.commits[0]!.time),
    siblings: files.map((f) => sibling(f, blobs)),
    usedStorage: files.reduce((n, f) => n + f.size, 0),
  };
  if (repo.type === 'model') {
    const { _id, id, ...rest } = common;
    return { _id, id, modelId: id, ...rest };
  }
  if (repo.type === 'space') {
    // Spaces report how they run instead of downloads.
    const { downloads: _downloads, ...rest } = common;
    const subdomain = repo.id.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    return { ...rest, sdk: repo.spec.sdk ?? 'gradio', subdomain, host: `https://${subdomain}.hf.space`, runtime: { stage: 'RUNNING', hardware: { current: 'cpu-basic', requested: 'cpu-basic' } } };
  }
  return common;
}

function treeJson(i: TreeItem) {
  if (i.type === 'directory') return { type: 'directory', oid: i.oid, size: 0, path: i.path };
  return i.lfs
    ? { type: 'file', oid: i.oid, size: i.size, lfs: { oid: i.lfs.sha256, size: i.lfs.size, pointerSize: i.lfs.pointerSize }, path: i.path }
    : { type: 'file', oid: i.oid, size: i.size, path: i.path };
}

function refsJson(ctx: Ctx, r: BuiltRepo): Record<string, unknown> {
  const branches = [...r.branches].map(([name, sha]) => ({ name, ref: `refs/heads/${name}`, targetCommit: sha }));
  const tags = [...r.refs]
    .filter(([name]) => !r.branches.has(name) && !name.startsWith('refs/'))
    .map(([name, sha]) => ({ name, ref: `refs/tags/${name}`, targetCommit: sha }));
  const converts = [...r.refs]
    .filter(([name]) => name.startsWith('refs/convert/'))
    .map(([name, sha]) => ({ name: name.slice(13), ref: name, targetCommit: sha }));
  const body: Record<string, unknown> = { branches, converts, tags };
  if (ctx.query.get('include_prs') === '1' || ctx.query.get('include_prs') === 'true') {
    body.pullRequests = [...r.refs]
      .filter(([name]) => name.startsWith('refs/pr/'))
      .map(([name, sha]) => ({ name: name.slice(5), ref: name, targetCommit: sha }));
  }
  return body;
}

/** The `Link` header to the next page: this request's absolute URL with `key` set to `value`, other parameters kept. */
function nextPage(state: HubState, ctx: Ctx, key: string, value: string): string {
  const q = new URLSearchParams(ctx.query);
  q.set(key, value);
  return `<${state.hubUrl}${ctx.rawPath}?${q.toString()}>; rel="next"`;
}

/** `tree/REV[/PATH]`, one page at a time (`cursor`), `Link: rel="next"` while more follow. */
function tree(state: HubState, ctx: Ctx, r: BuiltRepo, after: string[]): void {
  const split = splitRev(r, after);
  if (!split) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${after[0]}` });
  const { commit } = split;
  const path = split.path.replace(/\/+$/, ''); // `tree/main/dir/` lists dir
  if (path !== '' && !commit.dirs.has(path)) {
    return ctx.error({ status: 404, code: 'EntryNotFound', message: `${path} does not exist on "${split.rev}"` });
  }
  const recursive = ['true', '1'].includes(ctx.query.get('recursive') ?? '');
  const prefix = path === '' ? '' : `${path}/`;
  const items = recursive ? commit.listing.filter((i) => i.path.startsWith(prefix)) : commit.listing.filter((i) => i.parent === path);
  let offset = 0;
  const cursor = ctx.query.get('cursor');
  if (cursor) {
    try {
      const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: unknown };
      if (typeof parsed.offset !== 'number' || !Number.isInteger(parsed.offset) || parsed.offset < 0) throw new Error();
      offset = parsed.offset;
    } catch {
      return ctx.error({ status: 400, message: 'Invalid cursor' });
    }
  }
  const page = items.slice(offset, offset + state.pageSize);
  const headers: Record<string, string> = {};
  if (offset + state.pageSize < items.length) {
    headers.Link = nextPage(state, ctx, 'cursor', Buffer.from(JSON.stringify({ offset: offset + state.pageSize })).toString('base64url'));
  }
  ctx.json(200, page.map(treeJson), headers);
}

/** Commits a page of `commits/REV` holds (huggingface_hub follows the Link header whatever the size). */
const COMMITS_PAGE = 50;

/** `commits/REV`: the history from REV back to the first commit, newest first, a page at a time (`p`). */
function commits(state: HubState, ctx: Ctx, r: BuiltRepo, after: string[]): void {
  const rev = after.join('/');
  const tip = resolveRev(r, rev);
  if (!tip) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${rev}` });
  const history: BuiltCommit[] = [];
  for (let c: BuiltCommit | undefined = tip; c; c = c.parent === null ? undefined : r.bySha.get(c.parent)) history.push(c);
  const p = Number(ctx.query.get('p') ?? '0');
  if (!Number.isInteger(p) || p < 0) return ctx.error({ status: 400, message: 'Invalid page' });
  const headers: Record<string, string> = {};
  if ((p + 1) * COMMITS_PAGE < history.length) headers.Link = nextPage(state, ctx, 'p', String(p + 1));
  const body = history.slice(p * COMMITS_PAGE, (p + 1) * COMMITS_PAGE).map((c) => {
    const [title = '', ...rest] = c.message.replace(/\n$/, '').split('\n');
    return { id: c.sha, title, message: rest.join('\n').trim(), authors: [{ user: COMMITTER.name }], date: new Date(c.time * 1000).toISOString() };
  });
  ctx.json(200, body, headers);
}

async function pathsInfo(ctx: Ctx, r: BuiltRepo, after: string[]): Promise<void> {
  const commit = resolveRev(r, after.join('/'));
  if (!commit) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${after.join('/')}` });
  let paths: string[];
  try {
    const raw = (await readBody(ctx.req, 1 << 20)).toString('utf8');
    const ct = ctx.req.headers['content-type'] ?? '';
    paths = ct.includes('json') ? ((JSON.parse(raw) as { paths?: string[] }).paths ?? []) : new URLSearchParams(raw).getAll('paths');
  } catch {
    return ctx.error({ status: 400, message: 'Invalid body' });
  }
  const wanted = new Set(paths.map(String));
  ctx.json(200, commit.listing.filter((i) => wanted.has(i.path)).map(treeJson));
}

export async function handleApi(state: HubState, ctx: Ctx, segs: string[]): Promise<void> {
  ctx.route = 'api';
  const auth = authOf(state, ctx.req);
  if (segs[0] === 'whoami-v2' && segs.length === 1) {
    if (auth.kind !== 'token') return ctx.error({ status: 401, message: 'Invalid credentials in Authorization header' });
    return ctx.json(200, { type: 'user', name: 'emulator-user', fullname: 'Emulator User', auth: { type: 'access_token', accessToken: { displayName: 'emulator', role: 'read' } } });
  }
  const type: RepoType | null = segs[0] === 'models' ? 'model' : segs[0] === 'datasets' ? 'dataset' : segs[0] === 'spaces' ? 'space' : null;
  const decoded = decodeSegs(segs.slice(1));
  if (!type || !decoded || decoded.length === 0) return ctx.error(NOT_FOUND);
  // Under an alias (a legacy id without an owner, a former name) the API answers as under the canonical id, whose `id` it reports.
  const alias = aliasAt(state, type, segs.slice(1));
  const idSegs = alias?.taken ?? Math.min(2, decoded.length);
  // One segment that is no alias names no repo: the Hub answers RepoNotFound, as for any unknown id.
  const repo = alias ? alias.repo : decoded.length >= 2 ? lookup(state, type, `${decoded[0]}/${decoded[1]}`) : undefined;
  const acc = access(state, repo, auth, false, false);
  if (!acc.ok) return ctx.error(acc.error);
  const r = repo!;
  const op = decoded[idSegs];
  // Raw segments after the op: a revision may arrive encoded (`refs%2Fpr%2F1`) or raw (`refs/pr/1`).
  const after = decodeSegs(segs.slice(2 + idSegs)) ?? [];
  const blobs = ['true', '1'].includes(ctx.query.get('blobs') ?? '');
  if (op === undefined) return ctx.json(200, repoInfo(r, mainCommit(r), blobs));
  if (op === 'revision' && after.length >= 1) {
    const rev = after.join('/');
    const commit = resolveRev(r, rev);
    if (!commit) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${rev}` });
    return ctx.json(200, repoInfo(r, commit, blobs));
  }
  if (op === 'refs' && after.length === 0) return ctx.json(200, refsJson(ctx, r));
  if (op === 'tree' && after.length >= 1) return tree(state, ctx, r, after);
  if (op === 'commits' && after.length >= 1) return commits(state, ctx, r, after);
  if (op === 'paths-info' && after.length >= 1 && ctx.method === 'POST') return pathsInfo(ctx, r, after);
  ctx.error(NOT_FOUND);
}
