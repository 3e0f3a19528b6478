/**
 * The lock file with real Nix: `add` builds exactly what `fromLock` later
 * evaluates (same store paths); `update` of a moved branch downloads only
 * the LFS files that changed; `fromLock` evaluates with the Hub gone, a
 * fresh fetcher cache and import-from-derivation off (inline and vendored
 * manifests alike), its `cache` builds offline and the real Hugging Face
 * client reads every file from it; and a lock it cannot read fails
 * evaluation with a message saying why. Blob contents are seeded per run,
 * so every commit is new to the store.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import { startHub } from '../../hub-emulator/server.ts';
import type { FileSpec, RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, LIB_DIR, nixTestEnv, ok, plain, readSnapshot, requireBuild, run, runCli, STUB_DIR, type NixTestEnv } from '../support/index.ts';
import { nixString } from '../../src/nix/expr.ts';

const RUN = randomBytes(6).toString('hex');
const seeded = (name: string, size: number) => ({ lfs: { size, seed: `${RUN}-${name}` } });

const MODEL: RepoSpec = {
  id: 'locknix/model',
  commits: [{ files: { 'config.json': '{"model_type":"llama"}\n', 'tokenizer.json': '{"v":1}\n', 'model.safetensors': seeded('st', 150_000), 'extra/opt.bin': seeded('opt', 2_000) } }],
};
const DATA: RepoSpec = { id: 'locknix/data', type: 'dataset', commits: [{ files: { 'README.md': '# data\n', 'train.parquet': seeded('train', 5_000) } }] };
const BIG_FILES: Record<string, FileSpec> = { 'README.md': '# big\n' };
for (let i = 0; i < 210; i++) BIG_FILES[`rows/${String(i).padStart(3, '0')}.${i % 50 === 0 ? 'parquet' : 'json'}`] = i % 50 === 0 ? seeded(`row${i}`, 300) : `{"row":${i}}\n`;
const BIG: RepoSpec = { id: 'locknix/big', type: 'dataset', commits: [{ files: BIG_FILES }] };

let hub: RunningHub;
let nix: NixTestEnv;
let cli: ReturnType<typeof cliEnv>;
let work: string;
const built: Record<string, string> = {};

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...cli.env, ...nix.env, HOME: cli.env.HOME, HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR, ...extra });
const nixHug = (args: string[]) => runCli(args, env(), { cwd: work });
const addJson = async (args: string[]) => {
  const r = await nixHug(['add', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { name: string; rev: string; storePath: string | null; manifestFile: string | null };
};

/** What a user writes: the library on the stand-in, and fromLock of the lock beside this file. */
function userFile(name: string, body: string): string {
  const file = join(work, name);
  writeFileSync(file, `let\n  nix-hug-lib = import (/. + ${nixString(LIB_DIR)}) { pkgs = import (/. + ${nixString(STUB_DIR)}) { }; };\n  locked = nix-hug-lib.fromLock ./nix-hug.lock;\nin\n${body}\n`);
  return file;
}

