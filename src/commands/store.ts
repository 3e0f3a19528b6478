/**
 * `nix-hug store ls [--json]`: every exported entry and whether its path is
 * still in the local Nix store (`valid`) or was collected (`gc'd`).
 * `nix-hug store path`: the configured persist store.
 * `nix-hug store key`: the signing key, as nix.conf lines for other machines.
 */
import { requireStore } from '../settings/persist.js';
import { readExports } from '../persist/exports.js';
import type { ExportRecord } from '../persist/records.js';
import { ensureSigningKey } from '../persist/keys.js';
import { invalidPaths } from '../nix/validity.js';
import type { Filters } from '../types.js';
import { printable } from '../ui/text.js';
import type { CommandContext } from './context.js';
import type { StoreKeyOptions, StoreLsOptions, StorePathOptions } from './registry.js';

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
  const cfg = await ctx.settings.persist();
  const url = requireStore(cfg, 'store ls');
  const { records: entries, notes } = await readExports(cfg, ctx.settings.env, 'store ls');
  for (const note of notes) ctx.logger.warn(note);
  const invalid = await invalidPaths(
    entries.map((e) => e.storePath),
    ctx.settings.env,
  );
  const valid = (e: ExportRecord) => !invalid.has(e.storePath);

  if (opts.json) {
    const out = { store: url, entries: entries.map((e) => ({ ...e, valid: valid(e) })) };
    await ctx.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  if (entries.length === 0) {
    ctx.logger.info(`no exports recorded yet in ${url} (export one with \`nix-hug export URL\`)`);
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
  const cfg = await ctx.settings.persist();
  const url = requireStore(cfg, 'store path');
  await ctx.stdout.write(`${cfg.localDir ?? url}\n`);
}

/**
 * The nix.conf lines another machine adds to substitute from the persist
 * store and to trust what this machine exported, with comments saying where
 * they go (the whole text is valid nix.conf).
 */
export function nixConfLines(publicKey: string, substituter: string | null): string[] {
  const lines = [`# nix-hug signs its exports on this machine with the key ${publicKey.slice(0, publicKey.indexOf(':'))}.`];
  lines.push(
    '# On each machine that uses them, add to /etc/nix/nix.conf and restart nix-daemon',
    '# (a single-user Nix also reads ~/.config/nix/nix.conf):',
  );
  if (substituter !== null) {
    if (/^file:\/\//i.test(substituter)) lines.push('# (file:// works where this directory is mounted; elsewhere use the address it is served at: --substituter URL)');
    lines.push(`extra-substituters = ${substituter}`);
  }
  lines.push(`extra-trusted-public-keys = ${publicKey}`);
  return lines;
}

export async function key(ctx: CommandContext, opts: StoreKeyOptions): Promise<void> {
  const cfg = await ctx.settings.persist();
  const substituter = opts.substituter ?? cfg.storeUrl;
  const signingKey = await ensureSigningKey(cfg.configDir, ctx.settings.env);
  const lines = nixConfLines(signingKey.publicKey, substituter);
  if (opts.json) {
    const json = { publicKey: signingKey.publicKey, substituter, nixConf: lines.filter((l) => !l.startsWith('#')) };
    await ctx.stdout.write(JSON.stringify(json, null, 2) + '\n');
  } else {
    await ctx.stdout.write(lines.join('\n') + '\n');
  }
  if (substituter === null) ctx.logger.info('no persist store is configured: set persist_dir (or pass --substituter URL) for the extra-substituters line');
  ctx.logger.debug(`public key: ${signingKey.secretFile.replace(/secret\.key$/, 'public.key')}`);
}
