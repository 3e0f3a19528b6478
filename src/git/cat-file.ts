/**
 * Streams blobs out of one `git cat-file --batch` process, in an order given
 * up front: every object id is written to its stdin at once, and each blob's
 * bytes are handed on in chunks as they arrive (a blob is never held whole).
 * git is killed when `signal` (or the running command's interrupt) fires.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { withInterrupt } from '../interrupt.js';
import { traceCommand } from '../ui/command-trace.js';

export class BlobStream {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly chunks: AsyncIterator<Buffer>;
  private buffer: Buffer = Buffer.alloc(0);
  private stderr = '';

  constructor(gitDir: string, oids: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal) {
    const stop = withInterrupt(signal);
    const args = ['--git-dir', gitDir, 'cat-file', '--batch'];
    const trace = traceCommand('git', args, env);
    this.child = spawn('git', args, { env, stdio: ['pipe', 'pipe', 'pipe'], ...(stop ? { signal: stop, killSignal: 'SIGKILL' as const } : {}) });
    // An abort: reading stdout then fails, and the caller reports the interruption.
    this.child.on('error', () => trace.end(null));
    this.child.on('close', (code, sig) => trace.end(code, sig));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.stderr.length < 8192) this.stderr += d;
    });
    this.child.stdin.on('error', () => undefined);
    this.child.stdin.end(oids.map((oid) => `${oid}\n`).join(''));
    this.chunks = (this.child.stdout as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(): Promise<void> {
    const next = await this.chunks.next();
    if (next.done) throw new Error(`git cat-file ended early${this.stderr ? `: ${this.stderr.trim()}` : ''}`);
    this.buffer = this.buffer.length === 0 ? next.value : Buffer.concat([this.buffer, next.value]);
  }

  private async header(oid: string): Promise<number> {
    let nl: number;
    while ((nl = this.buffer.indexOf(10)) < 0) await this.fill();
    const line = this.buffer.subarray(0, nl).toString('latin1');
    this.buffer = this.buffer.subarray(nl + 1);
    const m = /^([0-9a-f]+) blob (\d+)$/.exec(line);
    if (!m || m[1] !== oid) throw new Error(`git cat-file: expected blob ${oid}, got ${JSON.stringify(line)}`);
    return Number(m[2]);
  }

  /** The next blob, which must be `oid`, in chunks. */
  async *blob(oid: string): AsyncGenerator<Buffer> {
    let left = await this.header(oid);
    while (left > 0) {
      if (this.buffer.length === 0) await this.fill();
      const take = Math.min(left, this.buffer.length);
      yield this.buffer.subarray(0, take);
      this.buffer = this.buffer.subarray(take);
      left -= take;
    }
    if (this.buffer.length === 0) await this.fill();
    this.buffer = this.buffer.subarray(1); // the LF after each blob
  }

  /** The next blob, whole (small blobs: symlink targets, .gitattributes). */
  async read(oid: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.blob(oid)) parts.push(Buffer.from(chunk));
    return Buffer.concat(parts);
  }

  /** Waits for git to exit; throws if it failed. */
  async close(): Promise<void> {
    const closed = this.child.exitCode !== null || this.child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    let extra = this.buffer.length;
    for (let next = await this.chunks.next(); !next.done; next = await this.chunks.next()) extra += next.value.length;
    await closed;
    if (extra !== 0) throw new Error(`git cat-file sent ${extra} unexpected bytes`);
    if (this.child.exitCode !== 0) throw new Error(`git cat-file failed (exit ${this.child.exitCode ?? this.child.signalCode}): ${this.stderr.trim()}`);
  }

  /** Stops git (after an error). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
