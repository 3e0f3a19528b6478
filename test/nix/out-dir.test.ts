import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readFileSync, readlinkSync, lstatSync, readdirSync, chmodSync, statSync, existsSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyOut, checkOutDir, checkOutEmpty, outRecordConflict, type OutMetadata } from '../../src/out-dir.ts';

const meta: OutMetadata = {
  repoId: 'org/repo',
  type: 'model',
  rev: 'a'.repeat(40),
  filters: null,
  storePath: '/nix/store/x-hf-model',
  exportedAt: '2026-01-01T00:00:00.000Z',
};

/** A read-only snapshot like the library builds: a real file, a folder, and a link to a "blob" elsewhere. */
function fakeSnapshot(root: string): string {
  const blob = join(root, 'blob');
  writeFileSync(blob, 'weights');
  const snap = join(root, 'snap');
  mkdirSync(join(snap, 'sub'), { recursive: true });
  writeFileSync(join(snap, 'config.json'), '{}');
  writeFileSync(join(snap, 'sub', 'a b.txt'), 'x');
  symlinkSync(blob, join(snap, 'model.safetensors'));
  for (const p of [join(snap, 'config.json'), join(snap, 'sub', 'a b.txt'), blob]) chmodSync(p, 0o444);
  chmodSync(join(snap, 'sub'), 0o555);
  chmodSync(snap, 0o555);
  return snap;
}

