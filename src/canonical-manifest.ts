/**
 * The canonical manifest and `fileTreeHash` (docs/design.md): every file of the repo
 * at a commit, sorted by the UTF-8 bytes of its path, one line each —
 * `PATH\tlfs\tSHA256\tSIZE\n` for an LFS file, `PATH\tgit\n` otherwise —
 * hashed with sha256, as `sha256-<base64>`. The Nix library computes the same
 * bytes from the checkout (lib/internal/manifest.nix), so both must agree to
 * the byte.
 */
import { createHash } from 'node:crypto';
import { NixHugError } from './errors.js';
import type { RepoFile } from './types.js';
import { quote } from './ui/text.js';

/** Expressions and lock files carry the manifest inline up to this many files (lines); larger ones go to a file of their own. */
export const INLINE_MANIFEST_MAX_LINES = 200;

/** Byte order of the UTF-8 encodings (what Nix's string `lessThan`/strcmp does), not JS's UTF-16 order. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Code points HFS+ ignores when it compares names (the list git checks against). */
const HFS_IGNORED = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * Whether a path segment is `.git` as a case-insensitive file system reads it
 * (macOS, Windows): `.GIT`, `.Git`, `.git.` or `.git ` (NTFS drops trailing
 * dots and spaces), `git~1` (NTFS's short name), `.g\u200cit` (HFS+). Copied
 * out with `--out`, such a folder is a git directory to every git run there.
 */
export function namesGitDir(segment: string): boolean {
  const s = segment.replace(HFS_IGNORED, '').toLowerCase();
  return s.replace(/[. ]+$/, '') === '.git' || s === 'git~1';
}

/** Why a repository path cannot be pinned, or null when it is fine. */
export function pathProblem(path: string): string | null {
  if (path === '') return 'it is empty';
  // A lone surrogate has no UTF-8 encoding (it would silently become U+FFFD).
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(path)) return 'it is not valid Unicode';
  // The library refuses the same bytes: 0x01-0x1F and 0x7F (NUL cannot be in a file name).
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'it contains a TAB, newline or other control character';
  if (path.startsWith('/')) return 'it is absolute';
  const segments = path.split('/');
  if (segments.some((s) => s === '')) return "it has an empty segment (trailing or double '/')";
  if (segments.some((s) => s === '.' || s === '..')) return "it has a '.' or '..' segment";
  if (segments.some((s) => s === '.git')) return "it is inside '.git'";
  if (segments.some(namesGitDir)) return "a segment is '.git' to a case-insensitive file system (macOS, Windows)";
  return null;
}

/** Throws a user error naming the repo and the file when the path cannot be pinned. */
export function checkRepoPath(path: string, repoId = 'the repository'): void {
  const problem = pathProblem(path);
  if (problem) {
    throw new NixHugError(
      `${repoId} has a file nix-hug cannot pin, ${quote(path)}: ${problem}`,
      'such paths are refused by the CLI and the Nix library alike; ask the repository owner to rename the file',
    );
  }
}

/** What the manifest says of a file: its path, and the pointer's facts for an LFS file. */
export type ManifestFile = Pick<RepoFile, 'path' | 'lfs'>;

function checkLfs(file: ManifestFile, repoId: string): void {
  if (!file.lfs) return;
  const { sha256, size } = file.lfs;
  if (!/^[0-9a-f]{64}$/.test(sha256) || !Number.isSafeInteger(size) || size < 0) {
    throw new NixHugError(
      `${repoId}: the LFS information of ${quote(file.path)} is malformed (sha256 ${quote(String(sha256))}, size ${String(size)})`,
      'the Hub sent unexpected data; retry later or check HF_ENDPOINT',
    );
  }
}

/** The manifest bytes. Throws on a forbidden path, a duplicate path or malformed LFS info. */
export function canonicalManifest(files: readonly ManifestFile[], repoId = 'the repository'): Buffer {
  const keyed = files.map((f) => {
    checkRepoPath(f.path, repoId);
    checkLfs(f, repoId);
    return { file: f, key: Buffer.from(f.path, 'utf8') };
  });
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const lines: string[] = [];
  for (let i = 0; i < keyed.length; i++) {
    const entry = keyed[i]!;
    if (i > 0 && keyed[i - 1]!.key.equals(entry.key)) {
      throw new NixHugError(`${repoId} lists the file ${quote(entry.file.path)} twice`, 'the Hub sent an inconsistent file list; retry later');
    }
    const { path, lfs } = entry.file;
    lines.push(lfs ? `${path}\tlfs\t${lfs.sha256}\t${lfs.size}\n` : `${path}\tgit\n`);
  }
  return Buffer.from(lines.join(''), 'utf8');
}

/** `sha256-` + base64(sha256(canonical manifest)). */
export function fileTreeHash(files: readonly ManifestFile[], repoId?: string): string {
  return canonicalManifestHash(canonicalManifest(files, repoId));
}

export function canonicalManifestHash(manifest: Uint8Array): string {
  return `sha256-${createHash('sha256').update(manifest).digest('base64')}`;
}

/**
 * The manifest text → its files, in order; `where` names the text in errors
 * (e.g. "the manifest file x.tsv"). Refuses what `canonicalManifest` would
 * never write: a malformed line, a forbidden path, lines out of order.
 */
export function parseManifestText(text: string, where: string): ManifestFile[] {
  if (text !== '' && !text.endsWith('\n')) throw new NixHugError(`${where} does not end with a newline`, 'write it again with nix-hug');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  const files = lines.map((line, i): ManifestFile => {
    const m = /^([^\t]+)\t(?:git|lfs\t([0-9a-f]{64})\t(0|[1-9][0-9]{0,17}))$/.exec(line);
    const size = m?.[3] === undefined ? null : Number(m[3]);
    if (!m || (size !== null && !Number.isSafeInteger(size))) {
      throw new NixHugError(`${where}, line ${i + 1}: ${quote(line)} is neither PATH<TAB>git nor PATH<TAB>lfs<TAB>SHA256<TAB>SIZE`, 'write it again with nix-hug');
    }
    const path = m[1]!;
    checkRepoPath(path, where);
    return { path, lfs: m[2] === undefined ? null : { sha256: m[2], size: size! } };
  });
  for (let i = 1; i < files.length; i++) {
    if (compareUtf8(files[i - 1]!.path, files[i]!.path) >= 0) {
      throw new NixHugError(`${where}, line ${i + 1}: ${quote(files[i]!.path)} is out of order or repeated`, 'a manifest lists every path once, sorted by bytes; write it again with nix-hug');
    }
  }
  return files;
}
