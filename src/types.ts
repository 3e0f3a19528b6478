/**
 * Domain types shared by every module: what a repository is, what its files
 * are, and how a selection of files is described. Data flows
 * URL → RepoRef → pinned rev → RepoFile[] → expression → store path.
 */

/** The kinds of Hugging Face repositories nix-hug handles (their URL layouts: hub/repo-type.ts). */
export type RepoType = 'model' | 'dataset' | 'space';

/** A repository on the Hub, fully identified. */
export interface RepoRef {
  type: RepoType;
  /** `org/name`, exactly as the Hub spells it. */
  repoId: string;
}

/** The LFS part of a file: what the pointer in git says. */
export interface LfsInfo {
  /** sha256 of the file's bytes, 64 lowercase hex digits (the pointer's `oid sha256:`). */
  sha256: string;
  /** Size of the file's bytes. */
  size: number;
}

/** One file of a repository at a commit (folders are never listed). */
export interface RepoFile {
  /** Path inside the repository, `/`-separated, no leading `/`. */
  path: string;
  /** Size in bytes of the content (for LFS files: of the real file, not the pointer). */
  size: number;
  /** Git blob sha1 as the tree API reports it. */
  oid: string;
  lfs: LfsInfo | null;
}

/**
 * A selection of files, as the Nix library takes it (docs/library.md, `filters`):
 * `include`/`exclude` are anchored regexes (Nix `builtins.match` syntax) that
 * select among LFS files; `files` lists exact paths among all files and
 * cannot be combined with the others.
 */
export interface Filters {
  include?: string[];
  exclude?: string[];
  files?: string[];
}

/** What identifies a snapshot: a repository at a commit under a selection of files. */
export interface SnapshotKey {
  /** `org/name`. */
  repoId: string;
  type: RepoType;
  /** 40-hex commit. */
  rev: string;
  filters: Filters | null;
}

/** A repository pinned for the library: the snapshot's key, the hash of its file list, and where it comes from. */
export interface PinnedRepo extends SnapshotKey {
  /** `sha256-…` of the canonical manifest. */
  fileTreeHash: string;
  /** Hub endpoint; only printed when it is not the default. */
  endpoint: string;
  /** `sha256-…` NAR hash of the checkout at `rev` (LFS pointers, no `.git`); null: not printed. */
  gitRepoHash: string | null;
}

/** The key alone: what is recorded about a snapshot never carries more by accident. */
export function snapshotKey(pin: SnapshotKey): SnapshotKey {
  return { repoId: pin.repoId, type: pin.type, rev: pin.rev, filters: pin.filters };
}

/**
 * What nix-hug records about a built snapshot it put somewhere else: in a
 * persist store's export index, or as `.nix-hug.json` beside an `--out` copy.
 */
export interface SnapshotRecord extends SnapshotKey {
  /** The snapshot's store path. */
  storePath: string;
  /** ISO 8601 time of the export or copy. */
  exportedAt: string;
}
