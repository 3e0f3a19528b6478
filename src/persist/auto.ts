/**
 * `auto_persist` for `fetch`: before building, restore a collected snapshot
 * from the persist store; after building, export it. Both are no-ops unless
 * auto-persist is on. A failure here never fails the fetch: it is reported
 * and the fetch goes on (building from the Hub, or leaving the export out).
 */
import { InterruptedError, NixHugError } from '../errors.js';
import { waiting, type Logger } from '../ui/logger.js';
import type { Settings } from '../settings/index.js';
import { requireStore, type PersistConfig } from '../settings/persist.js';
import type { ExportPathRequest } from './export-path.js';
import type { SnapshotKey } from '../types.js';

/** The persist store's modules, loaded only when auto-persist is on: a fetch without it does not pay for them. */
async function persistModules() {
  const [confirm, exportPath, importEntries, exports, records, validity, store] = await Promise.all([
    import('./confirm.js'),
    import('./export-path.js'),
    import('./import-entries.js'),
    import('./exports.js'),
    import('./records.js'),
    import('../nix/validity.js'),
    import('./store.js'),
  ]);
  return { ...confirm, ...exportPath, ...importEntries, ...exports, ...records, ...validity, ...store };
}

export interface AutoPersistIO {
  /** The environment for nix, and the persist configuration. */
  settings: Pick<Settings, 'env' | 'persist'>;
  log: Logger;
  /** The command's interrupt: stops the restore or the export, and is never taken for their failure. */
  signal?: AbortSignal;
}

/** A failure of auto-persist is a note, unless it was the user stopping the command. */
function rethrowIfInterrupted(io: AutoPersistIO, err: unknown, what: string): void {
  if (!io.signal?.aborted) return;
  throw err instanceof InterruptedError ? err : new InterruptedError(what);
}

async function activeConfig(io: AutoPersistIO): Promise<PersistConfig | null> {
  const cfg = await io.settings.persist();
  if (!cfg.autoPersist) return null;
  requireStore(cfg, 'fetch` with auto_persist');
  return cfg;
}

function describe(err: unknown): string {
  return err instanceof NixHugError ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : String(err);
}

/**
 * With auto-persist: the snapshot's store path when the store's index has this
 * exact (repo, rev, filters) and the path is (now) valid — imported from the
 * persist store if it had been collected. Null when there is nothing to
 * restore or the restore failed (then build as usual). The caller should
 * still run its build: it is a no-op for a valid path, and it settles the
 * path if the library changed since the export (the restored LFS blobs then
 * spare the downloads).
 */
export async function restoreIfPersisted(io: AutoPersistIO, key: SnapshotKey): Promise<string | null> {
  const cfg = await activeConfig(io); // a broken configuration is an error, not a warning
  if (!cfg) return null;
  try {
    const { canPrompt, confirmOnTty, findExact, importEntries, invalidPaths, readExports } = await persistModules();
    const entry = findExact((await readExports(cfg, io.settings.env, 'fetch')).records, key);
    if (!entry) return null;
    const invalid = await invalidPaths([entry.storePath], io.settings.env);
    if (!invalid.has(entry.storePath)) return entry.storePath;
    io.log.info(`restoring ${entry.repoId}@${entry.rev.slice(0, 7)} from ${cfg.storeUrl}`);
    const [outcome] = await importEntries({
      cfg,
      env: io.settings.env,
      log: io.log,
      entries: [entry],
      trust: { yes: false, confirm: canPrompt() ? confirmOnTty : null },
      ...(io.signal ? { signal: io.signal } : {}),
    });
    rethrowIfInterrupted(io, outcome?.error, `restoring ${entry.repoId} from ${cfg.storeUrl}`);
    if (outcome?.status === 'imported' || outcome?.status === 'already-valid') return entry.storePath;
    io.log.warn(`could not restore from the persist store, fetching from the Hub instead: ${describe(outcome?.error)}`);
    return null;
  } catch (err) {
    rethrowIfInterrupted(io, err, `restoring ${key.repoId} from ${cfg.storeUrl}`);
    io.log.warn(`could not restore from the persist store, fetching from the Hub instead: ${describe(err)}`);
    return null;
  }
}

/**
 * With auto-persist: exports the built snapshot, unless the index already
 * records this very path and the persist store still holds it.
 */
export async function persistAfterBuild(io: AutoPersistIO, key: SnapshotKey, storePath: string, pin?: ExportPathRequest['pin']): Promise<void> {
  const cfg = await activeConfig(io);
  if (!cfg) return;
  try {
    const { exportPath, findExact, readExports, validIn } = await persistModules();
    const url = requireStore(cfg, 'fetch');
    const entry = findExact((await readExports(cfg, io.settings.env, 'fetch')).records, key);
    // A record from an older version's manifest is published again, into the index other machines read.
    if (entry?.storePath === storePath && entry.slot !== undefined && (await validIn(url, [storePath], io.settings.env)).has(storePath)) {
      io.log.debug(`already persisted in ${url}: ${storePath}`);
      return;
    }
    await exportPath({ cfg, env: io.settings.env, log: io.log, key, storePath, command: 'fetch', ...(pin ? { pin } : {}), ...(io.signal ? { signal: io.signal } : {}) });
    io.log.info(`persisted to ${url}`);
  } catch (err) {
    rethrowIfInterrupted(io, err, `persisting ${key.repoId} to ${cfg.storeUrl}`);
    io.log.warn(`the snapshot was built but could not be persisted: ${describe(err)}`);
  }
}

/**
 * A build with auto-persist around it: a collected snapshot restored from
 * the persist store first (the build is then a no-op), the result exported
 * after. Without auto-persist, just the build. `step` names each phase for
 * the message of an interrupted command.
 */
export async function buildWithAutoPersist(
  io: AutoPersistIO,
  key: SnapshotKey,
  pin: ExportPathRequest['pin'],
  build: () => Promise<string>,
  step: (what: string) => void = () => undefined,
): Promise<string> {
  const what = `${key.type} ${key.repoId}`;
  step(`restoring ${what} from the persist store`);
  await waiting(io.log, `looking for ${what} in the persist store (auto_persist)`, restoreIfPersisted(io, key));
  step(`building ${what}`);
  const storePath = await build();
  step(`persisting ${what}`);
  await waiting(io.log, 'copying the snapshot to the persist store (auto_persist)', persistAfterBuild(io, key, storePath, pin));
  return storePath;
}
