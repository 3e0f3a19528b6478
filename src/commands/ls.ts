/**
 * `nix-hug ls URL [--ref REF] [filters] [--json | --manifest]`: every file
 * of the repository at the revision, with size, LFS or not, and whether
 * `fetch` would select it; totals and the fileTreeHash at the end.
 * `nix-hug ls --lock [FILE] [--json]`: the lock file's entries instead.
 */
import { emptySelection, missingFiles, selector } from '../filters.js';
import { listRepo, parsePinRequest, requestFilters } from '../pin/pin.js';
import { summarizeGguf } from '../gguf.js';
import { repoPath } from '../hub/repo-type.js';
import { canonicalManifest, canonicalManifestHash } from '../canonical-manifest.js';
import type { RepoFile } from '../types.js';
import { listEntries } from '../lock/list.js';
import { lockLocation, readLock } from '../lock/lock-file.js';
import { humanSize } from '../ui/size.js';
import { printable, quote } from '../ui/text.js';
import type { CommandContext } from './context.js';
import type { LsOptions } from './registry.js';
import { describeFilters } from './store.js';

/** Lines per write: big listings go out in pieces, each awaited (backpressure). */
const CHUNK = 1000;

export async function run(ctx: CommandContext, url: string | undefined, opts: LsOptions): Promise<void> {
  if (opts.lock !== undefined || url === undefined) return listLock(ctx, opts.lock === true ? undefined : opts.lock, opts.json);
  // Everything the user typed is checked before the first request.
  const request = parsePinRequest(url, opts, ctx.settings.endpoint());
  const { repo, rev, ref, files } = await listRepo(ctx.hub(), request.target, ctx.logger);
  const filters = requestFilters(request, repo, files);
  const gguf = summarizeGguf(files);
  const manifest = canonicalManifest(files, `${repo.type} ${repo.repoId}`);
  const hash = canonicalManifestHash(manifest);
  for (const missing of missingFiles(filters, files)) {
    ctx.logger.warn(`--file ${quote(missing)} is not a file of ${repo.type} ${repo.repoId} at ${ref}; fetch would refuse it`);
  }
  const empty = emptySelection(request.flags, files);
  if (empty !== null) {
    ctx.logger.warn(
      empty.lfsFiles > 0
        ? `${empty.flags} selects none of the ${empty.lfsFiles} LFS file(s): fetch would refuse it (a result without weights) unless --allow-empty`
        : `${empty.flags} selects nothing: the repository has no LFS files, and the filters choose among LFS files only`,
    );
  }
  const selected = selector(filters);

  if (opts.manifest) {
    await ctx.stdout.write(manifest);
    return;
  }

  if (opts.json) {
    const quants = gguf.groups.map((g) => ({ quant: g.quant, files: g.files.map((f) => f.path), size: g.bytes }));
    const head = JSON.stringify({ repoId: repo.repoId, type: repo.type, endpoint: ctx.settings.endpoint(), ref, rev, fileTreeHash: hash, filters, ggufQuants: quants }).slice(0, -1);
    await ctx.stdout.write(`${head},"files":[`);
    for (let i = 0; i < files.length; i += CHUNK) {
      const part = files.slice(i, i + CHUNK).map((f) =>
        JSON.stringify({ path: f.path, size: f.size, lfs: f.lfs ? { sha256: f.lfs.sha256, size: f.lfs.size } : null, selected: selected(f) }),
      );
      await ctx.stdout.write(`${i > 0 ? ',' : ''}${part.join(',')}`);
    }
    await ctx.stdout.write(']}\n');
    return;
  }

  const c = ctx.colors;
  const sizes = files.map((f) => humanSize(f.size));
  const sizeWidth = Math.max(4, ...sizes.map((s) => s.length));
  await ctx.stdout.write(`${c.bold(`${repo.type} ${repo.repoId}`)} at ${printable(ref)} (${rev})\n`);
  await ctx.stdout.write(c.dim(`${'FETCH'}  ${'SIZE'.padStart(sizeWidth)}  LFS  PATH`) + '\n');
  let selectedCount = 0;
  let selectedBytes = 0;
  let totalBytes = 0;
  let lines: string[] = [];
  for (let i = 0; i < files.length; i++) {
    const f = files[i] as RepoFile;
    const on = selected(f);
    totalBytes += f.size;
    if (on) {
      selectedCount++;
      selectedBytes += f.size;
    }
    const mark = on ? c.green('yes  ') : c.dim('no   ');
    const lfs = f.lfs ? c.cyan('lfs') : '   ';
    const path = on ? printable(f.path) : c.dim(printable(f.path));
    lines.push(`${mark}  ${(sizes[i] ?? '').padStart(sizeWidth)}  ${lfs}  ${path}\n`);
    if (lines.length >= CHUNK) {
      await ctx.stdout.write(lines.join(''));
      lines = [];
    }
  }
  if (lines.length > 0) await ctx.stdout.write(lines.join(''));
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (gguf.groups.length > 0 || gguf.projectors.length > 0) {
    // What `org/repo:QUANT` would take, quantization by quantization.
    const rows = [
      ...gguf.groups.map((g) => ({ label: g.quant ?? '(unnamed)', files: g.files, bytes: g.bytes })),
      ...(gguf.projectors.length ? [{ label: 'mmproj', files: gguf.projectors, bytes: gguf.projectors.reduce((n, f) => n + f.size, 0) }] : []),
    ];
    const labelWidth = Math.max(...rows.map((r) => r.label.length));
    const sizeW = Math.max(...rows.map((r) => humanSize(r.bytes).length));
    await ctx.stdout.write(c.bold(`GGUF quantizations (fetch one with ${repoPath(repo)}:QUANT):`) + '\n');
    for (const r of rows) {
      const names = r.files.map((f) => printable(f.path));
      const shown = names.length > 3 ? `${names.slice(0, 2).join(', ')}, … ${names[names.length - 1]}` : names.join(', ');
      await ctx.stdout.write(`  ${r.label.padEnd(labelWidth)}  ${plural(r.files.length, 'file').padEnd(8)}  ${humanSize(r.bytes).padStart(sizeW)}  ${shown}\n`);
    }
  }
  await ctx.stdout.write(
    `${plural(files.length, 'file')}, ${selectedCount} selected: ${humanSize(selectedBytes)} of ${humanSize(totalBytes)} ` +
      `(${selectedBytes} of ${totalBytes} bytes)\nfileTreeHash ${hash}\n`,
  );
}

