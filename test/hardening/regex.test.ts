/**
 * Regex bombs. Globs become regexes, and a backtracking matcher takes time
 * exponential in the number of stars on a name that almost matches. Both
 * sources are tried through the real CLI and real Nix: a repository whose
 * own .gitattributes holds a many-star pattern (the library reads it to find
 * the LFS files) beside 200-byte names that almost match it, and a user's
 * many-star `--include` (matched by `ls` in the CLI, and by the library when
 * it builds). Each command finishes in seconds with the right selection.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { attempt, hubSandbox, RUN, runCli, seeded } from '../support/index.ts';

const ID = `regex-${RUN}/bombs`;
/** Eleven stars; 200 `a`s without the final `b` almost match. */
const BOMB = '*a'.repeat(10) + '*b';
const NEAR = 'a'.repeat(200);
const HIT = `${'a'.repeat(199)}b`;
const LFS_ATTRS = 'filter=lfs diff=lfs merge=lfs -text';
/** Generous for a loaded 2-core machine (a fetch takes 2–5 s here); a backtracking matcher needs hours. */
const BUDGET_MS = 60_000;

const suite = hubSandbox({
  repos: [
    {
      id: ID,
      gitattributes: 'none',
      commits: [
        {
          files: {
            '.gitattributes': `${BOMB} ${LFS_ATTRS}\n*.bin ${LFS_ATTRS}\n**/x/**/y*z*w ${LFS_ATTRS}\n`,
            [NEAR]: 'not in LFS: almost matches the pattern\n',
            [HIT]: seeded('regex-hit', 2000),
            [`d/${NEAR}`]: 'nested, almost matching\n',
            'w.bin': seeded('regex-w', 1000),
            [`p/x/q/x/${'y'.repeat(100)}z`]: 'almost matches the ** pattern\n',
          },
        },
      ],
    },
  ],
});

async function timed(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const r = await runCli(args, suite.box.env());
  return { ...r, ms: Date.now() - t0 };
}

describe('regex bombs', () => {
  it("a repository's many-star .gitattributes pattern beside names that almost match: the library builds in seconds", { timeout: 2 * BUDGET_MS }, async () => {
    const passed = attempt('regex', 'regexBombs');
    const r = await timed(['fetch', ID, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms < BUDGET_MS, `fetch took ${r.ms} ms`);
    const storePath = (JSON.parse(r.stdout) as { storePath: string }).storePath;
    assert.ok(readdirSync(storePath).includes(HIT) && readdirSync(storePath).includes(NEAR));
    passed();
  });

  it("a user's many-star --include: ls (the CLI's matcher) and fetch (the library's) select in seconds", { timeout: 3 * BUDGET_MS }, async () => {
    const passed = attempt('regex', 'regexBombs', 2);
    const include = ['--include', BOMB];
    const ls = await timed(['ls', ID, ...include, '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(ls.ms < BUDGET_MS, `ls took ${ls.ms} ms`);
    const files = (JSON.parse(ls.stdout) as { files: Array<{ path: string; selected: boolean }> }).files;
    assert.deepEqual(files.filter((f) => f.selected && f.path.endsWith('b')).map((f) => f.path), [HIT]);
    const fetch = await timed(['fetch', ID, ...include, '--json']);
    assert.equal(fetch.code, 0, fetch.stderr);
    assert.ok(fetch.ms < BUDGET_MS, `fetch took ${fetch.ms} ms`);
    const storePath = (JSON.parse(fetch.stdout) as { storePath: string }).storePath;
    assert.ok(readdirSync(storePath).includes(HIT) && !readdirSync(storePath).includes('w.bin'), 'the include kept the one LFS file it matches');
    passed();
  });
});
