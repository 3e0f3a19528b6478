/**
 * Multi-user Nix, as most users have it: the CLI run by a normal user
 * (`nix-hug-test`, in `nix-users`) through a nix-daemon (a private one the
 * test starts as root and stops), with the Nix version and sandbox mode of
 * the run. That user is not one of the daemon's trusted-users: it may add
 * content-addressed paths but no input-addressed ones, whatever their
 * signatures say. fetch, fetch --out, a gated fetch with a token, export,
 * deleting the paths (as a garbage collection would, path by path), import,
 * store ls — and what an administrator must add when import cannot do
 * without trust.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { requireBuild, STUB_DIR, testNixConfig, installForUser, runAsUser, startDaemon, testUser, userHome, type PrivateDaemon, type TestUser, type UserRun } from '../support/index.ts';

const RUN = randomBytes(6).toString('hex');
const TOKEN = `hf_daemonTest${RUN}`;
const seeded = (name: string, size: number) => ({ lfs: { size, seed: `daemon-${RUN}-${name}` } });
const MODEL: RepoSpec = { id: 'daemon/model', commits: [{ files: { 'config.json': '{"a":1}\n', 'sub/tok.json': '{}\n', 'model.safetensors': seeded('st', 40_000) } }] };
const GATED: RepoSpec = { id: 'daemon/gated', gated: 'manual', commits: [{ files: { 'config.json': '{}\n', 'w.safetensors': seeded('gated', 5_000) } }] };
const OLD: RepoSpec = { id: 'daemon/old-export', commits: [{ files: { 'config.json': '{"old":1}\n', 'w.safetensors': seeded('old', 3_000) } }] };

let hub: RunningHub;
let user: TestUser;
let daemon: PrivateDaemon;
let install: ReturnType<typeof installForUser>;
let home: ReturnType<typeof userHome>;

/** The user's environment: nothing of root's, the daemon's socket, the run's Nix first on PATH. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home.home,
    TMPDIR: home.tmp,
    XDG_CACHE_HOME: join(home.home, '.cache'),
    XDG_CONFIG_HOME: join(home.home, '.config'),
    NIX_REMOTE: daemon.remote,
    NIX_CONFIG: 'experimental-features = nix-command flakes',
    HF_ENDPOINT: hub.url,
    NIX_HUG_NIXPKGS: STUB_DIR,
    NIX_HUG_PERSIST_DIR: join(home.home, 'persist'),
    NIX_HUG_MAX_RETRIES: '2',
    NIX_HUG_RETRY_BASE_MS: '5',
    ...extra,
  };
}

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runAsUser(process.execPath, [install.cli, ...args], env(extra), home.home);
const nixStore = (args: string[]) => runAsUser('nix-store', args, env(), home.home);
const ok = (r: UserRun, what: string) => {
  assert.equal(r.code, 0, `${what} failed:\n${r.stderr}`);
  return r;
};
const builtPath = (stderr: string) => /built (\/nix\/store\/\S+)/.exec(stderr)?.[1] ?? assert.fail(`no "built" line in:\n${stderr}`);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every file below `dir` (links followed) with its bytes. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      if (statSync(join(dir, p)).isDirectory()) walk(p);
      else out.set(p, sha(readFileSync(join(dir, p))));
    }
  };
  walk('');
  return out;
}
const expected = (spec: RepoSpec) => new Map([...hub.repo(spec.id).filesAt()].map(([p, b]) => [p, sha(b)]));

/** Whether `nix-store --check-validity` (through the daemon, as the user) says the path is there. */
const valid = async (p: string) => (await nixStore(['--check-validity', p])).code === 0;

/**
 * What a garbage collection takes from a snapshot, deleted path by path as the user (never a
 * whole collection: other tests share the store): the snapshot, its blobs, its .drv files and
 * its git checkout (with or without gitRepoHash).
 */
async function collectSnapshot(snapshot: string): Promise<string[]> {
  // As the user would first: remove fetch's ./result link (its GC root) if it holds this snapshot.
  const result = join(home.home, 'result');
  if (lstatSync(result, { throwIfNoEntry: false })?.isSymbolicLink() && readlinkSync(result) === snapshot) unlinkSync(result);
  const blobs = readdirSync(snapshot, { recursive: true, encoding: 'utf8' })
    .map((rel) => join(snapshot, rel))
    .filter((p) => lstatSync(p).isSymbolicLink())
    .map((p) => readlinkSync(p).split('/').slice(0, 4).join('/'));
  const drv = ok(await nixStore(['-q', '--deriver', snapshot]), 'nix-store -q --deriver').stdout.trim();
  // Only what belongs to this snapshot: builders' scripts (the stand-in's fetchgit.sh) are shared.
  const drvClosure = ok(await nixStore(['-qR', drv]), 'nix-store -qR').stdout.split('\n').filter((p) => /^\/nix\/store\/[a-z0-9]{32}-hf-/.test(p));
  const paths = [snapshot, ...new Set(blobs), ...drvClosure.reverse()];
  for (const p of paths) ok(await nixStore(['--delete', p]), `nix-store --delete ${p}`);
  for (const p of paths) assert.equal(await valid(p), false, `${p} still valid`);
  return paths;
}

