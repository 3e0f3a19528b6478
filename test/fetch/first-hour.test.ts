/**
 * What a new user trips over in the first hour, as they meet it: the built
 * CLI against the Hub emulator, real Nix building with the library. Blob
 * contents are seeded per run, so every build here really downloads.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { FileSpec, RepoSpec } from '../../hub-emulator/types.ts';
import { CLI, hubSandbox, LIB_DIR, nixAtLeast, run, runCli, RUN, seeded, STUB_DIR, testNixConfig } from '../support/index.ts';

const TOKEN = `hf_firstHourToken${RUN}`;
const ROOTED: RepoSpec = { id: 'first/rooted', aliases: ['rooted'], commits: [{ files: { 'config.json': '{}\n', 'a.safetensors': seeded('root-a', 10_000), 'b.safetensors': seeded('root-b', 10_000) } }] };
const SLOW: RepoSpec = { id: 'first/slow-cache', commits: [{ files: { 'config.json': '{}\n', 'w.safetensors': seeded('slow', 20_000) } }] };
// More files than fetch prints a manifest inline for: its expression runs builtins.fetchGit while evaluating.
const MANY_FILES: Record<string, FileSpec> = { 'w.safetensors': seeded('many', 5_000) };
for (let i = 0; i < 205; i++) MANY_FILES[`part/${String(i).padStart(3, '0')}.json`] = `{"i":${i}}\n`;
const MANY: RepoSpec = { id: 'first/many-files', commits: [{ files: MANY_FILES }] };
const FEW: RepoSpec = { id: 'first/few-files', commits: [{ files: { 'config.json': '{"few":1}\n', 'w.safetensors': seeded('few', 5_000) } }] };
const DEBUG: RepoSpec = { id: 'first/debug', gated: 'auto', commits: [{ files: { 'config.json': '{}\n', 'w.safetensors': seeded('debug', 20_000) } }] };

const suite = hubSandbox({ repos: [ROOTED, SLOW, DEBUG, MANY, FEW], tokens: { [TOKEN]: { grants: [DEBUG.id] } } });

/** A binary cache that takes its time: every answer comes after `delayMs`, and it has nothing. */
async function slowCache(delayMs: number): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    setTimeout(() => {
      if (req.url === '/nix-cache-info') {
        res.writeHead(200, { 'content-type': 'text/x-nix-cache-info' }).end('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n');
      } else res.writeHead(404).end();
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('waits say what they wait for', () => {
  it('a slow binary cache: fetch says Nix is asking it, and how to skip that offline', async () => {
    const cache = await slowCache(2500);
    try {
      const config = testNixConfig().replace(/^substituters =.*$/m, `substituters = ${cache.url}`);
      assert.notEqual(config, testNixConfig(), 'the test config names the substituters');
      const r = await runCli(['fetch', SLOW.id, '--no-link'], suite.box.env({ NIX_CONFIG: config }));
      assert.equal(r.code, 0, r.stderr);
      assert.ok(cache.hits.length > 0, 'Nix asked the cache');
      assert.ok(
        r.stderr.includes(`… waiting for Nix: asking the binary cache ${cache.url} whether it has the missing store paths (without network, NIX_CONFIG='substituters =' skips this)`),
        r.stderr,
      );
      assert.match(r.stderr, /built \/nix\/store\//);
    } finally {
      await cache.close();
    }
  });

  it('a slow Hub: says it waits for the Hub, then for the retry after a 503', async () => {
    // The first request about a bare id: the lookup of its info (which gives main's commit too).
    suite.hub.addFault({ match: new RegExp(`^/api/models/${SLOW.id}$`), kind: { status: 503 }, times: 1 });
    try {
      const r = await runCli(['fetch', SLOW.id, '--no-build'], suite.box.env({ NIX_HUG_RETRY_BASE_MS: '2400', NIX_HUG_RETRY_MAX_DELAY_MS: '2400' }));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`… HTTP 503 from ${suite.hub.url}/api/models/first/slow-cache: retrying reading the repository information for model first/slow-cache in \\d s \\(attempt 2 of 3\\)`));
    } finally {
      suite.hub.clearFaults();
    }
  });
});

describe('--debug', () => {
  it('shows every nix command line with its exit code and duration, the token redacted', async () => {
    const r = await runCli(['--debug', 'fetch', DEBUG.id, '--no-link'], suite.box.env({ HF_TOKEN: TOKEN }));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes(TOKEN), 'the token is never printed');
    const starts = [...r.stderr.matchAll(/^debug: \[(\d+)\] \$ (.*)$/gm)].map((m) => ({ id: m[1]!, line: m[2]! }));
    const build = starts.find((s) => / nix --extra-experimental-features 'nix-command flakes' build --no-link --json /.test(s.line));
    assert.ok(build, r.stderr);
    // git gets the token for this run only, through the environment: shown, redacted.
    assert.match(build.line, /GIT_CONFIG_VALUE_\d+='Authorization: Bearer \*\*\*'/);
    assert.ok(starts.some((s) => /^nix --version$/.test(s.line)), 'nix-hug asks which Nix it runs');
    assert.ok(starts.some((s) => /(^| )nix-store /.test(s.line) || / nix --extra-experimental-features \S+ (store|path-info) /.test(s.line)), 'the store is asked what it has');
    // git runs too: nix-hug's own pointer-only clone of the repository (for gitRepoHash), its token redacted.
    const fetchLine = starts.find((s) => / git --git-dir \S+ fetch /.test(` ${s.line}`));
    assert.ok(fetchLine, 'the git fetch is shown');
    assert.ok(fetchLine.line.includes(`${suite.hub.url}/first/debug.git`), fetchLine.line);
    assert.match(fetchLine.line, /GIT_CONFIG_VALUE_\d+='Authorization: Bearer \*\*\*'/);
    for (const s of starts) assert.match(r.stderr, new RegExp(`^debug: \\[${s.id}\\] (nix|nix-store|git): exit \\d+ after \\d+\\.\\d\\d s$`, 'm'), s.line);
    assert.match(r.stderr, new RegExp(`^debug: \\[${build.id}\\] nix: exit 0 after `, 'm'));
    // What nix did inside: its activities, with their durations.
    assert.match(r.stderr, /^debug: nix: build \/nix\/store\/[0-9a-z]{32}-hf-model-first--debug-[0-9a-f]{7}\.drv: done in \d+\.\d+ s$/m);
  });
});

