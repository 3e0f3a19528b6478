/**
 * `nix-hug add URL [--ref REF] [filters] [--name NAME] [--force] [--no-build]`:
 * pin a repository like `fetch`, build it (unless --no-build), and record the
 * pin in the lock file. The lock is written only at the end, under its
 * mutex: a failed pin or build leaves it as it was, and two `add`s at once
 * both land.
 */
import { startNixpkgsCheck } from '../nix/nixpkgs.js';
import { UsageError } from '../errors.js';
import { resolveTarget } from '../hub/resolve.js';
import { interruptible } from '../interrupt.js';
import { buildForLock } from '../lock/build.js';
import { defaultEntryName, describeEntry, entryFromPin, entryNameProblem, sameSelection, trackedRef } from '../lock/entry.js';
import type { Lock, LockEntry } from '../lock/format.js';
import { changeLock, lockLocation, manifestForLock, readLockIfAny } from '../lock/lock-file.js';
import { detectNix } from '../nix/nix.js';
import { parsePinRequest, pinCommit, requestFilters } from '../pin/pin.js';
import { printable, quote } from '../ui/text.js';
import type { CommandContext } from './context.js';
import type { AddOptions } from './registry.js';

/** What `add --json` prints: the entry as recorded, without its manifest. */
export interface AddJson extends Omit<LockEntry, 'manifest'> {
  lock: string;
  /** The vendored manifest file (relative to the lock's folder), or null when the lock holds it. */
  manifestFile: string | null;
  storePath: string | null;
  /** Entries --force replaced. */
  replaced: string[];
}

type Candidate = Pick<LockEntry, 'name' | 'type' | 'repoId' | 'endpoint' | 'filters'>;

/** Entries `candidate` would collide with: the same name, or the same selection under another name. */
function clashes(lock: Lock | null, candidate: Candidate): LockEntry[] {
  return (lock?.entries ?? []).filter((e) => e.name === candidate.name || sameSelection(e, candidate));
}

function clashError(clash: LockEntry, candidate: Candidate, lockShown: string): UsageError {
  if (clash.name === candidate.name && !sameSelection(clash, candidate)) {
    return new UsageError(`${lockShown} already has an entry ${quote(clash.name)} (${describeEntry(clash)})`, 'choose another name with --name NAME, or replace it with --force');
  }
  return new UsageError(
    `${lockShown} already has ${describeEntry(candidate)} with these filters, as ${quote(clash.name)}`,
    `move it with \`nix-hug update ${clash.name}\`, or replace it with --force`,
  );
}

export async function run(ctx: CommandContext, url: string, opts: AddOptions): Promise<void> {
  const { settings } = ctx;
  // Input errors, and a lock file that cannot be written back, before any request.
  const loc = lockLocation(opts.lock, settings.lockFile, settings.cwd);
  const endpoint = settings.endpoint();
  const request = parsePinRequest(url, opts, endpoint);
  const { target, filters } = request;
  const name = opts.name ?? defaultEntryName(target.parsed.repoId);
  const problem = entryNameProblem(name);
  if (problem) throw new UsageError(`the entry name ${quote(name)} is not allowed: ${problem}`, 'choose another with --name NAME');
  const before = await readLockIfAny(loc);
  const taken = before?.lock.entries.find((e) => e.name === name);
  if (taken && !opts.force) throw clashError(taken, { name, type: target.parsed.type ?? taken.type, repoId: target.parsed.repoId, endpoint, filters }, loc.shown);
  const nix = opts.build ? await detectNix(settings.env) : undefined;
  await interruptible(`asking the Hub about ${url}`, async ({ signal, step }) => {
    const nixpkgs = opts.build ? startNixpkgsCheck(settings, signal) : undefined;
    const resolved = await resolveTarget(ctx.hub(), target, ctx.logger);
    const candidate: Candidate = { name, type: resolved.repo.type, repoId: resolved.repo.repoId, endpoint, filters };
    const clash = clashes(before?.lock ?? null, candidate)[0];
    if (clash && !opts.force) throw clashError(clash, candidate, loc.shown); // before any download
    const pinned = await pinCommit(
      ctx.hub(),
      resolved,
      {
        filtersFor: (files) => requestFilters(request, resolved.repo, files),
        mayRefuse: filters !== null || target.parsed.quant !== undefined,
        refuseEmpty: opts.allowEmpty ? null : request.flags,
      },
      settings,
      ctx.logger,
      signal,
    );
    // A GGUF quantization (`org/repo:QUANT`) became exact file filters: those are recorded, and compared.
    const recorded: Candidate = { ...candidate, filters: pinned.pin.filters };
    try {
      step(`building ${describeEntry(recorded)}`);
      const storePath = opts.build
        ? await buildForLock(ctx, pinned, { quiet: opts.quiet, signal, ...(nix ? { nix } : {}), ...(nixpkgs ? { nixpkgs } : {}) })
        : null;
      step(`writing ${loc.shown}`);
      const { entry, replaced } = await changeLock(loc, async (current) => {
        // Again, under the mutex: another add may have landed meanwhile.
        const found = clashes(current, recorded);
        if (found.length > 0 && !opts.force) throw clashError(found[0]!, recorded, loc.shown);
        const entry = entryFromPin(pinned, name, trackedRef(resolved.ref), await manifestForLock(loc, pinned));
        const kept = (current?.entries ?? []).filter((e) => !found.includes(e));
        return { lock: { entries: [...kept, entry] }, result: { entry, replaced: found.map((e) => e.name) } };
      });
      for (const r of replaced) ctx.logger.info(`replaced the entry ${quote(r)}`);
      if (!before) ctx.logger.info(`created ${loc.shown}`);
      if (opts.json) {
        const { manifest, ...fields } = entry;
        const json: AddJson = { lock: loc.shown, ...fields, manifestFile: manifest.kind === 'file' ? manifest.path : null, storePath, replaced };
        await ctx.stdout.write(JSON.stringify(json, null, 2) + '\n');
      } else {
        const ref = entry.ref === null ? 'a commit' : printable(entry.ref);
        await ctx.stdout.write(`${printable(entry.name)}  added ${entry.rev.slice(0, 7)} (${ref}): ${describeEntry(entry)}\n`);
      }
      await pinned.checkout.remember();
    } finally {
      await pinned.checkout.dispose();
    }
  });
}
