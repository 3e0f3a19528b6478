/**
 * `nix-hug store ls [--json]`: every exported entry and whether its path is
 * still in the local Nix store (`valid`) or was collected (`gc'd`).
 * `nix-hug store path`: the configured persist store.
 */
import { loadPersistConfig, requireStore } from '../persist/config.js';
import { manifestPath, readManifest, type ManifestEntry } from '../persist/manifest.js';
import { invalidLocalPaths } from '../persist/store.js';
import type { Filters } from '../types.js';
import { printable } from '../ui/text.js';
import type { CommandContext, StoreLsOptions, StorePathOptions } from './context.js';

/** `include .*\.bin, exclude x` — the filters as recorded (regexes), `-` for the whole repo. */
export function describeFilters(filters: Filters | null): string {
  if (!filters) return '-';
  const parts: string[] = [];
  for (const key of ['include', 'exclude', 'files'] as const) {
    const list = filters[key];
    if (list && list.length > 0) parts.push(`${key} ${list.join(',')}`);
  }
  return parts.length > 0 ? parts.join('; ') : '-';
}

/** `2025-05-01 12:00` in local time. */
function shortDate(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export async function ls(ctx: CommandContext, opts: StoreLsOptions): Promise<void> {
  const cfg = await loadPersistConfig(ctx.env, ctx.cwd);
  const url = requireStore(cfg, 'store ls');
  const file = manifestPath(cfg);
  const entries = [...(await readManifest(file))].sort(
    (a, b) => a.repoId.localeCompare(b.repoId) || a.type.localeCompare(b.type) || Date.parse(b.exportedAt) - Date.parse(a.exportedAt),
  );
  const invalid = await invalidLocalPaths(
    entries.map((e) => e.storePath),
    ctx.env,
  );
  const valid = (e: ManifestEntry) => !invalid.has(e.storePath);

  if (opts.json) {
    const out = { store: url, manifest: file, entries: entries.map((e) => ({ ...e, valid: valid(e) })) };
    await ctx.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  if (entries.length === 0) {
    ctx.logger.info(`no exports recorded yet in ${file} (export one with \`nix-hug export URL\`)`);
    return;
  }
  const c = ctx.colors;
  const rows = entries.map((e) => [printable(e.repoId), e.type, e.rev.slice(0, 7), printable(describeFilters(e.filters)), shortDate(e.exportedAt), valid(e) ? 'valid' : "gc'd"]);
  const header = ['REPO', 'TYPE', 'REV', 'FILTERS', 'EXPORTED', 'STATUS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ');
  const lines = [c.dim(pad(header))];
  for (const r of rows) {
    const status = r[5] === 'valid' ? c.green('valid') : c.yellow("gc'd");
    lines.push(pad([...r.slice(0, 5), status]));
  }
  const gone = entries.filter((e) => !valid(e)).length;
  await ctx.stdout.write(lines.join('\n') + '\n');
  if (gone > 0) ctx.logger.info(`${gone} collected: restore with \`nix-hug import URL\` or \`nix-hug import --all\``);
}

export async function path(ctx: CommandContext, _opts: StorePathOptions): Promise<void> {
  const cfg = await loadPersistConfig(ctx.env, ctx.cwd);
  const url = requireStore(cfg, 'store path');
  await ctx.stdout.write(`${cfg.localDir ?? url}\n`);
  ctx.logger.debug(`manifest: ${manifestPath(cfg)}`);
}
