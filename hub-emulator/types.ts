/**
 * The Hub emulator's public interface: a declarative description of
 * repositories (fixtures) and the handle of a running emulator.
 * Same description → same commit hashes (fixed author, dates and content).
 */
/** The kinds of repositories the emulator serves (the Hub's own words). */
export type RepoType = 'model' | 'dataset' | 'space';

/** Before `org/name` in page, git and resolve URLs: `datasets/`, `spaces/`, nothing for models. */
export function urlPrefix(type: RepoType): string {
  return type === 'model' ? '' : `${type}s/`;
}

/** Content of one file in a commit. */
export type FileSpec =
  /** UTF-8 text, committed as a regular git blob. */
  | string
  /** Raw bytes (may contain NUL), committed as a regular git blob. */
  | Uint8Array
  /** An LFS file of `size` deterministic bytes (`lfsContent(seed ?? path, size)`), committed as a pointer. */
  | { lfs: { size: number; seed?: string } }
  /** An LFS file with exactly these bytes, committed as a pointer. */
  | { lfsBytes: Uint8Array }
  /** Raw blob text committed as-is (e.g. a malformed LFS pointer), *not* stored in the LFS store. */
  | { rawBlob: string | Uint8Array }
  /** A git symlink (mode 120000) pointing at `target`. */
  | { symlink: string };

export interface CommitSpec {
  /** Branch the commit goes on (default `main`). A new branch starts at main's tip at that point. */
  branch?: string;
  message?: string;
  /** Files to add or change; `null` deletes the file. Everything else carries over from the parent. */
  files: Record<string, FileSpec | null>;
  /** Tags pointing at this commit. */
  tags?: string[];
  /** PR refs (`refs/pr/N`) pointing at this commit. */
  prs?: number[];
  /** Other full ref names pointing at this commit, e.g. `refs/convert/parquet` (emulator extension). */
  refs?: string[];
}

export interface RepoSpec {
  /** `org/name`. */
  id: string;
  type?: RepoType; // default 'model'
  /** Spaces only: the `sdk` their info reports (default 'gradio'). */
  sdk?: 'gradio' | 'streamlit' | 'docker' | 'static';
  private?: boolean;
  gated?: false | 'auto' | 'manual';
  /**
   * `.gitattributes` handling: 'hub' (default) writes the Hub's default
   * `filter=lfs` patterns plus an exact-path line for every LFS file no
   * pattern covers, in the first commit and whenever new LFS files appear;
   * 'none' writes nothing automatically (give your own file in `files`).
   */
  gitattributes?: 'hub' | 'none';
  /**
   * Other ids the Hub still answers for, as it does for legacy ids without an
   * owner (`gpt2` for `openai-community/gpt2`) and for repos renamed or moved
   * (`old-org/old-name`): the API answers under them with the canonical `id`;
   * `resolve` and git URLs under them redirect (307) to the canonical ones.
   */
  aliases?: string[];
  /** Commits, oldest first. At least one. */
  commits: CommitSpec[];
}

export interface TokenSpec {
  /** Repo ids (`org/name`) this token may read when private, or access when gated. */
  grants: string[];
}

export interface HubOptions {
  repos: RepoSpec[];
  /** Valid tokens (`hf_...`) and what each may access. */
  tokens?: Record<string, TokenSpec>;
  /** Tree API page size (the real Hub: 1000). */
  pageSize?: number;
  /** Port to listen on, on 127.0.0.1 (default: any free port). */
  port?: number;
  /** Directory for the git repositories and LFS objects (default: a fresh temp dir, removed on close). */
  dataDir?: string;
}

/** One-shot faults, consumed as requests match. */
export interface FaultSpec {
  /** Which requests: a substring or RegExp tested against the request path (including the query). */
  match: string | RegExp;
  /** What happens. */
  kind:
    | { status: number; retryAfter?: number } // e.g. 500, 503, 429 with Retry-After (seconds)
    | { dropAfterBytes: number } // send headers and this many body bytes, then destroy the socket
    | { slowBytesPerSecond: number } // throttle the body
    | { latencyMs: number } // answer only after this long, as a far server does (HEAD too)
    | { corrupt: true }; // flip bytes in the body (same length)
  /** How many matching requests it affects (default 1; Infinity for all). */
  times?: number;
}

export interface RequestRecord {
  method: string;
  /** Path and query as received. */
  url: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  /** Which route served it: 'api', 'resolve', 'cdn', 'git', 'lfs-batch', 'other'. */
  route: string;
  /** The Authorization header was present. */
  authorized: boolean;
  /** The fault this request got (`FaultSpec['kind']`), or null: what a test counts as injected. */
  fault: FaultSpec['kind'] | null;
}

export interface RepoState {
  spec: RepoSpec;
  /** Commit sha1s in the order of `spec.commits`. */
  commits: string[];
  /** Branch and tag names → commit sha1 (`refs/pr/N` and CommitSpec.refs by their full names). */
  refs: Record<string, string>;
  /** Files at a commit (default: main's tip): path → bytes (LFS files: the real content). */
  filesAt(commit?: string): Map<string, Uint8Array>;
}

export interface RunningHub {
  /** `http://127.0.0.1:PORT`, no trailing slash: use as HF_ENDPOINT. */
  url: string;
  /** Origin of the LFS CDN (`http://localhost:PORT`: another host name and port), no trailing slash. */
  cdnUrl: string;
  /** Where the bare git repos (`git/{models|datasets}/ORG/NAME.git`) and LFS objects (`lfs/SHA256`) live. */
  dataDir: string;
  repo(id: string, type?: RepoType): RepoState;
  /**
   * Adds a commit to `commit.branch` (default main; a new branch starts at main's tip) while
   * running, as a push to the Hub does; resolves to its id. Earlier commits keep theirs.
   */
  push(id: string, commit: CommitSpec, type?: RepoType): Promise<string>;
  /** Points `tag` (created when missing) at `target` (a branch, tag or commit), as a forced tag push does; resolves to the commit. */
  moveTag(id: string, tag: string, target: string, type?: RepoType): Promise<string>;
  /** Deletes the repository: the API, `resolve` and git then answer as for one that never existed. */
  deleteRepo(id: string, type?: RepoType): Promise<void>;
  /** Every request served, in order. */
  requests: RequestRecord[];
  /** Sum of body bytes served by the CDN route (LFS content). */
  cdnBytes(): number;
  resetStats(): void;
  addFault(fault: FaultSpec): void;
  clearFaults(): void;
  close(): Promise<void>;
}
