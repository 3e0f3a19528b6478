/**
 * Exports a built snapshot: copies its closure to the persist store, signs
 * it with nix-hug's key, and records the manifest entry (newest wins).
 */
import { InterruptedError } from '../errors.js';
import type { Logger } from '../ui/logger.js';
import type { Filters, RepoType } from '../types.js';
import type { PersistConfig } from './config.js';
import { requireStore } from './config.js';
import { ensureSigningKey } from './keys.js';
import { canonicalFilters, manifestPath, recordExport, type ManifestEntry } from './manifest.js';
import { copyTo, sign } from './store.js';

/** What identifies an export: a repo at a commit under a selection. */
export interface PersistKey {
  repoId: string;
  type: RepoType;
  /** 40-hex commit. */
  rev: string;
  filters: Filters | null;
}

/** Store types Nix writes as a binary cache (`.narinfo` files): `nix store sign --store URL` can sign in place. */
export function isBinaryCacheUrl(storeUrl: string): boolean {
  return /^(file|s3|gs|https?):\/\//i.test(storeUrl);
}

export interface ExportOptions {
  cfg: PersistConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  key: PersistKey;
  storePath: string;
  /** `command` names the command in the "not configured" error. */
  command?: string;
  now?: Date;
  /** Aborted (Ctrl-C): the manifest is not touched, whatever the copy did. */
  signal?: AbortSignal;
}

export async function exportPath(opts: ExportOptions): Promise<ManifestEntry> {
  const url = requireStore(opts.cfg, opts.command ?? 'export');
  const signingKey = await ensureSigningKey(opts.cfg.configDir, opts.env);
  opts.log.debug(`signing with ${signingKey.name} (${signingKey.secretFile})`);
  if (isBinaryCacheUrl(url)) {
    await copyTo(url, [opts.storePath], opts.env, opts.signal);
    // Signing in the cache also covers paths that were already there, unsigned (nix copy skips those).
    await sign(signingKey.secretFile, [opts.storePath], opts.env, url);
  } else {
    // ssh:// and ssh-ng:// stores take the signatures along with the paths.
    await sign(signingKey.secretFile, [opts.storePath], opts.env);
    await copyTo(url, [opts.storePath], opts.env, opts.signal);
  }
  // Nix got the same SIGINT and stopped; if the copy finished anyway, the paths are in the cache unrecorded (harmless).
  if (opts.signal?.aborted) throw new InterruptedError(`exporting ${opts.key.repoId}`);
  const entry: ManifestEntry = {
    repoId: opts.key.repoId,
    type: opts.key.type,
    rev: opts.key.rev,
    filters: canonicalFilters(opts.key.filters),
    storePath: opts.storePath,
    exportedAt: (opts.now ?? new Date()).toISOString(),
  };
  await recordExport(manifestPath(opts.cfg), url, entry);
  return entry;
}
