/**
 * `nix-hug import URL [--ref REF] | --all [--yes]`: restores exported
 * snapshots from the persist store into the Nix store. Without --ref the
 * latest export of the repo wins; REF may be a commit (or a prefix of an
 * exported one) or a branch/tag, resolved on the Hub. Prints the restored
 * store paths on stdout, a line per entry on stderr, and fails (exit 1) if
 * any entry failed.
 */
import { NixHugError } from '../errors.js';
import { isLegacyId, parseRepoUrl, validateRef } from '../hub/repo-id.js';
import { identifyRepo } from '../hub/resolve.js';
import { LOOKUP_ORDER, repoPath } from '../hub/repo-type.js';
import { interruptible } from '../interrupt.js';
import { canPrompt, confirmOnTty } from '../persist/confirm.js';
import { requireStore } from '../settings/persist.js';
import { importEntries, type ImportOutcome } from '../persist/import-entries.js';
import { readExports } from '../persist/exports.js';
import { entriesFor, type ExportRecord } from '../persist/records.js';
import type { RepoType } from '../types.js';
import { printable, quote } from '../ui/text.js';
import type { CommandContext } from './context.js';
import type { ImportOptions } from './registry.js';
import { describeFilters } from './store.js';

const HEX40 = /^[0-9a-f]{40}$/;
const HEX_PREFIX = /^[0-9a-f]{7,39}$/;

/** The entries `import URL [--ref REF]` means. */
async function select(ctx: CommandContext, url: string, refOption: string | undefined, all: ExportRecord[], storeUrl: string): Promise<ExportRecord[]> {
  const parsed = parseRepoUrl(url, { endpoint: ctx.settings.endpoint() });
  const ref = refOption !== undefined ? validateRef(refOption) : parsed.ref;
  // Exports are recorded under canonical ids: a legacy one (`gpt2`) is looked up on the Hub first.
  if (isLegacyId(parsed.repoId)) Object.assign(parsed, await identifyRepo(ctx.hub(), parsed, ctx.logger));
  // A bare org/repo: the records say what was exported; the first in fetch's lookup order wins.
  let type: RepoType | null = parsed.type;
  if (type === null) {
    const exported = LOOKUP_ORDER.filter((t) => entriesFor(all, parsed.repoId, t).length > 0);
    type = exported[0] ?? 'model';
    if (exported.length > 1) {
      const others = exported.slice(1).map((t) => `${repoPath({ type: t, repoId: parsed.repoId })} for the ${t}`).join(', ');
      ctx.logger.warn(`a ${exported.join(' and a ')} named ${quote(parsed.repoId)} were exported; importing the ${type} (use ${others})`);
    }
  }
  const what = `${type} ${quote(parsed.repoId)}`;
  const candidates = entriesFor(all, parsed.repoId, type);
  if (candidates.length === 0) {
    throw new NixHugError(`no export of ${what} is recorded in ${storeUrl}`, `export it first with \`nix-hug export ${repoPath({ type, repoId: parsed.repoId })}\`, or see \`nix-hug store ls\``);
  }
  if (ref === undefined) return candidates.slice(0, 1);

  let rev: string;
  let matches: ExportRecord[];
  if (HEX40.test(ref)) {
    rev = ref;
    matches = candidates.filter((e) => e.rev === ref);
  } else if (HEX_PREFIX.test(ref) && candidates.some((e) => e.rev.startsWith(ref))) {
    const revs = new Set(candidates.filter((e) => e.rev.startsWith(ref)).map((e) => e.rev));
    if (revs.size > 1) throw new NixHugError(`${quote(ref)} is a prefix of ${revs.size} exported commits of ${what}`, 'give more digits of the commit');
    rev = [...revs][0] ?? ref;
    matches = candidates.filter((e) => e.rev === rev);
  } else {
    rev = await ctx.hub().resolveRevision({ type, repoId: parsed.repoId }, ref);
    ctx.logger.debug(`${what}: ${ref} is commit ${rev}`);
    matches = candidates.filter((e) => e.rev === rev);
  }
  if (matches.length === 0) {
    const exported = [...new Set(candidates.map((e) => e.rev.slice(0, 7)))].join(', ');
    throw new NixHugError(
      `no export of ${what} at ${quote(ref)}${rev !== ref ? ` (commit ${rev})` : ''}`,
      `exported commits: ${exported}; export this one with \`nix-hug export ${url} --ref ${ref}\``,
    );
  }
  return matches.slice(0, 1); // candidates are newest first: the latest export of that commit
}

