/**
 * The local Hugging Face Hub emulator: builds the fixture repos, then serves
 * the Hub API, `resolve`, git smart HTTP + the LFS batch API on one port and
 * the LFS "CDN" on another (a different origin, so clients drop
 * Authorization on the redirect, as with cdn-lfs.huggingface.co).
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRepo, type BuiltCommit, type BuiltRepo, type LfsStore, type TreeItem } from './build.ts';
import { FaultRegistry, type BodyFault, type FaultKind } from './faults.ts';
import { serveGit } from './git-http.ts';
import { Ctx, parseRange, readBody, type ErrorSpec, type Route } from './http.ts';
import type { HubOptions, RepoState, RepoType, RequestRecord, RunningHub, TokenSpec } from './types.ts';

type Access = { ok: true } | { ok: false; error: ErrorSpec };

const BUILD_CONCURRENCY = 4;

/** Temp dirs of hubs not closed yet: removed when the process exits without close() (e.g. a failing test). */
const liveTempDirs = new Set<string>();
process.on('exit', () => {
  for (const d of liveTempDirs) rmSync(d, { recursive: true, force: true });
});

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'hub-emulator-'));
  if (ownDir) liveTempDirs.add(dataDir);
  try {
    return await start(options, dataDir, ownDir);
  } catch (e) {
    if (ownDir) {
      rmSync(dataDir, { recursive: true, force: true });
      liveTempDirs.delete(dataDir);
    }
    throw e;
  }
}

function key(type: RepoType, id: string): string {
  return `${type}:${id}`;
}

