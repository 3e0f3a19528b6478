/**
 * The lock commands against the Hub emulator, as a user runs them (pins
 * only: --no-build; test/lock/nix.test.ts builds): `add` records what fetch
 * pins; `outdated` asks once per entry; a branch that moves, a tag that is
 * re-pointed and a repository that disappears between two runs are reported
 * as the issue says; `update` rewrites only what moved; concurrent `add`s
 * all land; a corrupt or newer lock file is an error and stays untouched;
 * a private repository works with the token, which never goes to another Hub.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { FileSpec, RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, requireBuild, runCli, type CliRun } from '../support/index.ts';
import { parseLock, type LockEntry } from '../../src/lock/format.ts';
import { fileTreeHash, parseManifestText } from '../../src/canonical-manifest.ts';

const TOKEN = 'hf_lockTestsToken0000000000000001';
const small = (id: string, extra: Partial<RepoSpec> = {}, files: Record<string, FileSpec> = {}): RepoSpec => ({
  id,
  commits: [{ files: { 'config.json': `{"id":"${id}"}\n`, 'model.safetensors': { lfs: { size: 3000, seed: `${id}-st` } }, 'model.onnx': { lfs: { size: 500, seed: `${id}-onnx` } }, ...files } }],
  ...extra,
});
const MANY: Record<string, FileSpec> = {};
for (let i = 0; i < 230; i++) MANY[`rows/${String(i).padStart(3, '0')}.json`] = `{"i":${i}}\n`;

let hub: RunningHub;
let cli: ReturnType<typeof cliEnv>;
let root: string;

before(async () => {
  requireBuild();
  hub = await startHub({
    repos: [
      small('lk/alpha', { commits: [{ files: { 'config.json': '{}\n', 'model.safetensors': { lfs: { size: 3000, seed: 'alpha-st' } } }, tags: ['v1'] }] }),
      small('lk/beta'),
      small('lk/moving'),
      small('lk/tagged', { commits: [{ files: { 'config.json': '{}\n', 'w.bin': { lfs: { size: 800, seed: 'tagged-1' } } }, tags: ['v1'] }] }),
      small('lk/vanishing'),
      small('lk/renamed'),
      small('lk/legacy', { aliases: ['legacy'] }),
      small('lk/private', { private: true }),
      { id: 'lk/set', type: 'dataset', commits: [{ files: { 'train.parquet': { lfs: { size: 700, seed: 'set-train' } }, 'README.md': '# set\n' } }] },
      { id: 'lk/many', type: 'dataset', gitattributes: 'none', commits: [{ files: MANY }] },
      ...Array.from({ length: 6 }, (_, i) => small(`lk/par-${i}`)),
    ],
    tokens: { [TOKEN]: { grants: ['lk/private'] } },
  });
  cli = cliEnv({ HF_ENDPOINT: hub.url });
  root = mkdtempSync(join(tmpdir(), 'nix-hug-lock-cli-'));
});
after(async () => {
  await hub?.close();
  cli?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
const workdir = () => {
  const d = join(root, `w${++dirs}`);
  rmSync(d, { recursive: true, force: true });
  return mkdtempSync(`${d}-`);
};
const nixHug = (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { ...cli.env, ...extra }, { cwd });
const ok = async (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliRun> => {
  const r = await nixHug(cwd, args, extra);
  assert.equal(r.code, 0, `nix-hug ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const lockOf = (cwd: string, file = 'nix-hug.lock') => parseLock(readFileSync(join(cwd, file), 'utf8'), file);
const entryOf = (cwd: string, name: string): LockEntry => lockOf(cwd).entries.find((e) => e.name === name)!;
/** The text of one entry in the lock file (its lines, from `{` to `}`). */
const entryText = (cwd: string, name: string) => {
  const text = readFileSync(join(cwd, 'nix-hug.lock'), 'utf8');
  const start = text.lastIndexOf('    {', text.indexOf(`"name": ${JSON.stringify(name)}`));
  return text.slice(start, text.indexOf('\n    }', start));
};
const revisionRequests = () => hub.requests.filter((r) => r.url.includes('/revision/'));

