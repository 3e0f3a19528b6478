/**
 * A pointer-only clone of one commit of a Hub repository: git objects only
 * (small files and LFS pointers; no LFS content is ever downloaded), in a
 * temporary folder. From it:
 *  - `gitRepoHash()`: the NAR sha256 of the commit's checkout without `.git`,
 *    what the library's fixed-output checkout (nixpkgs `fetchgit`) must
 *    produce. Serialised straight from the git objects, streamed; when a
 *    `.gitattributes` asks git to convert bytes on checkout (CRLF, `$Id$`,
 *    re-encoding), hashed from a real checkout instead, as `fetchgit` makes it.
 *  - `materialize(dir)`: that checkout on disk, to hand to the Nix store
 *    (so that a build needs no second clone, and private repos need no token
 *    inside Nix).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError, NixHugError } from '../errors.js';
import { narHash, narHashOfPath, narLeaves, type NarNode } from '../nix/nar.js';
import { BlobStream } from './cat-file.js';
import { isolatedGitEnv, runGit } from './run-git.js';
import { attributeFiles, LsTreeReader, mentionsConversion, type GitBlob } from './tree.js';

export interface PointerCloneOptions {
  /** `{endpoint}/{prefix}{id}.git`. */
  url: string;
  /** The Hub's URL: the token (if any) is sent to it only. */
  endpoint: string;
  /** 40-hex commit. */
  rev: string;
  /** How to name the repository in errors, e.g. `model org/name`. */
  what: string;
  env: NodeJS.ProcessEnv;
  token?: string | null;
  /** Attempts of the whole fetch (transient network failures). */
  attempts?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
  debug?: (line: string) => void;
  /** Files of the commit held in memory at most (default: the bound of the Hub's listing). */
  maxFiles?: number;
}

/** What git says when a server will not send a commit it did not advertise (older servers, protocol v0). */
const REFUSED_BY_ID = /not our ref|unadvertised object|couldn't find remote ref|no such remote ref/i;

const lastLine = (text: string) => text.trim().split('\n').filter(Boolean).pop() ?? 'no message';

export class PointerClone {
  private hash: Promise<string> | null = null;
  private tree: Promise<NarNode<GitBlob>> | null = null;
  private indexes = 0;

  private constructor(
    private readonly root: string,
    private readonly opts: PointerCloneOptions,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private get gitDir(): string {
    return join(this.root, 'repo.git');
  }

  /** Clones the commit's objects; the caller must `dispose()` the result. */
  static async fetch(opts: PointerCloneOptions): Promise<PointerClone> {
    const root = await mkdtemp(join(opts.env.TMPDIR || tmpdir(), 'nix-hug-git-'));
    const home = join(root, 'home');
    const clone = new PointerClone(root, opts, isolatedGitEnv(opts.env, { home, token: opts.token ?? null, endpoint: opts.endpoint }));
    try {
      await mkdir(home);
      await clone.git(['init', '-q', '--bare', clone.gitDir]);
      await clone.fetchCommit();
      return clone;
    } catch (err) {
      await clone.dispose();
      throw err;
    }
  }

  private async git(args: string[], env = this.env, onStdout?: (chunk: Buffer) => void) {
    const r = await runGit(args, env, this.opts.signal, onStdout);
    if (this.opts.signal?.aborted) throw new InterruptedError(`fetching the git repository of ${this.opts.what}`);
    return r;
  }

  private async gitOk(args: string[], env = this.env, onStdout?: (chunk: Buffer) => void): Promise<Buffer> {
    const r = await this.git(args, env, onStdout);
    if (r.code !== 0) {
      throw new NixHugError(`git ${args.find((a) => !a.startsWith('-') && a !== this.gitDir) ?? ''} failed in the clone of ${this.opts.what}: ${lastLine(r.stderr)}`, 'run again with --debug and report the output');
    }
    return r.stdout;
  }

  /**
   * One commit at depth 1 (any reachable commit can be asked for by id over
   * git's protocol v2); if the server refuses to serve a commit by id, every
   * ref, as Nix's `fetchGit` with `allRefs` does. Network failures are
   * retried, the whole fetch at most `attempts` times.
   */
  private async fetchCommit(): Promise<void> {
    const { url, rev, what } = this.opts;
    const attempts = Math.max(1, this.opts.attempts ?? 3);
    let reason = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep((this.opts.retryDelayMs ?? 1000) * 2 ** (attempt - 2), undefined, this.opts.signal ? { signal: this.opts.signal } : {}).catch(() => undefined);
      this.opts.debug?.(`git fetch --depth=1 ${url} ${rev}`);
      const shallow = await this.git(['--git-dir', this.gitDir, 'fetch', '-q', '--depth=1', '--no-tags', url, rev]);
      if (shallow.code === 0) return;
      reason = lastLine(shallow.stderr);
      if (!REFUSED_BY_ID.test(shallow.stderr)) continue;
      this.opts.debug?.(`the server does not serve a commit by id (${reason}); fetching every ref`);
      const all = await this.git(['--git-dir', this.gitDir, 'fetch', '-q', '--no-tags', url, '+refs/*:refs/nix-hug/*']);
      if (all.code === 0) {
        const has = await this.git(['--git-dir', this.gitDir, 'cat-file', '-e', `${rev}^{commit}`]);
        if (has.code === 0) return;
        throw new NixHugError(`the commit ${rev} is not in the git repository of ${what} (${url})`, 'check the revision with `nix-hug ls`, or run `nix-hug fetch` again to pin the current one');
      }
      reason = lastLine(all.stderr);
    }
    throw new NixHugError(`could not fetch the git repository of ${what} (${url}): ${reason}`, 'check your network, HF_ENDPOINT and HF_TOKEN, then run the command again');
  }

