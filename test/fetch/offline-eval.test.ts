/**
 * Pins that evaluate without network: what `nix-hug fetch` prints
 * (gitRepoHash + inline manifest, or --vendor's manifest file) evaluates with
 * the Hub gone, a fresh Nix fetcher cache and import-from-derivation off;
 * its build checks the checkout (built by the nixpkgs stand-in's fetchgit
 * with the CLI's own gitRepoHash) and gives the same snapshot as the
 * evaluation-time route; wrong hashes and tampered manifests fail where and
 * how they should; and the real HF client reads a cache built from such
 * pins. Blob contents are seeded per run, so every commit (and checkout) is
 * new to the store.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, hubFiles, LIB_DIR, nixTestEnv, plain, readSnapshot, requireBuild, run, runCli, STUB_DIR, type NixTestEnv } from '../support/index.ts';
import { canonicalManifest } from '../../src/canonical-manifest.ts';
import { nixString } from '../../src/nix/expr.ts';
import { nixBuild as cliNixBuild, NixBuildError, nixEnv as cliNixEnv } from '../../src/nix/nix.ts';
import { recursiveFixedPath } from '../../src/nix/store-path.ts';
import { explainBuildFailure } from '../../src/build/build-failure.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';
import type { RepoFile } from '../../src/types.ts';

const RUN = randomBytes(6).toString('hex');
const seeded = (name: string, size: number) => ({ lfs: { size, seed: `${RUN}-${name}` } });
const sriOf = (text: string) => `sha256-${createHash('sha256').update(text).digest('base64')}`;

const MODEL: RepoSpec = {
  id: 'offline/model',
  commits: [
    {
      files: {
        'config.json': '{"model_type":"llama"}\n',
        'sub dir/tokenizer.json': '{"v":1}\n',
        'odd "name" $x.txt': 'odd\n',
        'model.safetensors': seeded('st', 200_000),
        'extra/opt.bin': seeded('bin', 1_000),
        'links/config.json': { symlink: '../config.json' },
      },
    },
  ],
};
// More files than an expression inlines: --vendor's case.
const DATA_FILES: Record<string, string | { lfs: { size: number; seed: string } }> = { 'README.md': '# data\n' };
for (let i = 0; i < 240; i++) DATA_FILES[`rows/part-${String(i).padStart(3, '0')}.${i % 10 === 0 ? 'parquet' : 'json'}`] = i % 10 === 0 ? seeded(`row${i}`, 700) : `{"row":${i}}\n`;
const DATA: RepoSpec = { id: 'offline/data', type: 'dataset', commits: [{ files: DATA_FILES }] };

let hub: RunningHub;
let nix: NixTestEnv;
let cli: ReturnType<typeof cliEnv>;
let work: string;

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...cli.env, ...nix.env, HOME: cli.env.HOME, HF_ENDPOINT: hub.url, NIX_HUG_NIXPKGS: STUB_DIR, ...extra });

interface Printed {
  rev: string;
  fileTreeHash: string;
  gitRepoHash: string;
  manifest: string;
  manifestFile: string | null;
  expression: string;
}

/** What the user saves: the printed expression with the library in scope, in the folder fetch ran in. */
function saveExpression(name: string, expression: string, dir = work): string {
  const file = join(dir, name);
  writeFileSync(file, `let nix-hug-lib = import (/. + ${nixString(LIB_DIR)}) { pkgs = import (/. + ${nixString(STUB_DIR)}) { }; }; in\n${expression}\n`);
  return file;
}

async function evalDrv(file: string, e: NodeJS.ProcessEnv) {
  return run('nix', ['eval', '--raw', '--option', 'allow-import-from-derivation', 'false', '-f', file, 'drvPath'], e);
}

