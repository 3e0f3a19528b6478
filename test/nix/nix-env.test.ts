/**
 * The environment the CLI gives nix turns git's LFS filter off for every git
 * that Nix runs (fetchGit's `git archive`): the checkout keeps the pointers
 * the library reads, no git-lfs process runs per file, and a host whose git
 * config names a git-lfs that is broken or missing still works. Config
 * entries the caller already passes through the environment (e.g. the token
 * header) are kept.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nixEnv } from '../../src/nix/nix.ts';

const POINTER = 'version https://git-lfs.github.com/spec/v1\noid sha256:' + 'a'.repeat(64) + '\nsize 12345\n';

function git(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { env, cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('nixEnv: git without the LFS filter', () => {
  let dir: string;
  let repo: string;
  let base: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nix-hug-nixenv-'));
    repo = join(dir, 'repo');
    // A host whose global git config has the LFS filter, pointing at a git-lfs that fails.
    const globalConfig = join(dir, 'gitconfig');
    writeFileSync(
      globalConfig,
      '[filter "lfs"]\n\tprocess = sh -c \'echo git-lfs is broken >&2; exit 1\'\n\tsmudge = sh -c \'exit 1\'\n\trequired = true\n' +
        '[user]\n\tname = t\n\temail = t@t.invalid\n',
    );
    base = { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: globalConfig };
    const plain = { ...base, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    assert.equal((await git(['init', '-q', '-b', 'main', repo], plain, dir)).code, 0);
    writeFileSync(join(repo, '.gitattributes'), '*.bin filter=lfs diff=lfs merge=lfs -text\n');
    writeFileSync(join(repo, 'w.bin'), POINTER);
    assert.equal((await git(['add', '.'], plain, repo)).code, 0);
    assert.equal((await git(['commit', '-q', '-m', 'c'], plain, repo)).code, 0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the host config alone breaks `git archive` (what Nix 2.8 runs in fetchGit)', async () => {
    const r = await git(['archive', '--format=tar', 'HEAD', 'w.bin'], base, repo);
    assert.notEqual(r.code, 0);
  });

  it('with nixEnv, `git archive` runs no filter and keeps the pointer byte for byte', async () => {
    const r = await git(['archive', '--format=tar', 'HEAD', 'w.bin'], nixEnv(base), repo);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(POINTER), 'the archived file is not the pointer');
  });

  it('keeps git config entries already in the environment, and those of `extra`', async () => {
    const env = nixEnv(
      { ...base, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'nixhug.first', GIT_CONFIG_VALUE_0: 'one' },
      { GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_1: 'nixhug.second', GIT_CONFIG_VALUE_1: 'two' },
    );
    for (const [key, value] of [['nixhug.first', 'one'], ['nixhug.second', 'two'], ['filter.lfs.required', 'false']]) {
      const r = await git(['config', '--get', key!], env, repo);
      assert.equal(r.stdout.trim(), value, `${key}: ${r.stderr}`);
    }
  });
});
