/**
 * Exports a built snapshot: copies its closure to the persist store, signs
 * it with nix-hug's key, and adds its record to the store's export index.
 */
import { readFile } from 'node:fs/promises';
import { InterruptedError, NixHugError } from '../errors.js';
import type { Logger } from '../ui/logger.js';
import type { SnapshotKey } from '../types.js';
import type { PersistConfig } from '../settings/persist.js';
import { requireStore } from '../settings/persist.js';
import { publishRecord } from './export-index.js';
import { ensureSigningKey } from './keys.js';
import { canonicalFilters, type ExportRecord } from './records.js';
import { invalidPaths } from '../nix/validity.js';
import { copyTo, isSshUrl, pathInfo, sign } from './store.js';

/** Store types Nix writes as a binary cache (`.narinfo` files): `nix store sign --store URL` can sign in place. */
export function isBinaryCacheUrl(storeUrl: string): boolean {
  return /^(file|s3|gs|https?):\/\//i.test(storeUrl);
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/**
 * What to configure on the machine behind an ssh store that refused our
 * paths: it takes them from a user it trusts (who may skip the check), or
 * signed by a key it trusts.
 */
export function sshTrustHint(storeUrl: string, publicKey: string): string {
  const m = /^ssh(?:-ng)?:\/\/(?:([^@/?]+)@)?([^/?]+)/i.exec(storeUrl);
  const user = m?.[1] ?? 'your ssh user';
  const host = m?.[2] ?? 'the remote machine';
  return (
    `${host} accepts paths only from a user its Nix trusts, or signed by a key it trusts. On ${host}, add to /etc/nix/nix.conf either ` +
    `\`trusted-users = ${user}\` or \`extra-trusted-public-keys = ${publicKey}\` (this machine's nix-hug key), then restart its nix-daemon if it runs one`
  );
}

export interface ExportPathRequest {
  cfg: PersistConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  key: SnapshotKey;
  storePath: string;
  /** What the expression needs besides the key: recorded so that other machines can print it without the Hub. */
  pin?: { fileTreeHash: string; endpoint: string };
  /** `command` names the command in the "not configured" error. */
  command?: string;
  now?: Date;
  /** Aborted (Ctrl-C): no record is added, whatever the copy did. */
  signal?: AbortSignal;
}

export async function exportPath(opts: ExportPathRequest): Promise<ExportRecord> {
  const url = requireStore(opts.cfg, opts.command ?? 'export');
  const signingKey = await ensureSigningKey(opts.cfg.configDir, opts.env);
  opts.log.debug(`signing with ${signingKey.name} (${signingKey.secretFile})`);
  const rejectedHint = isSshUrl(url) ? sshTrustHint(url, signingKey.publicKey) : undefined;
  if (isBinaryCacheUrl(url)) {
    await copyTo(url, [opts.storePath], opts.env, opts.signal ? { signal: opts.signal } : {});
    // Signing in the cache also covers paths that were already there, unsigned (nix copy skips those).
    await sign(signingKey.secretFile, [opts.storePath], opts.env, url);
  } else {
    // ssh stores take the signatures along with the paths, so sign here first. A user the local
    // daemon does not trust cannot: the copy then relies on the remote trusting the ssh user.
    await sign(signingKey.secretFile, [opts.storePath], opts.env).catch((err: unknown) => {
      if (!(err instanceof NixHugError)) throw err;
      opts.log.debug(`not signed locally: ${err.message}`);
    });
    await copyTo(url, [opts.storePath], opts.env, { ...(opts.signal ? { signal: opts.signal } : {}), noCheckSigs: true, ...(rejectedHint ? { rejectedHint } : {}) });
  }
  // Also the derivation that built it, with the sources and .drv files it needs (all content-
  // addressed): a user the Nix daemon does not trust cannot import the snapshot itself, but can
  // rebuild it from those (rebuild.ts).
  const drv = await localDerivation(opts.storePath, opts.env);
  if (drv) await copyTo(url, [drv], opts.env, { ...(opts.signal ? { signal: opts.signal } : {}), derivations: true, ...(rejectedHint ? { rejectedHint } : {}) });
  else opts.log.debug(`the derivation of ${opts.storePath} is not in the local store: exported without it`);
  // Nix got the same SIGINT and stopped; if the copy finished anyway, the paths are in the store unrecorded (harmless).
  if (opts.signal?.aborted) throw new InterruptedError(`exporting ${opts.key.repoId}`);
  const record: ExportRecord = {
    repoId: opts.key.repoId,
    type: opts.key.type,
    rev: opts.key.rev,
    filters: canonicalFilters(opts.key.filters),
    storePath: opts.storePath,
    exportedAt: (opts.now ?? new Date()).toISOString(),
    ...(opts.pin ? { fileTreeHash: opts.pin.fileTreeHash } : {}),
    ...(opts.pin && opts.pin.endpoint !== DEFAULT_ENDPOINT ? { endpoint: opts.pin.endpoint } : {}),
    publicKey: signingKey.publicKey,
  };
  const secretKey = { text: await readFile(signingKey.secretFile, 'utf8'), file: signingKey.secretFile };
  const slot = await publishRecord({ cfg: opts.cfg, env: opts.env, record, secretKey, rejectedHint: rejectedHint ?? `check that ${url} is writable` });
  opts.log.debug(`recorded as export record ${slot} in ${url}`);
  return { ...record, slot };
}

/** The `.drv` that built `storePath`, when Nix knows it and still has it. */
async function localDerivation(storePath: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const drv = (await pathInfo([storePath], env)).get(storePath)?.deriver;
  if (!drv) return null;
  return (await invalidPaths([drv], env)).has(drv) ? null : drv;
}
