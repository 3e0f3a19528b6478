/**
 * `fetch --dry-run`: where every selected file would come from — the Nix
 * store, the local Hugging Face cache, the Hub's CDN (LFS files), or the
 * repository's git checkout (the other files) — and how many bytes, with
 * nothing downloaded, built or written.
 */
import type { RepoFile } from '../types.js';
import { humanSize } from '../ui/size.js';
import { printable } from '../ui/text.js';
import type { BlobPlan } from './blob-plan.js';

export type Source = 'store' | 'hf-cache' | 'cdn' | 'git';

export interface DryRunJson {
  repoId: string;
  type: string;
  rev: string;
  /** The local HF cache looked in, or null with --no-hf-cache. */
  hfCache: string | null;
  files: { path: string; size: number; source: Source }[];
  /** Bytes per source. */
  bytes: Record<Source, number>;
  expression: string;
}

export function dryRunPlan(repo: { repoId: string; type: string; rev: string }, selected: readonly RepoFile[], plan: BlobPlan, expression: string): DryRunJson {
  const source = new Map<string, Source>();
  for (const f of plan.inStore) source.set(f.path, 'store');
  for (const b of plan.inHfCache) source.set(b.path, 'hf-cache');
  for (const f of plan.toDownload) source.set(f.path, 'cdn');
  const files = selected.map((f) => ({ path: f.path, size: f.size, source: source.get(f.path) ?? 'git' }));
  const bytes: Record<Source, number> = { store: 0, 'hf-cache': 0, cdn: 0, git: 0 };
  for (const f of files) bytes[f.source] += f.size;
  return { ...repo, hfCache: plan.hfCacheDir, files, bytes, expression };
}

const LABEL: Record<Source, string> = { store: 'in the Nix store', 'hf-cache': 'from the local Hugging Face cache', cdn: 'to download from the CDN', git: 'from git' };

export function renderDryRun(p: DryRunJson): string {
  const lines = [`${p.type} ${p.repoId} at ${p.rev}: dry run, nothing downloaded or written`];
  const sizes = p.files.map((f) => humanSize(f.size));
  const width = Math.max(4, ...sizes.map((s) => s.length));
  lines.push(`FROM      ${'SIZE'.padStart(width)}  PATH`);
  p.files.forEach((f, i) => lines.push(`${f.source.padEnd(8)}  ${(sizes[i] ?? '').padStart(width)}  ${printable(f.path)}`));
  const count = (s: Source) => p.files.filter((f) => f.source === s).length;
  const parts = (['store', 'hf-cache', 'cdn', 'git'] as const)
    .filter((s) => count(s) > 0)
    .map((s) => `${count(s)} ${LABEL[s]}${s === 'hf-cache' && p.hfCache ? ` (${p.hfCache})` : ''}: ${humanSize(p.bytes[s])}`);
  lines.push(parts.length ? parts.join('; ') : 'no files selected');
  lines.push(`CDN bytes: ${p.bytes.cdn}`);
  return lines.join('\n') + '\n';
}
