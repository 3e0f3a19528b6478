/**
 * The persistence layer against real Nix: export (copy + sign + record),
 * garbage collection, import with signature verification, and the trust
 * rules for unsigned or foreign-signed stores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nixTestEnv, collect, isValidPath, makeSnapshot } from '../support/index.ts';
import { createLogger } from '../../src/ui/logger.ts';
import type { PersistConfig } from '../../src/settings/persist.ts';
import { exportPath } from '../../src/persist/export-path.ts';
import type { SnapshotKey } from '../../src/types.ts';
import { importEntries, type TrustPolicy } from '../../src/persist/import-entries.ts';
import { keysDir, SECRET_NAME, PUBLIC_NAME } from '../../src/persist/keys.ts';
import { readExports } from '../../src/persist/exports.ts';
import { copyTo, parsePathInfoJson, pathInfo } from '../../src/persist/store.ts';
import { invalidPaths } from '../../src/nix/validity.ts';

function setup() {
  const nix = nixTestEnv();
  const root = mkdtempSync(join(tmpdir(), 'nix-hug-persist-'));
  const persist = join(root, 'persist');
  mkdirSync(persist);
  const cfgFor = (name: string): PersistConfig => ({
    configDir: join(root, name, 'nix-hug'),
    configFile: join(root, name, 'nix-hug', 'config'),
    storeUrl: `file://${persist}`,
    localDir: persist,
    autoPersist: false,
  });
  const lines: string[] = [];
  const log = createLogger({ write: (l) => void lines.push(l) });
  return {
    env: nix.env,
    root,
    persist,
    cfg: cfgFor('me'),
    cfgFor,
    log,
    lines,
    cleanup() {
      nix.cleanup();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const key = (tag: string): SnapshotKey => ({ repoId: `test/persist-${tag}`, type: 'model', rev: 'c'.repeat(40), filters: null });
const neverAsk: TrustPolicy = {
  yes: false,
  confirm: async () => {
    throw new Error('the trust prompt must not be shown for a signed export');
  },
};

test('export → garbage collection → import restores identical bytes, verified by signature, with no prompt', async () => {
  const s = setup();
  try {
    const fx = await makeSnapshot(s.env, s.root);
    const before = readFileSync(join(fx.snapshot, 'model.bin'));
    const entry = await exportPath({ cfg: s.cfg, env: s.env, log: s.log, key: key(fx.tag), storePath: fx.snapshot });
    assert.equal(entry.storePath, fx.snapshot);

    // The key pair exists, the secret is private to the user.
    const kd = keysDir(s.cfg.configDir);
    assert.equal(statSync(join(kd, SECRET_NAME)).mode & 0o777, 0o600);
    const pub = readFileSync(join(kd, PUBLIC_NAME), 'utf8').trim();
    assert.match(pub, /^nix-hug-[A-Za-z0-9.-]+-1:[A-Za-z0-9+/]{43}=$/);
    // The cache holds the snapshot signed by it.
    const info = (await pathInfo([fx.snapshot], s.env, { storeUrl: s.cfg.storeUrl!, sigs: true })).get(fx.snapshot);
    assert.ok(info?.signatures?.some((sig) => sig.startsWith(pub.split(':')[0]! + ':')), JSON.stringify(info));

    const manifest = (await readExports(s.cfg, s.env, 'import')).records;
    assert.deepEqual(manifest.map((e) => [e.repoId, e.storePath, e.publicKey]), [[`test/persist-${fx.tag}`, fx.snapshot, pub]]);

    await collect(s.env, [fx.blob]);
    assert.equal(await isValidPath(s.env, fx.snapshot), false);
    assert.equal(await isValidPath(s.env, fx.blob), false);

    const outcomes = await importEntries({ cfg: s.cfg, env: s.env, log: s.log, entries: manifest, trust: neverAsk });
    assert.deepEqual(outcomes.map((o) => [o.status, o.verified, o.error?.message]), [['imported', 'signed', undefined]]);
    assert.equal(await isValidPath(s.env, fx.snapshot), true);
    assert.deepEqual(readFileSync(join(fx.snapshot, 'model.bin')), before);

    // Again: already valid, reported and not copied.
    const again = await importEntries({ cfg: s.cfg, env: s.env, log: s.log, entries: manifest, trust: neverAsk });
    assert.deepEqual(again.map((o) => o.status), ['already-valid']);
  } finally {
    s.cleanup();
  }
});

test('an unsigned store is refused without a terminal and without --yes; --yes or a "y" imports it', async () => {
  const s = setup();
  try {
    const fx = await makeSnapshot(s.env, s.root);
    // What the original nix-hug (or a plain `nix copy`) leaves: no signatures at all.
    await copyTo(s.cfg.storeUrl!, [fx.snapshot], s.env);
    const entry = { ...key(fx.tag), storePath: fx.snapshot, exportedAt: new Date().toISOString() };
    await collect(s.env, [fx.blob]);

    const refused = await importEntries({ cfg: s.cfg, env: s.env, log: s.log, entries: [entry], trust: { yes: false, confirm: null } });
    assert.equal(refused[0]?.status, 'failed');
    assert.match(refused[0]?.error?.message ?? '', /refusing to import from file:\/\/.*: .* is not signed by a key you trust, and there is no terminal to confirm/);
    assert.match(refused[0]?.error?.hint ?? '', /pass --yes/);
    assert.equal(await isValidPath(s.env, fx.snapshot), false);

    const questions: string[] = [];
    const no = await importEntries({
      cfg: s.cfg, env: s.env, log: s.log, entries: [entry],
      trust: { yes: false, confirm: async (q) => (questions.push(q), false) },
    });
    assert.equal(no[0]?.status, 'failed');
    assert.match(no[0]?.error?.message ?? '', /you did not trust/);
    assert.equal(questions.length, 1);
    assert.match(questions[0]!, /Trust file:\/\/.* for this import\? \[y\/N\]/);
    assert.equal(await isValidPath(s.env, fx.snapshot), false);

    const yes = await importEntries({ cfg: s.cfg, env: s.env, log: s.log, entries: [entry], trust: { yes: false, confirm: async () => true } });
    assert.deepEqual(yes.map((o) => [o.status, o.verified]), [['imported', 'trusted']]);
    assert.equal(await isValidPath(s.env, fx.snapshot), true);

    await collect(s.env, [fx.blob]);
    const withYes = await importEntries({ cfg: s.cfg, env: s.env, log: s.log, entries: [entry], trust: { yes: true, confirm: null } });
    assert.deepEqual(withYes.map((o) => [o.status, o.verified]), [['imported', 'trusted']]);
    assert.equal(readFileSync(join(fx.snapshot, 'config.json'), 'utf8'), `{"tag": "${fx.tag}"}\n`);
  } finally {
    s.cleanup();
  }
});

test('an export signed by another machine\'s key is foreign: it needs trust like an unsigned one', async () => {
  const s = setup();
  try {
    const fx = await makeSnapshot(s.env, s.root);
    const other = s.cfgFor('other-machine');
    const entry = await exportPath({ cfg: other, env: s.env, log: s.log, key: key(fx.tag), storePath: fx.snapshot });
    await collect(s.env, [fx.blob]);
    // The other machine verifies its own signature...
    const own = await importEntries({ cfg: other, env: s.env, log: s.log, entries: [entry], trust: neverAsk });
    assert.deepEqual(own.map((o) => [o.status, o.verified]), [['imported', 'signed']]);
    await collect(s.env, [fx.blob]);
    // ...this one (with its own key pair) does not trust it.
    await exportPath({ cfg: s.cfg, env: s.env, log: s.log, key: key(`${fx.tag}-mine`), storePath: (await makeSnapshot(s.env, s.root)).snapshot });
    const refused = await importEntries({ cfg: s.cfg, env: s.env, log: s.log, entries: [entry], trust: { yes: false, confirm: null } });
    assert.equal(refused[0]?.status, 'failed');
    assert.match(refused[0]?.error?.message ?? '', /not signed by a key you trust/);
    // The hint names the exporting machine's key, as its record says, and where to check it.
    assert.ok(entry.publicKey);
    assert.ok(refused[0]?.error?.hint?.includes(`extra-trusted-public-keys = ${entry.publicKey}`), refused[0]?.error?.hint);
    assert.match(refused[0]?.error?.hint ?? '', /nix-hug store key/);
  } finally {
    s.cleanup();
  }
});

test('an entry whose path left the persist store fails with a clear message; others still import', async () => {
  const s = setup();
  try {
    const a = await makeSnapshot(s.env, s.root);
    const b = await makeSnapshot(s.env, s.root);
    const ea = await exportPath({ cfg: s.cfg, env: s.env, log: s.log, key: key(a.tag), storePath: a.snapshot });
    const eb = await exportPath({ cfg: s.cfg, env: s.env, log: s.log, key: key(b.tag), storePath: b.snapshot });
    rmSync(join(s.persist, `${a.snapshot.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo`));
    await collect(s.env, [a.blob, b.blob]);
    const out = await importEntries({ cfg: s.cfg, env: s.env, log: s.log, entries: [ea, eb], trust: neverAsk });
    assert.equal(out[0]?.status, 'failed');
    assert.match(out[0]?.error?.message ?? '', new RegExp(`${a.snapshot} is not in the persist store file://`));
    assert.equal(out[1]?.status, 'imported');
  } finally {
    s.cleanup();
  }
});

test('nix path-info --json: the array of Nix 2.8 and the object of newer Nix', () => {
  const p = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x';
  const q = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-y';
  const old = parsePathInfoJson(JSON.stringify([{ path: p, narSize: 5, references: [], signatures: ['k:s'] }, { path: q, valid: false }]));
  assert.deepEqual(old.get(p), { path: p, narSize: 5, references: [], signatures: ['k:s'] });
  assert.equal(old.get(q), null);
  const newer = parsePathInfoJson(JSON.stringify({ [p]: { narSize: 5, references: [], signatures: ['k:s'], ca: null }, [q]: null }));
  assert.deepEqual(newer.get(p), { path: p, narSize: 5, references: [], signatures: ['k:s'] });
  assert.equal(newer.get(q), null);
});

test('validity of more store paths than one command line holds (40,000 paths, 3.2 MB of arguments)', { timeout: 120_000 }, async () => {
  const nix = nixTestEnv();
  try {
    const base32 = '0123456789abcdfghijklmnpqrsvwxyz';
    const paths = Array.from({ length: 40_000 }, (_, i) => {
      const hash = Array.from({ length: 32 }, (_, k) => base32[(i * 7 + k * 13 + Math.floor(i / 32 ** (k % 3))) % 32]).join('');
      return `/nix/store/${hash}-nix-hug-argv-test-${String(i).padStart(20, '0')}`;
    });
    assert.ok(paths.join(' ').length > 3_000_000);
    const invalid = await invalidPaths(paths, nix.env);
    assert.equal(invalid.size, new Set(paths).size, 'none of them exists');
  } finally {
    nix.cleanup();
  }
});
