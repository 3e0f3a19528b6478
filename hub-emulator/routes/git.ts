/** `/{repo}.git/…`: git smart HTTP (read-only, through `git http-backend`) and the LFS batch API. */
import { join } from 'node:path';
import { access, authOf } from '../access.ts';
import type { BuiltRepo } from '../build.ts';
import { serveGit } from '../git-http.ts';
import { readBody, type Ctx } from '../http.ts';
import { cdnLocation, decodeSegs, lookup, repoLfs, type HubState } from '../state.ts';
import type { RepoType } from '../types.ts';

export async function handleGit(state: HubState, ctx: Ctx, type: RepoType, id: string, sub: string[]): Promise<void> {
  const isBatch = sub.join('/') === 'info/lfs/objects/batch';
  ctx.route = isBatch ? 'lfs-batch' : 'git';
  const repo = lookup(state, type, id);
  const acc = access(state, repo, authOf(state, ctx.req), true, true);
  if (!acc.ok) return ctx.error(acc.error);
  const r = repo!;
  if (isBatch) return lfsBatch(state, ctx, r);
  if (sub[0] === 'git-receive-pack' || ctx.query.get('service') === 'git-receive-pack') {
    return ctx.error({ status: 403, message: 'The emulator is read-only: push is not supported' });
  }
  const decoded = decodeSegs(sub);
  if (!decoded || decoded.some((s) => s === '..' || s === '.' || s === '')) return ctx.error({ status: 400, message: 'Invalid path' });
  serveGit(ctx, {
    projectRoot: join(state.dataDir, 'git'),
    pathInfo: `/${type}s/${id}.git/${decoded.join('/')}`,
    children: state.children,
  });
}

/** Download actions only; each object's `href` points at the CDN. */
async function lfsBatch(state: HubState, ctx: Ctx, repo: BuiltRepo): Promise<void> {
  const lfsJson = { 'Content-Type': 'application/vnd.git-lfs+json' };
  if (ctx.method !== 'POST') return ctx.error({ status: 405, message: 'POST only' });
  let body: { operation?: unknown; objects?: unknown };
  try {
    body = JSON.parse((await readBody(ctx.req, 4 << 20)).toString('utf8')) as typeof body;
  } catch {
    return ctx.json(422, { message: 'Invalid JSON body' }, lfsJson);
  }
  if (body.operation !== 'download') return ctx.json(403, { message: 'The emulator is read-only: only download is supported' }, lfsJson);
  const objects = Array.isArray(body.objects) ? (body.objects as { oid?: unknown; size?: unknown }[]) : [];
  const known = repoLfs(repo);
  const out = objects.slice(0, 10_000).map((o) => {
    const oid = String(o.oid);
    const size = state.store.objects.get(oid);
    if (!known.has(oid) || size === undefined) return { oid, size: o.size, error: { code: 404, message: 'Object does not exist' } };
    return { oid, size, authenticated: true, actions: { download: { href: cdnLocation(state, oid, oid, null), expires_in: 3600 } } };
  });
  ctx.json(200, { transfer: 'basic', objects: out, hash_algo: 'sha256' }, lfsJson);
}
