/**
 * Sharing a persist store between machines, with real servers on
 * 127.0.0.1: an OpenSSH server in front of a separate Nix store (the other
 * machine), nginx serving an exported directory as an HTTP binary cache.
 * Machine B is this machine with an empty config dir and its own HOME and
 * caches; between A and B the shared paths are deleted from the local store
 * (those paths only: the store is shared with other tests). B sees A's
 * exports, imports them with A's key trusted as `nix-hug store key` says,
 * and substitutes them without a download from the Hub.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import {
  cliEnv,
  collect,
  isValidPath,
  nixTestEnv,
  readTree,
  requireBuild,
  RUN,
  runCli,
  runNix,
  seeded,
  startNginx,
  startSshd,
  STUB_DIR,
  withLib,
  type NixTestEnv,
  type RunningNginx,
  type RunningSshd,
} from '../support/index.ts';
import { capture } from '../../src/nix/nix.ts';
import { claimSlot, encodeRecord, publishBytes, readIndex, slotPath } from '../../src/persist/export-index.ts';

const id = (name: string) => `share-${RUN}/${name}`;
const model = (name: string, files = 1): RepoSpec => ({
  id: id(name),
  commits: [{ files: Object.fromEntries([['config.json', `{"name":"${name}"}\n`], ...Array.from({ length: files }, (_, i) => [`w${i}.safetensors`, seeded(`share-${name}-${i}`, 20_000 + i)])]) }],
});

const repos = [model('dir'), model('ssh-ng'), model('ssh'), model('race', 4), model('untrusted'), model('http', 2)];

let hub: RunningHub;
let nix: NixTestEnv;
let sshd: RunningSshd;
const scratch = mkdtempSync(join(tmpdir(), 'nix-hug-share-'));

before(async () => {
  requireBuild();
  hub = await startHub({ repos });
  nix = nixTestEnv();
  sshd = await startSshd();
});
after(async () => {
  await sshd?.close();
  await hub?.close();
  nix?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** A machine: HOME, config dir and caches of its own; `nixConf` lines are added to its Nix settings. */
function machine(persist: string | null, nixConf = '') {
  const c = cliEnv({
    HF_ENDPOINT: hub.url,
    NIX_HUG_NIXPKGS: STUB_DIR,
    NIX_CONFIG: `${nix.env.NIX_CONFIG}\n${nixConf}`,
    NIX_SSHOPTS: sshd.sshOpts,
    ...(persist !== null ? { NIX_HUG_PERSIST_DIR: persist } : {}),
  });
  return { env: c.env, cleanup: c.cleanup, run: (...args: string[]) => runCli(args, c.env) };
}

/** The snapshot's blobs (store paths its links point into). */
function blobsOf(snapshot: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (lstatSync(p).isSymbolicLink()) out.push(readlinkSync(p).split('/').slice(0, 4).join('/'));
      else if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(snapshot);
  return out;
}

/** Deletes the snapshot and its blobs from the local store (as if on another machine). */
async function forget(snapshot: string): Promise<void> {
  await collect(nix.env, blobsOf(snapshot));
  assert.equal(await isValidPath(nix.env, snapshot), false);
}

/** Requests that downloaded a file from the Hub (resolve route, or its CDN). */
const downloads = () => hub.requests.filter((r) => r.route === 'resolve' || r.route === 'cdn');
/** Hub requests by route, for the test's diagnostics. */
const byRoute = () => JSON.stringify(Object.fromEntries([...new Set(hub.requests.map((r) => r.route))].map((k) => [k, hub.requests.filter((r) => r.route === k).length])));

function expectedFiles(repoId: string): Map<string, Buffer> {
  return new Map([...hub.repo(repoId).filesAt()].map(([p, b]) => [p, Buffer.from(b)]));
}

interface Listed {
  store: string;
  entries: Array<{ repoId: string; storePath: string; valid: boolean; publicKey?: string; slot?: number; filters: unknown }>;
}

