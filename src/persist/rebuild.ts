/**
 * Restores a snapshot by building it again from what the persist store holds,
 * for a user the Nix daemon does not trust. The daemon takes no
 * input-addressed path from such a user, signed or not — and the assembled
 * snapshot is one — but it takes content-addressed ones from anyone: the LFS
 * blobs, the git checkout and `.drv` files (their names follow from their
 * bytes). `export` stores the snapshot's derivation and its closure beside
 * it; copying those and the blobs, the daemon can build the snapshot again,
 * with no network and no trust. A `.drv` whose output path is the snapshot's
 * rebuilds exactly that snapshot: an input-addressed output path is derived
 * from its derivation.
 */
import { InterruptedError, NixHugError } from '../errors.js';
import { invalidPaths } from '../nix/validity.js';
import { copyFrom, derivationOutputs, pathInfo, plannedBuilds, realise, validIn } from './store.js';

export type Rebuild = { ok: true } | { ok: false; reason: string };

const cannot = (reason: string): Rebuild => ({ ok: false, reason });

export interface RebuildOptions {
  storeUrl: string;
  path: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Rebuilds `path` from its exported derivation; says why not when that cannot work. */
export async function rebuildFromStore(opts: RebuildOptions): Promise<Rebuild> {
  const { storeUrl: url, path, env } = opts;
  const signal = opts.signal ? { signal: opts.signal } : {};
  try {
    const info = (await pathInfo([path], env, { storeUrl: url })).get(path);
    if (!info) return cannot(`it is not in ${url}`);
    const drv = info.deriver;
    if (!drv) return cannot(`${url} does not record which derivation built it`);
    if (!(await validIn(url, [drv], env)).has(drv)) {
      return cannot('its derivation was not exported with it (older versions of nix-hug did not): export it again');
    }
    const inputs = (info.references ?? []).filter((r) => r !== path);
    const inputInfo = await pathInfo(inputs, env, { storeUrl: url });
    const notAddressed = inputs.filter((r) => !inputInfo.get(r)?.ca);
    if (notAddressed.length > 0) return cannot(`it refers to ${notAddressed[0]}, which is not content-addressed`);

    // Content-addressed: accepted from anyone, checked against their names.
    if (inputs.length > 0) await copyFrom(url, inputs, env, { trustedKeys: [], noCheckSigs: false, ...signal });
    await copyFrom(url, [drv], env, { trustedKeys: [], noCheckSigs: false, derivations: true, ...signal });
    if (!(await derivationOutputs(drv, env)).includes(path)) return cannot(`${drv} does not build ${path}`);
    // Only the snapshot itself: its build tools (nixpkgs' runCommand) must already be here.
    const others = (await plannedBuilds(drv, env)).filter((d) => d !== drv);
    if (others.length > 0) {
      return cannot(`building it needs ${others.length} more derivation(s) that are not in the store, e.g. ${others[0]} (build tools from nixpkgs)`);
    }
    await realise(drv, env, opts.signal);
    if ((await invalidPaths([path], env)).has(path)) return cannot(`building ${drv} did not produce it`);
    return { ok: true };
  } catch (err) {
    if (err instanceof NixHugError && !(err instanceof InterruptedError)) return cannot(err.message);
    throw err;
  }
}
