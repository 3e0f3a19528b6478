/**
 * `nix-hug scan [--json]`: what the local Hugging Face cache holds — every
 * repository with its type, revisions and refs, size and file count — and
 * whether each revision is already in the Nix store. Reads only.
 */
import { revisionsInStore, type RevisionInStore } from '../hf-cache/in-store.js';
import { scanHfCache } from '../hf-cache/scan.js';
import { repoPath } from '../hub/repo-type.js';
import { invalidPaths } from '../nix/validity.js';
import { humanSize } from '../ui/size.js';
import { printable } from '../ui/text.js';
import type { CommandContext } from './context.js';
import type { ScanOptions } from './registry.js';

export interface ScanJson {
  dir: string;
  /** Which setting named the folder: HF_HUB_CACHE, HF_HOME, … or "the default". */
  from: string;
  exists: boolean;
  /** False when Nix could not be asked: then every `inNixStore` is null. */
  nixStoreChecked: boolean;
  repos: {
    type: string;
    repoId: string;
    /** How nix-hug names it: `org/name`, `datasets/org/name`, `spaces/org/name`. */
    reference: string;
    size: number;
    blobs: number;
    revisions: { commit: string; refs: string[]; files: number; size: number; inNixStore: boolean | null; nixSnapshots: string[]; lfsFiles: number; lfsInNixStore: number | null }[];
    danglingRefs: Record<string, string>;
  }[];
  warnings: string[];
}

export async function run(ctx: CommandContext, opts: ScanOptions): Promise<void> {
  const { dir, from } = ctx.settings.hfCache();
  const scan = await scanHfCache(dir);
  let inStore: Map<string, RevisionInStore> | null = null;
  try {
    inStore = await revisionsInStore(scan.repos, (paths) => invalidPaths(paths, ctx.settings.env));
  } catch (err) {
    ctx.logger.warn(`could not ask the Nix store which revisions it has (${(err as Error).message}); showing the cache alone`);
  }
  const json: ScanJson = {
    dir,
    from,
    exists: scan.exists,
    nixStoreChecked: inStore !== null,
    repos: scan.repos.map((r) => ({
      type: r.type,
      repoId: r.repoId,
      reference: repoPath({ type: r.type, repoId: r.repoId }),
      size: r.size,
      blobs: r.blobs,
      revisions: r.revisions.map((rev) => {
        const s = inStore?.get(`${r.type}:${r.repoId}:${rev.commit}`);
        return {
          commit: rev.commit,
          refs: rev.refs,
          files: rev.files,
          size: rev.size,
          inNixStore: s ? s.snapshots.length > 0 : null,
          nixSnapshots: s?.snapshots ?? [],
          lfsFiles: s?.lfsFiles ?? rev.entries.filter((e) => /\/[0-9a-f]{64}$/.test(e.file)).length,
          lfsInNixStore: s ? s.lfsInStore : null,
        };
      }),
      danglingRefs: r.danglingRefs,
    })),
    warnings: scan.warnings,
  };
  if (opts.json) {
    await ctx.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return;
  }
  await ctx.stdout.write(render(json, ctx));
}

function render(s: ScanJson, ctx: CommandContext): string {
  const c = ctx.colors;
  const where = `${s.dir} (${s.from})`;
  if (!s.exists) return `no Hugging Face cache at ${where}\n`;
  const lines = [c.bold(`Hugging Face cache at ${where}`)];
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  for (const r of s.repos) {
    lines.push(`${c.bold(`${r.type} ${r.repoId}`)}  ${plural(r.revisions.length, 'revision')}, ${humanSize(r.size)} in ${plural(r.blobs, 'blob')}`);
    for (const rev of r.revisions) {
      const store =
        rev.inNixStore === null
          ? 'Nix store: not checked'
          : rev.inNixStore
            ? c.green(`in the Nix store (${plural(rev.nixSnapshots.length, 'snapshot')})`)
            : c.dim('not in the Nix store') + (rev.lfsFiles > 0 ? `, ${rev.lfsInNixStore}/${rev.lfsFiles} LFS files are` : '');
      const refs = rev.refs.length ? rev.refs.map(printable).join(', ') : c.dim('(no ref)');
      lines.push(`  ${rev.commit.slice(0, 12)}  ${refs}  ${plural(rev.files, 'file')}, ${humanSize(rev.size)}  ${store}`);
    }
    for (const [ref, commit] of Object.entries(r.danglingRefs)) lines.push(c.dim(`  ref ${printable(ref)} → ${commit.slice(0, 12)}, which has no snapshot here`));
  }
  const revisions = s.repos.reduce((n, r) => n + r.revisions.length, 0);
  const bytes = s.repos.reduce((n, r) => n + r.size, 0);
  lines.push(`${plural(s.repos.length, 'repository').replace('repositorys', 'repositories')}, ${plural(revisions, 'revision')}, ${humanSize(bytes)}; fetch takes LFS files from here (--no-hf-cache: it does not)`);
  for (const w of s.warnings) lines.push(c.dim(`warning: ${printable(w)}`));
  return lines.join('\n') + '\n';
}