before(async () => {
  requireBuild();
  hub = await startHub({ repos: [MODEL, DATA, BIG] });
  nix = nixTestEnv();
  cli = cliEnv();
  work = mkdtempSync(join(tmpdir(), 'nix-hug-lock-nix-'));
});
after(async () => {
  await hub?.close();
  nix?.cleanup();
  cli?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the lock file with real Nix', () => {
  it('add builds each entry; the snapshot holds the repository', async () => {
    const model = await addJson(['locknix/model']);
    const data = await addJson(['datasets/locknix/data', '--name', 'data']);
    const big = await addJson(['datasets/locknix/big']);
    assert.equal(big.manifestFile, `nix-hug.lock.d/datasets--locknix--big--${big.rev.slice(0, 12)}.tsv`);
    for (const [name, spec, r] of [['model', MODEL, model], ['data', DATA, data], ['big', BIG, big]] as const) {
      assert.ok(r.storePath, name);
      built[name] = r.storePath;
      const snap = readSnapshot(r.storePath);
      const files = hub.repo(spec.id, spec.type).filesAt();
      for (const [path, bytes] of files) assert.ok(Buffer.from(bytes).equals(snap.get(path)?.bytes ?? Buffer.alloc(0)), `${name}: ${path}`);
    }
  });

  it('update of a moved branch downloads only the LFS files that changed, and rebuilds only that entry', async () => {
    const next = await hub.push(MODEL.id, { files: { 'model.safetensors': seeded('st-2', 160_000), 'config.json': '{"model_type":"llama","v":2}\n' } });
    const lockBefore = readFileSync(join(work, 'nix-hug.lock'), 'utf8');
    hub.resetStats();
    const r = await nixHug(['update', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { entries: { name: string; state: string; newRev: string | null; lfsFiles: number; lfsBytes: number; storePath: string | null }[] };
    assert.deepEqual(
      report.entries.map((e) => [e.name, e.state]),
      [['big', 'unchanged'], ['data', 'unchanged'], ['model', 'moved']],
    );
    const moved = report.entries.find((e) => e.name === 'model')!;
    assert.deepEqual([moved.newRev, moved.lfsFiles, moved.lfsBytes], [next, 1, 160_000]);
    assert.equal(hub.cdnBytes(), 160_000, 'only the changed LFS file came from the CDN');
    assert.equal(hub.requests.filter((q) => q.url.includes('/tree/')).every((q) => q.url.includes('locknix/model')), true, 'only the moved entry was listed');
    assert.ok(moved.storePath && moved.storePath !== built.model);
    built.model = moved.storePath;
    assert.equal(readFileSync(join(moved.storePath, 'config.json'), 'utf8'), '{"model_type":"llama","v":2}\n');
    const after = readFileSync(join(work, 'nix-hug.lock'), 'utf8');
    const entryText = (text: string, name: string) => text.slice(text.indexOf(`"name": "${name}"`), text.indexOf('\n    }', text.indexOf(`"name": "${name}"`)));
    assert.notEqual(entryText(after, 'model'), entryText(lockBefore, 'model'));
    for (const name of ['big', 'data']) assert.equal(entryText(after, name), entryText(lockBefore, name));
  });

  it('fromLock evaluates with the Hub gone, a fresh fetcher cache and no import-from-derivation, to what add and update built', async () => {
    await hub.close();
    const offline = nixTestEnv();
    try {
      const file = userFile('paths.nix', '{ models = builtins.mapAttrs (_: m: m.outPath) locked.models; datasets = builtins.mapAttrs (_: d: d.outPath) locked.datasets; ids = builtins.mapAttrs (_: m: m.repoId) locked.models; }');
      const r = ok(await run('nix', ['eval', '--json', '--option', 'allow-import-from-derivation', 'false', '-f', file], offline.env, { cwd: work }), 'nix eval fromLock');
      assert.deepEqual(JSON.parse(r.stdout), {
        models: { model: built.model },
        datasets: { big: built.big, data: built.data },
        ids: { model: MODEL.id },
      });
      // The other form of the argument.
      const attrForm = userFile('attr-form.nix', '(nix-hug-lib.fromLock { lock = ./nix-hug.lock; }).datasets.big.outPath');
      assert.equal(ok(await run('nix', ['eval', '--raw', '--option', 'allow-import-from-derivation', 'false', '-f', attrForm], offline.env, { cwd: work }), 'fromLock { lock }').stdout, built.big);

      // The cache: built offline (every snapshot is in the store), read by the real client.
      const cacheFile = userFile('cache.nix', 'locked.cache');
      const b = ok(await run('nix', ['build', '--no-link', '--json', '--option', 'allow-import-from-derivation', 'false', '-f', cacheFile], offline.env, { cwd: work }), 'nix build cache');
      const cache = (JSON.parse(b.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
      const info = await scanCacheDir(cache);
      assert.deepEqual(info.warnings, []);
      assert.deepEqual([...info.repos].map((x) => `${x.id.type}:${x.id.name}`).sort(), ['dataset:locknix/big', 'dataset:locknix/data', 'model:locknix/model']);
      const noNetwork: typeof fetch = async (input) => {
        throw new Error(`the cache reader went to the network: ${String(input)}`);
      };
      const rev = JSON.parse(readFileSync(join(work, 'nix-hug.lock'), 'utf8')).entries.find((e: { name: string }) => e.name === 'model').rev as string;
      for (const path of ['config.json', 'model.safetensors', 'extra/opt.bin']) {
        const got = await downloadFileToCacheDir({ repo: { type: 'model', name: MODEL.id }, path, revision: rev, cacheDir: cache, fetch: noNetwork });
        assert.ok(readFileSync(got).equals(readFileSync(join(built.model!, path))), path);
      }
    } finally {
      offline.cleanup();
    }
  });

  it('a lock fromLock cannot read fails evaluation saying why', async () => {
    const lock = readFileSync(join(work, 'nix-hug.lock'), 'utf8');
    const evalError = async (text: string, vendored?: string) => {
      const dir = mkdtempSync(join(work, 'bad-'));
      writeFileSync(join(dir, 'nix-hug.lock'), text);
      if (vendored !== undefined) {
        const entry = (JSON.parse(text) as { entries: { name: string; manifest: unknown }[] }).entries.find((e) => e.name === 'big')!;
        const target = join(dir, entry.manifest as string);
        (await import('node:fs')).mkdirSync(join(target, '..'), { recursive: true });
        writeFileSync(target, vendored);
      }
      const file = join(dir, 'x.nix');
      writeFileSync(file, `(import (/. + ${nixString(LIB_DIR)}) { pkgs = import (/. + ${nixString(STUB_DIR)}) { }; }).fromLock ./nix-hug.lock`);
      const r = await run('nix', ['eval', '--json', '--option', 'allow-import-from-derivation', 'false', '--apply', 'l: builtins.mapAttrs (_: d: d.drvPath) l.datasets', '-f', file], nix.env, { cwd: dir });
      assert.notEqual(r.code, 0);
      return plain(r.stderr);
    };
    assert.match(await evalError(lock.replace('"version": 1', '"version": 2')), /nix-hug fromLock: the lock file .*nix-hug.lock has version 2, written by a newer nix-hug; update the nix-hug library/);
    const vendoredFile = JSON.parse(lock).entries.find((e: { name: string }) => e.name === 'big').manifest as string;
    const text = readFileSync(join(work, vendoredFile), 'utf8');
    const tampered = await evalError(lock, text.replace('README.md\tgit\n', 'README.md\tgit\nextra.txt\tgit\n'));
    assert.match(tampered, /the manifest file .* hashes to sha256-\S+, but fileTreeHash is sha256-/);
    assert.match(await evalError(lock.replace(`"manifest": "${vendoredFile}"`, '"manifest": "../outside.tsv"')), /the manifest of "big" must be an object of files or a relative path of plain names/);
  });
});
