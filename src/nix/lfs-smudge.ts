/**
 * Nix before 2.20 (and Lix) runs `git` inside `builtins.fetchGit`, which
 * applies the git-lfs filter a system- or user-wide git config sets up:
 * building a printed expression that still fetches git at evaluation (one
 * without its manifest) with plain `nix build` then fails with "smudge filter
 * lfs failed" (or downloads every weight while evaluating), unless
 * `GIT_LFS_SKIP_SMUDGE=1` is in nix's environment. nix-hug's own builds turn
 * the filter off; users building the expression themselves need to know.
 * Newer Nix fetches git with libgit2, which runs no filters.
 */
import { capture, type NixInfo } from './nix.js';

/** Whether this Nix's fetchGit runs git's filters (Nix < 2.20, and Lix, which forked from 2.18). */
export function fetchGitRunsFilters(nix: NixInfo): boolean {
  return nix.isLix || nix.major < 2 || (nix.major === 2 && nix.minor < 20);
}

/** The LFS filter git is configured with for this user (`git config`), or null: none, or no git. */
export async function gitLfsFilter(env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const key of ['filter.lfs.process', 'filter.lfs.smudge']) {
    const r = await capture('git', ['config', '--get', key], env).catch(() => null);
    const value = r?.code === 0 ? r.stdout.trim() : '';
    if (value !== '') return `${key} = ${value}`;
  }
  return null;
}

/**
 * The note `fetch` prints once when the expression it prints runs fetchGit at
 * evaluation and would trip over that in a plain `nix build` here; null when
 * it would not.
 */
export async function smudgeNote(env: NodeJS.ProcessEnv, nix: NixInfo | null): Promise<string | null> {
  if (nix === null || !fetchGitRunsFilters(nix)) return null;
  const filter = await gitLfsFilter(env);
  if (filter === null) return null;
  return (
    `your Nix (${nix.isLix ? 'Lix ' : ''}${nix.version}) runs git's LFS filter inside builtins.fetchGit, which this expression uses while evaluating, ` +
    `and your git config sets one (${filter}): to build it yourself, put GIT_LFS_SKIP_SMUDGE=1 in the environment of nix ` +
    '(e.g. `GIT_LFS_SKIP_SMUDGE=1 nix build …`: fetchGit runs in that process, also with a nix-daemon), ' +
    'or it fails with "smudge filter lfs failed"; with --vendor DIR the expression needs no fetchGit, nix-hug does this for its own builds, and Nix 2.20 or later needs nothing'
  );
}
