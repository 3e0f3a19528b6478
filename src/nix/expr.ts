/**
 * Renders the pinned, paste-ready Nix expression `fetch` prints (README, CLI),
 * with every string escaped so that it means exactly its bytes in Nix.
 */
import { compareUtf8, type ManifestFile } from '../canonical-manifest.js';
import { REPO_TYPES } from '../hub/repo-type.js';
import { DEFAULT_ENDPOINT } from '../settings/endpoint.js';
import type { Filters, PinnedRepo } from '../types.js';

/** How the printed expression carries the canonical manifest. */
export type ManifestForm =
  /** Not at all: evaluation lists the files from a git checkout. */
  | { kind: 'none' }
  /** As an attribute set of every file (small repositories). */
  | { kind: 'inline'; files: readonly ManifestFile[] }
  /** As a Nix path expression (already rendered) to a vendored manifest file. */
  | { kind: 'file'; nix: string };

/**
 * A Nix string literal for `value`. Inside "…" Nix reads `\c` as `c` for
 * every c but n, r and t, so escaping `\`, `"` and every `$` (which could
 * start `${`) is enough; control characters get their escapes.
 */
export function nixString(value: string): string {
  let out = '"';
  for (const ch of value) {
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case '"': out += '\\"'; break;
      case '$': out += '\\$'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      default: out += ch;
    }
  }
  return out + '"';
}

function nixList(values: readonly string[]): string {
  return values.length === 0 ? '[ ]' : `[ ${values.map(nixString).join(' ')} ]`;
}

/** `{ include = [ … ]; exclude = [ … ]; }` or `{ files = [ … ]; }`. */
export function renderFilters(filters: Filters): string {
  const parts: string[] = [];
  if (filters.include?.length) parts.push(`include = ${nixList(filters.include)};`);
  if (filters.exclude?.length) parts.push(`exclude = ${nixList(filters.exclude)};`);
  if (filters.files?.length) parts.push(`files = ${nixList(filters.files)};`);
  return `{ ${parts.join(' ')} }`;
}

/**
 * A path relative to the expression's own file as a Nix path: a literal
 * (`./models--org--name--0123456789ab.tsv`, `../x/y.tsv`) when its
 * characters allow one, else `./.` plus a string.
 */
export function relativeNixPath(relative: string): string {
  const rel = relative.split('\\').join('/');
  if (/^[A-Za-z0-9._+\-]+(\/[A-Za-z0-9._+\-]+)*$/.test(rel)) return rel.startsWith('../') ? rel : `./${rel}`;
  return `(./. + ${nixString(`/${rel}`)})`;
}

/** `manifest = { … };` lines: one attribute per file, in manifest order. */
function renderInlineManifest(files: readonly ManifestFile[]): string[] {
  const sorted = [...files].sort((a, b) => compareUtf8(a.path, b.path));
  return [
    '  manifest = {',
    ...sorted.map((f) =>
      f.lfs ? `    ${nixString(f.path)} = { sha256 = ${nixString(f.lfs.sha256)}; size = ${f.lfs.size}; };` : `    ${nixString(f.path)} = "git";`,
    ),
    '  };',
  ];
}

/** The call, e.g. `nix-hug-lib.fetchModel { … }`, without a trailing newline. */
export function renderFetchExpression(pin: PinnedRepo, manifest: ManifestForm = { kind: 'none' }, libName = 'nix-hug-lib'): string {
  const fn = REPO_TYPES[pin.type].libFunction;
  const lines = [`${libName}.${fn} {`, `  url = ${nixString(pin.repoId)};`];
  if (pin.endpoint !== DEFAULT_ENDPOINT) lines.push(`  endpoint = ${nixString(pin.endpoint)};`);
  lines.push(`  rev = ${nixString(pin.rev)};`);
  if (pin.filters) lines.push(`  filters = ${renderFilters(pin.filters)};`);
  lines.push(`  fileTreeHash = ${nixString(pin.fileTreeHash)};`);
  if (pin.gitRepoHash) lines.push(`  gitRepoHash = ${nixString(pin.gitRepoHash)};`);
  if (manifest.kind === 'inline') lines.push(...renderInlineManifest(manifest.files));
  else if (manifest.kind === 'file') lines.push(`  manifest = ${manifest.nix};`);
  lines.push('}');
  return lines.join('\n');
}
