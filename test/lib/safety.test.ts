/**
 * The library under hostile or broken conditions, with real Nix against the
 * Hub emulator: file names that are shell code, control characters in names,
 * symlinks escaping the repository, wrong or legacy `fileTreeHash`, wrong
 * bytes from the CDN, and a checkout smudged by git-lfs.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../../hub-emulator/server.ts';
import type { RunningHub } from '../../hub-emulator/types.ts';
import { nixTestEnv, type NixTestEnv, fetchExpr, hubFiles, hubFileTreeHash, nixBuild, nixEvalRaw, ok, plain, readSnapshot, type FetchArgs, canaryDir, nixAtLeast } from '../support/index.ts';

// Unique per run: blobs and commits that no earlier run put in the store.
const RUN = randomBytes(6).toString('hex');
// Where a builder (sandboxed or not) and Nix's evaluation would both write it.
const CANARY_DIR = canaryDir();
const CANARY = join(CANARY_DIR, 'canary');

const HOSTILE = 'nix-hug-lib/hostile-names';
const TAB = 'nix-hug-lib/tab-name';
const ABS_LINK = 'nix-hug-lib/abs-link';
const UP_LINK = 'nix-hug-lib/up-link';
const CHAIN_LINK = 'nix-hug-lib/chain-link';
const CORRUPT = 'nix-hug-lib/corrupt';
const SMUDGE = 'nix-hug-lib/smudge';

// Names that would run code if a shell ever evaluated them. The last one
// would create CANARY (an absolute path, built without `/` in the name).
const octal = (s: string) => [...s].map((c) => (c === '/' ? '\\57' : c)).join('');
const hostileFiles: Record<string, string> = {
  'a b.txt': 'space\n',
  'q"uote.json': '{"quote": true}\n',
  "it's.txt": 'apostrophe\n',
  '$(touch pwned).txt': 'dollar paren\n',
  '`touch pwned2`.txt': 'backticks\n',
  '${x}.json': '{"interp": 1}\n',
  [`$(touch "$(printf '${octal(CANARY)}')").txt`]: 'canary\n',
  'folder with space/inner file.md': 'nested\n',
  '-rf': 'leading dash\n',
  '--help.md': 'double dash\n',
  '*.glob': 'star\n',
  'back\\slash.txt': 'backslash\n',
};

let hub: RunningHub;
let nix: NixTestEnv;

before(async () => {
  rmSync(CANARY, { force: true });
  nix = nixTestEnv();
  hub = await startHub({
    repos: [
      {
        id: HOSTILE,
        commits: [
          {
            files: {
              ...hostileFiles,
              'ünï/çødé.bin': { lfs: { size: 777, seed: `unicode-${RUN}` } },
              'folder with space/$(touch pwned3).safetensors': { lfs: { size: 500 } },
              '-dash.bin': { lfs: { size: 300 } },
            },
          },
        ],
      },
      { id: TAB, commits: [{ files: { 'config.json': '{}\n', 'a\tb.txt': 'tab\n' } }] },
      { id: ABS_LINK, commits: [{ files: { 'config.json': '{}\n', 'passwd.json': { symlink: '/etc/passwd' } } }] },
      { id: UP_LINK, commits: [{ files: { 'config.json': '{}\n', 'sub/up.json': { symlink: '../../outside.json' } } }] },
      {
        id: CHAIN_LINK,
        commits: [{ files: { 'config.json': '{}\n', 'd/root': { symlink: '..' }, 'chain.json': { symlink: 'd/root/../etc' }, 'ok.json': { symlink: 'd/root/config.json' } } }],
      },
      { id: CORRUPT, commits: [{ files: { 'config.json': '{}\n', 'corrupt-me.bin': { lfs: { size: 4000, seed: `corrupt-${RUN}` } } } }] },
      {
        id: SMUDGE,
        commits: [
          {
            files: {
              'config.json': '{"a": 1}\n',
              // An LFS-tracked text file, as many Hub repos have.
              'tokenizer.json': { lfsBytes: Buffer.from(`{"version": "1.0", "run": "${RUN}"}\n`) },
            },
          },
        ],
      },
    ],
  });
});

after(async () => {
  await hub?.close();
  nix?.cleanup();
  rmSync(CANARY_DIR, { recursive: true, force: true });
});

async function args(id: string, extra: Partial<FetchArgs> = {}): Promise<FetchArgs> {
  const rev = hub.repo(id).commits[0]!;
  return { url: id, rev, fileTreeHash: await hubFileTreeHash(hub.url, 'model', id, rev), endpoint: hub.url, ...extra };
}

describe('file names are data', () => {
  it('a canary a builder creates reaches this test, sandbox on or off (so the checks below can fail)', async () => {
    const control = join(CANARY_DIR, 'control');
    ok(await nixBuild(`pkgs.runCommand "canary-control-${RUN}" { } ''touch "$(printf '${octal(control)}')"; touch $out''`, nix.env), 'the control build');
    assert.ok(existsSync(control), `${control} was not created`);
    rmSync(control);
  });

  it('fetches hostile names with their exact names and bytes, and runs none of them', async () => {
    const a = await args(HOSTILE);
    const r = ok(await nixBuild(fetchExpr(a), nix.env), 'build hostile names');
    const got = readSnapshot(r.outPath!);
    const fixture = hub.repo(HOSTILE).filesAt(a.rev);
    const tree = await hubFiles(hub.url, 'model', HOSTILE, a.rev);
    assert.deepEqual([...got.keys()].sort(), tree.map((f) => f.path).sort());
    for (const f of tree) {
      assert.ok(Buffer.from(fixture.get(f.path)!).equals(got.get(f.path)!.bytes), `bytes of ${JSON.stringify(f.path)}`);
      assert.equal(got.get(f.path)!.link !== null, f.lfs !== null, `${JSON.stringify(f.path)} is ${f.lfs ? 'a link' : 'a copy'}`);
    }
    for (const name of Object.keys(hostileFiles)) assert.ok(got.has(name), `${JSON.stringify(name)} present`);
    assert.ok(got.get('ünï/çødé.bin')!.link!.includes('-hf-blob-'));
    assert.equal(existsSync(CANARY), false, 'no file name was executed');
  });

  it('refuses a path with a TAB (git allows it; the manifest cannot hold it)', async () => {
    const a = await args(TAB).catch(() => null);
    const rev = hub.repo(TAB).commits[0]!;
    const r = await nixEvalRaw(`${fetchExpr({ url: TAB, rev, endpoint: hub.url, fileTreeHash: a?.fileTreeHash ?? `sha256-${'A'.repeat(42)}B=` })}.drvPath`, nix.env);
    assert.notEqual(r.code, 0);
    assert.match(plain(r.stderr), /nix-hug-lib\/tab-name at [0-9a-f]{40} has a path with a TAB, newline or other control character \("a\\tb\.txt"\)/);
  });
});

describe('the endpoint', () => {
  it('is refused before any fetch when it is not scheme://host[:port][/path]', async () => {
    const rev = hub.repo(TAB).commits[0]!;
    for (const endpoint of [`${hub.url}\n.evil.example`, `${hub.url}?`, `${hub.url}#x`, `http://user@127.0.0.1:9`, 'file:///etc', `${hub.url}/a b`]) {
      const r = await nixEvalRaw(`${fetchExpr({ url: TAB, rev, endpoint, fileTreeHash: `sha256-${'A'.repeat(42)}B=` })}.drvPath`, nix.env);
      assert.notEqual(r.code, 0, endpoint);
      assert.match(plain(r.stderr), /nix-hug fetchModel: endpoint .* must be scheme:\/\/host\[:port\]\[\/path\]/, JSON.stringify(endpoint));
    }
  });
});

describe('git symlinks must stay inside the repository', () => {
  for (const [id, pattern] of [
    [ABS_LINK, /the git symlink 'passwd\.json' points to the absolute path '\/etc\/passwd'/],
    [UP_LINK, /the git symlink 'sub\/up\.json' points outside the repository \('\.\.\/\.\.\/outside\.json'\)/],
    [CHAIN_LINK, /the git symlink 'chain\.json' points outside the repository \('d\/root\/\.\.\/etc'\)/],
  ] as const) {
    it(`refuses ${id.split('/')[1]}`, async () => {
      const r = await nixBuild(fetchExpr(await args(id)), nix.env);
      assert.notEqual(r.code, 0, 'the build must fail');
      assert.match(plain(r.stderr), new RegExp(`nix-hug: ${id} at [0-9a-f]{40}: ${pattern.source}`));
    });
  }
});

describe('fileTreeHash', () => {
  it('traces both hashes and the manifest path, then fails, when the hash is wrong', async () => {
    const a = await args(HOSTILE);
    const wrong = `sha256-${createHash('sha256').update(RUN).digest('base64')}`;
    const r = await nixBuild(fetchExpr({ ...a, fileTreeHash: wrong }), nix.env);
    assert.notEqual(r.code, 0);
    const err = plain(r.stderr);
    const line = err.split('\n').find((l) => l.includes('nix-hug: fileTreeHash of'));
    assert.ok(line, err);
    assert.ok(line.includes(wrong) && line.includes(a.fileTreeHash), line);
    const manifest = /manifest: (\/nix\/store\/[^)]+)\)/.exec(line)?.[1];
    assert.ok(manifest && existsSync(manifest), line);
    assert.match(err, /hash mismatch in fixed-output derivation/);
  });

  it('reports the right hash for a placeholder', async () => {
    const a = await args(HOSTILE);
    for (const placeholder of ['', 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=']) {
      const r = await nixEvalRaw(`${fetchExpr({ ...a, fileTreeHash: placeholder })}.drvPath`, nix.env);
      assert.notEqual(r.code, 0);
      assert.ok(plain(r.stderr).includes(`canonical manifest hashes to ${a.fileTreeHash}`), r.stderr);
    }
  });

  it("builds with the original nix-hug's hash of the raw tree listing", async () => {
    const a = await args(HOSTILE);
    const res = await fetch(`${hub.url}/api/models/${HOSTILE}/tree/${a.rev}?recursive=true`);
    const legacy = `sha256-${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('base64')}`;
    assert.notEqual(legacy, a.fileTreeHash);
    const r = ok(await nixBuild(fetchExpr({ ...a, fileTreeHash: legacy }), nix.env), 'build with a legacy hash');
    assert.match(plain(r.stderr), /trying sha256-\S+ as the original nix-hug's hash of the raw tree listing/);
    assert.equal(readSnapshot(r.outPath!).get('a b.txt')!.bytes.toString(), 'space\n');
  });
});

describe('LFS downloads are checked', () => {
  it('fails with a hash mismatch and produces no snapshot when the CDN serves other bytes', async () => {
    const a = await args(CORRUPT);
    hub.addFault({ match: 'corrupt-me.bin', kind: { corrupt: true }, times: Infinity });
    try {
      const outPath = ok(await nixEvalRaw(`${fetchExpr(a)}.outPath`, nix.env), 'outPath').stdout;
      const r = await nixBuild(fetchExpr(a), nix.env);
      assert.notEqual(r.code, 0);
      assert.match(plain(r.stderr), /hash mismatch in fixed-output derivation '\/nix\/store\/[a-z0-9]{32}-hf-blob-[0-9a-f]{64}\.drv'/);
      assert.equal(existsSync(outPath), false, 'no snapshot path');
      assert.ok(hub.requests.some((q) => q.route === 'cdn' && q.url.length > 0), 'the CDN was asked');
    } finally {
      hub.clearFaults();
    }
  });
});

describe('a checkout smudged by git-lfs', () => {
  // Nix as a user would run it by hand: git-lfs installed, no GIT_LFS_SKIP_SMUDGE.
  async function withoutSkip<T>(extra: NodeJS.ProcessEnv, f: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
    const bare = nixTestEnv(extra);
    delete bare.env.GIT_LFS_SKIP_SMUDGE;
    try {
      return await f(bare.env);
    } finally {
      bare.cleanup();
    }
  }

  // Nix < 2.20 fetches with `git archive`, which runs the git-lfs filter of the user's git config;
  // the libgit2 fetcher of 2.20+ runs no filters (both measured: 2.8 and 2.26).
  const smudges = !nixAtLeast(2, 20);

  it(`${smudges ? 'smudged' : 'not smudged (Nix 2.20+)'}: with git-lfs able to reach the LFS endpoint, the right snapshot${smudges ? ' and a warning to set GIT_LFS_SKIP_SMUDGE=1' : ''}`, async () => {
    const a = await args(SMUDGE);
    // git-lfs finds the Hub's LFS endpoint (as with an `lfs.url` in the user's git config) and smudges.
    const lfsUrl = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'lfs.url', GIT_CONFIG_VALUE_0: `${hub.url}/${SMUDGE}.git/info/lfs` };
    hub.resetStats();
    const smudged = await withoutSkip(lfsUrl, async (env) => {
      const r = ok(await nixBuild(fetchExpr(a), env), 'build without GIT_LFS_SKIP_SMUDGE');
      const wrong = await nixEvalRaw(`${fetchExpr({ ...a, fileTreeHash: `sha256-${createHash('sha256').update('x').digest('base64')}` })}.drvPath`, env);
      return { r, wrong };
    });
    const clean = ok(await nixBuild(fetchExpr(a), nix.env), 'build with GIT_LFS_SKIP_SMUDGE=1');
    const tok = readSnapshot(smudged.r.outPath!).get('tokenizer.json')!;
    assert.ok(tok.link!.includes('-hf-blob-'), 'tokenizer.json is a blob link, as without smudging');
    assert.ok(Buffer.from(hub.repo(SMUDGE).filesAt(a.rev).get('tokenizer.json')!).equals(tok.bytes));
    assert.deepEqual(readSnapshot(smudged.r.outPath!), readSnapshot(clean.outPath!));
    if (!smudges) {
      assert.equal(hub.requests.some((q) => q.route === 'lfs-batch'), false, 'git-lfs never ran');
      assert.doesNotMatch(plain(smudged.r.stderr), /smudged/);
      // The checkout is the same input: the very same store path.
      assert.equal(smudged.r.outPath, clean.outPath);
      return;
    }
    assert.ok(hub.requests.some((q) => q.route === 'lfs-batch'), 'git-lfs smudged through the batch API');
    assert.match(plain(smudged.r.stderr), /"tokenizer\.json"\): the checkout looks smudged by git-lfs\. They match fileTreeHash .* run nix with GIT_LFS_SKIP_SMUDGE=1/);
    // With a hash that matches nothing, the trace line carries the same advice.
    assert.match(plain(smudged.wrong.stderr), /fileTreeHash of .* Also, 1 file\(s\) .* looks smudged by git-lfs; run nix with GIT_LFS_SKIP_SMUDGE=1/);
    // (Another store path than the clean build's: the smudged checkout is another input.)
  });

  it(`without an LFS endpoint: ${smudges ? 'Nix < 2.20 fails in git-lfs before the library runs (what the docs tell users)' : 'Nix 2.20+ evaluates, no git-lfs involved'}`, async () => {
    const a = await args(SMUDGE);
    const r = await withoutSkip({}, async (env) => nixEvalRaw(`${fetchExpr(a)}.drvPath`, env));
    if (smudges) {
      assert.notEqual(r.code, 0);
      assert.match(plain(r.stderr), /smudge filter lfs failed/);
    } else {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\/nix\/store\/\S+\.drv$/);
    }
  });
});
