/**
 * Restores exported snapshots into the local Nix store. Paths already valid
 * are reported, not copied. Signatures are verified (nix-hug's own public
 * key is trusted for the run, on top of the user's `trusted-public-keys`);
 * a store Nix does not trust is only imported with `--no-check-sigs` after
 * the user said so (the prompt, or `--yes`). When the Nix daemon refuses the
 * snapshot all the same (from a user it does not trust it takes no
 * input-addressed path without a signature by a key of its own), the
 * snapshot is rebuilt from its exported, content-addressed inputs
 * (rebuild.ts); failing that, the error says what an administrator must add.
 */
import { InterruptedError, NixHugError } from '../errors.js';
import type { Logger } from '../ui/logger.js';
import type { PersistConfig } from '../settings/persist.js';
import { requireStore } from '../settings/persist.js';
import { readSigningKey } from './keys.js';
import type { ExportRecord } from './records.js';
import { rebuildFromStore } from './rebuild.js';
import { invalidPaths } from '../nix/validity.js';
import { copyFrom, isSignatureRejection, validIn, verifyTrust } from './store.js';

export interface TrustPolicy {
  /** `--yes`: trust an unsigned or foreign-signed store without asking. */
  yes: boolean;
  /**
   * Asks the user (on a TTY) whether to trust the store for this run; null
   * when there is no terminal to ask on.
   */
  confirm: ((question: string) => Promise<boolean>) | null;
}

export type ImportStatus = 'imported' | 'already-valid' | 'failed';

/** How an imported path was verified: `signed` (signatures checked) or `trusted` (the user waived the check). */
export type Verified = 'signed' | 'trusted';

export interface ImportOutcome {
  entry: ExportRecord;
  status: ImportStatus;
  verified?: Verified;
  /** Built again from its content-addressed inputs, as the Nix daemon would not take it as it was. */
  rebuilt?: boolean;
  error?: NixHugError;
}

export interface ImportOptions {
  cfg: PersistConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  entries: ExportRecord[];
  trust: TrustPolicy;
  /** Ctrl-C: stops the copy under way and throws InterruptedError (no outcome is a failure of the entry). */
  signal?: AbortSignal;
}

/** The refusal when nobody can confirm: the message a script sees. */
export function untrustedRefusal(storeUrl: string, untrusted: string[], signer?: string): NixHugError {
  const which = untrusted.length === 1 ? `${untrusted[0]} is` : `${untrusted.length} paths are`;
  return new NixHugError(
    `refusing to import from ${storeUrl}: ${which} not signed by a key you trust, and there is no terminal to confirm`,
    `pass --yes to trust this store for this import, or trust the exporting machine's key in nix.conf: ${trustKeyAdvice(signer)}`,
  );
}

/** How to trust the key of the machine that exported (its record names it; `nix-hug store key` there prints it). */
export function trustKeyAdvice(signer: string | undefined): string {
  return signer
    ? `\`extra-trusted-public-keys = ${signer}\` (the key its export record names: compare it with \`nix-hug store key\` on that machine)`
    : 'add the line `nix-hug store key` prints on that machine';
}

/**
 * The daemon refused a path for its signatures whatever the client said (the user is not one of
 * its trusted-users, and no key it trusts signed the path), and it could not be rebuilt: what an
 * administrator can do, with the key that signed the export.
 */
export function daemonRefusal(path: string, rebuildFailure: string, signer: string | undefined): NixHugError {
  const key = signer ?? '<the key `nix-hug store key` prints on the machine that exported it>';
  return new NixHugError(
    `the Nix daemon does not accept ${path} from you: from a user it does not trust it takes a store path only when a key it trusts signed it, ` +
      `and the path could not be rebuilt here instead (${rebuildFailure})`,
    `ask an administrator to add this line to /etc/nix/nix.conf and restart the daemon (systemctl restart nix-daemon): extra-trusted-public-keys = ${key}` +
      ` — on NixOS: nix.settings.trusted-public-keys = [ "${key}" ];`,
  );
}

/** Imports each entry; never throws for one entry's failure (see each outcome). */
export async function importEntries(opts: ImportOptions): Promise<ImportOutcome[]> {
  const url = requireStore(opts.cfg, 'import');
  const key = await readSigningKey(opts.cfg.configDir);
  const trustedKeys = key ? [key.publicKey] : [];
  const paths = [...new Set(opts.entries.map((e) => e.storePath))];
  const invalid = await invalidPaths(paths, opts.env);
  const pending = paths.filter((p) => invalid.has(p));
  const inStore = await validIn(url, pending, opts.env);

  const signal = opts.signal ? { signal: opts.signal } : {};

  // One decision per run: once the user trusted (or refused) the store, keep to it.
  let decision: boolean | null = opts.trust.yes ? true : null;
  type Done = { verified: Verified; rebuilt: boolean };
  const done = new Map<string, Done | NixHugError>();

  /** Copies `path` in; when the daemon refuses it for its signatures, rebuilds it from its inputs. */
  const restore = async (path: string, verified: Verified, signer: string | undefined): Promise<Done | NixHugError> => {
    try {
      await copyFrom(url, [path], opts.env, { trustedKeys, noCheckSigs: verified === 'trusted', ...signal });
      return { verified, rebuilt: false };
    } catch (err) {
      if (!(err instanceof NixHugError) || !isSignatureRejection(err.message)) throw err;
      opts.log.debug(`${err.message}; rebuilding it from its content-addressed inputs`);
    }
    const rebuilt = await rebuildFromStore({ storeUrl: url, path, env: opts.env, ...signal });
    if (rebuilt.ok) return { verified, rebuilt: true };
    return daemonRefusal(path, rebuilt.reason, signer);
  };

  const importOne = async (path: string, signer: string | undefined): Promise<Done | NixHugError> => {
    if (!inStore.has(path)) {
      return new NixHugError(`${path} is not in the persist store ${url}`, 'export it again with `nix-hug export` (the store may have been cleaned)');
    }
    try {
      const trust = await verifyTrust(url, [path], opts.env, trustedKeys);
      if (trust.trusted) return await restore(path, 'signed', signer);
      if (decision === null) {
        if (opts.trust.confirm === null) {
          decision = false;
        } else {
          opts.log.warn(
            `${url} holds paths not signed by a key you trust (e.g. ${trust.untrusted[0]}); importing them skips Nix's signature check (--no-check-sigs).`,
          );
          decision = await opts.trust.confirm(`Trust ${url} for this import? [y/N] `);
        }
      }
      if (!decision) {
        return opts.trust.confirm === null
          ? untrustedRefusal(url, trust.untrusted, signer)
          : new NixHugError(`not imported: you did not trust ${url}`, 'run again and answer y, or pass --yes');
      }
      return await restore(path, 'trusted', signer);
    } catch (err) {
      if (err instanceof NixHugError && !(err instanceof InterruptedError)) return err;
      throw err;
    }
  };

  const outcomes: ImportOutcome[] = [];
  for (const entry of opts.entries) {
    const p = entry.storePath;
    if (!invalid.has(p)) {
      outcomes.push({ entry, status: 'already-valid' });
      continue;
    }
    if (!done.has(p)) done.set(p, await importOne(p, entry.publicKey));
    const result = done.get(p)!;
    if (result instanceof NixHugError) outcomes.push({ entry, status: 'failed', error: result });
    else outcomes.push({ entry, status: 'imported', verified: result.verified, ...(result.rebuilt ? { rebuilt: true } : {}) });
  }
  return outcomes;
}
