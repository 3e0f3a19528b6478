/** The URL the library downloads an LFS file from, byte for byte as lib/internal/percent-encode.nix writes it. */
import { repoPath } from '../hub/repo-type.js';
import type { PinnedRepo } from '../types.js';

/** A path segment as Python's `quote` (and the library) encodes it: all but `A-Za-z0-9_.-~`. */
function quoteSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `{endpoint}/[datasets/|spaces/]{repoId}/resolve/{rev}/{path}`, each path segment percent-encoded. */
export function resolveUrl(pin: Pick<PinnedRepo, 'endpoint' | 'type' | 'repoId' | 'rev'>, path: string): string {
  return `${pin.endpoint}/${repoPath(pin)}/resolve/${pin.rev}/${path.split('/').map(quoteSegment).join('/')}`;
}
