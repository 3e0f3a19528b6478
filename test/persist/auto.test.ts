/**
 * auto_persist: the two hooks `fetch` calls around its build, driven through
 * the same pipeline (pin → restore → build → persist) against the Hub
 * emulator and real Nix. A collected snapshot comes back from the persist
 * store without a single download from the Hub.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, nixTestEnv, type NixTestEnv, STUB_DIR, collect, isValidPath, readTree, RUN, seeded } from '../support/index.ts';
import { createContext } from '../../src/commands/context.ts';
import { buildSnapshot } from '../../src/build/build.ts';
import { parsePinRequest, pinRepo } from '../../src/pin/pin.ts';
import { snapshotKey } from '../../src/types.ts';
import { persistAfterBuild, restoreIfPersisted } from '../../src/persist/auto.ts';
import { readIndex } from '../../src/persist/export-index.ts';
import { copyTo } from '../../src/persist/store.ts';
import { createLogger } from '../../src/ui/logger.ts';

const REPO = `persist-auto-${RUN}/model`;

let hub: RunningHub;
let nix: NixTestEnv;

before(async () => {
  hub = await startHub({
    repos: [
      {
        id: REPO,
        commits: [
          {
            files: {
              'config.json': '{"auto":true}\n',
              'model.safetensors': seeded('auto-st', 30_000),
              'extra.bin': seeded('auto-bin', 7_000),
            },
          },
        ],
      },
    ],
  });
  nix = nixTestEnv();
});
after(async () => {
  await hub?.close();
  nix?.cleanup();
});

const NO_FILTERS = { include: [], exclude: [], file: [] };

test('auto-persist: fetch exports after building, and restores a collected snapshot with no download from the Hub', async () => {
  const c = cliEnv({ HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR, NIX_CONFIG: nix.env.NIX_CONFIG, NIX_HUG_AUTO_PERSIST: 'true' });
  const env = { ...c.env, NIX_HUG_PERSIST_DIR: join(c.env.HOME!, 'persist') };
  try {
    const ctx = createContext({ env, quiet: true });
    const io = { settings: ctx.settings, log: ctx.logger };
    const pin = () => pinRepo(ctx.hub(), parsePinRequest(REPO, { ...NO_FILTERS, include: ['*.safetensors'] }, ctx.settings.endpoint()), ctx.settings, ctx.logger);

    // First fetch: nothing persisted yet, so it builds from the Hub, then exports.
    const pinned = await pin();
    const key = snapshotKey(pinned.pin);
    assert.equal(await restoreIfPersisted(io, key), null);
    const storePath = await buildSnapshot(ctx, pinned, { quiet: true }).finally(() => pinned.checkout.dispose());
    // An older nix-hug recorded this very export in its manifest: it is recorded again, in the index other machines read.
    mkdirSync(env.NIX_HUG_PERSIST_DIR, { recursive: true });
    const legacy = { ...key, filters: { include: ['.*\\.safetensors'] }, storePath, exportedAt: '2024-01-01T00:00:00.000Z' };
    writeFileSync(join(env.NIX_HUG_PERSIST_DIR, 'nix-hug-manifest.json'), JSON.stringify({ version: 1, entries: [legacy] }));
    await copyTo(`file://${env.NIX_HUG_PERSIST_DIR}`, [storePath], nix.env);
    await persistAfterBuild(io, key, storePath, { fileTreeHash: pinned.pin.fileTreeHash, endpoint: pinned.pin.endpoint });
    const storeUrl = `file://${env.NIX_HUG_PERSIST_DIR}`;
    const recorded = (await readIndex(storeUrl, nix.env)).records;
    assert.deepEqual(
      recorded.map((e) => [e.storePath, e.filters, e.fileTreeHash, e.endpoint]),
      [[storePath, { include: ['.*\\.safetensors'] }, pinned.pin.fileTreeHash, hub.url]],
    );
    const before = readTree(storePath);

    // A second fetch of a snapshot already persisted exports nothing again.
    await persistAfterBuild(io, key, storePath);
    assert.deepEqual((await readIndex(storeUrl, nix.env)).records, recorded);

    // Garbage collection takes the snapshot and its blob.
    const blob = blobOf(join(storePath, 'model.safetensors'));
    await collect(nix.env, [blob]);
    assert.equal(await isValidPath(nix.env, storePath), false);

    hub.resetStats();
    const again = await pin();
    const restored = await restoreIfPersisted(io, key);
    assert.equal(restored, storePath);
    assert.equal(await isValidPath(nix.env, storePath), true);
    // The build after the restore is a no-op: nothing is downloaded.
    assert.equal(await buildSnapshot(ctx, again, { quiet: true }).finally(() => again.checkout.dispose()), storePath);
    const downloads = hub.requests.filter((r) => r.route === 'resolve' || r.route === 'cdn');
    assert.deepEqual(downloads, [], 'no request to the resolve or CDN routes');
    assert.deepEqual(readTree(storePath), before);
  } finally {
    c.cleanup();
  }
});

test('auto-persist off: the hooks do nothing, even with a persist store and a matching entry', async () => {
  const c = cliEnv({ HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR, NIX_CONFIG: nix.env.NIX_CONFIG, NIX_HUG_AUTO_PERSIST: 'false' });
  const env = { ...c.env, NIX_HUG_PERSIST_DIR: join(c.env.HOME!, 'persist') };
  try {
    const ctx = createContext({ env, quiet: true });
    const key = { repoId: REPO, type: 'model' as const, rev: hub.repo(REPO).commits[0]!, filters: null };
    const file = join(env.NIX_HUG_PERSIST_DIR, 'nix-hug-manifest.json');
    const gone = '/nix/store/00000000000000000000000000000000-collected';
    mkdirSync(env.NIX_HUG_PERSIST_DIR, { recursive: true });
    writeFileSync(file, JSON.stringify({ version: 1, entries: [{ ...key, storePath: gone, exportedAt: new Date().toISOString() }] }));
    const manifest = readFileSync(file, 'utf8');
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => void lines.push(l) });
    assert.equal(await restoreIfPersisted({ settings: ctx.settings, log }, key), null);
    await persistAfterBuild({ settings: ctx.settings, log }, key, '/nix/store/11111111111111111111111111111111-built');
    assert.equal(readFileSync(file, 'utf8'), manifest);
    assert.deepEqual(readdirSync(env.NIX_HUG_PERSIST_DIR), ['nix-hug-manifest.json'], 'nothing was exported');
    assert.deepEqual(lines, []);
  } finally {
    c.cleanup();
  }
});

test('auto-persist on without a persist store is a configuration error', async () => {
  const c = cliEnv({ NIX_HUG_AUTO_PERSIST: 'true' });
  try {
    const ctx = createContext({ env: c.env, quiet: true });
    const key = { repoId: REPO, type: 'model' as const, rev: 'a'.repeat(40), filters: null };
    await assert.rejects(restoreIfPersisted({ settings: ctx.settings, log: ctx.logger }, key), /needs a persist store, and none is configured/);
  } finally {
    c.cleanup();
  }
});

/** The blob store path an LFS file of a snapshot links to. */
function blobOf(p: string): string {
  return readlinkSync(p).split('/').slice(0, 4).join('/');
}