async function start(options: HubOptions, dataDir: string, ownDir: boolean): Promise<RunningHub> {
  const store: LfsStore = { dir: join(dataDir, 'lfs'), objects: new Map(), generated: new Map(), pending: [] };
  mkdirSync(store.dir, { recursive: true });
  mkdirSync(join(dataDir, 'git'), { recursive: true });

  const repos = new Map<string, BuiltRepo>();
  const specs = [...options.repos];
  const seen = new Set<string>();
  for (const s of specs) {
    const k = key(s.type ?? 'model', s.id);
    if (seen.has(k)) throw new Error(`hub fixture ${s.id}: defined twice`);
    seen.add(k);
  }
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const built = await buildRepo(spec, dataDir, store);
      repos.set(key(built.type, built.id), built);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(BUILD_CONCURRENCY, specs.length) }, worker));
  } finally {
    await Promise.allSettled(store.pending);
  }
  await Promise.all(store.pending);
  store.pending.length = 0;

  const tokens = new Map<string, TokenSpec>(Object.entries(options.tokens ?? {}));
  const pageSize = Math.max(1, options.pageSize ?? 1000);
  const faults = new FaultRegistry();
  const requests: RequestRecord[] = [];
  const children = new Set<ChildProcess>();
  let cdnBytes = 0;
  let closing = false;
  let hubUrl = '';
  let cdnUrl = '';
  // Body faults carried from a `resolve` redirect to the CDN request it leads to.
  const carried = new Map<string, BodyFault>();
  let carriedSeq = 0;

  const lfsOfRepo = new Map<BuiltRepo, Set<string>>();
  const repoLfs = (repo: BuiltRepo): Set<string> => {
    let s = lfsOfRepo.get(repo);
    if (!s) {
      s = new Set();
      for (const c of repo.commits) for (const e of c.files.values()) if (e.lfs) s.add(e.lfs.sha256);
      lfsOfRepo.set(repo, s);
    }
    return s;
  };

  // ---- auth -------------------------------------------------------------
  type Auth = { kind: 'none' } | { kind: 'invalid' } | { kind: 'token'; grants: Set<string> };
  const authOf = (req: IncomingMessage): Auth => {
    const h = req.headers.authorization;
    if (!h) return { kind: 'none' };
    let token = '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(h);
    const basic = /^Basic\s+(\S+)\s*$/i.exec(h);
    if (bearer) token = bearer[1] as string;
    else if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      const user = i < 0 ? decoded : decoded.slice(0, i);
      const pass = i < 0 ? '' : decoded.slice(i + 1);
      token = pass !== '' ? pass : user;
    }
    const spec = tokens.get(token);
    return spec ? { kind: 'token', grants: new Set(spec.grants) } : { kind: 'invalid' };
  };

  const typeWord = (t: RepoType) => (t === 'dataset' ? 'dataset' : 'model');
  const notFound = (auth: Auth, git: boolean): ErrorSpec => {
    const unauth = auth.kind !== 'token';
    return {
      status: unauth ? 401 : 404,
      code: 'RepoNotFound',
      message: unauth
        ? 'Repository not found. Make sure you are authenticated and have access to it.'
        : 'Repository not found',
      headers: git && unauth ? { 'WWW-Authenticate': 'Basic realm="Authentication required", charset="UTF-8"' } : {},
    };
  };

  /** `content`: resolve, git, LFS batch (gated repos need a grant); else metadata. */
  const access = (repo: BuiltRepo | undefined, auth: Auth, content: boolean, git: boolean): Access => {
    if (auth.kind === 'invalid') {
      // Bad credentials: 401 everywhere (like the Hub), with the code a client would get without any.
      const wwwAuth: Record<string, string> = git ? { 'WWW-Authenticate': 'Basic realm="Authentication required", charset="UTF-8"' } : {};
      const message = 'Invalid credentials in Authorization header';
      const code = !repo || repo.spec.private ? 'RepoNotFound' : repo.spec.gated && content ? 'GatedRepo' : undefined;
      return { ok: false, error: { status: 401, message, headers: wwwAuth, ...(code ? { code } : {}) } };
    }
    if (!repo) return { ok: false, error: notFound(auth, git) };
    const granted = auth.kind === 'token' && auth.grants.has(repo.id);
    if (repo.spec.private && !granted) return { ok: false, error: notFound(auth, git) };
    if (repo.spec.gated && content && !granted) {
      const what = `${typeWord(repo.type)} ${repo.id}`;
      const page = `${hubUrl}/${repo.type === 'dataset' ? 'datasets/' : ''}${repo.id}`;
      return auth.kind === 'none'
        ? {
            ok: false,
            error: {
              status: 401,
              code: 'GatedRepo',
              message: `Access to ${what} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
              headers: git ? { 'WWW-Authenticate': 'Basic realm="Authentication required", charset="UTF-8"' } : {},
            },
          }
        : {
            ok: false,
            error: {
              status: 403,
              code: 'GatedRepo',
              message: `Access to ${what} is restricted and you are not in the authorized list. Visit ${page} to ask for access.`,
            },
          };
    }
    return { ok: true };
  };

  // ---- revisions --------------------------------------------------------
  const resolveRev = (repo: BuiltRepo, rev: string): BuiltCommit | undefined => {
    if (rev === 'HEAD') return mainCommit(repo); // huggingface.js asks for HEAD: the default branch
    const byRef =
      repo.refs.get(rev) ??
      (rev.startsWith('refs/heads/') ? repo.branches.get(rev.slice(11)) : undefined) ??
      (rev.startsWith('refs/tags/') ? repo.refs.get(rev.slice(10)) : undefined);
    if (byRef) return repo.bySha.get(byRef);
    if (/^[0-9a-f]{40}$/.test(rev)) return repo.bySha.get(rev);
    return undefined;
  };

  /** Splits decoded segments into the longest revision that exists + the path after it. */
  const splitRev = (repo: BuiltRepo, segs: string[]): { commit: BuiltCommit; rev: string; path: string } | null => {
    for (let k = segs.length; k >= 1; k--) {
      const rev = segs.slice(0, k).join('/');
      const commit = resolveRev(repo, rev);
      if (commit) return { commit, rev, path: segs.slice(k).join('/') };
    }
    return null;
  };

  const mainCommit = (repo: BuiltRepo): BuiltCommit => {
    const sha = repo.branches.get('main') ?? [...repo.branches.values()][0]!;
    return repo.bySha.get(sha)!;
  };

  const repoInfo = (repo: BuiltRepo, commit: BuiltCommit) => {
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
      siblings: files.map((f) => ({ rfilename: f.path })),
      usedStorage: files.reduce((n, f) => n + f.size, 0),
    };
    if (repo.type === 'model') {
      const { _id, id, ...rest } = common;
      return { _id, id, modelId: id, ...rest };
    }
    return common;
  };

  const treeJson = (i: TreeItem) =>
    i.type === 'directory'
      ? { type: 'directory', oid: i.oid, size: 0, path: i.path }
      : i.lfs
        ? {
            type: 'file',
            oid: i.oid,
            size: i.size,
            lfs: { oid: i.lfs.sha256, size: i.lfs.size, pointerSize: i.lfs.pointerSize },
            path: i.path,
          }
        : { type: 'file', oid: i.oid, size: i.size, path: i.path };

  const cdnLocation = (sha256: string, filename: string, fault: BodyFault | null): string => {
    const q = new URLSearchParams({
      'response-content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(filename)};`,
      'response-content-type': 'application/octet-stream',
      Expires: String(Math.floor(Date.now() / 1000) + 86400),
      Signature: createHash('sha256').update(`${sha256}`).digest('base64url').slice(0, 43),
      'Key-Pair-Id': 'KEMULATOR0000',
    });
    if (fault) {
      const id = `f${++carriedSeq}`;
      carried.set(id, fault);
      q.set('X-Emulator-Fault', id);
    }
    return `${cdnUrl}/repos/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}?${q.toString()}`;
  };

  const decodeSegs = (segs: string[]): string[] | null => {
    try {
      return segs.map((s) => decodeURIComponent(s));
    } catch {
      return null;
    }
  };

  const lookup = (type: RepoType, id: string): BuiltRepo | undefined => repos.get(key(type, id));

  // ---- handlers ---------------------------------------------------------
  const handleApi = async (ctx: Ctx, segs: string[]): Promise<void> => {
    ctx.route = 'api';
    const auth = authOf(ctx.req);
    if (segs[0] === 'whoami-v2' && segs.length === 1) {
      if (auth.kind !== 'token') {
        ctx.error({ status: 401, message: 'Invalid credentials in Authorization header' });
        return;
      }
      ctx.json(200, { type: 'user', name: 'emulator-user', fullname: 'Emulator User', auth: { type: 'access_token', accessToken: { displayName: 'emulator', role: 'read' } } });
      return;
    }
    const type: RepoType | null = segs[0] === 'models' ? 'model' : segs[0] === 'datasets' ? 'dataset' : null;
    const decoded = decodeSegs(segs.slice(1));
    if (!type || !decoded || decoded.length < 2) {
      ctx.error({ status: 404, message: 'Sorry, we can\'t find the page you are looking for.' });
      return;
    }
    const id = `${decoded[0]}/${decoded[1]}`;
    const repo = lookup(type, id);
    const acc = access(repo, auth, false, false);
    if (!acc.ok) return ctx.error(acc.error);
    const r = repo!;
    const op = decoded[2];
    // Raw segments after the op: a revision may arrive encoded (`refs%2Fpr%2F1`) or raw (`refs/pr/1`).
    const after = decodeSegs(segs.slice(4)) ?? [];
    if (op === undefined) return ctx.json(200, repoInfo(r, mainCommit(r)));
    if (op === 'revision' && after.length >= 1) {
      const rev = after.join('/');
      const commit = resolveRev(r, rev);
      if (!commit) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${rev}` });
      return ctx.json(200, repoInfo(r, commit));
    }
    if (op === 'refs' && after.length === 0) {
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
      return ctx.json(200, body);
    }
    if (op === 'tree' && after.length >= 1) {
      const split = splitRev(r, after);
      if (!split) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${after[0]}` });
      const { commit } = split;
      const path = split.path.replace(/\/+$/, ''); // `tree/main/dir/` lists dir
      if (path !== '' && !commit.dirs.has(path)) {
        return ctx.error({ status: 404, code: 'EntryNotFound', message: `${path} does not exist on "${split.rev}"` });
      }
      const recursive = ['true', '1'].includes(ctx.query.get('recursive') ?? '');
      const prefix = path === '' ? '' : `${path}/`;
      const items = recursive
        ? commit.listing.filter((i) => i.path.startsWith(prefix))
        : commit.listing.filter((i) => i.parent === path);
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
      const page = items.slice(offset, offset + pageSize);
      const headers: Record<string, string> = {};
      if (offset + pageSize < items.length) {
        const q = new URLSearchParams(ctx.query);
        q.set('cursor', Buffer.from(JSON.stringify({ offset: offset + pageSize })).toString('base64url'));
        headers.Link = `<${hubUrl}${ctx.rawPath}?${q.toString()}>; rel="next"`;
      }
      return ctx.json(200, page.map(treeJson), headers);
    }
    if (op === 'paths-info' && after.length >= 1 && ctx.method === 'POST') {
      const commit = resolveRev(r, after.join('/'));
      if (!commit) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${after.join('/')}` });
      let paths: string[];
      try {
        const raw = (await readBody(ctx.req, 1 << 20)).toString('utf8');
        const ct = ctx.req.headers['content-type'] ?? '';
        paths = ct.includes('json')
          ? ((JSON.parse(raw) as { paths?: string[] }).paths ?? [])
          : new URLSearchParams(raw).getAll('paths');
      } catch {
        return ctx.error({ status: 400, message: 'Invalid body' });
      }
      const wanted = new Set(paths.map(String));
      return ctx.json(200, commit.listing.filter((i) => wanted.has(i.path)).map(treeJson));
    }
    ctx.error({ status: 404, message: 'Sorry, we can\'t find the page you are looking for.' });
  };

  const handleResolve = (ctx: Ctx, type: RepoType, id: string, rest: string[]): void => {
    ctx.route = 'resolve';
    const repo = lookup(type, id);
    const acc = access(repo, authOf(ctx.req), true, false);
    if (!acc.ok) return ctx.error(acc.error);
    const r = repo!;
    const decoded = decodeSegs(rest);
    if (!decoded) return ctx.error({ status: 400, message: 'Invalid path encoding' });
    const split = splitRev(r, decoded);
    if (!split) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${decoded[0] ?? ''}` });
    const entry = split.commit.files.get(split.path);
    if (!entry) {
      return ctx.error({ status: 404, code: 'EntryNotFound', message: `${split.path} does not exist on "${split.rev}"` });
    }
    const base = split.path.slice(split.path.lastIndexOf('/') + 1);
    const disposition = `inline; filename*=UTF-8''${encodeURIComponent(base)}; filename="${base.replace(/[^\x20-\x7e]|"/g, '_')}";`;
    const common: Record<string, string> = { 'X-Repo-Commit': split.commit.sha, 'Accept-Ranges': 'bytes', Vary: 'Origin, Accept' };
    if (entry.lfs && ctx.query.get('emulator-no-redirect') === null) {
      const location = cdnLocation(entry.lfs.sha256, base, ctx.takeBodyFault());
      const body = Buffer.from(`Found. Redirecting to ${location}`);
      return ctx.send(
        302,
        {
          ...common,
          Location: location,
          ETag: `"${entry.lfs.sha256}"`,
          'X-Linked-Etag': `"${entry.lfs.sha256}"`,
          'X-Linked-Size': String(entry.lfs.size),
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Disposition': disposition,
        },
        body,
      );
    }
    const blob = entry.blob;
    const headers: Record<string, string | number> = {
      ...common,
      ETag: `"${entry.oid}"`,
      'Content-Type': contentType(base),
      'Content-Disposition': disposition,
    };
    const range = parseRange(ctx.req.headers.range, blob.length);
    if (range === 'invalid') {
      return ctx.send(416, { ...headers, 'Content-Range': `bytes */${blob.length}` }, Buffer.alloc(0));
    }
    if (range) {
      const part = blob.subarray(range.start, range.end + 1);
      return ctx.send(206, { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${blob.length}` }, part);
    }
    ctx.send(200, headers, blob);
  };

  const handleGit = async (ctx: Ctx, type: RepoType, id: string, sub: string[]): Promise<void> => {
    const isBatch = sub.join('/') === 'info/lfs/objects/batch';
    ctx.route = isBatch ? 'lfs-batch' : 'git';
    const repo = lookup(type, id);
    const acc = access(repo, authOf(ctx.req), true, true);
    if (!acc.ok) return ctx.error(acc.error);
    const r = repo!;
    if (isBatch) return handleLfsBatch(ctx, r);
    if (sub[0] === 'git-receive-pack' || ctx.query.get('service') === 'git-receive-pack') {
      return ctx.error({ status: 403, message: 'The emulator is read-only: push is not supported' });
    }
    const decoded = decodeSegs(sub);
    if (!decoded || decoded.some((s) => s === '..' || s === '.' || s === '')) {
      return ctx.error({ status: 400, message: 'Invalid path' });
    }
    serveGit(ctx, {
      projectRoot: join(dataDir, 'git'),
      pathInfo: `/${type === 'dataset' ? 'datasets' : 'models'}/${id}.git/${decoded.join('/')}`,
      children,
    });
  };

  const handleLfsBatch = async (ctx: Ctx, repo: BuiltRepo): Promise<void> => {
    const lfsJson = { 'Content-Type': 'application/vnd.git-lfs+json' };
    if (ctx.method !== 'POST') return ctx.error({ status: 405, message: 'POST only' });
    let body: { operation?: unknown; objects?: unknown };
    try {
      body = JSON.parse((await readBody(ctx.req, 4 << 20)).toString('utf8')) as typeof body;
    } catch {
      return ctx.json(422, { message: 'Invalid JSON body' }, lfsJson);
    }
    if (body.operation !== 'download') {
      return ctx.json(403, { message: 'The emulator is read-only: only download is supported' }, lfsJson);
    }
    const objects = Array.isArray(body.objects) ? (body.objects as { oid?: unknown; size?: unknown }[]) : [];
    const known = repoLfs(repo);
    const out = objects.slice(0, 10_000).map((o) => {
      const oid = String(o.oid);
      const size = store.objects.get(oid);
      if (!known.has(oid) || size === undefined) {
        return { oid, size: o.size, error: { code: 404, message: 'Object does not exist' } };
      }
      return {
        oid,
        size,
        authenticated: true,
        actions: { download: { href: cdnLocation(oid, oid, null), expires_in: 3600 } },
      };
    });
    ctx.json(200, { transfer: 'basic', objects: out, hash_algo: 'sha256' }, lfsJson);
  };

  const hubHandler = async (ctx: Ctx): Promise<void> => {
    const segs = ctx.rawPath.split('/').slice(1);
    if (segs[0] === 'api') return handleApi(ctx, segs.slice(1));
    let type: RepoType = 'model';
    let s = segs;
    if (s[0] === 'datasets') {
      type = 'dataset';
      s = s.slice(1);
    }
    const decodedId = decodeSegs(s.slice(0, 2));
    if (decodedId && decodedId.length === 2) {
      let [org, name] = decodedId as [string, string];
      const rest = s.slice(2);
      if (!name.endsWith('.git') && rest[0] === 'resolve' && rest.length >= 3) {
        return handleResolve(ctx, type, `${org}/${name}`, rest.slice(1));
      }
      const gitSub = rest.join('/');
      const isGit =
        name.endsWith('.git') ||
        /^(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.+|info\/lfs\/objects\/batch)$/.test(gitSub);
      if (isGit && rest.length > 0) {
        if (name.endsWith('.git')) name = name.slice(0, -4);
        return handleGit(ctx, type, `${org}/${name}`, rest);
      }
    }
    ctx.error({ status: 404, message: 'Sorry, we can\'t find the page you are looking for.' });
  };

  const cdnHandler = (ctx: Ctx): void => {
    ctx.route = 'cdn';
    const m = /^\/repos\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(ctx.rawPath);
    const sha = m?.[1];
    const size = sha ? store.objects.get(sha) : undefined;
    if (!sha || size === undefined) {
      return ctx.send(404, { 'Content-Type': 'application/xml' }, Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'));
    }
    const headers: Record<string, string | number> = {
      'Content-Type': ctx.query.get('response-content-type') ?? 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ETag: `"${sha}"`,
      'Cache-Control': 'public, max-age=604800, immutable',
    };
    const disp = ctx.query.get('response-content-disposition');
    if (disp) headers['Content-Disposition'] = disp;
    const range = parseRange(ctx.req.headers.range, size);
    if (range === 'invalid') return ctx.send(416, { ...headers, 'Content-Range': `bytes */${size}` }, Buffer.alloc(0));
    const file = join(store.dir, sha);
    const start = range ? range.start : 0;
    const end = range ? range.end : size - 1;
    headers['Content-Length'] = end - start + 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    const stream =
      ctx.method === 'HEAD' || size === 0
        ? Buffer.alloc(0)
        : createReadStream(file, { start, end, highWaterMark: 4 << 20 });
    ctx.send(range ? 206 : 200, headers, stream);
  };

  const listen = (handler: (ctx: Ctx) => void | Promise<void>, cdn: boolean): Server => {
    return createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '/';
      const sendsBody = req.method !== 'HEAD';
      // A fault carried over from the resolve redirect counts as this request's fault.
      let fault: FaultKind | null = null;
      const carriedId = cdn && sendsBody ? /[?&]X-Emulator-Fault=(f\d+)/.exec(url)?.[1] : undefined;
      if (carriedId && carried.has(carriedId)) {
        fault = carried.get(carriedId)!;
        carried.delete(carriedId);
      } else fault = faults.take(url, sendsBody);
      const ctx = new Ctx(req, res, fault, () => closing, (c, n) => {
        if (c.route === 'cdn') cdnBytes += n;
      });
      // Recorded on arrival; status and bytes are read live (a client may finish reading before 'finish').
      const record = { method: ctx.method, url, route: ctx.route, authorized: req.headers.authorization !== undefined } as RequestRecord;
      Object.defineProperties(record, {
        status: { enumerable: true, get: () => res.statusCode },
        bytes: { enumerable: true, get: () => ctx.bytes },
        route: { enumerable: true, get: () => ctx.route },
      });
      requests.push(record);
      if (requests.length > 1_000_000) requests.splice(0, requests.length - 1_000_000);
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      if (cdn) ctx.route = 'cdn';
      if (ctx.answerStatusFault()) {
        req.resume();
        return;
      }
      Promise.resolve()
        .then(() => handler(ctx))
        .catch((e: unknown) => {
          if (!res.headersSent) ctx.error({ status: 500, message: `emulator error: ${String(e)}` });
          else res.destroy();
        });
    });
  };

  const hubServer = listen(hubHandler, false);
  const cdnServer = listen(cdnHandler, true);
  const listenOn = (s: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
    });
  let hubPort: number;
  let cdnPort: number;
  try {
    cdnPort = await listenOn(cdnServer, 0);
    hubPort = await listenOn(hubServer, options.port ?? 0);
  } catch (e) {
    cdnServer.close();
    hubServer.close();
    throw e;
  }
  hubUrl = `http://127.0.0.1:${hubPort}`;
  cdnUrl = `http://127.0.0.1:${cdnPort}`;
  // A server on 127.0.0.1 with another port is another origin: Authorization is dropped on the redirect.

  const state = (repo: BuiltRepo): RepoState => ({
    spec: repo.spec,
    commits: repo.commits.map((c) => c.sha),
    refs: Object.fromEntries(repo.refs),
    filesAt(commit?: string): Map<string, Uint8Array> {
      const c = commit === undefined ? mainCommit(repo) : resolveRev(repo, commit);
      if (!c) throw new Error(`hub: ${repo.id} has no commit ${commit}`);
      const out = new Map<string, Uint8Array>();
      for (const [path, e] of c.files) {
        if (e.lfs && store.objects.has(e.lfs.sha256)) out.set(path, readFileSync(join(store.dir, e.lfs.sha256)));
        else out.set(path, e.blob);
      }
      return out;
    },
  });

  let closed: Promise<void> | null = null;
  return {
    url: hubUrl,
    cdnUrl,
    dataDir,
    repo(id: string, type: RepoType = 'model'): RepoState {
      const r = lookup(type, id);
      if (!r) throw new Error(`hub: no ${type} ${id}`);
      return state(r);
    },
    requests,
    cdnBytes: () => cdnBytes,
    resetStats() {
      requests.length = 0;
      cdnBytes = 0;
    },
    addFault: (f) => faults.add(f),
    clearFaults: () => {
      faults.clear();
      carried.clear();
    },
    close(): Promise<void> {
      closed ??= (async () => {
        closing = true;
        for (const c of children) c.kill('SIGKILL');
        const done = (s: Server) => new Promise<void>((r) => s.close(() => r()));
        const p = Promise.all([done(hubServer), done(cdnServer)]);
        hubServer.closeAllConnections();
        cdnServer.closeAllConnections();
        await p;
        if (ownDir) {
          rmSync(dataDir, { recursive: true, force: true });
          liveTempDirs.delete(dataDir);
        }
      })();
      return closed;
    },
  };
}

function contentType(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'json') return 'application/json; charset=utf-8';
  if (['md', 'txt', 'py', 'jsonl', 'csv', 'yaml', 'yml', 'gitattributes'].includes(ext)) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}
