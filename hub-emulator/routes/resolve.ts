/** `/{repo}/resolve/{rev}/{path}`: a regular file's bytes (ranges too), or an LFS file's 302 to the CDN. */
import { access, authOf } from '../access.ts';
import { parseRange, type Ctx } from '../http.ts';
import { cdnLocation, decodeSegs, lookup, splitRev, type HubState } from '../state.ts';
import type { RepoType } from '../types.ts';

function contentType(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'json') return 'application/json; charset=utf-8';
  if (['md', 'txt', 'py', 'jsonl', 'csv', 'yaml', 'yml', 'gitattributes'].includes(ext)) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

export function handleResolve(state: HubState, ctx: Ctx, type: RepoType, id: string, rest: string[]): void {
  ctx.route = 'resolve';
  const repo = lookup(state, type, id);
  const acc = access(state, repo, authOf(state, ctx.req), true, false);
  if (!acc.ok) return ctx.error(acc.error);
  const r = repo!;
  const decoded = decodeSegs(rest);
  if (!decoded) return ctx.error({ status: 400, message: 'Invalid path encoding' });
  const split = splitRev(r, decoded);
  if (!split) return ctx.error({ status: 404, code: 'RevisionNotFound', message: `Invalid rev id: ${decoded[0] ?? ''}` });
  const entry = split.commit.files.get(split.path);
  if (!entry) return ctx.error({ status: 404, code: 'EntryNotFound', message: `${split.path} does not exist on "${split.rev}"` });
  const base = split.path.slice(split.path.lastIndexOf('/') + 1);
  const disposition = `inline; filename*=UTF-8''${encodeURIComponent(base)}; filename="${base.replace(/[^\x20-\x7e]|"/g, '_')}";`;
  const common: Record<string, string> = { 'X-Repo-Commit': split.commit.sha, 'Accept-Ranges': 'bytes', Vary: 'Origin, Accept' };
  if (entry.lfs && ctx.query.get('emulator-no-redirect') === null) {
    const location = cdnLocation(state, entry.lfs.sha256, base, ctx.takeBodyFault());
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
      Buffer.from(`Found. Redirecting to ${location}`),
    );
  }
  const blob = entry.blob;
  const headers: Record<string, string | number> = { ...common, ETag: `"${entry.oid}"`, 'Content-Type': contentType(base), 'Content-Disposition': disposition };
  const range = parseRange(ctx.req.headers.range, blob.length);
  if (range === 'invalid') return ctx.send(416, { ...headers, 'Content-Range': `bytes */${blob.length}` }, Buffer.alloc(0));
  if (range) return ctx.send(206, { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${blob.length}` }, blob.subarray(range.start, range.end + 1));
  ctx.send(200, headers, blob);
}