function label(e: ExportRecord): string {
  const filters = describeFilters(e.filters);
  return `${e.type} ${printable(e.repoId)}@${e.rev.slice(0, 7)}${filters === '-' ? '' : ` [${printable(filters)}]`}`;
}

export async function run(ctx: CommandContext, url: string | undefined, opts: ImportOptions): Promise<void> {
  const cfg = await ctx.settings.persist();
  const storeUrl = requireStore(cfg, 'import');
  await interruptible(`reading the exports recorded in ${storeUrl}`, async ({ signal, step }) => {
    const { records: all, notes } = await readExports(cfg, ctx.settings.env, 'import');
    for (const note of notes) ctx.logger.warn(note);
    let entries: ExportRecord[];
    if (opts.all || url === undefined) {
      entries = all;
      if (entries.length === 0) {
        ctx.logger.info(`nothing to import: no exports are recorded in ${storeUrl}`);
        return;
      }
    } else {
      entries = await select(ctx, url, opts.ref, all, storeUrl);
    }

    step(`copying from ${storeUrl}`);
    ctx.logger.info(`importing ${entries.length === 1 ? '1 entry' : `${entries.length} entries`} from ${storeUrl}`);
    const outcomes = await importEntries({
      cfg,
      env: ctx.settings.env,
      log: ctx.logger,
      entries,
      trust: { yes: opts.yes, confirm: canPrompt(process.stdin, ctx.stderr) ? confirmOnTty : null },
      signal,
    });
    step(`reporting what was imported from ${storeUrl}`);
    await summarize(ctx, outcomes);
  });
}

async function summarize(ctx: CommandContext, outcomes: ImportOutcome[]): Promise<void> {
  const c = ctx.stderrColors;
  const failed = outcomes.filter((o) => o.status === 'failed');
  for (const o of outcomes) {
    if (o.status === 'imported') {
      const how = `${o.verified === 'signed' ? 'signature verified' : 'trusted without signature check'}${o.rebuilt ? ', rebuilt from its content-addressed inputs' : ''}`;
      ctx.logger.info(`${c.green('imported')}  ${label(o.entry)} → ${o.entry.storePath} (${how})`);
    } else if (o.status === 'already-valid') {
      ctx.logger.info(`${c.cyan('valid')}     ${label(o.entry)} → ${o.entry.storePath} (already in the Nix store)`);
    } else if (failed.length > 1) {
      ctx.logger.info(`${c.red('failed')}    ${label(o.entry)}: ${o.error?.message ?? 'unknown error'}`);
    }
  }
  const paths = outcomes.filter((o) => o.status !== 'failed').map((o) => o.entry.storePath);
  if (paths.length > 0) await ctx.stdout.write([...new Set(paths)].join('\n') + '\n');
  if (outcomes.length > 1) {
    const n = (s: ImportOutcome['status']) => outcomes.filter((o) => o.status === s).length;
    ctx.logger.info(`${n('imported')} imported, ${n('already-valid')} already valid, ${failed.length} failed`);
  }
  const first = failed[0];
  if (failed.length === 1 && first?.error) {
    // One failure: its own message and hint are the clearest report.
    throw new NixHugError(`${label(first.entry)}: ${first.error.message}`, first.error.hint);
  }
  if (failed.length > 1) {
    throw new NixHugError(`${failed.length} of ${outcomes.length} entries could not be imported`, first?.error?.hint ?? 'see the lines above');
  }
}
