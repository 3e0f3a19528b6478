/**
 * The CLI's gitRepoHash against what Nix makes of the same commit: the
 * nixpkgs stand-in's fetchgit (a fixed-output derivation that Nix checks
 * against the hash), `nix hash path` of a checkout, and Nix's own
 * builtins.fetchGit (same store path: one clone serves both routes). Also a
 * repository whose .gitattributes converts bytes on checkout (CRLF, `$Id$`),
 * which the CLI hashes from a checkout; the cache of remembered hashes; and
 * a private repository, cloned with a token that goes nowhere else.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '../../hub-emulator/server.ts';
import type { RepoSpec, RunningHub } from '../../hub-emulator/types.ts';
import { cliEnv, nixTestEnv, ok, run, runNix, STUB_DIR, type NixTestEnv } from '../support/index.ts';
import { gitCheckout, gitUrl, type CloneRequest } from '../../src/pin/git-repo-hash.ts';
import { nixString } from '../../src/nix/expr.ts';
import { checkoutName, recursiveFixedPath } from '../../src/nix/store-path.ts';
import { DEFAULT_HTTP } from '../../src/settings/http.ts';
import { createLogger } from '../../src/ui/logger.ts';
import { NixHugError } from '../../src/errors.ts';
import { createContext } from '../../src/commands/context.ts';
import { parsePinRequest, pinRepo } from '../../src/pin/pin.ts';

const RUN = randomBytes(6).toString('hex');
const TOKEN = `hf_gitHashToken${RUN}`;

const PLAIN: RepoSpec = {
  id: 'hash/plain',
  commits: [
    {
      files: {
        'a.txt': `run ${RUN}\n`,
        'a/b.json': '{}\n', // "a.txt" comes before the folder "a" in git's order, after it in a NAR
        'ünï "quoted" $x.md': 'u\n',
        'empty.txt': '',
        'w.safetensors': { lfs: { size: 5000, seed: `${RUN}-w` } },
        'links/to-a': { symlink: '../a.txt' },
      },
    },
  ],
};
// Checkout converts: LF to CRLF for *.txt, $Id$ expanded in *.id. git does it; so must the hash.
const CONVERT: RepoSpec = {
  id: 'hash/convert',
  gitattributes: 'none',
  commits: [
    {
      files: {
        '.gitattributes': '*.txt text eol=crlf\n*.id ident\n*.bin filter=lfs diff=lfs merge=lfs -text\n',
        'notes.txt': `line one ${RUN}\nline two\n`,
        'version.id': '$Id$\n',
        'w.bin': { lfs: { size: 300, seed: `${RUN}-c` } },
      },
    },
  ],
};
const PRIVATE: RepoSpec = { id: 'hash/private', private: true, commits: [{ files: { 'config.json': `{"run":"${RUN}"}\n` } }] };

let hub: RunningHub;
let nix: NixTestEnv;
let cache: string;

before(async () => {
  hub = await startHub({ repos: [PLAIN, CONVERT, PRIVATE], tokens: { [TOKEN]: { grants: [PRIVATE.id] } } });
  nix = nixTestEnv();
  cache = mkdtempSync(join(tmpdir(), 'nix-hug-hash-cache-'));
});

after(async () => {
  await hub?.close();
  nix?.cleanup();
  if (cache) rmSync(cache, { recursive: true, force: true });
});

function request(spec: RepoSpec, extra: Partial<CloneRequest> = {}): CloneRequest {
  const type = spec.type ?? 'model';
  return {
    endpoint: hub.url,
    repo: { type, repoId: spec.id },
    rev: hub.repo(spec.id, type).refs.main!,
    env: process.env,
    token: null,
    http: { ...DEFAULT_HTTP, retry: { ...DEFAULT_HTTP.retry, maxRetries: 1, baseDelayMs: 5 } },
    cacheDir: cache,
    logger: createLogger({ level: 'quiet' }),
    ...extra,
  };
}

/** The stand-in's fetchgit of the commit, with `hash`: Nix checks the NAR hash. */
function fetchgitExpr(req: CloneRequest, hash: string): string {
  return [
    `(import (/. + ${nixString(STUB_DIR)}) { }).fetchgit {`,
    `  url = ${nixString(gitUrl(req.endpoint, req.repo))};`,
    `  rev = ${nixString(req.rev)};`,
    `  hash = ${nixString(hash)};`,
    `  name = ${nixString(checkoutName({ ...req.repo, rev: req.rev }))};`,
    '  fetchSubmodules = false;',
    '}',
  ].join('\n');
}

