/**
 * Building a pin that goes into the lock file, exactly as `fromLock` will
 * evaluate it (the manifest given, the checkout from gitRepoHash): the same
 * derivation, so the snapshot `add` or `update` builds is the one the user's
 * flake finds in the store. With auto_persist, as `fetch` does.
 */
import { buildSnapshot, type BuildContext, type BuildOptions } from '../build/build.js';
import { renderFetchExpression } from '../nix/expr.js';
import { buildWithAutoPersist } from '../persist/auto.js';
import type { PinnedFetch } from '../pin/pin.js';
import type { Settings } from '../settings/index.js';
import { snapshotKey } from '../types.js';

export async function buildForLock(ctx: BuildContext & { settings: Pick<Settings, 'persist'> }, pinned: PinnedFetch, opts: BuildOptions): Promise<string> {
  const { pin } = pinned;
  const expression = renderFetchExpression(pin, { kind: 'inline', files: pinned.files });
  return buildWithAutoPersist({ settings: ctx.settings, log: ctx.logger, ...(opts.signal ? { signal: opts.signal } : {}) }, snapshotKey(pin), { fileTreeHash: pin.fileTreeHash, endpoint: pin.endpoint }, async () => {
    const storePath = await buildSnapshot(ctx, { ...pinned, expression }, opts);
    ctx.logger.info(`built ${storePath}`);
    return storePath;
  });
}