async function listed(m: ReturnType<typeof machine>): Promise<Listed> {
  const r = await m.run('store', 'ls', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed;
}

/** `store ls` from a machine that never used the persist store (made for it, then removed). */
async function listedElsewhere(persist: string): Promise<Listed> {
  const m = machine(persist);
  try {
    return await listed(m);
  } finally {
    m.cleanup();
  }
}

/** `nix-hug store key` on A: the nix.conf text, and the key it trusts. */
async function keyLines(a: ReturnType<typeof machine>, ...args: string[]): Promise<{ text: string; publicKey: string }> {
  const r = await a.run('store', 'key', ...args);
  assert.equal(r.code, 0, r.stderr);
  const publicKey = /^extra-trusted-public-keys = (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(publicKey, r.stdout);
  return { text: r.stdout, publicKey };
}

test('shared directory: B, with an empty config, lists what A exported (and what an older nix-hug recorded) and imports it once it trusts A\'s key', async () => {
  const dir = join(scratch, 'shared-dir');
  const a = machine(dir);
  let b = machine(dir);
  try {
    const exp = await a.run('export', id('dir'));
    assert.equal(exp.code, 0, exp.stderr);
    const path = exp.stdout.trim();
    // What an older nix-hug recorded beside the cache is listed too.
    const older = { repoId: id('older'), type: 'model', rev: 'a'.repeat(40), filters: null, storePath: `/nix/store/${'0'.repeat(32)}-older`, exportedAt: '2024-01-01T00:00:00.000Z' };
    writeFileSync(join(dir, 'nix-hug-manifest.json'), JSON.stringify({ version: 1, storeUrl: `file://${dir}`, entries: [older] }));
    const { text, publicKey } = await keyLines(a);
    assert.match(text, new RegExp(`^extra-substituters = file://${dir}$`, 'm'));

    await forget(path);
    const seen = await listed(b);
    assert.deepEqual(seen.entries.map((e) => [e.repoId, e.storePath, e.valid, e.publicKey]), [
      [id('dir'), path, false, publicKey],
      [id('older'), older.storePath, false, undefined],
    ]);

    const refused = await b.run('import', id('dir'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not signed by a key you trust, and there is no terminal to confirm/);
    assert.ok(refused.stderr.includes(`extra-trusted-public-keys = ${publicKey}`), refused.stderr);
    assert.equal(await isValidPath(nix.env, path), false);

    b.cleanup();
    b = machine(dir, text); // A's lines in B's nix.conf
    hub.resetStats();
    const imp = await b.run('import', id('dir'));
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, /signature verified/);
    assert.deepEqual(hub.requests, [], 'nothing asked of the Hub');
    assert.deepEqual(readTree(path), expectedFiles(id('dir')));
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

for (const kind of ['ssh-ng', 'ssh'] as const) {
  test(`${kind} store (another machine's Nix store, through sshd): B lists what A exported and imports it`, async () => {
    const remote = join(scratch, `remote-${kind}`);
    const url = sshd.storeUrl(kind, remote);
    const a = machine(url);
    try {
      const exp = await a.run('export', id(kind));
      assert.equal(exp.code, 0, exp.stderr);
      const path = exp.stdout.trim();
      assert.ok(existsSync(join(remote, path)), `the snapshot is in the remote store ${remote}`);
      const { text, publicKey } = await keyLines(a);
      assert.ok(text.includes(`extra-substituters = ${url}`), text);

      await forget(path);
      const b = machine(url, text);
      try {
        const seen = await listed(b);
        assert.equal(seen.store, url);
        assert.deepEqual(seen.entries.map((e) => [e.repoId, e.storePath, e.valid, e.publicKey]), [[id(kind), path, false, publicKey]]);
        hub.resetStats();
        const imp = await b.run('import', id(kind));
        assert.equal(imp.code, 0, imp.stderr);
        assert.match(imp.stderr, /signature verified/);
        assert.deepEqual(hub.requests, []);
        assert.deepEqual(readTree(path), expectedFiles(id(kind)));
      } finally {
        b.cleanup();
      }
    } finally {
      a.cleanup();
    }
  });
}

test('a slot of the index is claimed once: in a directory, an ssh-ng and an ssh store the second record for it is refused and the first stays', async () => {
  const keys = join(scratch, 'slot-keys');
  mkdirSync(keys);
  const gen = await capture('nix-store', ['--generate-binary-cache-key', 'slot-test-1', join(keys, 'sec'), join(keys, 'pub')], nix.env);
  assert.equal(gen.code, 0, gen.stderr);
  const secretKey = { text: readFileSync(join(keys, 'sec'), 'utf8'), file: join(keys, 'sec') };
  const rec = (n: number) => ({ repoId: `org/slot-${n}`, type: 'model' as const, rev: String(n).repeat(40), filters: null, storePath: `/nix/store/${'a'.repeat(31)}${n}-x`, exportedAt: '2025-01-01T00:00:00.000Z' });
  const dir = join(scratch, 'slot-dir');
  for (const url of [`file://${dir}`, sshd.storeUrl('ssh-ng', join(scratch, 'slot-ng')), sshd.storeUrl('ssh', join(scratch, 'slot-ssh'))]) {
    const cfg = { configDir: keys, configFile: join(keys, 'config'), storeUrl: url, localDir: url.startsWith('file://') ? dir : null, autoPersist: false };
    const env = { ...nix.env, NIX_SSHOPTS: sshd.sshOpts };
    const opts = { cfg, env, secretKey, rejectedHint: 'x' };
    assert.equal(await claimSlot(opts, 0, encodeRecord(rec(1))), true, url);
    assert.equal(await claimSlot(opts, 0, encodeRecord(rec(2))), false, `${url}: slot 0 is taken`);
    assert.equal(await claimSlot(opts, 0, encodeRecord(rec(1))), true, `${url}: the same bytes again are no conflict`);
    assert.deepEqual((await readIndex(url, env)).records.map((r) => r.repoId), ['org/slot-1'], url);
  }
});

test('a writable HTTP cache keeps the last object written at a path: a record another export overwrote is written again to the next slot', async () => {
  const keys = join(scratch, 'put-keys');
  mkdirSync(keys);
  const gen = await capture('nix-store', ['--generate-binary-cache-key', 'put-test-1', join(keys, 'sec'), join(keys, 'pub')], nix.env);
  assert.equal(gen.code, 0, gen.stderr);
  const secretKey = { text: readFileSync(join(keys, 'sec'), 'utf8'), file: join(keys, 'sec') };
  const rec = (n: number) => ({ repoId: `org/put-${n}`, type: 'model' as const, rev: String(n).repeat(40), filters: null, storePath: `/nix/store/${'b'.repeat(31)}${n}-x`, exportedAt: '2025-01-01T00:00:00.000Z' });
  // The racing export's object for slot 0, made in a directory of its own.
  const theirs = join(scratch, 'put-theirs');
  const dirOpts = { cfg: { configDir: keys, configFile: join(keys, 'c'), storeUrl: `file://${theirs}`, localDir: theirs, autoPersist: false }, env: nix.env, secretKey, rejectedHint: 'x' };
  assert.equal(await claimSlot(dirOpts, 0, encodeRecord(rec(2))), true);
  const hashPart = slotPath(0).slice(11, 43);
  const served = join(scratch, 'put-served');
  mkdirSync(join(served, 'nar'), { recursive: true });
  writeFileSync(join(served, 'nix-cache-info'), 'StoreDir: /nix/store\n');
  const nginx = await startNginx(served, { writable: true });
  try {
    const opts = { ...dirOpts, cfg: { ...dirOpts.cfg, storeUrl: nginx.url, localDir: null }, recheckMs: 1500 };
    // Our record is uploaded and read back as ours; only then the other export's upload lands on the same path.
    const narinfo = join(served, `${hashPart}.narinfo`);
    const readBack = () => {
      const log = nginx.requests();
      const put = log.findIndex((r) => r.method === 'PUT' && r.path === `/${hashPart}.narinfo`);
      return put >= 0 && log.slice(put + 1).some((r) => r.method === 'GET' && r.path === `/${hashPart}.narinfo` && r.status === 200);
    };
    let overwritten = false;
    const racer = (async () => {
      for (let i = 0; i < 1000 && !readBack(); i++) await new Promise((r) => setTimeout(r, 10));
      for (const name of readdirSync(join(theirs, 'nar'))) writeFileSync(join(served, 'nar', name), readFileSync(join(theirs, 'nar', name)));
      writeFileSync(narinfo, readFileSync(join(theirs, `${hashPart}.narinfo`)));
      overwritten = true;
    })();
    const slot = await publishBytes(opts, encodeRecord(rec(1)));
    await racer;
    assert.ok(overwritten);
    assert.equal(slot, 1, 'slot 0 was lost to the other export: the record went to slot 1');
    assert.deepEqual((await readIndex(nginx.url, nix.env)).records.map((r) => [r.slot, r.repoId]), [[0, 'org/put-2'], [1, 'org/put-1']]);
    assert.ok(nginx.requests().some((r) => r.method === 'PUT' && r.path === `/${hashPart}.narinfo`), 'nix copy uploaded the record');
  } finally {
    await nginx.close();
  }
});

test('two machines exporting to one ssh-ng store at the same time lose no record', async () => {
  const url = sshd.storeUrl('ssh-ng', join(scratch, 'remote-race'));
  const a = machine(url);
  const b = machine(url);
  try {
    const runs = await Promise.all([
      a.run('export', id('race'), '--file', 'w0.safetensors'),
      b.run('export', id('race'), '--file', 'w1.safetensors'),
      a.run('export', id('race'), '--file', 'w2.safetensors'),
      b.run('export', id('race'), '--file', 'w3.safetensors'),
    ]);
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const seen = await listedElsewhere(url);
    assert.deepEqual(seen.entries.map((e) => e.storePath).sort(), runs.map((r) => r.stdout.trim()).sort());
    assert.deepEqual(seen.entries.map((e) => e.slot).sort(), [0, 1, 2, 3]);
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('an ssh store whose Nix does not trust the ssh user: export says what to add on that machine; with nix-hug\'s key trusted there, it works', async () => {
  const remote = join(scratch, 'remote-untrusted');
  const daemon = '/opt/nix-2.26/bin/nix-daemon';
  assert.ok(existsSync(daemon), `${daemon} is needed (a Nix with --force-untrusted): bash ../shared/tools/modern-nix.sh /opt/nix-2.26`);
  // The remote side: a nix-daemon that treats the ssh user as any untrusted user of a multi-user install.
  const wrapper = (name: string, nixConf: string) => {
    const file = join(sshd.dir, name);
    writeFileSync(file, `#!/bin/sh\n${nixConf ? `NIX_CONFIG='${nixConf}' ` : ''}exec ${daemon} --extra-experimental-features daemon-trust-override --force-untrusted "$@"\n`, { mode: 0o755 });
    return file;
  };
  const a = machine(sshd.storeUrl('ssh-ng', remote, wrapper('untrusted.sh', '')));
  try {
    const refused = await a.run('export', id('untrusted'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /lacks a signature by a trusted key/);
    const { publicKey } = await keyLines(a);
    assert.ok(refused.stderr.includes(`\`trusted-users = ${sshd.user}\``), refused.stderr);
    assert.ok(refused.stderr.includes(`\`extra-trusted-public-keys = ${publicKey}\``), refused.stderr);
    assert.match(refused.stderr, /On 127\.0\.0\.1, add to \/etc\/nix\/nix\.conf/);
    assert.doesNotMatch(refused.stderr, /--yes/);

    // The same machine A (same key), the remote now trusting A's key as the hint says.
    const trusting = sshd.storeUrl('ssh-ng', remote, wrapper('trusts-key.sh', `extra-trusted-public-keys = ${publicKey}`));
    const done = await runCli(['export', id('untrusted')], { ...a.env, NIX_HUG_PERSIST_DIR: trusting });
    assert.equal(done.code, 0, done.stderr);
    const seen = await listedElsewhere(trusting);
    assert.deepEqual(seen.entries.map((e) => e.storePath), [done.stdout.trim()]);
  } finally {
    a.cleanup();
  }
});

test('HTTP binary cache (A\'s directory behind nginx): B lists and imports from it; as a substituter, fetch and a plain nix build get everything from it, nothing from the Hub', async (t) => {
  const dir = join(scratch, 'served');
  mkdirSync(dir);
  const nginx: RunningNginx = await startNginx(dir);
  const a = machine(dir);
  const machines: Array<ReturnType<typeof machine>> = [a];
  try {
    const fetched = await a.run('fetch', id('http'), '--json');
    assert.equal(fetched.code, 0, fetched.stderr);
    const { expression, storePath: path } = JSON.parse(fetched.stdout) as { expression: string; storePath: string };
    const exp = await a.run('export', id('http'));
    assert.equal(exp.code, 0, exp.stderr);
    assert.equal(exp.stdout.trim(), path);
    const { text } = await keyLines(a, '--substituter', nginx.url);
    assert.match(text, new RegExp(`^extra-substituters = ${nginx.url}$`, 'm'));

    // B reads the index over HTTP (read-only) and imports.
    await forget(path);
    const b = machine(nginx.url, text);
    machines.push(b);
    const seen = await listed(b);
    assert.deepEqual(seen.entries.map((e) => [e.repoId, e.storePath, e.valid]), [[id('http'), path, false]]);
    hub.resetStats();
    const imp = await b.run('import', id('http'));
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, /signature verified/);
    assert.deepEqual(hub.requests, []);
    assert.deepEqual(readTree(path), expectedFiles(id('http')));
    // The web server serves the cache read-only: exporting to it says where exports go instead.
    const readOnly = await b.run('export', id('http'));
    assert.equal(readOnly.code, 1);
    assert.match(readOnly.stderr, /HTTP error 405/);
    assert.match(readOnly.stderr, /does not take uploads .*export on the machine that holds the directory it serves/);
    assert.doesNotMatch(readOnly.stderr, /<html/i);

    // A machine with no persist store at all, only A's lines in nix.conf: fetch substitutes.
    await forget(path);
    const c = machine(null, text);
    machines.push(c);
    hub.resetStats();
    const served = nginx.requests().length;
    const viaFetch = await c.run('fetch', id('http'), '--json');
    assert.equal(viaFetch.code, 0, viaFetch.stderr);
    assert.equal((JSON.parse(viaFetch.stdout) as { storePath: string }).storePath, path);
    assert.deepEqual(downloads(), [], 'no file downloaded from the Hub');
    t.diagnostic(`fetch with the cache as substituter: Hub requests by route ${byRoute()}`);
    // Each path's NAR, as its .narinfo names it, was served (a blob may be asked for twice: the CLI
    // fetches blobs in parallel while nix evaluates the snapshot).
    const narOf = (p: string) => `/${/^URL: (.*)$/m.exec(readFileSync(join(dir, `${p.slice(11, 43)}.narinfo`), 'utf8'))![1]}`;
    const servedNars = new Set(nginx.requests().slice(served).filter((r) => r.status === 200).map((r) => r.path));
    for (const p of [path, ...blobsOf(path)]) assert.ok(servedNars.has(narOf(p)), `${p} came from the cache`);
    assert.deepEqual(readTree(path), expectedFiles(id('http')));

    // The printed expression, with plain nix build on a machine with those lines.
    await forget(path);
    const d = machine(null, text);
    machines.push(d);
    const file = join(scratch, 'model.nix');
    writeFileSync(file, withLib(`let nix-hug-lib = lib; in\n${expression}`));
    hub.resetStats();
    const built = await runNix(['--extra-experimental-features', 'nix-command', 'build', '--no-link', '--json', '-f', file], { ...d.env, GIT_LFS_SKIP_SMUDGE: '1' });
    assert.equal(built.code, 0, built.stderr);
    assert.equal((JSON.parse(built.stdout) as Array<{ outputs: { out: string } }>)[0]?.outputs.out, path);
    assert.deepEqual(downloads(), [], 'no file downloaded from the Hub');
    t.diagnostic(`plain nix build with the cache as substituter: Hub requests by route ${byRoute()}`);
    assert.deepEqual(readTree(path), expectedFiles(id('http')));
  } finally {
    for (const m of machines) m.cleanup();
    await nginx.close();
  }
});