describe('gitRepoHash', () => {
  for (const spec of [PLAIN, CONVERT]) {
    it(`of ${spec.id}: fetchgit builds a checkout with exactly that hash; a materialized checkout hashes the same`, async () => {
      const req = request(spec);
      const checkout = await gitCheckout(req);
      try {
        const expected = recursiveFixedPath(checkout.gitRepoHash, checkoutName({ ...req.repo, rev: req.rev }));
        const b = ok(await runNix(['build', '--impure', '--no-link', '--json', '--expr', fetchgitExpr(req, checkout.gitRepoHash)], nix.env), 'fetchgit');
        assert.equal((JSON.parse(b.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out, expected);
        const files = readdirSync(expected).sort();
        assert.ok(!files.includes('.git'), 'no .git');
        if (spec === CONVERT) {
          assert.equal(readFileSync(join(expected, 'notes.txt'), 'utf8'), `line one ${RUN}\r\nline two\r\n`, 'git converted the line ends');
          assert.match(readFileSync(join(expected, 'version.id'), 'utf8'), /^\$Id: [0-9a-f]{40} \$\n$/);
          assert.match(readFileSync(join(expected, 'w.bin'), 'utf8'), /^version https:\/\/git-lfs\.github\.com\/spec\/v1\n/, 'a pointer, not smudged');
        }
        const dir = mkdtempSync(join(tmpdir(), 'nix-hug-materialized-'));
        try {
          await (await checkout.clone()).materialize(join(dir, 'tree'));
          assert.equal(ok(await run('nix', ['hash', 'path', join(dir, 'tree')], nix.env), 'nix hash path').stdout.trim(), checkout.gitRepoHash);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      } finally {
        await checkout.dispose();
      }
    });
  }

  it("is builtins.fetchGit's store path too, with the library's name (one clone serves both routes)", async () => {
    const req = request(PLAIN);
    const checkout = await gitCheckout(req);
    await checkout.dispose();
    const expr = `(builtins.fetchGit { url = ${nixString(gitUrl(req.endpoint, req.repo))}; rev = ${nixString(req.rev)}; allRefs = true; name = ${nixString(checkoutName({ ...req.repo, rev: req.rev }))}; }).outPath`;
    const r = ok(await runNix(['eval', '--impure', '--raw', '--expr', expr], nix.env), 'fetchGit');
    assert.equal(r.stdout, recursiveFixedPath(checkout.gitRepoHash, checkoutName({ ...req.repo, rev: req.rev })));
  });

  it('is remembered per commit: a second pin asks git nothing, and clones only when asked to', async () => {
    const req = request(PLAIN);
    const computed = await gitCheckout(req);
    await computed.remember();
    await computed.dispose();
    hub.resetStats();
    const first = await gitCheckout(req);
    await first.dispose();
    assert.equal(hub.requests.filter((r) => r.route === 'git').length, 0, 'remembered');
    const fresh = await gitCheckout({ ...req, cacheDir: mkdtempSync(join(cache, 'fresh-')) });
    await fresh.dispose();
    assert.ok(hub.requests.some((r) => r.route === 'git'), 'a fresh cache clones');
    assert.equal(fresh.gitRepoHash, first.gitRepoHash);
    hub.resetStats();
    const again = await gitCheckout(req);
    try {
      const clone = await again.clone();
      assert.ok(hub.requests.some((r) => r.route === 'git'), 'cloned on demand');
      assert.equal(await clone.gitRepoHash(), first.gitRepoHash);
    } finally {
      await again.dispose();
    }
  });

  it('holds at most maxFiles entries of the git tree (the bound of the Hub listing): beyond, an error naming the repo, no clone left', async () => {
    const req = request(PLAIN);
    const gitDir = join(hub.dataDir, 'git', 'models', `${PLAIN.id}.git`);
    const entries = ok(await run('git', ['--git-dir', gitDir, 'ls-tree', '-r', '--name-only', '-z', req.rev], process.env), 'ls-tree').stdout.split('\0').filter(Boolean).length;
    assert.ok(entries >= 6, `${entries} entries`);
    const tmp = mkdtempSync(join(tmpdir(), 'nix-hug-bound-tmp-'));
    try {
      const bounded = (maxFiles: number) => request(PLAIN, { maxFiles, cacheDir: mkdtempSync(join(cache, 'bound-')), env: { ...process.env, TMPDIR: tmp } });
      const atBound = await gitCheckout(bounded(entries));
      await atBound.dispose();
      const whole = await gitCheckout(request(PLAIN));
      await whole.dispose();
      assert.equal(atBound.gitRepoHash, whole.gitRepoHash, 'exactly maxFiles entries: hashed as without the bound');
      await assert.rejects(
        gitCheckout(bounded(entries - 1)),
        (err: unknown) =>
          err instanceof NixHugError &&
          err.message === `the file list of model ${PLAIN.id} has more than ${entries - 1} files: more than nix-hug holds in memory` &&
          /HF_ENDPOINT/.test(err.hint ?? ''),
      );
      assert.deepEqual(readdirSync(tmp), [], 'the clone is removed');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('is not waited for when the listing fails: the clone started beside it stops', { timeout: 30_000 }, async () => {
    const c = cliEnv({ HF_ENDPOINT: hub.url });
    const tmp = mkdtempSync(join(tmpdir(), 'nix-hug-stop-tmp-'));
    // git crawls at one byte a second (minutes for this clone), and the listing is refused.
    hub.addFault({ match: 'git-upload-pack', kind: { slowBytesPerSecond: 1 }, times: Infinity });
    hub.addFault({ match: `/api/models/${PLAIN.id}/tree/`, kind: { status: 404 }, times: Infinity });
    try {
      const ctx = createContext({ env: { ...c.env, TMPDIR: tmp }, quiet: true });
      const started = Date.now();
      await assert.rejects(pinRepo(ctx.hub(), parsePinRequest(PLAIN.id, { include: [], exclude: [], file: [] }, hub.url), ctx.settings, ctx.logger), NixHugError);
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds < 10, `the pin took ${seconds} s: it waited for the clone`);
      assert.deepEqual(readdirSync(tmp), [], 'the clone is removed');
    } finally {
      hub.clearFaults();
      c.cleanup();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('of a private repository: needs the token, which reaches git only as a header', async () => {
    await assert.rejects(gitCheckout(request(PRIVATE)), (err: unknown) => err instanceof NixHugError && /could not fetch the git repository of model hash\/private/.test(err.message));
    hub.resetStats();
    const checkout = await gitCheckout(request(PRIVATE, { token: TOKEN }));
    await checkout.dispose();
    assert.match(checkout.gitRepoHash, /^sha256-/);
    const git = hub.requests.filter((r) => r.route === 'git');
    assert.ok(git.length > 0 && git.every((r) => r.authorized && !r.url.includes(TOKEN)));
  });
});
