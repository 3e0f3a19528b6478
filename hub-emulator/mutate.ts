/**
 * Changing repositories while the emulator runs, as the real Hub changes
 * under its clients: a push adds a commit to a branch, a tag is moved to
 * another commit, a repository is deleted.
 *
 * A change edits the repository's description and builds it again into a
 * staging folder, then swaps the bare repository into place: the builder is
 * deterministic, so every existing commit keeps its id (checked), and the
 * new state is what a fresh start with the edited description would serve.
 * Changes run one at a time.
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildRepo, type BuiltRepo } from './build.ts';
import { repoKey, resolveRev, type HubState } from './state.ts';
import type { CommitSpec, RepoSpec, RepoType } from './types.ts';

export interface Mutations {
  push(id: string, commit: CommitSpec, type?: RepoType): Promise<string>;
  moveTag(id: string, tag: string, target: string, type?: RepoType): Promise<string>;
  deleteRepo(id: string, type?: RepoType): Promise<void>;
}

export function mutations(state: HubState): Mutations {
  let queue: Promise<unknown> = Promise.resolve();
  let seq = 0;
  const serial = <T>(change: () => Promise<T>): Promise<T> => {
    const next = queue.then(change, change);
    queue = next.catch(() => undefined);
    return next;
  };
  const find = (type: RepoType, id: string): BuiltRepo => {
    const repo = state.repos.get(repoKey(type, id));
    if (!repo) throw new Error(`hub: no ${type} ${id}`);
    return repo;
  };

  /** Builds `spec` aside and swaps it in for `old`. */
  const rebuild = async (old: BuiltRepo, spec: RepoSpec): Promise<BuiltRepo> => {
    const stage = mkdtempSync(join(state.dataDir, 'rebuild-'));
    try {
      const built = await buildRepo(spec, stage, state.store);
      await Promise.all(state.store.pending);
      state.store.pending.length = 0;
      old.commits.forEach((c, i) => {
        if (built.commits[i]?.sha !== c.sha) throw new Error(`hub: rebuilding ${old.id} changed commit ${i} (emulator bug)`);
      });
      const aside = `${old.gitDir}.old-${++seq}`;
      renameSync(old.gitDir, aside);
      renameSync(built.gitDir, old.gitDir);
      const swapped: BuiltRepo = { ...built, gitDir: old.gitDir };
      state.repos.set(repoKey(old.type, old.id), swapped);
      rmSync(aside, { recursive: true, force: true });
      return swapped;
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  };

  return {
    push: (id, commit, type = 'model') =>
      serial(async () => {
        const old = find(type, id);
        const built = await rebuild(old, { ...old.spec, commits: [...old.spec.commits, commit] });
        return built.commits[built.commits.length - 1]!.sha;
      }),
    moveTag: (id, tag, target, type = 'model') =>
      serial(async () => {
        const old = find(type, id);
        const commit = resolveRev(old, target);
        if (!commit) throw new Error(`hub: ${id} has no revision ${target}`);
        const at = old.commits.indexOf(commit);
        const commits = old.spec.commits.map((c, i): CommitSpec => {
          const tags = (c.tags ?? []).filter((t) => t !== tag);
          return { ...c, tags: i === at ? [...tags, tag] : tags };
        });
        await rebuild(old, { ...old.spec, commits });
        return commit.sha;
      }),
    deleteRepo: (id, type = 'model') =>
      serial(async () => {
        const old = find(type, id);
        state.repos.delete(repoKey(type, id));
        rmSync(old.gitDir, { recursive: true, force: true });
      }),
  };
}
