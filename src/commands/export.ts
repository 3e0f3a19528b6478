/**
 * `nix-hug export URL [--ref REF] [filters]`: builds like fetch, copies the
 * snapshot to the persist store (signed with nix-hug's key), records it in
 * the store's export index, and prints its store path.
 */
import { buildSnapshot } from '../build/build.js';
import { startNixpkgsCheck } from '../nix/nixpkgs.js';
import { interruptible } from '../interrupt.js';
import { detectNix } from '../nix/nix.js';
import { parsePinRequest, pinRepo } from '../pin/pin.js';
import { requireStore } from '../settings/persist.js';
import { exportPath } from '../persist/export-path.js';
import { snapshotKey } from '../types.js';
import type { CommandContext } from './context.js';
import type { ExportOptions } from './registry.js';
import { waiting } from '../ui/logger.js';
import { describeFilters } from './store.js';

export async function run(ctx: CommandContext, url: string, opts: ExportOptions): Promise<void> {
  // Usage errors first (exit 2), then a missing or broken configuration, all before any request or build.
  const { settings } = ctx;
  const request = parsePinRequest(url, opts, settings.endpoint());
  const cfg = await settings.persist();
  const storeUrl = requireStore(cfg, 'export');
  const nix = await detectNix(settings.env); // as fetch: no request to the Hub when nothing can be built
  await interruptible(`asking the Hub about ${url}`, async ({ signal, step }) => {
    const nixpkgs = startNixpkgsCheck(settings, signal);
    const pinned = await pinRepo(ctx.hub(), request, settings, ctx.logger, signal);
    const { pin } = pinned;
    let storePath: string;
    try {
      step(`building ${pin.type} ${pin.repoId}`);
      storePath = await buildSnapshot(ctx, pinned, { quiet: opts.quiet, signal, nix, nixpkgs, hfCache: opts.hfCache });
    } finally {
      await pinned.checkout.dispose(); // the checkout is in the store now (or the build failed)
    }
    ctx.logger.info(`built ${storePath}`);
    step(`exporting ${pin.repoId}`);
    ctx.logger.info(`copying to ${storeUrl}`);
    const entry = await waiting(
      ctx.logger,
      `copying the snapshot to ${storeUrl} (signing it, then nix copy)`,
      exportPath({
        cfg,
        env: settings.env,
        log: ctx.logger,
        key: snapshotKey(pin),
        storePath,
        pin: { fileTreeHash: pin.fileTreeHash, endpoint: pin.endpoint },
        signal,
      }),
    );
    step(`printing the result for ${pin.repoId}`);
    const filters = describeFilters(entry.filters);
    ctx.logger.info(`exported ${pin.type} ${pin.repoId}@${pin.rev.slice(0, 7)}${filters === '-' ? '' : ` [${filters}]`} to ${storeUrl} (signed)`);
    await ctx.stdout.write(`${storePath}\n`);
    await pinned.checkout.remember();
  });
}