interface OutdatedJson {
  lock: string;
  entries: { name: string; state: string; rev: string; newRev: string | null; lfsFiles: number | null; lfsBytes: number | null; updated?: boolean; error: { message: string } | null }[];
}

describe('nix-hug add', () => {
  it('records a model and a dataset with what fetch pins, and ls --lock lists them', async () => {
    const d = workdir();
    const added = await ok(d, ['add', 'lk/alpha', '--no-build']);
    const alpha = hub.repo('lk/alpha');
    assert.equal(added.stdout, `alpha  added ${alpha.refs.main!.slice(0, 7)} (main): model lk/alpha on ${hub.url}\n`);
    await ok(d, ['add', 'datasets/lk/set', '--name', 'squad', '--include', '*.parquet', '--no-build']);
    const lock = lockOf(d);
    assert.deepEqual(lock.entries.map((e) => e.name), ['alpha', 'squad']);
    const a = lock.entries[0]!;
    assert.deepEqual(
      { type: a.type, repoId: a.repoId, endpoint: a.endpoint, ref: a.ref, rev: a.rev, filters: a.filters },
      { type: 'model', repoId: 'lk/alpha', endpoint: hub.url, ref: 'main', rev: alpha.refs.main, filters: null },
    );
    assert.equal(a.manifest.kind, 'inline');
    const fetched = JSON.parse((await ok(d, ['fetch', 'lk/alpha', '--no-build', '--json'])).stdout) as { fileTreeHash: string; gitRepoHash: string };
    assert.equal(a.fileTreeHash, fetched.fileTreeHash);
    assert.equal(a.gitRepoHash, fetched.gitRepoHash);
    const s = lock.entries[1]!;
    assert.deepEqual([s.type, s.repoId, s.filters], ['dataset', 'lk/set', { include: ['.*\\.parquet'] }]);

    const table = (await ok(d, ['ls', '--lock'])).stdout.split('\n');
    assert.match(table[0]!, /^NAME\s+TYPE\s+REPOSITORY\s+REF\s+REV\s+SELECTED\s+FILTERS$/);
    assert.match(table[1]!, new RegExp(`^alpha\\s+model\\s+lk/alpha \\(${hub.url}\\)\\s+main\\s+${a.rev.slice(0, 7)}\\s+3.00 kB in 1 LFS file\\s+-$`));
    assert.match(table[2]!, /^squad\s+dataset\s+lk\/set .*\s+700 B in 1 LFS file\s+include \.\*\\\.parquet$/);
    assert.equal(table[3], '2 entries in nix-hug.lock');
    const listed = JSON.parse((await ok(d, ['ls', '--lock', 'nix-hug.lock', '--json'])).stdout) as { entries: { name: string; files: number; lfsBytes: number; manifestFile: string | null }[] };
    assert.deepEqual(listed.entries.map((e) => [e.name, e.files, e.lfsBytes, e.manifestFile]), [['alpha', 3, 3000, null], ['squad', 3, 700, null]]);
  });

  it('refuses a taken name or the same repository and filters, unless --force; a commit --ref pins the entry', async () => {
    const d = workdir();
    await ok(d, ['add', 'lk/alpha', '--no-build']);
    const before = readFileSync(join(d, 'nix-hug.lock'), 'utf8');
    hub.resetStats();
    const same = await nixHug(d, ['add', 'hf:lk/alpha', '--no-build']);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /nix-hug: error: nix-hug.lock already has model lk\/alpha on .* with these filters, as 'alpha'\nhint: move it with `nix-hug update alpha`, or replace it with --force/);
    const taken = await nixHug(d, ['add', 'lk/beta', '--name', 'alpha', '--no-build']);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /already has an entry 'alpha' \(model lk\/alpha on .*\)\nhint: choose another name with --name NAME, or replace it with --force/);
    assert.equal(hub.requests.filter((r) => r.route === 'git').length, 0, 'refused before any clone');
    const badName = await nixHug(d, ['add', 'lk/beta', '--name', 'a b', '--no-build']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /the entry name 'a b' is not allowed/);
    assert.equal(readFileSync(join(d, 'nix-hug.lock'), 'utf8'), before);

    const first = hub.repo('lk/alpha').commits[0]!;
    const forced = await ok(d, ['add', 'lk/alpha', '--ref', first, '--force', '--no-build']);
    assert.match(forced.stderr, /replaced the entry 'alpha'/);
    assert.deepEqual([entryOf(d, 'alpha').ref, entryOf(d, 'alpha').rev], [null, first]);
    // A different selection of the same repository is another entry.
    await ok(d, ['add', 'lk/alpha', '--name', 'alpha-st', '--include', '*.safetensors', '--ref', 'v1', '--no-build']);
    assert.deepEqual(lockOf(d).entries.map((e) => [e.name, e.ref]), [['alpha', null], ['alpha-st', 'v1']]);
  });

  it('puts a manifest of more than 200 files beside the lock, and remove takes it away', async () => {
    const d = workdir();
    await ok(d, ['add', 'datasets/lk/many', '--no-build']);
    const e = entryOf(d, 'many');
    const file = `nix-hug.lock.d/datasets--lk--many--${e.rev.slice(0, 12)}.tsv`;
    assert.deepEqual(e.manifest, { kind: 'file', path: file });
    assert.equal(fileTreeHash(parseManifestText(readFileSync(join(d, file), 'utf8'), file)), e.fileTreeHash);
    await ok(d, ['add', 'lk/beta', '--no-build']);
    const removed = await ok(d, ['remove', 'many']);
    assert.equal(removed.stdout, 'many  removed\n');
    assert.deepEqual(readdirSync(d).sort(), ['nix-hug.lock']);
    const unknown = await nixHug(d, ['remove', 'beta', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /nix-hug.lock has no entry 'nope'\nhint: its entries: beta/);
    assert.deepEqual(lockOf(d).entries.map((e) => e.name), ['beta'], 'nothing removed');
  });

  it('a vendored manifest that went missing: ls --lock says which, update still moves the entry', async () => {
    const d = workdir();
    await ok(d, ['add', 'datasets/lk/many', '--no-build']);
    const { manifest } = entryOf(d, 'many');
    assert.equal(manifest.kind, 'file');
    rmSync(join(d, (manifest as { path: string }).path));
    const listed = await nixHug(d, ['ls', '--lock']);
    assert.equal(listed.code, 1);
    assert.match(listed.stderr, /cannot read the manifest file nix-hug.lock.d\/datasets--lk--many--\w{12}.tsv of entry 'many'.*\nhint: it belongs beside nix-hug.lock; restore it, or pin the entry again with `nix-hug add --force`/);
    const next = await hub.push('lk/many', { files: { 'rows/new.json': '{}\n' } }, 'dataset');
    const up = await ok(d, ['update', '--no-build']);
    assert.match(up.stderr, /note: many: cannot read the manifest file .*; the LFS bytes that differ are not known/);
    assert.equal(entryOf(d, 'many').rev, next);
    assert.deepEqual(readdirSync(join(d, 'nix-hug.lock.d')), [`datasets--lk--many--${next.slice(0, 12)}.tsv`]);
    await ok(d, ['ls', '--lock']);
  });

  it('a legacy id without an owner is recorded under its canonical org/name (the library takes only that)', async () => {
    const d = workdir();
    await ok(d, ['add', 'legacy', '--no-build']);
    const e = entryOf(d, 'legacy');
    assert.equal(e.repoId, 'lk/legacy');
    const hand = readFileSync(join(d, 'nix-hug.lock'), 'utf8').replace('"repoId": "lk/legacy"', '"repoId": "legacy"');
    writeFileSync(join(d, 'nix-hug.lock'), hand);
    const r = await nixHug(d, ['ls', '--lock']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"repoId" must be org\/name, not 'legacy'/);
  });

  it('six adds at once all land', async () => {
    const d = workdir();
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => nixHug(d, ['add', `lk/par-${i}`, '--no-build'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lockOf(d).entries.map((e) => e.name), Array.from({ length: 6 }, (_, i) => `par-${i}`));
    assert.deepEqual(readdirSync(d), ['nix-hug.lock']);
  });
});

