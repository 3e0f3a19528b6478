/**
 * From what the user typed to a pinned repository: `parseTarget` (no
 * network; usage errors) then `resolveTarget` (model or dataset, ref → commit).
 */
import type { RepoRef } from '../types.js';
import type { Logger } from '../ui/logger.js';
import type { HubClient } from './client.js';
import { parseRepoUrl, validateRef, type ParsedRepoUrl } from './repo-id.js';

export const DEFAULT_REF = 'main';

export interface Target {
  parsed: ParsedRepoUrl;
  /** --ref, else the URL's REF, else `main`. */
  ref: string;
}

/** Parses the URL and --ref; throws UsageError before any request. `endpoint`: URLs on its host count as the Hub's. */
export function parseTarget(url: string, ref: string | undefined, endpoint: string): Target {
  const parsed = parseRepoUrl(url, { endpoint });
  const chosen = ref !== undefined ? validateRef(ref) : parsed.ref ?? DEFAULT_REF;
  return { parsed, ref: chosen };
}

export interface ResolvedTarget {
  repo: RepoRef;
  /** The ref as given (branch, tag, commit, refs/pr/N). */
  ref: string;
  /** The 40-hex commit it names now. */
  rev: string;
}

/** Asks the Hub for the type (bare ids) and the commit. */
export async function resolveTarget(client: HubClient, target: Target, logger?: Logger): Promise<ResolvedTarget> {
  const type = target.parsed.type ?? (await client.detectType(target.parsed.repoId));
  const repo: RepoRef = { type, repoId: target.parsed.repoId };
  const rev = await client.resolveRevision(repo, target.ref);
  logger?.debug(`${type} ${repo.repoId}: ${target.ref} is commit ${rev}`);
  return { repo, ref: target.ref, rev };
}
