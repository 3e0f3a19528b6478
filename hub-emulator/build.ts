/**
 * Builds one fixture repository from its RepoSpec: the file state of every
 * commit, the LFS objects in the store, and a bare git repository written by
 * a single `git fast-import` process. Fixed identity and dates make the
 * commit ids a function of the description alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lfsContent, lfsContentStream, rememberLfsSha256 } from './content.ts';
import { coveredByLfs, defaultGitattributes, exactPathLine, lfsPatterns } from './gitattributes.ts';
import {
  commitBody,
  compareTreeNames,
  gitObjectId,
  lfsPointer,
  parseLfsPointer,
  treeId,
  type FileMode,
} from './git-objects.ts';
import type { FileSpec, RepoSpec, RepoType } from './types.ts';

export const COMMITTER = { name: 'Hub Emulator', email: 'emulator@hub.invalid' };
/** Commit N of every repo is dated BASE_TIME + N hours (2023-11-14T22:13:20Z + N h). */
export const BASE_TIME = 1_700_000_000;

export interface LfsRef {
  sha256: string;
  size: number;
  pointerSize: number;
}

/** One file as committed. */
export interface Entry {
  mode: FileMode;
  /** Git blob id. */
  oid: string;
  /** The blob as stored in git (the pointer for LFS files). */
  blob: Buffer;
  /** Set when the blob is an LFS pointer (the Hub parses pointers, so a `rawBlob` pointer counts too). */
  lfs: LfsRef | null;
}

/** A tree API entry. */
export interface TreeItem {
  type: 'file' | 'directory';
  path: string;
  oid: string;
  size: number;
  lfs?: LfsRef;
  /** Parent folder ('' for the root). */
  parent: string;
}

export interface BuiltCommit {
  sha: string;
  tree: string;
  time: number;
  /** The parent commit (null for a branch's first), and the message, trailing newline included. */
  parent: string | null;
  message: string;
  files: Map<string, Entry>;
  /** Every file and folder, depth-first in git tree order (a folder before its content). */
  listing: TreeItem[];
  /** Folder path ('' = root) → its tree id. */
  dirs: Map<string, string>;
}

export interface BuiltRepo {
  spec: RepoSpec;
  type: RepoType;
  id: string;
  /** Bare repository path. */
  gitDir: string;
  commits: BuiltCommit[];
  bySha: Map<string, BuiltCommit>;
  /** Branches and tags by name, PRs as `refs/pr/N` → commit sha. */
  refs: Map<string, string>;
  branches: Map<string, string>;
}

export interface LfsStore {
  dir: string;
  /** sha256 → size of the objects in the store. */
  objects: Map<string, number>;
  /** `${size}\0${seed}` → sha256, to skip regenerating identical content. */
  generated: Map<string, string>;
  /** Writes of small objects still in flight. */
  pending: Promise<void>[];
}

export function gitDirFor(dataDir: string, type: RepoType, id: string): string {
  return join(dataDir, 'git', `${type}s`, `${id}.git`);
}

function validatePath(path: string, repo: string): void {
  const parts = path.split('/');
  if (path === '' || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`hub fixture ${repo}: invalid file path ${JSON.stringify(path)}`);
  }
}