async function build(file: string, e: NodeJS.ProcessEnv) {
  const r = await run('nix', ['build', '--no-link', '--json', '--max-jobs', '4', '-f', file], e);
  return { ...r, out: r.code === 0 ? (JSON.parse(r.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out : null };
}

/** The canonical manifest of a repo, from the Hub's listing (not the CLI's code path). */
async function hubManifest(type: 'model' | 'dataset', id: string, rev: string): Promise<string> {
  const files: RepoFile[] = await hubFiles(hub.url, type, id, rev);
  return canonicalManifest(files).toString('utf8');
}

const withGitRepoHash = (expression: string, hash: string) => expression.replace(/gitRepoHash = "[^"]*";/, `gitRepoHash = ${nixString(hash)};`);
/** A valid-looking hash that is not the checkout's. */
const wrongHash = (hash: string) => `sha256-${createHash('sha256').update(`not ${hash}`).digest('base64')}`;

interface Pin {
  printed?: Printed;
  /** The saved expression. */
  file?: string;
  out?: string;
  drv?: string;
  /** Every file's bytes, from the emulator's fixture. */
  bytes?: Map<string, Uint8Array>;
}
const model: Pin = {};
const data: Pin & { plain?: Printed } = {};

before(async () => {
  requireBuild();
  hub = await startHub({ repos: [MODEL, DATA] });
  nix = nixTestEnv();
  cli = cliEnv();
  work = mkdtempSync(join(tmpdir(), 'nix-hug-offline-'));
});

after(async () => {
  await hub?.close();
  nix?.cleanup();
  cli?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('pins that evaluate without network', () => {
  it('fetch prints gitRepoHash and the manifest: inline for a small repo, in a --vendor file for a large one', async () => {
    const m = await runCli(['fetch', 'offline/model', '--no-build', '--json'], env(), { cwd: work });
    assert.equal(m.code, 0, m.stderr);
    model.printed = JSON.parse(m.stdout) as Printed;
    const { printed } = model;
    assert.match(printed.gitRepoHash, /^sha256-[A-Za-z0-9+/]{43}=$/);
    assert.equal(printed.manifest, await hubManifest('model', MODEL.id, printed.rev));
    assert.equal(sriOf(printed.manifest), printed.fileTreeHash);
    assert.equal(printed.manifestFile, null);
    assert.match(printed.expression, new RegExp(`\\n  gitRepoHash = "${printed.gitRepoHash.replace(/[+/]/g, '\\$&')}";\\n  manifest = \\{\\n`));
    assert.match(printed.expression, /\n {4}"odd \\"name\\" \\\$x\.txt" = "git";\n/);
    assert.match(printed.expression, /\n {4}"model\.safetensors" = \{ sha256 = "[0-9a-f]{64}"; size = 200000; \};\n/);
    assert.equal(hub.cdnBytes(), 0, '--no-build downloads no LFS file');
    model.file = saveExpression('model.nix', printed.expression);
    model.bytes = hub.repo(MODEL.id).filesAt(printed.rev);

    const d = await runCli(['fetch', 'datasets/offline/data', '--no-build', '--json', '--vendor', 'pins'], env(), { cwd: work });
    assert.equal(d.code, 0, d.stderr);
    data.printed = JSON.parse(d.stdout) as Printed;
    const name = `datasets--offline--data--${data.printed.rev.slice(0, 12)}.tsv`;
    assert.equal(data.printed.manifestFile, join(work, 'pins', name));
    assert.match(data.printed.expression, new RegExp(`\\n  manifest = \\./pins/${name.replace(/\./g, '\\.')};\\n\\}$`));
    const vendored = readFileSync(join(work, 'pins', name), 'utf8');
    assert.equal(vendored, await hubManifest('dataset', DATA.id, data.printed.rev));
    assert.equal(sriOf(vendored), data.printed.fileTreeHash, 'the file holds exactly what fileTreeHash hashes');
    data.file = saveExpression('data.nix', data.printed.expression);
    data.bytes = hub.repo(DATA.id, 'dataset').filesAt(data.printed.rev);

    // Without --vendor a large repo's expression carries no manifest, and says how to get one.
    const p = await runCli(['fetch', 'datasets/offline/data', '--no-build', '--json'], env(), { cwd: work });
    assert.equal(p.code, 0, p.stderr);
    data.plain = JSON.parse(p.stdout) as Printed;
    assert.doesNotMatch(data.plain.expression, /manifest/);
    assert.match(data.plain.expression, /gitRepoHash = /);
    assert.match(p.stderr, /242 lines.*--vendor DIR/s);
    assert.equal(hub.cdnBytes(), 0);
  });

  it("builds with the nixpkgs stand-in's fetchgit: the checkout it makes has exactly the CLI's gitRepoHash", async () => {
    for (const [what, pin] of [['model', model], ['dataset', data]] as const) {
      const checkout = recursiveFixedPath(pin.printed!.gitRepoHash, `hf-${what}-offline--${what === 'model' ? 'model' : 'data'}-${pin.printed!.rev.slice(0, 7)}-git`);
      const before = await run('nix-store', ['--check-validity', checkout], nix.env);
      assert.notEqual(before.code, 0, `${checkout} must not be in the store yet (new commit per run)`);
      const b = await build(pin.file!, nix.env);
      assert.equal(b.code, 0, b.stderr);
      pin.out = b.out!;
      const after = await run('nix-store', ['--check-validity', checkout], nix.env);
      assert.equal(after.code, 0, `the fixed-output checkout ${checkout} was built`);
      const hashed = await run('nix', ['hash', 'path', checkout], nix.env);
      assert.equal(hashed.stdout.trim(), pin.printed!.gitRepoHash);
    }
    const snap = readSnapshot(model.out!);
    assert.equal(snap.get('links/config.json')?.link, '../config.json');
    assert.equal(snap.get('odd "name" $x.txt')?.bytes.toString(), 'odd\n');
    // The large repo's plain print (gitRepoHash, no manifest) is the same derivation.
    const plainFile = saveExpression('data-plain.nix', data.plain!.expression);
    const b = await build(plainFile, nix.env);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.out, data.out);
  });

  it('gives byte for byte the snapshot of the evaluation-time route (same files, same blobs)', async () => {
    const legacy = (p: Printed) => p.expression.replace(/\n {2}gitRepoHash = [^\n]*/, '').replace(/\n {2}manifest = (\{[\s\S]*?\n {2}\};|[^\n]*;)/, '');
    for (const pin of [model, data]) {
      const text = legacy(pin.printed!);
      assert.doesNotMatch(text, /gitRepoHash|manifest/);
      const b = await build(saveExpression('legacy.nix', text), nix.env);
      assert.equal(b.code, 0, b.stderr);
      assert.notEqual(b.out, pin.out, 'another derivation');
      assert.deepEqual(readSnapshot(pin.out!), readSnapshot(b.out!));
    }
  });

  it('a wrong gitRepoHash fails the build, naming the repository and both hashes', async () => {
    const right = model.printed!.gitRepoHash;
    const wrong = wrongHash(right);
    const file = saveExpression('wrong.nix', withGitRepoHash(model.printed!.expression, wrong));
    const b = await build(file, nix.env);
    assert.notEqual(b.code, 0);
    const text = plain(b.stderr);
    assert.match(text, /hf-model-offline--model-[0-9a-f]{7}-git\.drv/);
    assert.ok(text.includes(wrong) && text.includes(right), text);

    // The CLI says it in the repository's terms.
    const err = await cliNixBuild({ target: { file }, env: cliNixEnv(nix.env), maxJobs: 2, http: DEFAULT_HTTP }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof NixBuildError, String(err));
    const explained = explainBuildFailure(err, 'model offline/model', []);
    assert.equal(explained.message, `the git checkout of model offline/model hashes to ${right}, but its gitRepoHash is ${wrong}`);
  });

  it('the build checks the checkout against the manifest and names the first file that differs', async () => {
    const { printed } = model;
    const lines = printed!.manifest.split('\n').filter(Boolean);
    const variant = (manifestText: string, filters: string) => {
      const vendoredFile = join(work, `variant-${sriOf(manifestText).slice(7, 15).replace(/[+/]/g, '_')}.tsv`);
      writeFileSync(vendoredFile, manifestText);
      const expression = printed!.expression
        .replace(/fileTreeHash = "[^"]*";/, `fileTreeHash = ${nixString(sriOf(manifestText))};`)
        .replace(/\n {2}manifest = \{[\s\S]*?\n {2}\};/, `\n  manifest = ${nixString(vendoredFile)};`)
        .replace(/\n {2}fileTreeHash/, `\n  filters = ${filters};\n  fileTreeHash`);
      return saveExpression('variant.nix', expression);
    };
    // A git file left out of the manifest.
    const missing = await build(variant(lines.filter((l) => !l.startsWith('config.json\t')).join('\n') + '\n', '{ files = [ "sub dir/tokenizer.json" ]; }'), nix.env);
    assert.notEqual(missing.code, 0);
    assert.match(plain(missing.stderr), /offline\/model at [0-9a-f]{40}: the git checkout does not match the manifest: the checkout has 'config\.json', which the manifest does not list/);
    // An LFS file with another size (not selected: nothing is downloaded, the pointer is still checked).
    const resized = lines.map((l) => (l.startsWith('model.safetensors\t') ? l.replace(/\t200000$/, '\t200001') : l)).join('\n') + '\n';
    const wrongSize = await build(variant(resized, '{ files = [ "config.json" ]; }'), nix.env);
    assert.notEqual(wrongSize.code, 0);
    assert.match(plain(wrongSize.stderr), /'model\.safetensors' is the LFS file sha256 [0-9a-f]{64}, 200001 bytes in the manifest, but sha256 [0-9a-f]{64}, 200000 bytes in the checkout/);
  });

  it('--allow-empty: filters that select no LFS file are refused before git is asked; allowed, the pin evaluates without a request and builds without a blob', async () => {
    hub.resetStats();
    const refused = await runCli(['fetch', 'offline/model', '--include', '*.gguf', '--no-build'], env(), { cwd: work });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /--include '\*\.gguf' selects none of the 2 LFS file\(s\) of model offline\/model/);
    assert.deepEqual(hub.requests.filter((q) => q.route === 'git' || q.route === 'cdn' || q.route === 'resolve'), [], 'nothing fetched before the refusal');

    const r = await runCli(['fetch', 'offline/model', '--include', '*.gguf', '--allow-empty', '--no-build', '--json'], env(), { cwd: work });
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Printed;
    assert.equal(printed.gitRepoHash, model.printed!.gitRepoHash);
    assert.equal(printed.manifest, model.printed!.manifest);
    assert.match(printed.expression, /manifest = \{/);
    const file = saveExpression('empty.nix', printed.expression);
    const fresh = nixTestEnv();
    try {
      hub.resetStats();
      const e = await evalDrv(file, fresh.env);
      assert.equal(e.code, 0, e.stderr);
      assert.deepEqual(hub.requests, [], 'evaluation asked the Hub nothing');
      const b = await build(file, nix.env);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(hub.cdnBytes(), 0, 'no LFS file downloaded');
      const snap = readSnapshot(b.out!);
      assert.deepEqual([...snap.keys()].sort(), [...readSnapshot(model.out!).keys()].filter((p) => p !== 'model.safetensors' && p !== 'extra/opt.bin').sort());
    } finally {
      fresh.cleanup();
    }
  });

  it('with the Hub stopped and a fresh fetcher cache, printed and vendored pins evaluate (import-from-derivation off)', async () => {
    model.drv = (await evalDrv(model.file!, nix.env)).stdout;
    data.drv = (await evalDrv(data.file!, nix.env)).stdout;
    await hub.close();
    const offline = nixTestEnv();
    try {
      for (const pin of [model, data]) {
        const r = await evalDrv(pin.file!, offline.env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, pin.drv, 'the same derivation as with the Hub up');
        // A wrong gitRepoHash still reaches a derivation: evaluation fetched nothing it could check.
        const wrong = await evalDrv(saveExpression('wrong-eval.nix', withGitRepoHash(pin.printed!.expression, wrongHash(pin.printed!.gitRepoHash))), offline.env);
        assert.equal(wrong.code, 0, wrong.stderr);
        assert.match(wrong.stdout, /^\/nix\/store\/[a-z0-9]{32}-hf-.*\.drv$/);
        assert.notEqual(wrong.stdout, pin.drv);
      }
      // The same expressions without the new attributes need the Hub's git: they fail here.
      const legacy = await evalDrv(saveExpression('legacy-offline.nix', data.plain!.expression.replace(/\n {2}gitRepoHash = [^\n]*/, '')), offline.env);
      assert.notEqual(legacy.code, 0, 'the evaluation-time route needs the network');
    } finally {
      offline.cleanup();
    }
  });

  it('a tampered vendored manifest fails evaluation with its actual hash', async () => {
    const copy = mkdtempSync(join(work, 'tampered-'));
    cpSync(join(work, 'pins'), join(copy, 'pins'), { recursive: true });
    const file = join(copy, 'pins', `datasets--offline--data--${data.printed!.rev.slice(0, 12)}.tsv`);
    const tampered = readFileSync(file, 'utf8').replace('README.md\tgit\n', 'README.md\tgit\nREADME2.md\tgit\n');
    writeFileSync(file, tampered);
    const offline = nixTestEnv();
    try {
      const r = await evalDrv(saveExpression('data.nix', data.printed!.expression, copy), offline.env);
      assert.notEqual(r.code, 0);
      const text = plain(r.stderr);
      assert.ok(text.includes(`hashes to ${sriOf(tampered)}, but fileTreeHash is ${data.printed!.fileTreeHash}`), text);
      assert.ok(text.includes(file), 'names the file');
    } finally {
      offline.cleanup();
    }
  });

  it('the real HF client reads a cache built from offline-evaluated pins', async () => {
    const expr = (p: Printed) => p.expression.replace(/^nix-hug-lib\./, '(nix-hug-lib.').concat(')');
    const file = saveExpression('cache.nix', `nix-hug-lib.buildCache { models = [ ${expr(model.printed!)} ]; datasets = [ ${expr(data.printed!)} ]; }`);
    const offline = nixTestEnv();
    try {
      const b = await build(file, offline.env);
      assert.equal(b.code, 0, b.stderr);
      const info = await scanCacheDir(b.out!);
      assert.deepEqual(info.warnings, []);
      const noNetwork: typeof fetch = async (input) => {
        throw new Error(`the cache reader went to the network: ${String(input)}`);
      };
      for (const [spec, pin] of [[MODEL, model], [DATA, data]] as const) {
        const type = spec.type ?? 'model';
        assert.equal(pin.bytes!.size, pin.printed!.manifest.split('\n').filter(Boolean).length);
        for (const [path, bytes] of pin.bytes!) {
          const got = await downloadFileToCacheDir({ repo: { type, name: spec.id }, path, revision: pin.printed!.rev, cacheDir: b.out!, fetch: noNetwork });
          assert.ok(got.includes(`/snapshots/${pin.printed!.rev}/`), got);
          // A git symlink's blob is its target: the client reads the file it points to.
          const expected = path === 'links/config.json' ? pin.bytes!.get('config.json')! : bytes;
          assert.ok(Buffer.from(expected).equals(readFileSync(got)), `${spec.id}: ${path}`);
        }
      }
    } finally {
      offline.cleanup();
    }
  });
});