/** The CLI as a user runs it in `cwd`. */
const cliIn = (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => run(process.execPath, [CLI, ...args], suite.box.env(extra), { cwd });

describe('GC roots, like nix build', () => {
  /** The GC roots Nix knows for `path` (`nix-store -q --roots`: "LINK -> PATH" lines). */
  async function roots(path: string): Promise<string[]> {
    const r = await run('nix-store', ['-q', '--roots', path], suite.box.nixEnv);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/ -> .*$/, ''));
  }

  it('fetch makes ./result, a GC root, and says so; --out-link puts it elsewhere; a re-run moves it and says what it let go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'first-root-'));
    try {
      const r = await cliIn(dir, ['fetch', ROOTED.id, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { storePath: string; outLink: string };
      const result = join(dir, 'result');
      assert.equal(readlinkSync(result), j.storePath);
      assert.equal(j.outLink, result);
      assert.ok(r.stderr.includes(`./result -> ${j.storePath} (GC root: garbage collection keeps it while ./result exists)\n`), r.stderr);
      assert.ok((await roots(j.storePath)).includes(result), 'nix-store -q --roots lists ./result');
      const refused = await run('nix-store', ['--delete', j.storePath], suite.box.nixEnv);
      assert.notEqual(refused.code, 0, 'a rooted path is not deleted');

      const elsewhere = join(dir, 'models', 'rooted');
      mkdirSync(join(dir, 'models'));
      const other = await cliIn(dir, ['fetch', ROOTED.id, '--include', 'a*', '--out-link', 'models/rooted', '--json']);
      assert.equal(other.code, 0, other.stderr);
      const o = JSON.parse(other.stdout) as { storePath: string; outLink: string };
      assert.equal(readlinkSync(elsewhere), o.storePath);
      assert.ok((await roots(o.storePath)).includes(elsewhere));
      assert.equal(readlinkSync(result), j.storePath, 'the first link is untouched');

      // Like nix build, a new result replaces ./result: said, with the path it no longer keeps.
      const again = await cliIn(dir, ['fetch', ROOTED.id, '--include', 'a*']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(readlinkSync(result), o.storePath);
      assert.ok(again.stderr.includes(`note: ./result pointed at ${j.storePath}; this link no longer keeps that path\n`), again.stderr);
      assert.ok(!(await roots(j.storePath)).includes(result));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--no-link, --out and --dry-run make none and say so; what is not a result link is never replaced; contradictions are usage errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'first-noroot-'));
    try {
      const none = await cliIn(dir, ['fetch', ROOTED.id, '--no-link', '--json']);
      assert.equal(none.code, 0, none.stderr);
      assert.equal((JSON.parse(none.stdout) as { outLink: unknown }).outLink, null);
      assert.match(none.stderr, /no GC root: garbage collection may delete it \(keep it with --out-link PATH, or a copy with nix-hug export\)/);
      const copy = await cliIn(dir, ['fetch', ROOTED.id, '--out', 'copy']);
      assert.equal(copy.code, 0, copy.stderr);
      assert.match(copy.stderr, /no GC root/);
      const dry = await cliIn(dir, ['fetch', ROOTED.id, '--dry-run']);
      assert.equal(dry.code, 0, dry.stderr);
      const expressionOnly = await cliIn(dir, ['fetch', ROOTED.id, '--no-build']);
      assert.equal(expressionOnly.code, 0, expressionOnly.stderr);
      assert.deepEqual(readdirSync(dir), ['copy'], 'no ./result beside a --out copy, a dry run or an expression');

      mkdirSync(join(dir, 'result'));
      writeFileSync(join(dir, 'file'), 'mine');
      symlinkSync('/etc/hostname', join(dir, 'mylink'));
      for (const [args, says] of [
        [[], /^nix-hug: error: refusing to replace \.\/result: it is a directory, not a link to a store path\n/],
        [['--out-link', 'file'], /refusing to replace \.\/file: it is a file/],
        [['--out-link', 'mylink'], /refusing to replace \.\/mylink: it is a link to '\/etc\/hostname', not to a store path/],
        [['--out-link', 'no/such/dir/result'], /cannot make the link \.\/no\/such\/dir\/result/],
        [['--out-link', 'x', '--no-link'], /--out-link and --no-link contradict each other/],
        [['--out-link', 'x', '--no-build'], /--out-link needs a build/],
      ] as const) {
        suite.hub.resetStats();
        const r = await cliIn(dir, ['fetch', ROOTED.id, ...args]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, says);
        assert.deepEqual(suite.hub.requests, [], 'found before any request');
      }
      assert.ok(lstatSync(join(dir, 'result')).isDirectory());
      assert.equal(readlinkSync(join(dir, 'mylink')), '/etc/hostname');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('legacy ids without an owner', () => {
  it('fetch of a legacy id builds the canonical repository, and the printed expression builds the same path', async () => {
    const r = await runCli(['fetch', 'rooted', '--no-link', '--json'], suite.box.env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /note: 'rooted' is the model first\/rooted on the Hub/);
    const j = JSON.parse(r.stdout) as { storePath: string; expression: string; repoId: string };
    assert.equal(j.repoId, 'first/rooted');
    assert.match(j.expression, /url = "first\/rooted";/);
    assert.match(j.storePath, /-hf-model-first--rooted-[0-9a-f]{7}$/);
    const dir = mkdtempSync(join(tmpdir(), 'first-legacy-'));
    try {
      const file = join(dir, 'e.nix');
      writeFileSync(file, `let nix-hug-lib = import ${LIB_DIR} { pkgs = import ${STUB_DIR} { }; }; in\n${j.expression}`);
      // A plain nix-build as a user runs it (the smudge filter off: that note is tested on its own).
      const built = await run('nix-build', ['--no-out-link', file], suite.box.env({ GIT_LFS_SKIP_SMUDGE: '1' }), { cwd: dir });
      assert.equal(built.code, 0, built.stderr);
      assert.equal(built.stdout.trim(), j.storePath);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('expressions that need an environment variable on older Nix', () => {
  /** A git config with git-lfs installed user-wide, as `git lfs install` writes it. */
  function lfsGitConfig(dir: string): string {
    const file = join(dir, 'gitconfig');
    writeFileSync(file, '[filter "lfs"]\n\tclean = git-lfs clean -- %f\n\tsmudge = git-lfs smudge -- %f\n\tprocess = git-lfs filter-process\n\trequired = true\n');
    return file;
  }
  const noteLines = (stderr: string) => stderr.split('\n').filter((l) => l.includes('GIT_LFS_SKIP_SMUDGE'));

  it('fetch says once, on Nix < 2.20 with git-lfs configured, that a plain nix build of an expression that runs fetchGit needs GIT_LFS_SKIP_SMUDGE=1; and that advice is right', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'first-smudge-'));
    try {
      const withLfs = { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: lfsGitConfig(dir) };
      const r = await runCli(['fetch', MANY.id, '--no-build'], suite.box.env(withLfs));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /evaluating this expression clones the git repository/);
      const notes = noteLines(r.stderr);
      if (nixAtLeast(2, 20)) assert.deepEqual(notes, [], 'Nix 2.20+ runs no git filters: nothing to say');
      else {
        assert.equal(notes.length, 1, r.stderr);
        assert.match(notes[0]!, /^note: your Nix \(2\.\d+\.\d+\) runs git's LFS filter inside builtins\.fetchGit, which this expression uses while evaluating, and your git config sets one \(filter\.lfs\.process = git-lfs filter-process\): to build it yourself, put GIT_LFS_SKIP_SMUDGE=1 in the environment of nix/);
      }
      const without = await runCli(['fetch', MANY.id, '--no-build'], suite.box.env({ GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }));
      assert.equal(without.code, 0, without.stderr);
      assert.deepEqual(noteLines(without.stderr), [], 'no git-lfs filter configured: nothing to say');
      const few = await runCli(['fetch', FEW.id, '--no-build'], suite.box.env(withLfs));
      assert.equal(few.code, 0, few.stderr);
      assert.deepEqual(noteLines(few.stderr), [], 'an expression with its manifest runs no fetchGit: nothing to say');
      const vendored = await runCli(['fetch', MANY.id, '--no-build', '--vendor', join(dir, 'vendor')], suite.box.env(withLfs));
      assert.equal(vendored.code, 0, vendored.stderr);
      assert.deepEqual(noteLines(vendored.stderr), [], 'with --vendor the manifest is read from a file: nothing to say');

      // The pasted expressions in a plain nix-build, with that git config and fresh fetcher caches.
      const plain = async (expression: string, extra: NodeJS.ProcessEnv) => {
        const file = join(mkdtempSync(join(dir, 'expr-')), 'model.nix');
        writeFileSync(file, `let nix-hug-lib = import ${LIB_DIR} { pkgs = import ${STUB_DIR} { }; }; in\n${expression}`);
        const e: NodeJS.ProcessEnv = { ...suite.box.env(withLfs), XDG_CACHE_HOME: mkdtempSync(join(dir, 'cache-')), ...extra };
        if (extra.GIT_LFS_SKIP_SMUDGE === undefined) delete e.GIT_LFS_SKIP_SMUDGE;
        return run('nix-build', ['--no-out-link', file], e, { cwd: dir });
      };
      const bare = await plain(r.stdout, {});
      if (nixAtLeast(2, 20)) assert.equal(bare.code, 0, bare.stderr);
      else {
        assert.notEqual(bare.code, 0, 'Nix < 2.20 runs the filter');
        assert.match(bare.stderr, /smudge filter lfs failed/);
      }
      const advised = await plain(r.stdout, { GIT_LFS_SKIP_SMUDGE: '1' });
      assert.equal(advised.code, 0, advised.stderr);
      const withManifest = await plain(few.stdout, {});
      assert.equal(withManifest.code, 0, `no note was needed: ${withManifest.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
