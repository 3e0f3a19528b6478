/**
 * From what the user typed to a pinned repository: `parseTarget` (no
 * network; usage errors) then `resolveTarget` (model, dataset or Space, the
 * canonical id of a legacy one, ref → commit).
 */
import { NixHugError, UsageError } from '../errors.js';
import type { RepoRef, RepoType } from '../types.js';
import type { Logger } from '../ui/logger.js';
import { quote } from '../ui/text.js';
import type { HubClient } from './client.js';
import { isCanonicalRepoId, isLegacyId, parseRepoUrl, validateRef, type ParsedRepoUrl } from './repo-id.js';
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

/**
 * The repository as the Hub knows it: the kind of a bare id (asking the Hub),
 * and the canonical `org/name` of a legacy id without an owner (`gpt2` →
 * `openai-community/gpt2`, said in a note), which every later request and the
 * expression then use.
 */
export async function identifyRepo(client: HubClient, parsed: Pick<ParsedRepoUrl, 'type' | 'repoId'>, logger?: Logger, rev?: string): Promise<RepoRef> {
  const asked = parsed.repoId;
  let repo: RepoRef;
  if (parsed.type === null) repo = await client.identify(asked, rev);
  else if (isLegacyId(asked)) repo = { type: parsed.type, repoId: (await client.repoInfo({ type: parsed.type, repoId: asked })).repoId };
  else repo = { type: parsed.type, repoId: asked };
  if (isLegacyId(asked)) {
    if (!isCanonicalRepoId(repo.repoId)) {
      throw new NixHugError(
        `the Hub at ${client.endpoint} knows ${repo.type} ${quote(asked)} under no org/name (it answered ${quote(repo.repoId)})`,
        'name the repository with its owner, as org/name (see its page on the Hub)',
      );
    }
    logger?.warn(`${quote(asked)} is the ${repo.type} ${repo.repoId} on the Hub (an id without its owner, which the Hub still answers for): pinning ${repo.repoId}`);
  }
  return repo;
}

/** Asks the Hub for the type (bare ids), the canonical id (legacy ids) and the commit. */
export async function resolveTarget(client: HubClient, target: Target, logger?: Logger): Promise<ResolvedTarget> {
  // The kind is asked for at the ref: the commit comes with it (client.identify).
  const repo = await identifyRepo(client, target.parsed, logger, target.ref);
  const rev = await client.resolveRevision(repo, target.ref);
  logger?.debug(`${repo.type} ${repo.repoId}: ${target.ref} is commit ${rev}`);
  return { repo, ref: target.ref, rev };
}