test('--out copies real, writable files and writes .nix-hug.json', async () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  try {
    const snap = fakeSnapshot(root);
    const dest = join(root, 'dest', 'model');
    await copyOut({ storePath: snap, dir: dest, override: false, metadata: meta, home: homedir() });
    assert.equal(readFileSync(join(dest, 'model.safetensors'), 'utf8'), 'weights');
    assert.ok(lstatSync(join(dest, 'model.safetensors')).isFile(), 'links are followed');
    assert.ok(statSync(join(dest, 'sub', 'a b.txt')).mode & 0o200, 'files are writable');
    assert.deepEqual(JSON.parse(readFileSync(join(dest, '.nix-hug.json'), 'utf8')), meta);
    assert.deepEqual(readdirSync(join(root, 'dest')), ['model'], 'no temporary sibling left behind');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--out refuses a non-empty directory without --override and keeps it intact; replaces it with --override', async () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  try {
    const snap = fakeSnapshot(root);
    const dest = join(root, 'dest');
    mkdirSync(dest);
    writeFileSync(join(dest, 'mine.txt'), 'keep me');
    await assert.rejects(copyOut({ storePath: snap, dir: dest, override: false, metadata: meta, home: homedir() }), /not empty.*|exists/);
    assert.equal(readFileSync(join(dest, 'mine.txt'), 'utf8'), 'keep me');
    await copyOut({ storePath: snap, dir: dest, override: true, metadata: meta, home: homedir() });
    assert.ok(!existsSync(join(dest, 'mine.txt')));
    assert.equal(readFileSync(join(dest, 'config.json'), 'utf8'), '{}');
    assert.deepEqual(readdirSync(root).sort(), ['blob', 'dest', 'snap']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a failed copy leaves neither the target nor a temporary sibling', async () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  try {
    const snap = join(root, 'snap');
    mkdirSync(snap);
    symlinkSync(join(root, 'missing'), join(snap, 'dangling'));
    await assert.rejects(copyOut({ storePath: snap, dir: join(root, 'dest'), override: false, metadata: meta, home: homedir() }), /could not copy/);
    assert.deepEqual(readdirSync(root), ['snap']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('stale temporaries of a killed copy are cleaned on the next run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  try {
    const snap = fakeSnapshot(root);
    const stale = join(root, '.dest.nix-hug-tmp-999999999-abcd1234');
    mkdirSync(stale);
    writeFileSync(join(stale, 'half'), 'x');
    await copyOut({ storePath: snap, dir: join(root, 'dest'), override: false, metadata: meta, home: homedir() });
    assert.ok(!existsSync(stale));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('system directories, $HOME, / and the store are refused', () => {
  const home = '/home/someone';
  for (const dir of ['/', '/home/someone', '/etc', '/usr', '/lib64', '/lib', '/nix', '/nix/store', '/nix/store/abc-x', '/tmp', '/var', '/root']) {
    assert.throws(() => checkOutDir(dir, home), /refusing --out/, dir);
  }
  assert.equal(checkOutDir('/tmp/models/x', home), '/tmp/models/x');
  assert.equal(checkOutDir('/home/someone/models', home), '/home/someone/models');
});

test('the user\'s copy left aside by a run killed between its two renames is put back, never deleted', async () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  try {
    const snap = fakeSnapshot(root);
    const dest = join(root, 'dest');
    // A run killed after `rename(dest, old)` and before `rename(tmp, dest)`: old is the only copy.
    const old = join(root, '.dest.nix-hug-old-999999999-abcd1234');
    mkdirSync(old);
    writeFileSync(join(old, 'mine.txt'), 'keep me');
    await assert.rejects(copyOut({ storePath: snap, dir: dest, override: false, metadata: meta, home: homedir() }), /not empty/);
    assert.equal(readFileSync(join(dest, 'mine.txt'), 'utf8'), 'keep me', 'DIR is back');
    assert.deepEqual(readdirSync(root).sort(), ['blob', 'dest', 'snap']);
    // The same found by the check fetch makes before downloading anything.
    rmSync(dest, { recursive: true });
    mkdirSync(old);
    writeFileSync(join(old, 'mine.txt'), 'keep me too');
    await assert.rejects(checkOutEmpty(dest, false, homedir()), /not empty/);
    assert.equal(readFileSync(join(dest, 'mine.txt'), 'utf8'), 'keep me too');
    // With --override the user asked for the replacement.
    await copyOut({ storePath: snap, dir: dest, override: true, metadata: meta, home: homedir() });
    assert.equal(readFileSync(join(dest, 'config.json'), 'utf8'), '{}');
    assert.deepEqual(readdirSync(root).sort(), ['blob', 'dest', 'snap']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a repository file named .nix-hug.json is never overwritten by the record', async () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  try {
    const snap = join(root, 'snap');
    mkdirSync(snap);
    writeFileSync(join(snap, '.nix-hug.json'), '{"theirs":true}');
    writeFileSync(join(snap, 'config.json'), '{}');
    const dest = join(root, 'dest');
    await assert.rejects(copyOut({ storePath: snap, dir: dest, override: false, metadata: meta, home: homedir() }), /has its own '\.nix-hug\.json'/);
    assert.deepEqual(readdirSync(root).sort(), ['snap'], 'no DIR, no temporary sibling');
    assert.equal(outRecordConflict(['config.json', '.nix-hug.json']), '.nix-hug.json');
    assert.equal(outRecordConflict(['config.json', 'sub/.nix-hug.json']), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the refusal list sees through symlinks ($HOME, system directories, the store)', () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  try {
    const home = join(root, 'home');
    mkdirSync(home);
    symlinkSync(home, join(root, 'to-home'));
    symlinkSync('/etc', join(root, 'to-etc'));
    symlinkSync('/nix/store', join(root, 'to-store'));
    assert.throws(() => checkOutDir(join(root, 'to-home'), home), /refusing --out .*: it is your home directory/);
    assert.throws(() => checkOutDir(join(root, 'to-home', '.'), home), /your home directory/);
    assert.throws(() => checkOutDir(join(root, 'to-etc'), home), /system directory/);
    assert.throws(() => checkOutDir(join(root, 'to-store', 'new-dir'), home), /inside the Nix store/);
    assert.equal(checkOutDir(join(root, 'to-home', 'models'), home), join(root, 'to-home', 'models'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('links inside the snapshot stay links (even looping ones); links leaving it become files', async () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  try {
    const snap = fakeSnapshot(root);
    chmodSync(snap, 0o755);
    chmodSync(join(snap, 'sub'), 0o755);
    symlinkSync('.', join(snap, 'zz'));
    symlinkSync('..', join(snap, 'sub', 'up'));
    symlinkSync('../model.safetensors', join(snap, 'sub', 'alias'));
    symlinkSync(join(root, 'blob-dir'), join(snap, 'outside-dir'));
    mkdirSync(join(root, 'blob-dir'));
    const dest = join(root, 'dest');
    await assert.rejects(copyOut({ storePath: snap, dir: dest, override: false, metadata: meta, home: homedir() }), /outside-dir links to .*not a file inside the snapshot/);
    rmSync(join(snap, 'outside-dir'));
    await copyOut({ storePath: snap, dir: dest, override: false, metadata: meta, home: homedir() });
    assert.equal(readlinkSync(join(dest, 'zz')), '.');
    assert.equal(readlinkSync(join(dest, 'sub', 'up')), '..');
    assert.equal(readlinkSync(join(dest, 'sub', 'alias')), '../model.safetensors');
    assert.equal(readFileSync(join(dest, 'sub', 'alias'), 'utf8'), 'weights');
    assert.ok(lstatSync(join(dest, 'model.safetensors')).isFile());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
