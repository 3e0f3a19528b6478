/** The CDN origin: `/repos/aa/bb/{sha256}`, streamed from the LFS store, with ranges; S3's XML 404 otherwise. */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { parseRange, type Ctx } from '../http.ts';
import type { HubState } from '../state.ts';

export function handleCdn(state: HubState, ctx: Ctx): void {
  ctx.route = 'cdn';
  const m = /^\/repos\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(ctx.rawPath);
  const sha = m?.[1];
  const size = sha ? state.store.objects.get(sha) : undefined;
  if (!sha || size === undefined) {
    return ctx.send(
      404,
      { 'Content-Type': 'application/xml' },
      Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'),
    );
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
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  headers['Content-Length'] = end - start + 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  const body = ctx.method === 'HEAD' || size === 0 ? Buffer.alloc(0) : createReadStream(join(state.store.dir, sha), { start, end, highWaterMark: 4 << 20 });
  ctx.send(range ? 206 : 200, headers, body);
}
