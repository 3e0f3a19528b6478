/**
 * The export index in the persist store, against real Nix: the objects
 * nix-hug writes itself are ones Nix reads and verifies (NAR, .narinfo,
 * signature); concurrent writers each get a slot of their own; records of
 * other versions are read or skipped with a reason, never fatal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from '../../src/nix/nix.ts';
import type { PersistConfig } from '../../src/settings/persist.ts';
import { claimSlot, decodeRecord, encodeRecord, probeSlots, publishBytes, publishRecord, readIndex, slotPath } from '../../src/persist/export-index.ts';
import { readExports } from '../../src/persist/exports.ts';
import { fileOfNar, narOfFile } from '../../src/persist/nar.ts';
import type { ExportRecord } from '../../src/persist/records.ts';
import { nixTestEnv, REPO_ROOT } from '../support/index.ts';

const helper = join(REPO_ROOT, 'test', 'support', 'publish-record.ts');

async function setup() {
  const nix = nixTestEnv();
  const root = mkdtempSync(join(tmpdir(), 'nix-hug-index-test-'));
  const persist = join(root, 'persist');
  const cfg: PersistConfig = { configDir: join(root, 'cfg'), configFile: join(root, 'cfg', 'config'), storeUrl: `file://${persist}`, localDir: persist, autoPersist: false };
  const secretFile = join(root, 'secret.key');
  const publicFile = join(root, 'public.key');
  const gen = await capture('nix-store', ['--generate-binary-cache-key', 'index-test-1', secretFile, publicFile], nix.env);
  assert.equal(gen.code, 0, gen.stderr);
  return {
    env: nix.env,
    root,
    persist,
    cfg,
    secretFile,
    publicKey: readFileSync(publicFile, 'utf8').trim(),
    secretKey: { text: readFileSync(secretFile, 'utf8'), file: secretFile },
    cleanup() {
      nix.cleanup();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function record(n: number, over: Partial<ExportRecord> = {}): ExportRecord {
  const hex = n.toString(16).padStart(2, '0');
  return {
    repoId: `org/repo-${n}`,
    type: 'model',
    rev: hex.repeat(20),
    filters: null,
    storePath: `/nix/store/${'a'.repeat(30)}${hex}-snapshot-${n}`,
    exportedAt: new Date(Date.UTC(2025, 0, 1, 0, n)).toISOString(),
    ...over,
  };
}

test('the NAR of a record file is the one nix-store --dump makes, and reads back', async () => {
  const s = await setup();
  try {
    for (const text of ['', 'x', '12345678', '{"a": "ünï"}\n', 'y'.repeat(1001)]) {
      const file = join(s.root, 'f');
      writeFileSync(file, text);
      const dumped = await new Promise<Buffer>((resolve, reject) => {
        const child = spawn('nix-store', ['--dump', file], { env: s.env, stdio: ['ignore', 'pipe', 'inherit'] });
        const chunks: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => chunks.push(c));
        child.on('error', reject);
        child.on('close', () => resolve(Buffer.concat(chunks)));
      });
      assert.deepEqual(narOfFile(Buffer.from(text)), dumped, JSON.stringify(text.slice(0, 20)));
      assert.equal(fileOfNar(dumped).toString(), text);
    }
    assert.throws(() => fileOfNar(narOfFile(Buffer.from('x')).subarray(0, 60)), /truncated/);
    assert.throws(() => fileOfNar(Buffer.concat([narOfFile(Buffer.from('x')), Buffer.alloc(8)])), /trailing bytes/);
  } finally {
    s.cleanup();
  }
});

test('slot paths are fixed forever: the same names and hashes in every store and version', () => {
  // Changing these would hide every record already written: never do.
  assert.equal(slotPath(0), '/nix/store/d6hdblxnpwcvy6lpml9hf9w1p7vl699v-nix-hug-export-0');
  assert.equal(slotPath(1), '/nix/store/qczznnhl97maxs9m4c8cl1qzb81bawgy-nix-hug-export-1');
  assert.equal(slotPath(64), '/nix/store/jcam4zir1aybh5gwha5ixbmv0d115ims-nix-hug-export-64');
});

test('a published record is a store object Nix reads, with a signature Nix verifies; the index reads it back', async () => {
  const s = await setup();
  try {
    const slot = await publishRecord({ cfg: s.cfg, env: s.env, record: record(1, { publicKey: s.publicKey }), secretKey: s.secretKey, rejectedHint: 'x' });
    assert.equal(slot, 0);
    const info = await capture('nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--json', '--sigs', '--store', s.cfg.storeUrl!, slotPath(0)], s.env);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /index-test-1:/);
    const verify = (key: string) =>
      capture('nix', ['--extra-experimental-features', 'nix-command', 'store', 'verify', '--store', s.cfg.storeUrl!, '--option', 'trusted-public-keys', key, slotPath(0)], s.env);
    const good = await verify(s.publicKey);
    assert.equal(good.code, 0, `Nix checks the contents and the signature: ${good.stderr}`);
    const other = await verify('other-1:' + Buffer.alloc(32, 7).toString('base64'));
    assert.notEqual(other.code, 0, 'signed by no other key');

    assert.equal(await publishRecord({ cfg: s.cfg, env: s.env, record: record(2), secretKey: s.secretKey, rejectedHint: 'x' }), 1);
    const index = await readIndex(s.cfg.storeUrl!, s.env);
    assert.deepEqual(index.skipped, []);
    assert.deepEqual(index.records, [{ ...record(1, { publicKey: s.publicKey }), slot: 0 }, { ...record(2), slot: 1 }]);
  } finally {
    s.cleanup();
  }
});

test('10 writer processes at once: 10 different slots, every record read back', async () => {
  const s = await setup();
  try {
    const go = join(s.root, 'go');
    const writers = Array.from({ length: 10 }, (_, i) =>
      capture(process.execPath, ['--import', 'tsx', helper, s.cfg.storeUrl!, s.secretFile, String(i), go], s.env),
    );
    await new Promise((r) => setTimeout(r, 1500)); // let tsx start, then release them together
    writeFileSync(go, '');
    const results = await Promise.all(writers);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(results.map((r) => Number(r.stdout.trim())).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const index = await readIndex(s.cfg.storeUrl!, s.env);
    assert.deepEqual(index.records.map((r) => r.repoId).sort(), Array.from({ length: 10 }, (_, i) => `org/repo-${i}`).sort());
    assert.deepEqual(readdirSync(s.persist).filter((n) => n.includes('.tmp-')), [], 'no temporary file left');
  } finally {
    s.cleanup();
  }
});

test('records of other versions: unknown fields ignored, a newer format or junk skipped with a reason, the rest still read', async () => {
  const s = await setup();
  try {
    const publish = (bytes: Buffer) => publishBytes({ cfg: s.cfg, env: s.env, secretKey: s.secretKey, rejectedHint: 'x' }, bytes);
    const withExtras = JSON.parse(encodeRecord(record(3)).toString()) as Record<string, unknown>;
    withExtras.sizeOnDisk = 12345; // a field a later version added
    withExtras.exportedBy = { host: 'gpu-box' };
    await publish(Buffer.from(JSON.stringify(withExtras)));
    await publish(Buffer.from(JSON.stringify({ ...withExtras, version: 2, repoId: 'org/from-the-future' })));
    await publish(Buffer.from('this is not json'));
    await publish(Buffer.from(JSON.stringify({ kind: 'nix-hug-export', version: 1, repoId: 'bad' })));
    await publishRecord({ cfg: s.cfg, env: s.env, record: record(4), secretKey: s.secretKey, rejectedHint: 'x' });
    assert.deepEqual(await probeSlots(s.cfg.storeUrl!, s.env), [0, 1, 2, 3, 4]);

    const index = await readIndex(s.cfg.storeUrl!, s.env);
    assert.deepEqual(index.records, [{ ...record(3), slot: 0 }, { ...record(4), slot: 4 }]);
    assert.deepEqual(index.skipped.map((x) => x.slot), [1, 2, 3]);
    assert.match(index.skipped[0]!.why, /written by a newer nix-hug \(record version 2; this one reads 1\): upgrade nix-hug/);
    assert.match(index.skipped[1]!.why, /not valid JSON/);
    assert.match(index.skipped[2]!.why, /repoId must be/);
    assert.deepEqual(decodeRecord(Buffer.from('{"kind": "other", "version": 1}')), { skipped: 'not a nix-hug export record' });

    // A damaged object (its NAR gone) is skipped; the others are still read.
    const narinfo = readFileSync(join(s.persist, `${slotPath(4).slice(11, 43)}.narinfo`), 'utf8');
    rmSync(join(s.persist, /^URL: (.*)$/m.exec(narinfo)![1]!));
    const damaged = await readIndex(s.cfg.storeUrl!, s.env);
    assert.deepEqual(damaged.records.map((r) => r.slot), [0]);
    assert.deepEqual(damaged.skipped.map((x) => x.slot), [1, 2, 3, 4]);
  } finally {
    s.cleanup();
  }
});

test('readExports: the index and an older version\'s manifest together, one record per selection, newest first', async () => {
  const s = await setup();
  try {
    await publishRecord({ cfg: s.cfg, env: s.env, record: record(5, { exportedAt: '2025-03-01T00:00:00.000Z' }), secretKey: s.secretKey, rejectedHint: 'x' });
    const old = [record(5, { exportedAt: '2025-02-01T00:00:00.000Z', storePath: `/nix/store/${'e'.repeat(32)}-older` }), record(6)];
    writeFileSync(join(s.persist, 'nix-hug-manifest.json'), JSON.stringify({ version: 1, storeUrl: s.cfg.storeUrl, entries: old }));
    const { records, notes } = await readExports(s.cfg, s.env, 'store ls');
    assert.deepEqual(notes, []);
    assert.deepEqual(records, [{ ...record(5, { exportedAt: '2025-03-01T00:00:00.000Z' }), slot: 0 }, record(6)]);
  } finally {
    s.cleanup();
  }
});

test('holes (records an ssh store collected): reading goes on until 64 free slots in a row; an export fills the lowest hole', async () => {
  const s = await setup();
  try {
    const opts = { cfg: s.cfg, env: s.env, secretKey: s.secretKey, rejectedHint: 'x' };
    for (const n of [0, 2, 65, 129, 300]) assert.equal(await claimSlot(opts, n, encodeRecord(record(n % 256))), true);
    // 3..64 (62 free), 66..128 (63 free): still read; 130..299 (170 free): the end.
    assert.deepEqual(await probeSlots(s.cfg.storeUrl!, s.env), [0, 2, 65, 129]);
    assert.equal(await publishRecord({ ...opts, record: record(7) }), 1);
    assert.deepEqual(await probeSlots(s.cfg.storeUrl!, s.env), [0, 1, 2, 65, 129]);
  } finally {
    s.cleanup();
  }
});
