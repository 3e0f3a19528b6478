/**
 * Git smart HTTP through `git http-backend` as CGI: one process per request,
 * request body streamed in (gzip included: http-backend inflates it itself),
 * CGI headers parsed, the rest streamed out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Ctx } from './http.ts';

export interface GitCgiOptions {
  projectRoot: string;
  /** `/models/org/name.git/info/refs` etc., relative to projectRoot. */
  pathInfo: string;
  children: Set<ChildProcess>;
}

const MAX_HEADER = 64 * 1024;

export function serveGit(ctx: Ctx, opts: GitCgiOptions): void {
  const { req, res } = ctx;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/',
    GIT_PROJECT_ROOT: opts.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: ctx.method,
    PATH_INFO: opts.pathInfo,
    QUERY_STRING: ctx.query.toString(),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
  };
  // Without CONTENT_LENGTH http-backend reads to EOF: what a chunked body needs.
  const len = req.headers['content-length'];
  if (len !== undefined) env.CONTENT_LENGTH = len;
  const enc = req.headers['content-encoding'];
  if (enc) env.HTTP_CONTENT_ENCODING = enc;
  const proto = req.headers['git-protocol'];
  if (typeof proto === 'string') env.GIT_PROTOCOL = proto;

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  opts.children.add(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  child.on('error', () => ctx.error({ status: 500, message: 'git http-backend failed to start' }));
  child.on('close', () => opts.children.delete(child));
  child.stdin.on('error', () => undefined);
  child.stdout.on('error', () => undefined);
  req.pipe(child.stdin);
  res.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  let head = Buffer.alloc(0);
  let started = false;
  const onData = (d: Buffer) => {
    head = Buffer.concat([head, d]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
    if (end < 0) {
      if (head.length > MAX_HEADER) {
        child.kill('SIGKILL');
        ctx.error({ status: 502, message: 'bad CGI response from git http-backend' });
      }
      return;
    }
    started = true;
    child.stdout.off('data', onData);
    child.stdout.pause();
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === 'status') status = parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    const rest = head.subarray(end);
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    async function* body(): AsyncGenerator<Buffer> {
      if (rest.length > 0) yield rest;
      for await (const chunk of child.stdout) yield chunk as Buffer;
    }
    void ctx.pump(body());
  };
  child.stdout.on('data', onData);
  child.on('close', (code) => {
    if (!started && !res.headersSent) {
      ctx.error({ status: 500, message: `git http-backend exited ${code}: ${stderr.trim().slice(0, 500)}` });
    }
  });
}
