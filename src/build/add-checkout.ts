/**
 * Before a build: the pin's git checkout handed to the Nix store under the
 * name and hash of the library's fixed-output checkout, from the CLI's own
 * pointer-only clone — so Nix finds it valid and clones nothing again (nor
 * needs a token for a private repository).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError, NixHugError } from '../errors.js';
import { capture } from '../nix/nix.js';
import { checkoutName, recursiveFixedPath } from '../nix/store-path.js';
import { rememberedHashes, type GitCheckout } from '../pin/git-repo-hash.js';
import type { PinnedRepo } from '../types.js';
import type { Logger } from '../ui/logger.js';

/** Makes the checkout of `pin` valid in the store unless it already is. `env` is nix's environment. */
export async function addCheckoutToStore(pin: PinnedRepo, checkout: GitCheckout, env: NodeJS.ProcessEnv, cacheDir: string, logger: Logger, signal?: AbortSignal): Promise<void> {
  if (!pin.gitRepoHash) return;
  const name = checkoutName(pin);
  const expected = recursiveFixedPath(pin.gitRepoHash, name);
  const interrupted = () => new InterruptedError(`adding the git checkout of ${pin.type} ${pin.repoId} to the Nix store`);
  const valid = await capture('nix-store', ['--check-validity', expected], env, undefined, signal);
  if (signal?.aborted) throw interrupted();
  if (valid.code === 0) return;
  const clone = await checkout.clone();
  const dir = await mkdtemp(join(tmpdir(), 'nix-hug-checkout-'));
  try {
    const tree = join(dir, name);
    await clone.materialize(tree);
    const added = await capture('nix-store', ['--add-fixed', '--recursive', 'sha256', tree], env, undefined, signal);
    if (signal?.aborted) throw interrupted();
    const path = added.stdout.trim();
    if (added.code !== 0) {
      throw new NixHugError(
        `could not add the git checkout of ${pin.type} ${pin.repoId} to the Nix store: ${added.stderr.trim()}`,
        'check that you may write to the Nix store (a running nix-daemon, or root)',
      );
    }
    if (path !== expected) {
      throw new NixHugError(
        `the git checkout of ${pin.type} ${pin.repoId} at ${pin.rev} became ${path} in the Nix store, not ${expected}: it does not hash to ${pin.gitRepoHash}`,
        `remove nix-hug's remembered hashes (${rememberedHashes(cacheDir)}) and run again; if it happens again, report it with the output of --debug`,
      );
    }
    logger.debug(`added the git checkout ${path}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
