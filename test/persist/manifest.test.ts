import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canonicalFilters,
  entriesFor,
  findExact,
  manifestPath,
  parseManifest,
  readManifest,
  recordExport,
  type ManifestEntry,
} from '../../src/persist/manifest.ts';
import { withLock } from '../../src/persist/lock.ts';
import { NixHugError } from '../../src/errors.ts';

const helper = join(import.meta.dirname, 'helpers', 'record-entry.ts');

function tmp(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-manifest-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function entry(over: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    repoId: 'org/model',
    type: 'model',
    rev: 'a'.repeat(40),
    filters: null,
    storePath: `/nix/store/${'b'.repeat(32)}-hf-model-org-model`,
    exportedAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('manifest: where it lives — beside a file:// cache, in the config dir for remote stores', () => {
  const base = { configDir: '/cfg/nix-hug', configFile: '/cfg/nix-hug/config', autoPersist: false };
  assert.equal(manifestPath({ ...base, storeUrl: 'file:///persist', localDir: '/persist' }), '/persist/nix-hug-manifest.json');
  const s3 = manifestPath({ ...base, storeUrl: 's3://bucket?region=x', localDir: null });
  assert.match(s3, /^\/cfg\/nix-hug\/manifests\/[0-9a-f]{16}-nix-hug-manifest\.json$/);
  // Parameters do not change the store, so they do not change the manifest; another store does.
  assert.equal(manifestPath({ ...base, storeUrl: 's3://bucket', localDir: null }), s3);
  assert.notEqual(manifestPath({ ...base, storeUrl: 's3://other', localDir: null }), s3);
});

test('manifest: one entry per (repo, type, rev, filters); the newest export wins', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'nix-hug-manifest.json');
    assert.deepEqual(await readManifest(file), []);
    await recordExport(file, 'file:///p', entry({ exportedAt: '2025-01-01T00:00:00.000Z' }));
    await recordExport(file, 'file:///p', entry({ filters: { include: ['b', 'a'] }, exportedAt: '2025-01-02T00:00:00.000Z' }));
    await recordExport(file, 'file:///p', entry({ type: 'dataset', exportedAt: '2025-01-03T00:00:00.000Z' }));
    // Same selection written differently (order, duplicates, empty lists): replaces, does not add.
    const newer = entry({
      filters: { include: ['a', 'b', 'a'], exclude: [] },
      storePath: `/nix/store/${'c'.repeat(32)}-hf-model-org-model`,
      exportedAt: '2025-02-01T00:00:00.000Z',
    });
    await recordExport(file, 'file:///p', newer);
    const entries = await readManifest(file);
    assert.equal(entries.length, 3);
    const found = findExact(entries, { repoId: 'org/model', type: 'model', rev: 'a'.repeat(40), filters: { include: ['b', 'a'] } });
    assert.equal(found?.storePath, newer.storePath);
    assert.deepEqual(found?.filters, { include: ['a', 'b'] });
    assert.deepEqual(
      entriesFor(entries, 'org/model', 'model').map((e) => e.exportedAt),
      ['2025-02-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    );
    const json = JSON.parse(readFileSync(file, 'utf8')) as { version: number; storeUrl: string };
    assert.equal(json.version, 1);
    assert.equal(json.storeUrl, 'file:///p');
    // No temporary or lock file is left behind.
    assert.deepEqual(readdirSync(t.dir), ['nix-hug-manifest.json']);
  } finally {
    t.cleanup();
  }
});

test('manifest: 10 concurrent writer processes leave 10 entries and valid JSON', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'nix-hug-manifest.json');
    const go = join(t.dir, 'go');
    const writers = Array.from({ length: 10 }, (_, i) => run([helper, file, String(i), go]));
    // Let the processes start (tsx takes a moment), then release them together.
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(go, '');
    const results = await Promise.all(writers);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const entries = parseManifest(readFileSync(file, 'utf8'), file).entries;
    assert.equal(entries.length, 10);
    assert.deepEqual(entries.map((e) => e.repoId).sort(), Array.from({ length: 10 }, (_, i) => `org/repo-${i}`).sort());
    assert.deepEqual(readdirSync(t.dir).sort(), ['go', 'nix-hug-manifest.json']);
  } finally {
    t.cleanup();
  }
});

test('manifest: a corrupt file is a clear error naming it, and is left untouched', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'nix-hug-manifest.json');
    const bad = [
      ['{"version": 1, "entries": [', /not valid JSON/],
      ['[]', /expected a JSON object/],
      ['{"entries": []}', /no "version" number/],
      ['{"version": 1, "entries": [{"repoId": "org/x"}]}', /entry 0: type must be/],
      [JSON.stringify({ version: 1, entries: [{ ...entry(), rev: 'main' }] }), /entry 0: rev must be a 40-hex commit/],
    ] as const;
    for (const [text, re] of bad) {
      writeFileSync(file, text);
      const before = statSync(file).mtimeMs;
      await assert.rejects(recordExport(file, 'file:///p', entry()), (err: unknown) => {
        assert.ok(err instanceof NixHugError);
        assert.match(err.message, new RegExp(`^the manifest ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is corrupt: `));
        assert.match(err.message, re);
        assert.match(err.hint ?? '', /left untouched/);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), text);
      assert.equal(statSync(file).mtimeMs, before);
      await assert.rejects(readManifest(file), /is corrupt/);
    }
    assert.deepEqual(readdirSync(t.dir), ['nix-hug-manifest.json']);
    writeFileSync(file, JSON.stringify({ version: 7, entries: [] }));
    await assert.rejects(recordExport(file, 'file:///p', entry()), /has version 7, written by a newer nix-hug/);
  } finally {
    t.cleanup();
  }
});

test('lock: a lock left by a dead process is broken; a live holder makes others wait, within a bound', async () => {
  const t = tmp();
  try {
    const lock = join(t.dir, 'm.lock');
    // A pid that cannot be alive: the lock is stale at once.
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), token: 'x', at: Date.now() }));
    assert.equal(await withLock(lock, async () => 'ran'), 'ran');
    assert.equal(existsSync(lock), false);

    // Another host's lock: its pid cannot be checked, so only its age makes it stale.
    writeFileSync(lock, JSON.stringify({ pid: 1, host: 'some-other-host', token: 'y', at: 0 }));
    await assert.rejects(withLock(lock, async () => 'never', { timeoutMs: 200, staleMs: 60_000 }), /timed out/);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    assert.equal(await withLock(lock, async () => 'ran', { staleMs: 60_000 }), 'ran');
    assert.equal(existsSync(lock), false);

    // Held by a live process (us): a second taker times out with a clear error.
    await withLock(lock, async () => {
      await assert.rejects(withLock(lock, async () => 'never', { timeoutMs: 300 }), /timed out after 0 s waiting for the lock .*m\.lock/);
    });
    // Serialized: overlapping critical sections never interleave.
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLock(lock, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    assert.equal(maxInside, 1);
  } finally {
    t.cleanup();
  }
});

test('manifest: canonical filters', () => {
  assert.equal(canonicalFilters(null), null);
  assert.equal(canonicalFilters({}), null);
  assert.equal(canonicalFilters({ include: [] }), null);
  assert.deepEqual(canonicalFilters({ files: ['b', 'a'], include: [] }), { files: ['a', 'b'] });
});
