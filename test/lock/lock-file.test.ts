/**
 * Changing the lock file: created when missing, replaced atomically (its
 * mode kept, a symlink kept pointing at it), never written when it does not
 * parse, left as it was by a process killed in the middle of a change (whose
 * mutex the next change breaks), and manifest files beside it removed with
 * the last entry that used them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseLock, renderLock } from '../../src/lock/format.ts';
import { changeLock, entryManifest, lockLocation, readLock, vendorLockManifest } from '../../src/lock/lock-file.ts';
import { canonicalManifest } from '../../src/canonical-manifest.ts';
import { LOCK_FILES as FILES, lockEntry as entry } from '../support/index.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nix-hug-lock-file-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const fresh = (name: string) => {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
};

describe('changing the lock file', () => {
  it('creates it, writes only when the text changes, keeps its mode and leaves nothing else behind', async () => {
    const d = fresh('create');
    const loc = lockLocation(undefined, null, d);
    assert.equal(loc.file, join(d, 'nix-hug.lock'));
    await changeLock(loc, async (current) => {
      assert.equal(current, null);
      return { lock: { entries: [entry('a')] }, result: null };
    });
    assert.equal(readFileSync(loc.file, 'utf8'), renderLock({ entries: [entry('a')] }));
    chmodSync(loc.file, 0o600);
    const mtime = statSync(loc.file).mtimeMs;
    await changeLock(loc, async (current) => ({ lock: current, result: null }));
    assert.equal(statSync(loc.file).mtimeMs, mtime, 'the same text is not written again');
    await changeLock(loc, async (current) => ({ lock: { entries: [...current!.entries, entry('b')] }, result: null }));
    assert.equal(statSync(loc.file).mode & 0o777, 0o600);
    assert.deepEqual((await readLock(loc)).entries.map((e) => e.name), ['a', 'b']);
    assert.deepEqual(readdirSync(d), ['nix-hug.lock']);
  });

  it('NIX_HUG_LOCK and --lock name it; a symlinked lock file stays a symlink', async () => {
    const d = fresh('named');
    assert.equal(lockLocation(undefined, 'x.lock', d).file, join(d, 'x.lock'));
    assert.equal(lockLocation('y.lock', 'x.lock', d).file, join(d, 'y.lock'));
    mkdirSync(join(d, 'real'));
    writeFileSync(join(d, 'real', 'models.lock'), renderLock({ entries: [] }));
    symlinkSync('real/models.lock', join(d, 'link.lock'));
    const loc = lockLocation('link.lock', null, d);
    assert.equal(loc.vendorDir, join(d, 'real', 'models.lock.d'));
    await changeLock(loc, async () => ({ lock: { entries: [entry('a')] }, result: null }));
    assert.ok(lstatSync(join(d, 'link.lock')).isSymbolicLink());
    assert.deepEqual(parseLock(readFileSync(join(d, 'real', 'models.lock'), 'utf8'), 'x').entries.map((e) => e.name), ['a']);
  });

  it('never writes over a lock file that does not parse (nor runs the change)', async () => {
    const d = fresh('corrupt');
    const loc = lockLocation(undefined, null, d);
    for (const text of ['{"version": 1, "entries": [', '{"version": 9, "entries": []}']) {
      writeFileSync(loc.file, text);
      let ran = false;
      await assert.rejects(
        changeLock(loc, async () => {
          ran = true;
          return { lock: { entries: [] }, result: null };
        }),
        /the lock file nix-hug.lock (is not valid|has version 9)/,
      );
      assert.equal(ran, false);
      assert.equal(readFileSync(loc.file, 'utf8'), text);
      assert.deepEqual(readdirSync(d), ['nix-hug.lock']);
    }
  });

  it('a process killed in the middle of a change leaves the old file; the next change breaks its mutex', async () => {
    const d = fresh('crash');
    const loc = lockLocation(undefined, null, d);
    writeFileSync(loc.file, renderLock({ entries: [entry('old')] }));
    const before = readFileSync(loc.file, 'utf8');
    const script = `
      import { changeLock, lockLocation } from ${JSON.stringify(join(process.cwd(), 'src/lock/lock-file.ts'))};
      await changeLock(lockLocation(undefined, null, ${JSON.stringify(d)}), async () => {
        process.stdout.write('holding\\n');
        await new Promise(() => setInterval(() => {}, 1000)); // never returns: killed here
        return { lock: { entries: [] }, result: null };
      });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('holding') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited ${code} before holding the mutex`)));
    });
    assert.ok(existsSync(`${loc.file}.lock`));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(readFileSync(loc.file, 'utf8'), before);
    await changeLock(loc, async (current) => ({ lock: { entries: [...current!.entries, entry('new')] }, result: null }));
    assert.deepEqual((await readLock(loc)).entries.map((e) => e.name), ['new', 'old']);
    assert.deepEqual(readdirSync(d), ['nix-hug.lock']);
  });

  it('vendored manifests: written beside the lock, read back checked, removed with the last entry using them', async () => {
    const d = fresh('vendored');
    const loc = lockLocation(undefined, null, d);
    const text = canonicalManifest(FILES).toString('utf8');
    const written = await vendorLockManifest(loc, { type: 'model', repoId: 'org/a', rev: entry('a').rev }, text);
    assert.equal(written.path, 'nix-hug.lock.d/models--org--a--0123456789ab.tsv');
    const a = entry('a', { manifest: { kind: 'file', path: written.path } });
    const b = entry('b', { manifest: { kind: 'file', path: written.path } });
    await changeLock(loc, async () => ({ lock: { entries: [a, b] }, result: null }));
    assert.deepEqual(await entryManifest(loc, a), FILES);
    await changeLock(loc, async () => ({ lock: { entries: [b] }, result: null }));
    assert.ok(existsSync(join(d, written.path)), 'still used by b');
    writeFileSync(join(d, written.path), text.replace('1234', '1235'));
    await assert.rejects(entryManifest(loc, b), /the manifest file nix-hug.lock.d\/models--org--a--0123456789ab.tsv of entry 'b' does not hash to the entry's fileTreeHash/);
    await changeLock(loc, async () => ({ lock: { entries: [] }, result: null }));
    assert.deepEqual(readdirSync(d), ['nix-hug.lock']);
  });
});
