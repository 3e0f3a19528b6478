/**
 * Renders the pinned, paste-ready Nix expression `fetch` prints (README, CLI),
 * with every string escaped so that it means exactly its bytes in Nix.
 */
import { REPO_TYPES } from '../hub/repo-type.js';
import { DEFAULT_ENDPOINT } from '../settings/endpoint.js';
import type { Filters, PinnedRepo } from '../types.js';

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

/** The call, e.g. `nix-hug-lib.fetchModel { … }`, without a trailing newline. */
export function renderFetchExpression(pin: PinnedRepo, libName = 'nix-hug-lib'): string {
  const fn = REPO_TYPES[pin.type].libFunction;
  const lines = [`${libName}.${fn} {`, `  url = ${nixString(pin.repoId)};`];
  if (pin.endpoint !== DEFAULT_ENDPOINT) lines.push(`  endpoint = ${nixString(pin.endpoint)};`);
  lines.push(`  rev = ${nixString(pin.rev)};`);
  if (pin.filters) lines.push(`  filters = ${renderFilters(pin.filters)};`);
  lines.push(`  fileTreeHash = ${nixString(pin.fileTreeHash)};`, '}');
  return lines.join('\n');
}