/** git check-ref-format's rules, roughly: what fast-import would refuse, refused early with a clear message. */
function validRefName(ref: string): boolean {
  return (
    /^refs\/[^\x00-\x20\x7f~^:?*[\\]+$/.test(ref) &&
    !ref.includes('..') &&
    !ref.includes('//') &&
    !ref.includes('@{') &&
    !/(^|\/)\./.test(ref) &&
    !/(\.lock|\/|\.)$/.test(ref)
  );
}

/** Puts bytes into the LFS store (if new) and returns the pointer facts. */
function storeBytes(store: LfsStore, bytes: Buffer): LfsRef {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (!store.objects.has(sha256)) {
    // Written in the background (thread pool, in parallel with fast-import); startHub awaits `pending`.
    store.pending.push(writeFile(join(store.dir, sha256), bytes));
    store.objects.set(sha256, bytes.length);
  }
  return { sha256, size: bytes.length, pointerSize: lfsPointer(sha256, bytes.length).length };
}

const SMALL = 4 << 20;
let tmpSeq = 0;

async function storeGenerated(store: LfsStore, seed: string, size: number): Promise<LfsRef> {
  const key = `${size}\0${seed}`;
  let sha256 = store.generated.get(key);
  if (sha256 === undefined) {
    if (size <= SMALL) {
      sha256 = storeBytes(store, lfsContent(seed, size)).sha256;
    } else {
      // Large: stream to a temp file while hashing, then rename to its sha256.
      const tmp = join(store.dir, `.tmp-${++tmpSeq}`);
      const hash = createHash('sha256');
      const src = lfsContentStream(seed, size);
      src.on('data', (c: Buffer) => hash.update(c));
      await pipeline(src, createWriteStream(tmp, { highWaterMark: 1 << 20 }));
      sha256 = hash.digest('hex');
      renameSync(tmp, join(store.dir, sha256));
      store.objects.set(sha256, size);
    }
    store.generated.set(key, sha256);
    rememberLfsSha256(seed, size, sha256);
  }
  return { sha256, size, pointerSize: lfsPointer(sha256, size).length };
}

async function toEntry(store: LfsStore, path: string, spec: FileSpec): Promise<Entry> {
  let mode: FileMode = '100644';
  let blob: Buffer;
  let lfs: LfsRef | null = null;
  if (typeof spec === 'string') blob = Buffer.from(spec, 'utf8');
  else if (spec instanceof Uint8Array) blob = Buffer.from(spec);
  else if ('lfs' in spec) {
    lfs = await storeGenerated(store, spec.lfs.seed ?? path, spec.lfs.size);
    blob = lfsPointer(lfs.sha256, lfs.size);
  } else if ('lfsBytes' in spec) {
    lfs = storeBytes(store, Buffer.from(spec.lfsBytes));
    blob = lfsPointer(lfs.sha256, lfs.size);
  } else if ('rawBlob' in spec) {
    blob = typeof spec.rawBlob === 'string' ? Buffer.from(spec.rawBlob, 'utf8') : Buffer.from(spec.rawBlob);
    const p = parseLfsPointer(blob);
    if (p) lfs = { ...p, pointerSize: blob.length };
  } else {
    mode = '120000';
    blob = Buffer.from(spec.symlink, 'utf8');
  }
  return { mode, oid: gitObjectId('blob', blob), blob, lfs };
}

interface DirNode {
  dirs: Map<string, DirNode>;
  files: Map<string, Entry>;
}

/** Tree ids and the depth-first listing of a file state. */
function indexTree(files: Map<string, Entry>): { tree: string; listing: TreeItem[]; dirs: Map<string, string> } {
  const root: DirNode = { dirs: new Map(), files: new Map() };
  for (const [path, entry] of files) {
    const parts = path.split('/');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let next = node.dirs.get(part);
      if (!next) {
        next = { dirs: new Map(), files: new Map() };
        node.dirs.set(part, next);
      }
      node = next;
    }
    node.files.set(parts[parts.length - 1] as string, entry);
  }
  const dirs = new Map<string, string>();
  // Returns the tree id and the listing of the folder's content.
  const walk = (node: DirNode, prefix: string): { oid: string; items: TreeItem[] } => {
    type Child = { name: string; mode: FileMode | '40000'; entry?: Entry; node?: DirNode };
    const children: Child[] = [
      ...[...node.dirs].map(([name, n]) => ({ name, mode: '40000' as const, node: n })),
      ...[...node.files].map(([name, e]) => ({ name, mode: e.mode, entry: e })),
    ].sort(compareTreeNames);
    const items: TreeItem[] = [];
    const forHash: { name: string; mode: FileMode | '40000'; oid: string }[] = [];
    const parent = prefix.slice(0, -1);
    for (const c of children) {
      const path = prefix + c.name;
      if (c.node) {
        const sub = walk(c.node, `${path}/`);
        items.push({ type: 'directory', path, oid: sub.oid, size: 0, parent }, ...sub.items);
        forHash.push({ name: c.name, mode: '40000', oid: sub.oid });
      } else if (c.entry) {
        const e = c.entry;
        const item: TreeItem = { type: 'file', path, oid: e.oid, size: e.lfs ? e.lfs.size : e.blob.length, parent };
        if (e.lfs) item.lfs = e.lfs;
        items.push(item);
        forHash.push({ name: c.name, mode: e.mode, oid: e.oid });
      }
    }
    const oid = treeId(forHash);
    dirs.set(parent, oid);
    return { oid, items };
  };
  const { oid, items } = walk(root, '');
  return { tree: oid, listing: items, dirs };
}