  private lsTree(): Promise<NarNode<GitBlob>> {
    this.tree ??= (async () => {
      const reader = new LsTreeReader(this.opts.what, this.opts.maxFiles);
      await this.gitOk(['--git-dir', this.gitDir, 'ls-tree', '-r', '-l', '-z', '--full-tree', this.opts.rev], this.env, (chunk) => reader.push(chunk));
      return reader.end();
    })();
    return this.tree;
  }

  /** `sha256-…` (SRI) of the NAR of the checkout without `.git`. */
  gitRepoHash(): Promise<string> {
    this.hash ??= this.computeHash();
    return this.hash;
  }

  private async computeHash(): Promise<string> {
    const tree = await this.lsTree();
    const attrs = attributeFiles(tree);
    if (attrs.length > 0) {
      const texts = await this.streamBlobs(attrs.map((a) => a.oid), async (s) => {
        const read: Buffer[] = [];
        for (const a of attrs) read.push(await s.read(a.oid));
        return read;
      });
      if (texts.some((t) => mentionsConversion(t.toString('latin1')))) {
        this.opts.debug?.(`${this.opts.what}: .gitattributes converts bytes on checkout; hashing a checkout`);
        const dir = join(this.root, `checkout-${this.indexes}`);
        await this.materialize(dir);
        try {
          return await narHashOfPath(dir);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
    const leaves = [...narLeaves(tree)];
    return this.streamBlobs(leaves.map((l) => l.leaf.oid), (s) =>
      narHash(tree, { contents: (leaf) => s.blob(leaf.oid), target: (leaf) => s.read(leaf.oid) }),
    );
  }

  private async streamBlobs<T>(oids: string[], use: (s: BlobStream) => Promise<T>): Promise<T> {
    const stream = new BlobStream(this.gitDir, oids, this.env, this.opts.signal);
    try {
      const result = await use(stream);
      await stream.close();
      return result;
    } catch (err) {
      stream.kill();
      if (this.opts.signal?.aborted) throw new InterruptedError(`hashing the git checkout of ${this.opts.what}`);
      throw err;
    }
  }

  /**
   * Checks the commit out into `dir` (created; must not exist) the way
   * `git checkout` does in a clone without user config, without `.git`.
   */
  async materialize(dir: string): Promise<void> {
    await mkdir(dir);
    const env = { ...this.env, GIT_INDEX_FILE: join(this.root, `index-${this.indexes++}`) };
    await this.gitOk(['--git-dir', this.gitDir, 'read-tree', this.opts.rev], env);
    await this.gitOk(['--git-dir', this.gitDir, '--work-tree', dir, 'checkout-index', '-a', '-f'], env);
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
