/**
 * File selection (docs/cli.md, Filters): globs from --include/--exclude become
 * anchored regexes for Nix's `builtins.match`; --file names exact paths.
 * `isSelected` decides like the Nix library does, so `nix-hug ls` shows what
 * a build will fetch.
 *
 * Regex dialect: Nix 2.8 compiles `builtins.match` patterns as POSIX
 * extended regexes with libstdc++'s std::regex, which matches *bytes* of the
 * UTF-8 string and rejects escapes of ordinary characters (measured: `\]`
 * and `\}` are "invalid regular expression"). So `.[{()\+^$|` are escaped,
 * `]` and `}` stay literal (they are ordinary outside a bracket expression
 * once `[` and `{` are escaped), and `?` (→ `.`) matches one byte.
 */
import { UsageError } from './errors.js';
import type { Filters, RepoFile } from './types.js';
import { pathProblem } from './canonical-manifest.js';
import { quote } from './ui/text.js';

/** Characters that get a backslash: ERE metacharacters that are special outside brackets. */
const ESCAPED = new Set(['.', '[', '{', '(', ')', '\\', '+', '^', '$', '|']);

/** A glob → an anchored regex (`builtins.match` matches the whole string): `*` → `.*`, `?` → `.`. */
export function globToRegex(glob: string): string {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ESCAPED.has(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

/** A regex matching exactly `path` (every metacharacter escaped, `*` and `?` too). */
export function literalRegex(path: string): string {
  let out = '';
  for (const ch of path) out += ESCAPED.has(ch) || ch === '*' || ch === '?' ? `\\${ch}` : ch;
  return out;
}

export interface FilterFlags {
  include?: readonly string[];
  exclude?: readonly string[];
  file?: readonly string[];
}

function checkPattern(flag: string, value: string): void {
  if (value === '') throw new UsageError(`${flag} needs a non-empty pattern`, `e.g. ${flag} '*.safetensors'`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new UsageError(`${flag} ${quote(value)} contains a control character`, 'repository paths never contain control characters');
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Command-line filter flags → the library's `filters`, or null when none were given. */
export function buildFilters(flags: FilterFlags): Filters | null {
  const include = flags.include ?? [];
  const exclude = flags.exclude ?? [];
  const file = flags.file ?? [];
  if (file.length > 0 && (include.length > 0 || exclude.length > 0)) {
    throw new UsageError('--file cannot be combined with --include or --exclude', 'use either --file NAME... (exact paths) or --include/--exclude GLOB... (LFS files)');
  }
  for (const g of include) checkPattern('--include', g);
  for (const g of exclude) checkPattern('--exclude', g);
  for (const f of file) {
    checkPattern('--file', f);
    const problem = pathProblem(f);
    if (problem) throw new UsageError(`--file ${quote(f)} is not a repository path: ${problem}`, "give the path as `nix-hug ls` shows it, e.g. --file config.json or --file 'onnx/model.onnx'");
  }
  if (file.length > 0) return { files: unique(file) };
  const filters: Filters = {};
  if (include.length > 0) filters.include = unique(include.map(globToRegex));
  if (exclude.length > 0) filters.exclude = unique(exclude.map(globToRegex));
  return filters.include || filters.exclude ? filters : null;
}

/** One byte per character: UTF-8 bytes as a latin1 string, the way std::regex<char> sees them. */
function bytesOf(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** A regex `globToRegex` could have made, as tokens over bytes: a byte, any byte (`.`), any run (`.*`). */
type GlobToken = { byte: number } | 'any' | 'star';

/** ERE characters that are special outside brackets: a regex with one of them bare is not glob-shaped. */
const BARE_SPECIAL = new Set(['[', '(', ')', '+', '?', '{', '|', '^', '$', '*']);

/** The tokens of a glob-shaped regex (escaped literals, `.`, `.*`, plain characters), or null. */
export function globTokens(regex: string): GlobToken[] | null {
  const b = bytesOf(regex);
  const out: GlobToken[] = [];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === '\\') {
      const next = b.charCodeAt(++i);
      if (!(next < 0x80)) return null; // a trailing `\`, or an escaped multi-byte character
      out.push({ byte: next });
    } else if (c === '.' && b[i + 1] === '*') {
      if (out[out.length - 1] !== 'star') out.push('star'); // `.*.*` is `.*`
      i++;
    } else if (c === '.') out.push('any');
    else if (BARE_SPECIAL.has(c)) return null;
    else out.push({ byte: b.charCodeAt(i) });
  }
  return out;
}

/**
 * A whole-string match of glob tokens over bytes without backtracking more
 * than to the last `.*`: O(length × tokens) at worst, where a backtracking
 * regex takes time exponential in the number of stars (28 bytes against ten
 * `.*a` took 5 s in V8's engine, and Nix's std::regex is no better).
 */
function globMatch(tokens: readonly GlobToken[], text: string): boolean {
  let t = 0;
  let s = 0;
  let starT = -1;
  let starS = 0;
  while (s < text.length) {
    const tok = tokens[t];
    if (tok === 'star') {
      starT = t++;
      starS = s;
    } else if (tok !== undefined && (tok === 'any' || tok.byte === text.charCodeAt(s))) {
      t++;
      s++;
    } else if (starT >= 0) {
      t = starT + 1;
      s = ++starS;
    } else return false;
  }
  while (tokens[t] === 'star') t++;
  return t === tokens.length;
}

const compiled = new Map<string, (bytes: string) => boolean>();

/**
 * `builtins.match regex path != null`: a whole-string match over UTF-8
 * bytes. The regexes `globToRegex` makes are matched without backtracking;
 * any other regex with the regex engine.
 */
export function nixMatches(regex: string, path: string): boolean {
  let test = compiled.get(regex);
  if (!test) {
    const tokens = globTokens(regex);
    if (tokens) test = (bytes) => globMatch(tokens, bytes);
    else {
      const re = new RegExp(`^(?:${bytesOf(regex)})$`, 's');
      test = (bytes) => re.test(bytes);
    }
    compiled.set(regex, test);
  }
  return test(bytesOf(path));
}

/** Would the Nix library fetch this file under these filters? (lib/internal/filters.nix decides the same.) */
export function isSelected(file: Pick<RepoFile, 'path' | 'lfs'>, filters: Filters | null): boolean {
  if (!filters) return true;
  if (filters.files) return filters.files.includes(file.path);
  if (!file.lfs) return true;
  const included = !filters.include || filters.include.some((re) => nixMatches(re, file.path));
  const excluded = !!filters.exclude && filters.exclude.some((re) => nixMatches(re, file.path));
  return included && !excluded;
}

/** A `Set`-backed selector for large lists (`files` lookups in O(1)). */
export function selector(filters: Filters | null): (file: Pick<RepoFile, 'path' | 'lfs'>) => boolean {
  if (filters?.files) {
    const wanted = new Set(filters.files);
    return (file) => wanted.has(file.path);
  }
  return (file) => isSelected(file, filters);
}

/** --file paths that are not in the repository (the library refuses them: better to say so first). */
export function missingFiles(filters: Filters | null, files: readonly Pick<RepoFile, 'path'>[]): string[] {
  if (!filters?.files) return [];
  const present = new Set(files.map((f) => f.path));
  return filters.files.filter((p) => !present.has(p));
}

/**
 * When --include/--exclude leave no LFS file of the repository selected (a
 * model without its weights): the flags as given and how many LFS files
 * there are; null when something is selected or no such flag was given.
 */
export function emptySelection(flags: FilterFlags, files: readonly Pick<RepoFile, 'path' | 'lfs'>[]): { flags: string; lfsFiles: number } | null {
  const include = flags.include ?? [];
  const exclude = flags.exclude ?? [];
  if (include.length === 0 && exclude.length === 0) return null;
  const lfs = files.filter((f) => f.lfs !== null);
  const filters = buildFilters(flags);
  if (lfs.some((f) => isSelected(f, filters))) return null;
  const given = [...include.map((g) => `--include ${quote(g)}`), ...exclude.map((g) => `--exclude ${quote(g)}`)].join(' ');
  return { flags: given, lfsFiles: lfs.length };
}
