/**
 * From what the user typed to a pinned repository: `parseTarget` (no
 * network; usage errors) then `resolveTarget` (model or dataset, ref → commit).
 */
import { UsageError } from '../errors.js';
import type { RepoRef, RepoType } from '../types.js';
import type { Logger } from '../ui/logger.js';
import { quote } from '../ui/text.js';
import type { HubClient } from './client.js';
import { parseRepoUrl, validateRef, type ParsedRepoUrl } from './repo-id.js';
import { REPO_TYPES } from './repo-type.js';

export const DEFAULT_REF = 'main';

export interface Target {
  parsed: ParsedRepoUrl;
  /** --ref, else the URL's REF, else `main`. */
  ref: string;
}

/**
 * Parses the URL, --ref and --repo-type (what a bare `org/name` is, instead
 * of asking the Hub); throws UsageError before any request. `endpoint`: URLs
 * on its host count as the Hub's.
 */
export function parseTarget(url: string, ref: string | undefined, endpoint: string, repoType?: RepoType): Target {
  const parsed = parseRepoUrl(url, { endpoint });
  if (repoType !== undefined) {
    if (parsed.type !== null && parsed.type !== repoType) {
      throw new UsageError(
        `--repo-type ${repoType} contradicts ${quote(url)}, which names a ${parsed.type}`,
        `drop --repo-type, or name the ${repoType} as ${REPO_TYPES[repoType].urlPrefix}org/name`,
      );
    }
    parsed.type = repoType;
  }
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
