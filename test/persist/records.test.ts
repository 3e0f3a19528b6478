/**
 * Export records (one per selection, the newest winning; strict checks that
 * ignore unknown fields) and the manifest files older versions wrote, which
 * are still read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { legacyManifestPath, readLegacyManifest } from '../../src/persist/legacy-manifest.ts';
import { canonicalFilters, checkRecord, entriesFor, findExact, latestPerSelection, type ExportRecord } from '../../src/persist/records.ts';
import { NixHugError } from '../../src/errors.ts';

function tmp(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-manifest-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function entry(over: Partial<ExportRecord> = {}): ExportRecord {
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

test('old manifest: where older versions kept it — beside a file:// cache, in the config dir for remote stores', () => {
  const base = { configDir: '/cfg/nix-hug', configFile: '/cfg/nix-hug/config', autoPersist: false };
  assert.equal(legacyManifestPath({ ...base, storeUrl: 'file:///persist', localDir: '/persist' }), '/persist/nix-hug-manifest.json');
  const s3 = legacyManifestPath({ ...base, storeUrl: 's3://bucket?region=x', localDir: null });
  assert.match(s3, /^\/cfg\/nix-hug\/manifests\/[0-9a-f]{16}-nix-hug-manifest\.json$/);
  // Parameters do not change the store, so they do not change the manifest; another store does.
  assert.equal(legacyManifestPath({ ...base, storeUrl: 's3://bucket', localDir: null }), s3);
  assert.notEqual(legacyManifestPath({ ...base, storeUrl: 's3://other', localDir: null }), s3);
});

test('records: one per (repo, type, rev, filters); the newest export wins, then the later slot', () => {
  const newer = entry({
    filters: { include: ['a', 'b', 'a'], exclude: [] },
    storePath: `/nix/store/${'c'.repeat(32)}-hf-model-org-model`,
    exportedAt: '2025-02-01T00:00:00.000Z',
  });
  const records = latestPerSelection([
    entry({ exportedAt: '2025-01-01T00:00:00.000Z' }),
    entry({ filters: { include: ['b', 'a'] }, exportedAt: '2025-01-02T00:00:00.000Z' }),
    entry({ type: 'dataset', exportedAt: '2025-01-03T00:00:00.000Z' }),
    // Same selection written differently (order, duplicates, empty lists): it replaces, it does not add.
    newer,
  ]);
  assert.equal(records.length, 3);
  const found = findExact(records, { repoId: 'org/model', type: 'model', rev: 'a'.repeat(40), filters: { include: ['b', 'a'] } });
  assert.equal(found?.storePath, newer.storePath);
  assert.deepEqual(
    entriesFor(records, 'org/model', 'model').map((e) => e.exportedAt),
    ['2025-02-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  );
  const tie = latestPerSelection([entry({ slot: 4, storePath: `/nix/store/${'d'.repeat(32)}-x` }), entry({ slot: 2 })]);
  assert.equal(tie[0]?.storePath, `/nix/store/${'d'.repeat(32)}-x`);
});

test('records: bad fields are named; unknown fields are ignored; optional fields are kept when well-formed', () => {
  const bad: Array<[unknown, RegExp]> = [
    [[], /not an object/],
    [{ ...entry(), repoId: '../../etc' }, /repoId must be/],
    [{ ...entry(), repoId: 'org/..' }, /repoId must be/],
    [{ ...entry(), type: 'spaces' }, /type must be/],
    [{ ...entry(), rev: 'main' }, /rev must be a 40-hex commit/],
    [{ ...entry(), storePath: '/etc/passwd' }, /storePath is not a store path/],
    [{ ...entry(), exportedAt: 'yesterday' }, /exportedAt is not a date/],
    [{ ...entry(), filters: { include: 'x' } }, /filters.include is not a list/],
  ];
  for (const [raw, re] of bad) assert.throws(() => checkRecord(raw), re);
  const r = checkRecord({ ...entry(), shinyNewField: { a: 1 }, fileTreeHash: `sha256-${'A'.repeat(43)}=`, endpoint: 'http://hub.lan', publicKey: 'junk' });
  assert.deepEqual(r, { ...entry(), fileTreeHash: `sha256-${'A'.repeat(43)}=`, endpoint: 'http://hub.lan' });
});

test('old manifest: its entries are read; a corrupt file is a clear error naming it, and is left untouched', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'nix-hug-manifest.json');
    assert.deepEqual(await readLegacyManifest(file), []);
    writeFileSync(file, JSON.stringify({ version: 1, storeUrl: 'file:///p', entries: [entry(), entry({ type: 'dataset' })] }));
    assert.deepEqual((await readLegacyManifest(file)).map((e) => e.type), ['model', 'dataset']);
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
      await assert.rejects(readLegacyManifest(file), (err: unknown) => {
        assert.ok(err instanceof NixHugError);
        assert.match(err.message, new RegExp(`^the manifest ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is corrupt: `));
        assert.match(err.message, re);
        assert.match(err.hint ?? '', /left untouched/);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), text);
      assert.equal(statSync(file).mtimeMs, before);
    }
    writeFileSync(file, JSON.stringify({ version: 7, entries: [] }));
    await assert.rejects(readLegacyManifest(file), /has version 7, written by a newer nix-hug/);
  } finally {
    t.cleanup();
  }
});

test('records: canonical filters', () => {
  assert.equal(canonicalFilters(null), null);
  assert.equal(canonicalFilters({}), null);
  assert.equal(canonicalFilters({ include: [] }), null);
  assert.deepEqual(canonicalFilters({ files: ['b', 'a'], include: [] }), { files: ['a', 'b'] });
});
