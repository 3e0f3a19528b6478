/**
 * What every route of a running emulator shares: the built repositories, the
 * LFS store, tokens, faults and the request log, and the lookups on them
 * (repositories, revisions, the CDN's signed-looking URLs).
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { BuiltCommit, BuiltRepo, LfsStore } from './build.ts';
import type { BodyFault, FaultRegistry } from './faults.ts';
import type { RepoType, RequestRecord, TokenSpec } from './types.ts';

export interface HubState {
  dataDir: string;
  store: LfsStore;
  /** By `repoKey(type, id)`. */
  repos: Map<string, BuiltRepo>;
  /** Legacy ids without an owner and former names, by `repoKey(type, alias)`: the key of the repo they stand for (repos are swapped on a push). */
  aliases: Map<string, string>;
  tokens: Map<string, TokenSpec>;
  /** Entries per page of the tree API. */
  pageSize: number;
  faults: FaultRegistry;
  requests: RequestRecord[];
  /** `git http-backend` processes still running (killed on close). */
  children: Set<ChildProcess>;
  /** Body faults carried from a `resolve` redirect to the CDN request it leads to. */
  carried: Map<string, BodyFault>;
  carriedSeq: number;
  /** Known once the servers listen. */
  hubUrl: string;
  cdnUrl: string;
}

export function repoKey(type: RepoType, id: string): string {
  return `${type}:${id}`;
}

export function lookup(state: HubState, type: RepoType, id: string): BuiltRepo | undefined {
  return state.repos.get(repoKey(type, id));
}

/** Every alias of `repos`, checked: an alias is one or two segments and names no other repo. */
export function aliasesOf(repos: Map<string, BuiltRepo>): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const r of repos.values()) {
    for (const alias of r.spec.aliases ?? []) {
      const k = repoKey(r.type, alias);
      if (repos.has(k) || aliases.has(k) || alias === '' || alias.split('/').length > 2) throw new Error(`hub fixture ${r.id}: alias ${alias} is taken or not an id`);
      aliases.set(k, repoKey(r.type, r.id));
    }
  }
  return aliases;
}

/** The repo an alias at the start of raw `segs` stands for, and how many segments it took (1: `gpt2`, 2: `old/name`). */
export function aliasAt(state: HubState, type: RepoType, segs: string[]): { repo: BuiltRepo; taken: number } | null {
  const [first, second] = decodeSegs(segs.slice(0, 2)) ?? [];
  const bare = (s: string) => s.replace(/\.git$/, '');
  const repoOf = (alias: string) => {
    const canonical = state.aliases.get(repoKey(type, alias));
    return canonical === undefined ? undefined : state.repos.get(canonical);
  };
  const two = first !== undefined && second !== undefined ? repoOf(`${first}/${bare(second)}`) : undefined;
  if (two) return { repo: two, taken: 2 };
  const one = first !== undefined ? repoOf(bare(first)) : undefined;
  return one ? { repo: one, taken: 1 } : null;
}

const lfsOfRepo = new WeakMap<BuiltRepo, Set<string>>();

/** The sha256 of every LFS file in any commit of the repo. */
export function repoLfs(repo: BuiltRepo): Set<string> {
  let s = lfsOfRepo.get(repo);
  if (!s) {
    s = new Set();
    for (const c of repo.commits) for (const e of c.files.values()) if (e.lfs) s.add(e.lfs.sha256);
    lfsOfRepo.set(repo, s);
  }
  return s;
}

export function mainCommit(repo: BuiltRepo): BuiltCommit {
  const sha = repo.branches.get('main') ?? [...repo.branches.values()][0]!;
  return repo.bySha.get(sha)!;
}

export function resolveRev(repo: BuiltRepo, rev: string): BuiltCommit | undefined {
  if (rev === 'HEAD') return mainCommit(repo); // huggingface.js asks for HEAD: the default branch
  const byRef =
    repo.refs.get(rev) ??
    (rev.startsWith('refs/heads/') ? repo.branches.get(rev.slice(11)) : undefined) ??
    (rev.startsWith('refs/tags/') ? repo.refs.get(rev.slice(10)) : undefined);
  if (byRef) return repo.bySha.get(byRef);
  if (/^[0-9a-f]{40}$/.test(rev)) return repo.bySha.get(rev);
  return undefined;
}

/** Splits decoded segments into the longest revision that exists + the path after it. */
export function splitRev(repo: BuiltRepo, segs: string[]): { commit: BuiltCommit; rev: string; path: string } | null {
  for (let k = segs.length; k >= 1; k--) {
    const rev = segs.slice(0, k).join('/');
    const commit = resolveRev(repo, rev);
    if (commit) return { commit, rev, path: segs.slice(k).join('/') };
  }
  return null;
}

/** Percent-decoded path segments, or null when one is malformed. */
export function decodeSegs(segs: string[]): string[] | null {
  try {
    return segs.map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

/** Where the CDN serves a blob, with the query a signed CloudFront URL has; a body fault travels along. */
export function cdnLocation(state: HubState, sha256: string, filename: string, fault: BodyFault | null): string {
  const q = new URLSearchParams({
    'response-content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(filename)};`,
    'response-content-type': 'application/octet-stream',
    Expires: String(Math.floor(Date.now() / 1000) + 86400),
    Signature: createHash('sha256').update(`${sha256}`).digest('base64url').slice(0, 43),
    'Key-Pair-Id': 'KEMULATOR0000',
  });
  if (fault) {
    const id = `f${++state.carriedSeq}`;
    state.carried.set(id, fault);
    q.set('X-Emulator-Fault', id);
  }
  return `${state.cdnUrl}/repos/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}?${q.toString()}`;
}