/** `ls --lock [FILE]`: one line per entry — name, type, repository, ref, commit, selected LFS bytes, filters — or JSON. */
async function listLock(ctx: CommandContext, option: string | undefined, json: boolean): Promise<void> {
  const loc = lockLocation(option, ctx.settings.lockFile, ctx.settings.cwd);
  const listed = await listEntries(loc, await readLock(loc));
  if (json) {
    await ctx.stdout.write(JSON.stringify({ lock: loc.shown, entries: listed }, null, 2) + '\n');
    return;
  }
  const rows = listed.map((e) => [
    printable(e.name),
    e.type,
    printable(e.repoId) + (e.endpoint ? ` (${printable(e.endpoint)})` : ''),
    e.ref === null ? '-' : printable(e.ref),
    e.rev.slice(0, 7),
    `${humanSize(e.lfsBytes)} in ${e.lfsFiles} LFS file${e.lfsFiles === 1 ? '' : 's'}`,
    printable(describeFilters(e.filters)),
  ]);
  const head = ['NAME', 'TYPE', 'REPOSITORY', 'REF', 'REV', 'SELECTED', 'FILTERS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  const out = [ctx.colors.dim(line(head)), ...rows.map(line), `${listed.length} ${listed.length === 1 ? 'entry' : 'entries'} in ${printable(loc.shown)}`];
  await ctx.stdout.write(out.join('\n') + '\n');
}