before(async () => {
  requireBuild();
  user = testUser();
  hub = await startHub({ repos: [MODEL, GATED, OLD], tokens: { [TOKEN]: { grants: [GATED.id] } } });
  install = installForUser();
  home = userHome(user);
  // The daemon's own settings decide builds: no substituters, the run's sandbox mode.
  daemon = await startDaemon(testNixConfig());
});
after(async () => {
  await daemon?.stop();
  await hub?.close();
  install?.cleanup();
  home?.cleanup();
});

describe('a normal user through nix-daemon', () => {
  let snapshot = '';

  it('is not root, is in nix-users, and talks to the private daemon (not as a trusted user)', async () => {
    const id = await runAsUser('id', [], env(), home.home);
    assert.match(id.stdout, /^uid=\d+\(nix-hug-test\) .*\(nix-users\)/);
    assert.notEqual(user.uid, 0);
    const ping = ok(await runAsUser('nix', ['--extra-experimental-features', 'nix-command', 'store', 'ping'], env(), home.home), 'nix store ping');
    assert.match(ping.stdout + ping.stderr, new RegExp(`Store URL: ${daemon.remote}`));
    assert.match(daemon.log(), /accepted connection from pid \d+, user nix-hug-test(?! \(trusted\))/);
  });

  it('fetch: streams the LFS files into the store through the daemon (as this untrusted user), builds and prints the expression', async () => {
    const r = ok(await cli(['fetch', MODEL.id, '--debug'], { NIX_HUG_DOWNLOADER: 'stream' }), 'fetch');
    assert.match(r.stdout, /^nix-hug-lib\.fetchModel \{\n {2}url = "daemon\/model";/);
    // The CLI's downloads went into the store over nix-daemon --stdio, forwarded to this daemon.
    assert.match(r.stderr, /debug: streaming \d+ blob\(s\) into the Nix store over \d+ connection/);
    assert.match(r.stderr, /debug: store hf-blob-[0-9a-f]{64} \(Nix's NAR hash and registration after the last byte\): done in /);
    assert.doesNotMatch(r.stderr, /Nix downloads the blobs/);
    snapshot = builtPath(r.stderr);
    assert.deepEqual(tree(snapshot), expected(MODEL));
    assert.ok(r.stderr.includes(`./result -> ${snapshot} (GC root: garbage collection keeps it while ./result exists)`), r.stderr);
  });

  it('fetch keeps its result: ./result is a GC root the daemon registered, so the snapshot cannot be deleted while it exists', async () => {
    const result = join(home.home, 'result');
    assert.equal(readlinkSync(result), snapshot);
    assert.equal(lstatSync(result).uid, user.uid, "the link is the user's");
    const roots = ok(await nixStore(['-q', '--roots', snapshot]), 'nix-store -q --roots');
    assert.ok(roots.stdout.split('\n').some((l) => l.startsWith(`${result} -> `)), roots.stdout);
    const refused = await nixStore(['--delete', snapshot]);
    assert.notEqual(refused.code, 0, 'a rooted path is not deleted');
    assert.match(refused.stderr, /still alive|cannot delete/);
    assert.equal(await valid(snapshot), true);
  });

  it('fetch again: no nix build (the recorded path is valid), and the GC root is made through the daemon as nix build makes it', async () => {
    const result = join(home.home, 'result');
    unlinkSync(result);
    const r = ok(await cli(['fetch', MODEL.id, '--debug']), 'fetch again');
    assert.match(r.stderr, /no nix build: \/nix\/store\/\S+ is valid and recorded/);
    assert.doesNotMatch(r.stderr, /\bnix --extra-experimental-features 'nix-command flakes' build\b/);
    assert.equal(builtPath(r.stderr), snapshot);
    assert.equal(readlinkSync(result), snapshot);
    assert.equal(lstatSync(result).uid, user.uid, "the link is the user's");
    const roots = ok(await nixStore(['-q', '--roots', snapshot]), 'nix-store -q --roots');
    assert.ok(roots.stdout.split('\n').some((l) => l.startsWith(`${result} -> `)), roots.stdout);
  });

  it('fetch --out: real files owned by the user', async () => {
    const out = join(home.home, 'out-model');
    ok(await cli(['fetch', MODEL.id, '--out', out]), 'fetch --out');
    const files = tree(out);
    files.delete('.nix-hug.json');
    assert.deepEqual(files, expected(MODEL));
    const weights = join(out, 'model.safetensors');
    assert.equal(lstatSync(weights).isSymbolicLink(), false);
    assert.equal(statSync(weights).uid, user.uid);
  });

  it('a gated repo with a token: the CLI adds the files to the store through the daemon', async () => {
    const denied = await cli(['fetch', GATED.id]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /daemon\/gated is gated: a Hugging Face token is needed/);
    const r = ok(await cli(['fetch', GATED.id], { HF_TOKEN: TOKEN }), 'gated fetch');
    assert.deepEqual(tree(builtPath(r.stderr)), expected(GATED));
  });

  it('export, then the paths deleted as a garbage collection would: store ls says gc\'d', async () => {
    const exp = ok(await cli(['export', MODEL.id]), 'export');
    assert.equal(exp.stdout.trim(), snapshot);
    assert.match(exp.stderr, /exported model daemon\/model@[0-9a-f]{7} to file:\/\/.* \(signed\)/);
    let ls = ok(await cli(['store', 'ls']), 'store ls');
    assert.match(ls.stdout, /daemon\/model\s+model\s+[0-9a-f]{7}\s+-\s+\S+ \S+\s+valid\n/);
    await collectSnapshot(snapshot);
    ls = ok(await cli(['store', 'ls']), 'store ls');
    assert.match(ls.stdout, /daemon\/model\s+model\s+[0-9a-f]{7}\s+-\s+\S+ \S+\s+gc'd\n/);
  });

  it('import: the daemon refuses the snapshot from this user, so it is rebuilt from its content-addressed inputs, offline', async () => {
    hub.resetStats();
    const r = ok(await cli(['import', MODEL.id]), 'import');
    assert.equal(r.stdout, `${snapshot}\n`);
    assert.match(r.stderr, /imported {2}model daemon\/model@[0-9a-f]{7} → \S+ \(signature verified, rebuilt from its content-addressed inputs\)/);
    assert.deepEqual(hub.requests, [], 'nothing asked of the Hub');
    assert.equal(await valid(snapshot), true);
    assert.deepEqual(tree(snapshot), expected(MODEL));
    const ls = ok(await cli(['store', 'ls']), 'store ls');
    assert.match(ls.stdout, /daemon\/model\s+model.*\s+valid\n/);
  });

  it("another machine's export (a key this user does not trust): refused without --yes; with it, rebuilt", async () => {
    await collectSnapshot(snapshot);
    const elsewhere = { XDG_CONFIG_HOME: join(home.home, 'other-machine-config') };
    const refused = await cli(['import', MODEL.id], elsewhere);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not signed by a key you trust, and there is no terminal to confirm/);
    const r = ok(await cli(['import', MODEL.id, '--yes'], elsewhere), 'import --yes');
    assert.match(r.stderr, /\(trusted without signature check, rebuilt from its content-addressed inputs\)/);
    assert.deepEqual(tree(snapshot), expected(MODEL));
  });

  describe('an export whose derivation is missing (as older nix-hug versions wrote them)', () => {
    let old = '';
    let publicKey = '';

    before(async () => {
      const exp = ok(await cli(['export', OLD.id]), 'export');
      old = exp.stdout.trim();
      const persist = join(home.home, 'persist');
      const drv = ok(await nixStore(['-q', '--deriver', old]), 'deriver').stdout.trim();
      unlinkSync(join(persist, `${drv.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo`));
      publicKey = readFileSync(join(home.home, '.config', 'nix-hug', 'keys', 'public.key'), 'utf8').trim();
      await collectSnapshot(old);
    });

    it('import says exactly what an administrator must add to which file, with the key; --yes does not help, and the hint does not say it would', async () => {
      for (const args of [['import', OLD.id], ['import', OLD.id, '--yes']]) {
        const r = await cli(args);
        assert.equal(r.code, 1, r.stderr);
        const [message, hint] = r.stderr.trim().split('\n').slice(-2);
        assert.match(message!, /the Nix daemon does not accept \/nix\/store\/\S+ from you: .*a key it trusts.*could not be rebuilt here instead \(its derivation was not exported with it/);
        assert.equal(
          hint,
          `hint: ask an administrator to add this line to /etc/nix/nix.conf and restart the daemon (systemctl restart nix-daemon): extra-trusted-public-keys = ${publicKey}` +
            ` — on NixOS: nix.settings.trusted-public-keys = [ "${publicKey}" ];`,
        );
        assert.doesNotMatch(r.stderr, /--yes/);
      }
      assert.equal(await valid(old), false);
    });

    it('with that line in the daemon\'s configuration, the same import works', async () => {
      await daemon.stop();
      daemon = await startDaemon(`${testNixConfig()}\nextra-trusted-public-keys = ${publicKey}`);
      const r = ok(await cli(['import', OLD.id]), 'import');
      assert.match(r.stderr, /\(signature verified\)\n/);
      assert.deepEqual(tree(old), expected(OLD));
    });
  });
});
