/**
 * A Hub emulator serving one model of seeded LFS files, for the tests that
 * download blobs into the store themselves: the file to fetch for each
 * path, and a close that removes from the store whatever of them landed.
 */
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import type { BlobToFetch } from '../../src/build/blob-download.ts';
import { blobStorePath } from '../../src/nix/store-path.ts';
import { fileSha, seeded } from './hub.ts';
import { collect, isValidPath } from './nix.ts';

export interface BlobHub {
  hub: RunningHub;
  /** `path` of the model as the downloaders get it: its resolve URL at main, sha256 and size. */
  blob(path: string): BlobToFetch;
  /** Deletes the blobs that reached the store (`nixEnv`: the test's Nix), then stops the emulator. */
  close(nixEnv: NodeJS.ProcessEnv): Promise<void>;
}

/** `files` of `size` bytes each, fresh bytes per run (a salt), beside a config.json. */
export async function startBlobHub(id: string, files: readonly string[], size: number): Promise<BlobHub> {
  const salt = String(process.hrtime.bigint());
  const hub = await startHub({ repos: [{ id, commits: [{ files: Object.fromEntries([['config.json', '{}\n'], ...files.map((f) => [f, seeded(`${id}-${salt}-${f}`, size)])]) }] }] });
  return {
    hub,
    blob(path) {
      const rev = hub.repo(id).refs['main']!;
      return { path, url: `${hub.url}/${id}/resolve/${rev}/${path}`, lfs: { sha256: fileSha(hub, { id }, path), size } };
    },
    async close(nixEnv) {
      const valid: string[] = [];
      for (const f of files) {
        const p = blobStorePath(fileSha(hub, { id }, f));
        if (await isValidPath(nixEnv, p)) valid.push(p);
      }
      if (valid.length > 0) await collect(nixEnv, valid);
      await hub.close();
    },
  };
}