function fiPath(path: string): string {
  // fast-import needs C quoting for paths with controls or a leading quote.
  // eslint-disable-next-line no-control-regex
  if (!/[\x00-\x1f\x7f"\\]/.test(path)) return path;
  let out = '"';
  for (const byte of Buffer.from(path, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte < 0x20 || byte === 0x7f) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return Buffer.from(`${out}"`, 'latin1').toString('utf8');
}

/**
 * One `git fast-import` fed while the commits are being computed, so git
 * hashes and packs on one core while JavaScript prepares the next blobs.
 */
class FastImport {
  private readonly child: ChildProcess & { stdin: Writable };
  private readonly exited: Promise<void>;
  private buffered: Buffer[] = [];
  private size = 0;

  constructor(gitDir: string, marks: string) {
    const child = spawn(
      'git',
      // Uncompressed objects: a third faster to write, and clones run over loopback anyway.
      ['-c', 'core.compression=0', 'fast-import', '--quiet', '--done', `--export-marks=${marks}`],
      {
        env: { ...process.env, GIT_DIR: gitDir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    this.child = child as ChildProcess & { stdin: Writable };
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 10_000) err += d.toString();
    });
    child.stdin.on('error', () => undefined); // reported through the exit code
    this.exited = new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}: ${err.trim()}`))));
    });
    this.exited.catch(() => undefined); // observed in end()
  }

  push(data: string | Buffer): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.buffered.push(b);
    this.size += b.length;
  }

  /** Hands what is buffered to git once it is worth a write, waiting when the pipe is full. */
  async flush(force = false): Promise<void> {
    if (this.size === 0 || (!force && this.size < 1 << 20)) return;
    const chunk = Buffer.concat(this.buffered);
    this.buffered = [];
    this.size = 0;
    const stdin = this.child.stdin;
    if (!stdin.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve();
        };
        stdin.on('drain', done);
        stdin.on('close', done);
      });
    }
  }

  async end(): Promise<void> {
    await this.flush(true);
    this.child.stdin.end();
    await this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** A bare repository with HEAD → main, serving any reachable commit. */
function initBare(gitDir: string): void {
  for (const d of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info']) {
    mkdirSync(join(gitDir, d), { recursive: true });
  }
  writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(
    join(gitDir, 'config'),
    '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n' +
      '[uploadpack]\n\tallowAnySHA1InWant = true\n\tallowFilter = true\n[http]\n\treceivepack = false\n',
  );
  writeFileSync(join(gitDir, 'description'), 'hub emulator fixture\n');
}

export async function buildRepo(spec: RepoSpec, dataDir: string, store: LfsStore): Promise<BuiltRepo> {
  const type: RepoType = spec.type ?? 'model';
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(spec.id)) throw new Error(`hub fixture: invalid repo id ${spec.id}`);
  if (spec.commits.length === 0) throw new Error(`hub fixture ${spec.id}: no commits`);
  const gitDir = gitDirFor(dataDir, type, spec.id);
  if (existsSync(gitDir)) throw new Error(`hub fixture ${spec.id}: defined twice`);
  initBare(gitDir);

  const marks = join(gitDir, 'fast-import.marks');
  const fi = new FastImport(gitDir, marks);
  try {
    const built = await emitCommits(spec, store, fi);
    await fi.end();
    const written = new Map<number, string>();
    for (const line of readFileSync(marks, 'utf8').split('\n')) {
      const m = /^:(\d+) ([0-9a-f]{40})$/.exec(line);
      if (m) written.set(Number(m[1]), m[2] as string);
    }
    built.commits.forEach((c, i) => {
      if (written.get(i + 1) !== c.sha) {
        throw new Error(`hub fixture ${spec.id}: commit ${i} is ${written.get(i + 1)} in git, ${c.sha} computed (emulator bug)`);
      }
    });
    const { commits, refs, branches } = built;
    return { spec, type, id: spec.id, gitDir, commits, bySha: new Map(commits.map((c) => [c.sha, c])), refs, branches };
  } catch (e) {
    fi.kill();
    throw e;
  }
}

/** Computes every commit and streams blobs (marked once each) and commits to fast-import. */
async function emitCommits(
  spec: RepoSpec,
  store: LfsStore,
  fi: FastImport,
): Promise<{ commits: BuiltCommit[]; refs: Map<string, string>; branches: Map<string, string> }> {
  const branchTip = new Map<string, number>(); // branch → commit index
  const refs = new Map<string, string>();
  const commits: BuiltCommit[] = [];
  const autoAttrs = (spec.gitattributes ?? 'hub') === 'hub';
  // Commit i has mark i + 1; blobs take the marks after the commits.
  const blobMarks = new Map<Entry, number>();
  let nextMark = spec.commits.length + 1;
  const addBlob = async (e: Entry) => {
    if (blobMarks.has(e)) return;
    const mark = nextMark++;
    blobMarks.set(e, mark);
    fi.push(`blob\nmark :${mark}\ndata ${e.blob.length}\n`);
    fi.push(e.blob);
    fi.push('\n');
    await fi.flush();
  };

  for (let i = 0; i < spec.commits.length; i++) {
    const c = spec.commits[i]!;
    const branch = c.branch ?? 'main';
    if (!validRefName(`refs/heads/${branch}`)) throw new Error(`hub fixture ${spec.id}: bad branch name ${JSON.stringify(branch)}`);
    const parentIdx = branchTip.get(branch) ?? branchTip.get('main');
    const parent = parentIdx === undefined ? undefined : commits[parentIdx];
    const files = new Map<string, Entry>(parent?.files ?? []);
    const newLfs: string[] = [];
    for (const [path, fs] of Object.entries(c.files)) {
      validatePath(path, spec.id);
      if (fs === null) {
        files.delete(path);
        continue;
      }
      const entry = await toEntry(store, path, fs);
      await addBlob(entry);
      files.set(path, entry);
      if (entry.lfs && (typeof fs !== 'object' || !('rawBlob' in fs))) newLfs.push(path);
    }
    if (autoAttrs && !('.gitattributes' in c.files)) {
      const current = files.get('.gitattributes')?.blob.toString('utf8') ?? (parent ? '' : defaultGitattributes());
      const patterns = lfsPatterns(current);
      const extra = newLfs.filter((p) => !coveredByLfs(patterns, p)).map(exactPathLine);
      const next = current + extra.join('');
      if (next !== '' && next !== files.get('.gitattributes')?.blob.toString('utf8')) {
        const entry = await toEntry(store, '.gitattributes', next);
        await addBlob(entry);
        files.set('.gitattributes', entry);
      }
    }
    const { tree, listing, dirs } = indexTree(files);
    const time = BASE_TIME + i * 3600;
    const message = `${c.message ?? (i === 0 ? 'initial commit' : `commit ${i}`)}\n`;
    const parents = parent ? [parent.sha] : [];
    const sha = gitObjectId('commit', commitBody(tree, parents, { ...COMMITTER, time }, message));
    commits.push({ sha, tree, time, parent: parent?.sha ?? null, message, files, listing, dirs });
    branchTip.set(branch, i);
    refs.set(branch, sha);

    const who = `${COMMITTER.name} <${COMMITTER.email}> ${time} +0000\n`;
    const msg = Buffer.from(message, 'utf8');
    fi.push(`commit refs/heads/${branch}\nmark :${i + 1}\nauthor ${who}committer ${who}data ${msg.length}\n`);
    fi.push(msg);
    fi.push('\n');
    if (parentIdx !== undefined) fi.push(`from :${parentIdx + 1}\n`);
    else fi.push('deleteall\n');
    const before = parent?.files ?? new Map<string, Entry>();
    for (const path of before.keys()) if (!files.has(path)) fi.push(`D ${fiPath(path)}\n`);
    for (const [path, e] of files) {
      const old = before.get(path);
      if (old && old.oid === e.oid && old.mode === e.mode) continue;
      fi.push(`M ${e.mode} :${blobMarks.get(e)} ${fiPath(path)}\n`);
    }
    fi.push('\n');
    for (const tag of c.tags ?? []) {
      if (!validRefName(`refs/tags/${tag}`)) throw new Error(`hub fixture ${spec.id}: bad tag name ${JSON.stringify(tag)}`);
      fi.push(`reset refs/tags/${tag}\nfrom :${i + 1}\n\n`);
      if (!refs.has(tag)) refs.set(tag, sha);
    }
    for (const pr of c.prs ?? []) {
      if (!Number.isInteger(pr) || pr < 0) throw new Error(`hub fixture ${spec.id}: bad PR number ${pr}`);
      fi.push(`reset refs/pr/${pr}\nfrom :${i + 1}\n\n`);
      refs.set(`refs/pr/${pr}`, sha);
    }
    for (const ref of c.refs ?? []) {
      if (!validRefName(ref) || /^refs\/(heads|tags|pr)\//.test(ref)) {
        throw new Error(`hub fixture ${spec.id}: bad extra ref ${JSON.stringify(ref)} (use branch, tags or prs for those)`);
      }
      fi.push(`reset ${ref}\nfrom :${i + 1}\n\n`);
      refs.set(ref, sha);
    }
    await fi.flush();
  }
  // Branch names win over tag names, as in git's ref resolution on the Hub.
  const branches = new Map<string, string>();
  for (const [b, idx] of branchTip) {
    branches.set(b, commits[idx]!.sha);
    refs.set(b, commits[idx]!.sha);
  }
  fi.push('done\n');
  return { commits, refs, branches };
}
