/**
 * Making runs cold: deleting the bench's own store paths (snapshots, their
 * .drv files and git checkouts, LFS blobs and their .drv files) between
 * repetitions. The CLI builds with --no-link, so nothing roots them. Paths
 * are picked by name only — our repos' store names at our revisions and
 * `hf-blob-<sha256>` of our blobs — so nothing else in the store is touched.
 */
import { existsSync, readdirSync } from 'node:fs';
import { run } from '../test/support/index.ts';

export const STORE_DIR = '/nix/store';

export interface Selection {
  /** Store-name prefixes, e.g. `hf-model-nixhug-bench--model-0123456` (snapshot, its .drv, -git checkout, manifest). */
  prefixes: string[];
  /** LFS sha256s whose `hf-blob-<sha256>` path and .drv go too. */
  blobs: Iterable<string>;
}

/** The library's store name of a repo at a revision (lib/internal/fetch-repo.nix `storeName`). */
export function snapshotPrefix(type: 'model' | 'dataset' | 'space', id: string, rev: string): string {
  const [org, name] = id.split('/');
  return `hf-${type}-${org}--${name}-${rev.slice(0, 7)}`;
}

/** What the store holds; none on a fresh machine whose Nix has not created /nix/store yet. */
function storeEntries(): string[] {
  return existsSync(STORE_DIR) ? readdirSync(STORE_DIR) : [];
}

/** Store paths (full) whose names the selection covers. */
export function selectPaths(sel: Selection, names: string[] = storeEntries()): string[] {
  const blobNames = new Set([...sel.blobs].flatMap((sha) => [`hf-blob-${sha}`, `hf-blob-${sha}.drv`]));
  return names
    .filter((entry) => {
      const name = entry.slice(entry.indexOf('-') + 1);
      if (entry.endsWith('.lock') || entry.length < 34) return false;
      return blobNames.has(name) || sel.prefixes.some((p) => name === p || name.startsWith(`${p}-`) || name.startsWith(`${p}.`));
    })
    .map((entry) => `${STORE_DIR}/${entry}`);
}

/**
 * Deletes the selected paths in the order Nix accepts: `nix-store --delete`
 * refuses a path that something outside the set still refers to, and (with
 * keep-derivations, the default) a .drv whose output is still there. So:
 * snapshots, then blobs (the snapshots link to them), then the snapshots'
 * .drv files, then the blobs' .drv files and the checkouts (inputs of the
 * snapshots' .drv files).
 */
export async function deletePaths(sel: Selection, env: NodeJS.ProcessEnv): Promise<number> {
  const paths = selectPaths(sel);
  if (paths.length === 0) return 0;
  const isBlob = (p: string) => /-hf-blob-[0-9a-f]{64}(\.drv)?$/.test(p);
  const isDrv = (p: string) => p.endsWith('.drv');
  const isSource = (p: string) => p.endsWith('-git') || p.endsWith('-manifest.tsv');
  const groups = [
    paths.filter((p) => !isBlob(p) && !isDrv(p) && !isSource(p)),
    paths.filter((p) => isBlob(p) && !isDrv(p)),
    paths.filter((p) => !isBlob(p) && isDrv(p)),
    paths.filter((p) => (isBlob(p) && isDrv(p)) || (!isDrv(p) && isSource(p))),
  ];
  for (const group of groups) {
    for (let i = 0; i < group.length; i += 500) {
      const r = await run('nix-store', ['--delete', ...group.slice(i, i + 500)], env);
      if (r.code !== 0) throw new Error(`nix-store --delete failed:\n${r.stderr.slice(-3000)}`);
    }
  }
  return paths.length;
}