describe('nix-hug outdated and update', () => {
  it('nothing moved: one revision request per entry, no listing or clone, exit 0; a pinned entry asks nothing', async () => {
    const d = workdir();
    await ok(d, ['add', 'lk/alpha', '--no-build']);
    await ok(d, ['add', 'lk/beta', '--no-build']);
    const pinArgs = ['add', 'lk/alpha', '--name', 'pinned', '--ref', hub.repo('lk/alpha').refs.main!, '--include', '*.bin', '--no-build'];
    // Filters that select none of the weights are refused as fetch refuses them, before git is asked …
    hub.resetStats();
    const refused = await nixHug(d, pinArgs);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /--include '\*\.bin' selects none of the 1 LFS file\(s\) of model lk\/alpha .*\n.*add --allow-empty/);
    assert.deepEqual(hub.requests.filter((q) => q.route === 'git'), []);
    assert.equal(lockOf(d).entries.length, 2, 'the lock is unchanged');
    // … unless --allow-empty.
    await ok(d, [...pinArgs, '--allow-empty']);
    hub.resetStats();
    const r = await ok(d, ['outdated']);
    const rev7 = (name: string) => entryOf(d, name).rev.slice(0, 7);
    assert.equal(r.stdout, `alpha   unchanged ${rev7('alpha')} (main)\nbeta    unchanged ${rev7('beta')} (main)\npinned  pinned ${rev7('pinned')} (a commit: nothing to follow)\n`);
    assert.match(r.stderr, /3 entries: 0 outdated, 2 unchanged, 1 pinned/);
    assert.deepEqual(hub.requests.map((q) => q.url).sort(), ['/api/models/lk/alpha/revision/main', '/api/models/lk/beta/revision/main']);
    const before = readFileSync(join(d, 'nix-hug.lock'), 'utf8');
    const u = await ok(d, ['update', '--no-build']);
    assert.match(u.stderr, /0 updated, 2 unchanged, 1 pinned/);
    assert.equal(readFileSync(join(d, 'nix-hug.lock'), 'utf8'), before);
  });

  it('a branch that moves between two runs: outdated exits 1 with old → new and the LFS bytes; update moves only it', async () => {
    const d = workdir();
    await ok(d, ['add', 'lk/moving', '--no-build']);
    await ok(d, ['add', 'lk/moving', '--name', 'moving-onnx', '--include', '*.onnx', '--no-build']);
    await ok(d, ['add', 'lk/beta', '--no-build']);
    const old = entryOf(d, 'moving');
    const betaText = entryText(d, 'beta');
    const next = await hub.push('lk/moving', { message: 'new weights', files: { 'model.safetensors': { lfs: { size: 4200, seed: 'moving-st-2' } }, 'extra.bin': { lfs: { size: 100, seed: 'moving-extra' } } } });

    hub.resetStats();
    const out = await nixHug(d, ['outdated']);
    assert.equal(out.code, 1, out.stderr);
    const arrow = `${old.rev.slice(0, 7)} → ${next.slice(0, 7)} (main)`;
    assert.equal(
      out.stdout,
      `beta         unchanged ${entryOf(d, 'beta').rev.slice(0, 7)} (main)\n` +
        `moving       ${arrow}: 2 LFS files differ, 4.30 kB\n` +
        `moving-onnx  ${arrow}: no LFS file differs\n`,
    );
    assert.match(out.stderr, /3 entries: 2 outdated, 1 unchanged/);
    assert.equal(revisionRequests().length, 3);
    const json = JSON.parse((await nixHug(d, ['outdated', '--json'])).stdout) as OutdatedJson;
    assert.deepEqual(
      json.entries.map((e) => [e.name, e.state, e.newRev, e.lfsFiles, e.lfsBytes]),
      [['beta', 'unchanged', null, null, null], ['moving', 'moved', next, 2, 4300], ['moving-onnx', 'moved', next, 0, 0]],
    );
    const onlyOne = await nixHug(d, ['outdated', 'beta']);
    assert.equal(onlyOne.code, 0);

    const lockBefore = readFileSync(join(d, 'nix-hug.lock'), 'utf8');
    const dry = await ok(d, ['update', '--dry-run']);
    assert.equal(dry.stdout, out.stdout);
    assert.equal(readFileSync(join(d, 'nix-hug.lock'), 'utf8'), lockBefore, '--dry-run changes nothing');

    const up = await ok(d, ['update', 'moving', '--no-build', '--json']);
    const report = JSON.parse(up.stdout) as OutdatedJson;
    assert.deepEqual(report.entries.map((e) => [e.name, e.state, e.updated]), [['moving', 'moved', true]]);
    const moved = entryOf(d, 'moving');
    assert.equal(moved.rev, next);
    const fetched = JSON.parse((await ok(d, ['fetch', 'lk/moving', '--no-build', '--json'])).stdout) as { fileTreeHash: string; gitRepoHash: string };
    assert.deepEqual([moved.fileTreeHash, moved.gitRepoHash], [fetched.fileTreeHash, fetched.gitRepoHash]);
    assert.equal(entryOf(d, 'moving-onnx').rev, old.rev, 'not named: not updated');
    assert.equal(entryText(d, 'beta'), betaText, 'an entry that did not move keeps its bytes');
    await ok(d, ['update', '--no-build']);
    assert.equal(entryOf(d, 'moving-onnx').rev, next);
    assert.equal((await nixHug(d, ['outdated'])).code, 0);
  });

  it('a tag that is re-pointed is followed', async () => {
    const d = workdir();
    await ok(d, ['add', 'lk/tagged', '--ref', 'v1', '--no-build']);
    const first = entryOf(d, 'tagged').rev;
    const second = await hub.push('lk/tagged', { files: { 'w.bin': { lfs: { size: 900, seed: 'tagged-2' } } } });
    assert.equal((await nixHug(d, ['outdated'])).code, 0, 'the tag has not moved yet');
    await hub.moveTag('lk/tagged', 'v1', second);
    const out = await nixHug(d, ['outdated']);
    assert.equal(out.code, 1);
    assert.equal(out.stdout, `tagged  ${first.slice(0, 7)} → ${second.slice(0, 7)} (v1): 1 LFS file differs, 900 B\n`);
    await ok(d, ['update', '--no-build']);
    assert.deepEqual([entryOf(d, 'tagged').ref, entryOf(d, 'tagged').rev], ['v1', second]);
  });

  it('a move after which the filters select no weights is refused, the entry kept', async () => {
    const d = workdir();
    await ok(d, ['add', 'lk/renamed', '--include', '*.safetensors', '--no-build']);
    const before = readFileSync(join(d, 'nix-hug.lock'), 'utf8');
    const next = await hub.push('lk/renamed', { files: { 'model.safetensors': null, 'model.bin': { lfs: { size: 3000, seed: 'lk/renamed-st' } } } });
    for (const args of [['outdated'], ['update', '--no-build']]) {
      const r = await nixHug(d, args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stdout, new RegExp(`^renamed  failed: at ${next.slice(0, 7)} the filters of 'renamed' select none of the LFS files of model lk/renamed .*\\(1 at \\w{7}\\): the weights were renamed or removed$`, 'm'));
    }
    assert.equal(readFileSync(join(d, 'nix-hug.lock'), 'utf8'), before);
  });

  it('a repository that disappears is reported, its entry kept, and both commands exit 1', async () => {
    const d = workdir();
    await ok(d, ['add', 'lk/vanishing', '--no-build']);
    await ok(d, ['add', 'lk/beta', '--no-build']);
    const before = readFileSync(join(d, 'nix-hug.lock'), 'utf8');
    await hub.deleteRepo('lk/vanishing');
    for (const args of [['update', '--no-build'], ['outdated'], ['update', '--dry-run']]) {
      const r = await nixHug(d, args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^vanishing  gone: model lk/vanishing on ${hub.url} is gone from ${hub.url} \\(or is private and your token cannot read it\\)$`, 'm'));
      assert.match(r.stdout, /^beta\s+unchanged/m);
      assert.match(r.stderr, /vanishing: the entry was kept; if the repository moved, `nix-hug add` its new name and `nix-hug remove vanishing`/);
      if (args[0] === 'update') assert.match(r.stderr, /nix-hug: error: 1 of 2 entries could not be (updated|checked): vanishing \(gone\)\nhint: their lines above say why/);
    }
    assert.equal(readFileSync(join(d, 'nix-hug.lock'), 'utf8'), before);
  });
});

describe('lock files that cannot be used', () => {
  it('a corrupt or newer lock file is a clear error for every command, and is never written', async () => {
    const d = workdir();
    const cases = [
      ['{"version": 1, "entries": [', /^nix-hug: error: the lock file nix-hug.lock is not valid: not JSON .*\nhint: it was left untouched; fix it by hand, or restore it/],
      ['{"version": 2, "entries": []}', /^nix-hug: error: the lock file nix-hug.lock has version 2, written by a newer nix-hug \(this one reads version 1\)\nhint: upgrade nix-hug; the file was left untouched/],
    ] as const;
    for (const [text, re] of cases) {
      writeFileSync(join(d, 'nix-hug.lock'), text);
      hub.resetStats();
      for (const args of [['add', 'lk/beta', '--no-build'], ['update'], ['outdated'], ['remove', 'x'], ['ls', '--lock']]) {
        const r = await nixHug(d, args);
        assert.equal(r.code, 1, args.join(' '));
        assert.match(r.stderr, re, args.join(' '));
      }
      assert.equal(hub.requests.length, 0, 'found before any request');
      assert.equal(readFileSync(join(d, 'nix-hug.lock'), 'utf8'), text);
      assert.deepEqual(readdirSync(d), ['nix-hug.lock']);
    }
  });

  it('a missing lock file: update says how to start one; NIX_HUG_LOCK and --lock name another', async () => {
    const d = workdir();
    const r = await nixHug(d, ['update']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no lock file at nix-hug.lock\nhint: create one with `nix-hug add URL`, or name another with --lock FILE \(or NIX_HUG_LOCK\)/);
    await ok(d, ['add', 'lk/beta', '--no-build'], { NIX_HUG_LOCK: 'models.lock' });
    await ok(d, ['add', 'lk/alpha', '--no-build', '--lock', 'other.lock'], { NIX_HUG_LOCK: 'models.lock' });
    assert.deepEqual(readdirSync(d).sort(), ['models.lock', 'other.lock']);
    assert.deepEqual(lockOf(d, 'models.lock').entries.map((e) => e.name), ['beta']);
    const usage = await nixHug(d, ['ls', 'lk/beta', '--lock']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give either a repository or --lock, not both/);
  });
});

describe('private repositories and other Hubs', () => {
  it('a private repository is added and checked with HF_TOKEN; without it, the error says to set it', async () => {
    const d = workdir();
    const denied = await nixHug(d, ['add', 'lk/private', '--no-build']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /HF_TOKEN/);
    assert.equal(existsSync(join(d, 'nix-hug.lock')), false);
    await ok(d, ['add', 'lk/private', '--no-build'], { HF_TOKEN: TOKEN });
    assert.equal((await nixHug(d, ['outdated'], { HF_TOKEN: TOKEN })).code, 0);
    const anon = await nixHug(d, ['outdated']);
    assert.equal(anon.code, 1);
    assert.match(anon.stdout, /private  gone: model lk\/private .* \(or is private and your token cannot read it\)/);
  });

  it('an entry of another Hub is asked there, without the token', async () => {
    const other = await startHub({ repos: [small('lk/elsewhere')] });
    try {
      const d = workdir();
      await ok(d, ['add', 'lk/elsewhere', '--no-build'], { HF_ENDPOINT: other.url });
      await ok(d, ['add', 'lk/beta', '--no-build']);
      assert.equal(entryOf(d, 'elsewhere').endpoint, other.url);
      other.resetStats();
      hub.resetStats();
      await ok(d, ['outdated'], { HF_TOKEN: TOKEN });
      assert.deepEqual(other.requests.map((q) => [q.url, q.authorized]), [['/api/models/lk/elsewhere/revision/main', false]]);
      assert.deepEqual(hub.requests.map((q) => [q.url, q.authorized]), [['/api/models/lk/beta/revision/main', true]]);
    } finally {
      await other.close();
    }
  });
});
