/**
 * What a new user trips over in the first hour, as they meet it: the built
 * CLI against the Hub emulator, real Nix building with the library. Blob
 * contents are seeded per run, so every build here really downloads.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RepoSpec } from '../../hub-emulator/types.ts';
import { CLI, hubSandbox, run, seeded } from '../support/index.ts';

const ROOTED: RepoSpec = { id: 'first/rooted', commits: [{ files: { 'config.json': '{}\n', 'a.safetensors': seeded('root-a', 10_000), 'b.safetensors': seeded('root-b', 10_000) } }] };

const suite = hubSandbox({ repos: [ROOTED] });

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
